#!/usr/bin/env bash
# The main job: installs the allocators we compare against (jemalloc,
# mimalloc, tcmalloc), gnuplot and valgrind; builds the release configuration;
# runs alloc-bench over every contender and workload (timing, then
# instruction counts under callgrind); leaves the report in bench/results/:
#   results.md      medians, speedups against jemalloc and glibc, the targets
#   results.json    every sample
#   plots/*.svg     one chart per workload (and .png)
#   callgrind.md    instructions per operation (the repeatable figure)
# A full run took 8 min 50 s on a shared 2-core machine at load 5-8 (its
# processes used 3 min 10 s of CPU), after the build. Arguments go to the
# timing run, and --contenders/--workloads to the callgrind pass too, e.g.
#   bash scripts/bench.sh --contenders pool,freelist,jemalloc --workloads paired,churn-4k
# Environment: ALLOC_BENCH_OUT (default bench/results), ALLOC_BENCH_CALLGRIND=0
# to skip the callgrind pass, ALLOC_BENCH_REAL=0 to skip recording and
# replaying the real programs (scripts/record_real.sh: $out/real/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}" libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev gnuplot-nox valgrind
cmake --preset release >/dev/null
cmake --build --preset release --target alloc-bench -j "$(nproc)"
bench=build/release/bench/alloc-bench
out=${ALLOC_BENCH_OUT:-bench/results}
start=$SECONDS
# A pair that fails (a crash, a timeout) is reported in the table; the run
# goes on and the script ends with status 1 after writing everything.
status=0
"$bench" --out "$out" --reps 3 "$@" || status=1
# The callgrind pass takes the same --contenders/--workloads filter as the
# timing run. Given all workloads it runs its own small set (alloc-bench
# marks them); named ones run as named, except the threaded and the
# per-operation-timed ones, which callgrind cannot measure. When the filter
# leaves it nothing, there is no pass and callgrind.md of an earlier run is
# left alone.
filter=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --contenders | --workloads) filter+=("${args[i]}" "${args[i + 1]:-all}") ;;
  esac
done
run_callgrind=${ALLOC_BENCH_CALLGRIND:-1}
if [ "$run_callgrind" != 0 ] && [ -z "$("$bench" --callgrind --plan "${filter[@]}")" ]; then
  echo "bench: no callgrind pass (the filter leaves it no pair it can measure)"
  run_callgrind=0
fi
if [ "$run_callgrind" != 0 ]; then
  # Small sizes (callgrind runs about 50 times slower), except that the
  # realloc growth and the large blocks reach the large bands (past 4 MiB,
  # blocks of 2-8 MiB).
  "$bench" --callgrind --out "$out" "${filter[@]}" || status=1
fi
# The real programs of the preload job, recorded now and replayed against
# every contender (scripts/record_real.sh, docs/trace.md): $out/real/.
if [ "${ALLOC_BENCH_REAL:-1}" != 0 ]; then
  bash scripts/record_real.sh "$out/real" || status=1
fi
echo "bench: done in $((SECONDS - start)) s"
echo "bench: table  $out/results.md"
echo "bench: plots  $out/plots/*.svg (and .png)"
echo "bench: data   $out/results.json"
[ "$run_callgrind" != 0 ] && echo "bench: instructions per operation  $out/callgrind.md"
[ "${ALLOC_BENCH_REAL:-1}" != 0 ] && echo "bench: real programs replayed  $out/real/summary.md"
[ $status -ne 0 ] && echo "bench: some pairs failed; see the end of $out/results.md"
exit $status
