#!/usr/bin/env bash
# Record real programs' allocations and replay them (alloc/record.h,
# tools/replay, docs/trace.md), the preload job's programs
# (scripts/real_programs.sh; scripts/record_real.sh records the full versions
# for the benchmark):
#   python   tests/global/workload.py                      overhead, replay
#   sqlite   a 20,000-row database (a tenth of the full)    overhead, replay
#   git      1,000 files, two commits, gc, fsck            overhead
#   gxx      g++ -O2 of tests/global/sample.cpp            overhead
# (RECORD_PROGRAMS="python sqlite" runs a subset.)
# For each: the program runs under alloc's malloc unrecorded and recorded
# (ALLOC_TRACE), three times each; the outputs must be equal (recording must
# not change what the program does) and the recording overhead (user+system
# CPU time, best of three over best of three) is printed against the 1.3x
# target. The trace must read back (alloc-replay --check), then replays
# against every contender; a contender that crashes or fails its invariant
# check fails the job, and every contender that ran must have replayed the
# same number of operations and the same peak of live bytes as the trace.
# Reports: build/record/replay-<program>/replay.{md,json}, overhead in
# build/record/overhead.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}" sqlite3 python3 git g++ gawk libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev

build=build/record
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DALLOC_WERROR=ON -DALLOC_TESTS=OFF \
  -DALLOC_BENCH=ON -DALLOC_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target alloc_preload alloc-replay
LIB=$root/$build/src/global/liballoc_preload.so
REPLAY=$root/$build/tools/alloc-replay
PY=/usr/bin/python3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The preload job's programs; sqlite at a tenth of its rows.
source scripts/real_programs.sh
export SQLITE_ROWS=20000

cpu_of() { # file written by `time`: prints user+sys
  awk '{ printf "%.3f", $2 + $3 }' "$1"
}

status=0
: >"$build/overhead.txt"
# Overhead on all four programs of the preload job; the replay on the first two.
for w in ${RECORD_PROGRAMS:-python sqlite git gxx}; do
  d=$work/$w
  mkdir -p "$d"
  best_plain=999999 best_rec=999999
  for i in 1 2 3; do
    TIMEFORMAT='%R %U %S'
    # A fresh, empty directory for every run (git must start without a repository).
    rm -rf "$d/run" && mkdir "$d/run"
    { time (cd "$d/run" && LD_PRELOAD=$LIB "wl_$w" >"$d/plain.out"); } 2>"$d/plain.time"
    rm -rf "$d/run" "$d/$w.trace"* && mkdir "$d/run"
    { time (cd "$d/run" && LD_PRELOAD=$LIB ALLOC_TRACE=$d/$w.trace "wl_$w" >"$d/rec.out"); } 2>"$d/rec.time"
    best_plain=$(awk -v a="$best_plain" -v b="$(cpu_of "$d/plain.time")" 'BEGIN { print (b < a ? b : a) }')
    best_rec=$(awk -v a="$best_rec" -v b="$(cpu_of "$d/rec.time")" 'BEGIN { print (b < a ? b : a) }')
    if ! cmp -s "$d/plain.out" "$d/rec.out"; then
      echo "FAIL $w: output recorded differs from unrecorded"
      diff "$d/plain.out" "$d/rec.out" | head -20
      status=1
    fi
  done
  ratio=$(awk -v a="$best_plain" -v b="$best_rec" 'BEGIN { printf "%.2f", b / a }')
  verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.3 ? "within" : "OVER") }')
  line="$w: CPU $best_plain s unrecorded, $best_rec s recorded (best of 3): ${ratio}x, $verdict the 1.3x target"
  echo "$line" | tee -a "$build/overhead.txt"
  "$REPLAY" --check "$d/$w.trace" | tee -a "$build/overhead.txt"
  case $w in python | sqlite) ;; *) continue ;; esac
  out=$build/replay-$w
  rm -rf "$out"
  if ! "$REPLAY" "$d/$w.trace" --out "$out" --timeout 300; then
    echo "FAIL $w: a contender failed the replay:"
    grep -F 'FAILED' "$out/replay.md" || true
    status=1
  fi
  # Every contender that ran replayed the trace's operations and its peak of
  # live bytes, and most of them ran.
  if ! "$PY" - "$out/replay.json" <<'PYCHECK'; then
import json, sys
r = json.load(open(sys.argv[1]))
a = r["analysis"]
ok = [c for c in r["contenders"] if c["status"] == "ok"]
bad = [c["name"] for c in ok if c["ops"] != a["ops"] or c["live_peak"] < a["peak_live_bytes"]
       or c["live_peak"] > a["peak_live_bytes"] + a["max_size"]]
names = {c["name"] for c in ok}
need = {"glibc", "freelist", "alloc-malloc"}
if bad or not need <= names:
    print("replay mismatch:", bad, "missing:", sorted(need - names))
    sys.exit(1)
print("%d contenders replayed %d operations, peak live %d bytes" % (len(ok), a["ops"], a["peak_live_bytes"]))
PYCHECK
    status=1
  fi
  sed -n '/^## Recommendation/,$p' "$out/replay.md"
done
exit $status
