#!/usr/bin/env bash
# Valgrind memcheck over the test suite, with the strategies built with
# Valgrind client requests (preset valgrind: ALLOC_VALGRIND=ON), so memcheck
# knows which bytes inside arenas, pools, bump buffers and free lists are
# handed out.
#
# How an error fails this job:
#   - ctest runs every test under valgrind (the build's
#     CMAKE_CROSSCOMPILING_EMULATOR), following Criterion's worker processes
#     (--trace-children=yes). An error ends the worker at once
#     (--exit-on-first-error), so Criterion reports that test as failed.
#   - Leaks are found when a process exits, after Criterion has its result, so
#     every process writes a log and the job fails if any log counts an error
#     (definite leaks count as errors).
#   - Then tracking_proof commits a use-after-free and an overrun inside each
#     strategy's memory; memcheck must report every one (a job that could not
#     see them would prove nothing).
#
# Scope: every test except
#   - package_*: CMake consumer builds, no code of ours runs in them;
#   - conformance, the Criterion runner of the conformance suite: Criterion
#     starts a process per case, and 348 valgrind start-ups take longer than
#     the cases. The same suite runs here through its plain-C runner instead
#     (portable: every case and row of tests/conformance/suite.c plus the page
#     provider's checks, forked children of one process, full sizes);
#   - global_stress_preload*: they run the program through `cmake -E env`, so
#     not under memcheck. The same engine runs under memcheck in-process:
#     global_stress_engine, global_stress_inproc* and global_probe_valgrind.
# The in-process adapter programs define malloc in the executable; memcheck
# must leave that one alone (--soname-synonyms=somalloc=nouserintercepts) and
# see the adapter's blocks through its client requests. Their fork children
# exec /bin/true (not traced), as a shell's would.
# Memcheck runs a program's threads one at a time; --fair-sched=yes hands the
# CPU over in turn. Without it, the stress programs' churning threads kept
# it while the forking thread waited, and one run took 3 s or 150 s by luck.
# Fuzz replays run their seed corpus plus 10 random inputs
# (ALLOC_FUZZ_RANDOM) instead of 150.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages valgrind

logs=$PWD/build/valgrind/memcheck-logs
rm -rf "$logs"
mkdir -p "$logs"
vg="valgrind;--trace-children=yes;--fair-sched=yes;--error-exitcode=1;--exit-on-first-error=yes;--leak-check=full"
vg="$vg;--soname-synonyms=somalloc=nouserintercepts;--trace-children-skip=*/sh,*/nm,*/true;--errors-for-leak-kinds=definite;--show-leak-kinds=definite;--num-callers=30;--log-file=$logs/%p.log"
configure_build valgrind -DALLOC_WERROR=ON "-DCMAKE_CROSSCOMPILING_EMULATOR=$vg" \
  -DALLOC_PORTABLE_TESTS=ON "-DALLOC_PORTABLE_ARGS=-t;3000" -DALLOC_PORTABLE_TIMEOUT=5400

status=0
# The lifecycle programs (thousands of threads, forks from signal handlers)
# and the introspection check (it measures resident memory) run natively and,
# where threaded, under TSan; under memcheck they would take many minutes.
# test_page_limit and the osfail programs fill the process's whole mapping
# table (vm.max_map_count), far beyond the segment table of Valgrind's own
# address-space manager; test_page, their fault-injected twin, runs here.
ALLOC_FUZZ_RANDOM=10 ctest --preset valgrind \
  -E '^(package_|conformance$|global_stress_preload|global_lifecycle_|global_introspect_|global_osfail_|test_page_limit$)' ||
  status=1

# (--exit-on-first-error ends a process before its summary is written)
bad=$(grep -l -E "ERROR SUMMARY: [1-9]|Exit program on first error" "$logs"/*.log || true)
if [ -n "$bad" ]; then
  echo "memcheck reported errors:"
  for f in $bad; do
    echo "--- $f"
    cat "$f"
  done
  status=1
fi

# The proof: errors inside each strategy's memory must be reported.
proof=build/valgrind/fuzz/tracking_proof
for which in bump arena stack pool pool_mt slab freelist debug global; do
  [ -d "src/${which%_mt}" ] || continue
  for error in uaf overrun; do
    out=$(valgrind --error-exitcode=99 "$proof" "$which" "$error" 2>&1) && rc=0 || rc=$?
    if [ "$rc" -eq 2 ] && grep -q "unknown allocator" <<<"$out"; then
      continue # not built into the library
    fi
    # memcheck lets the program run on (it may print NOT DETECTED, or the
    # allocator's own check may abort it later): what counts is memcheck's
    # report and a failing exit status (99, memcheck's, or the abort's).
    if [ "$rc" -eq 0 ] || ! grep -q -E "Invalid (read|write)" <<<"$out"; then
      echo "memcheck did not report a $error inside $which:"
      echo "$out"
      status=1
    else
      echo "memcheck reports a $error inside $which"
    fi
  done
done
exit $status
