#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/target_*.c) for a chosen time each.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGET names like freelist, debug (default:
# every target of the enabled folders). Builds build/fuzz with clang,
# ASan + UBSan and -fsanitize=fuzzer, then runs the targets two at a time
# (JOBS=n to change) starting from the committed seed corpus. New inputs go to
# build/fuzz/corpus/<target> (kept between runs), findings to
# build/fuzz/findings/<target>/. Each run ends with a line
# "fuzz <target>: N operations in M inputs"; the script fails if any target
# found a crash. Extra libFuzzer flags: FUZZ_FLAGS="-max_len=8192 ...".
# Set ALLOC_STRATEGIES="a;b" to limit the folders built.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_packages clang libclang-rt-14-dev cmake ninja-build pkg-config libcriterion-dev

seconds=${1:-60}
shift || true
build=build/fuzz
# Optimised (the invariant checkers run after every operation and would
# dominate at -O0) but with the library's debug checks on (ALLOC_DEBUG=1).
CC=clang cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALLOC_DEBUG=1 \
  -DALLOC_SANITIZE=address -DALLOC_FUZZ=ON \
  -DALLOC_BENCH=OFF -DALLOC_EXAMPLES=OFF -DALLOC_STRATEGIES="${ALLOC_STRATEGIES:-}" >/dev/null
if [ $# -eq 0 ]; then
  # Every target whose folder is built: page and c always, others when their
  # src/ folder exists (and is in ALLOC_STRATEGIES, when that is set).
  for f in fuzz/target_*.c; do
    t=$(basename "$f" .c); t=${t#target_}; folder=${t%%_*}
    case "$folder" in page|c) ;; *)
      [ -d "src/$folder" ] || continue
      if [ -n "${ALLOC_STRATEGIES:-}" ] && [[ ";$ALLOC_STRATEGIES;" != *";$folder;"* ]]; then continue; fi ;;
    esac
    set -- "$@" "$t"
  done
fi
targets=()
for t in "$@"; do targets+=("fuzz_$t"); done
cmake --build "$build" --target "${targets[@]}" -j "$(nproc)"

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
jobs=${JOBS:-2}
status=0
run_one() {
  local t=$1
  mkdir -p "$build/corpus/$t" "$build/findings/$t"
  # The seeds are copied in: libFuzzer rewrites the directories it is given.
  cp -n fuzz/corpus/"$t"/* "$build/corpus/$t/"
  "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=4096 -len_control=0 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$t/" ${FUZZ_FLAGS:-} "$build/corpus/$t" \
    >"$build/fuzz-$t.log" 2>&1
}
pids=()
names=()
for t in "$@"; do
  run_one "$t" &
  pids+=($!)
  names+=("$t")
  if [ ${#pids[@]} -ge "$jobs" ]; then
    if ! wait "${pids[0]}"; then status=1; echo "fuzz ${names[0]}: FINDING (see $build/fuzz-${names[0]}.log)"; fi
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then status=1; echo "fuzz ${names[$i]}: FINDING (see $build/fuzz-${names[$i]}.log)"; fi
done
for t in "$@"; do
  grep -h -E "^fuzz $t:|stat::number_of_executed_units|Done [0-9]+ runs" "$build/fuzz-$t.log" || true
done
exit $status
