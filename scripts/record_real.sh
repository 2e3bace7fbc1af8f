#!/usr/bin/env bash
# The benchmark's real workloads: records the preload job's real programs
# (scripts/real_programs.sh, full versions) with ALLOC_TRACE at run time and
# replays each recording against every contender (alloc-replay, docs/trace.md).
# Traces are generated here, never committed.
#
#   bash scripts/record_real.sh [OUT] [PROGRAM...]    (default: bench/results/real; python sqlite git gxx)
#
# A program that runs others (git, g++) leaves one trace per process
# (<name>.trace.<pid>); the replay takes the process that made the most
# events, the one whose allocations dominate the run (cc1plus for g++).
# Leaves in OUT: <program>/replay.md and replay.json (the analysis, every
# contender's figures, the recommendation), <program>/replay.svg (time per
# operation and memory per live byte, drawn by alloc-replay with gnuplot), and
# summary.md (one line per program).
# Exit status 1 if a program failed or a contender failed its replay.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}" sqlite3 git g++ gawk python3 gnuplot-nox \
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev
PY=/usr/bin/python3
out=${1:-bench/results/real}
shift || true
programs=("$@")
[ ${#programs[@]} -eq 0 ] && programs=(python sqlite git gxx)
case $out in /*) ;; *) out=$root/$out ;; esac

cmake --preset release >/dev/null
cmake --build --preset release --target alloc_preload alloc-replay -j "$(nproc)"
LIB=$root/build/release/src/global/liballoc_preload.so
REPLAY=$root/build/release/tools/alloc-replay
source scripts/real_programs.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
status=0
{
  echo "# Real programs, recorded and replayed"
  echo
  echo "| program | process replayed | events | bytes/event | fastest | least memory | alloc's fastest | alloc's leanest |"
  echo "|---|---|---:|---:|---|---|---|---|"
} >"$out/summary.md"
for w in "${programs[@]}"; do
  d=$work/$w
  mkdir -p "$d"
  echo "record_real: recording $w"
  if ! (cd "$d" && LD_PRELOAD=$LIB ALLOC_TRACE=$work/$w.trace "wl_$w" >"$d.out" 2>"$d.err"); then
    echo "record_real: $w failed under recording:"
    tail -20 "$d.err"
    status=1
    continue
  fi
  # The busiest process of the run.
  best="" most=-1
  for t in "$work/$w.trace"*; do
    n=$("$REPLAY" --check "$t" 2>/dev/null | sed -n 's/.*, \([0-9]*\) events.*/\1/p')
    if [ -n "$n" ] && [ "$n" -gt "$most" ]; then most=$n best=$t; fi
  done
  if [ -z "$best" ]; then
    echo "record_real: $w left no readable trace"
    status=1
    continue
  fi
  rm -rf "${out:?}/$w"
  "$REPLAY" "$best" --out "$out/$w" --timeout 900 || status=1
  "$PY" - "$out/$w/replay.json" "$w" "$(basename "$best")" >>"$out/summary.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = [c for c in r["contenders"] if c["status"] == "ok" and not c["failures"]]
def pick(cs, key):
    cs = [c for c in cs if c[key] > 0]
    return min(cs, key=lambda c: c[key]) if cs else None
ours = [c for c in ok if c["name"] not in ("glibc", "jemalloc", "mimalloc", "tcmalloc", "c")]
def fmt(c, key, unit):
    return "%s (%.1f%s)" % (c["name"], c[key], unit) if c else "-"
print("| %s | %s (%s) | %d | %.2f | %s | %s | %s | %s |" % (
    sys.argv[2], sys.argv[3], r["program"].split("/")[-1], r["events"], r["payload_bytes"] / max(r["events"], 1),
    fmt(pick(ok, "ns_per_op"), "ns_per_op", " ns"), fmt(pick(ok, "rss_per_live"), "rss_per_live", "x"),
    fmt(pick(ours, "ns_per_op"), "ns_per_op", " ns"), fmt(pick(ours, "rss_per_live"), "rss_per_live", "x")))
PY
done
echo "record_real: $out/summary.md, $out/<program>/replay.md"
exit $status
