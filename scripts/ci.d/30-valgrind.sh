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
# Scope: every test except package_* (CMake consumer builds: no code of ours
# runs in them), the conformance suite and its portable runner (348 cases of
# thousands of operations each, more than 10 minutes under memcheck on 2
# cores; they run natively, under ASan+UBSan, on aarch64 and -m32, while here
# every strategy's own tests, the fuzz corpora and the tracking proofs run
# under memcheck), and the global_stress_* programs: their fork-while-busy
# children inherit blocks that a vanished thread was holding, which the leak
# check at the child's exit rightly calls lost (it would with any malloc), and
# the _inproc ones define malloc in the executable, which memcheck replaces
# with its own. The adapter is checked under memcheck by global_probe_valgrind
# (which keeps the executable's malloc), and natively, under ASan and under
# TSan by the stress programs.
# Fuzz replays run their seed corpus plus 10 random inputs
# (ALLOC_FUZZ_RANDOM) instead of 150.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages valgrind

logs=$PWD/build/valgrind/memcheck-logs
rm -rf "$logs"
mkdir -p "$logs"
vg="valgrind;--trace-children=yes;--error-exitcode=1;--exit-on-first-error=yes;--leak-check=full"
vg="$vg;--trace-children-skip=*/sh,*/nm;--errors-for-leak-kinds=definite;--show-leak-kinds=definite;--num-callers=30;--log-file=$logs/%p.log"
configure_build valgrind -DALLOC_WERROR=ON "-DCMAKE_CROSSCOMPILING_EMULATOR=$vg"

status=0
ALLOC_FUZZ_RANDOM=10 ctest --preset valgrind -E '^(package_|portable|global_stress_|conformance$)' || status=1

bad=$(grep -l -E "ERROR SUMMARY: [1-9]" "$logs"/*.log || true)
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
for which in bump arena stack pool slab freelist debug; do
  [ -d "src/$which" ] || continue
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
