#!/usr/bin/env bash
# Replays recorded traces and checks what came back (ctest: record_replay_*).
#   replay_check.sh wrap    HANDOFF REPLAY DIR
#   replay_check.sh preload HANDOFF REPLAY DIR PRELOAD_LIB
# wrap: a multi-threaded trace with cross-thread frees, recorded through the
#   tracing wrapper, replayed with its threads (each free waits for its block)
#   against the thread-safe contenders and serially against the rest; under
#   ASan a replay that used a block after its free would abort the child and
#   fail here. Every contender that ran must have replayed the trace's
#   operations and peak live bytes. A cut trace must be refused with the offset.
# preload: the same program recorded by the preload library (ALLOC_TRACE),
#   with a forked child that leaves by _exit: the child's file must hold its
#   1,000 malloc/free pairs.
set -euo pipefail
mode=$1 handoff=$2 replay=$3 dir=$4
rm -rf "$dir"
mkdir -p "$dir"
trace=$dir/handoff.trace

check_json() { # exact|ops report.json required-contenders...
  # exact: one thread replays in recorded order, so the peak of live bytes is
  # the trace's (plus at most one block in flight in a realloc's copy). ops:
  # threads replayed concurrently interleave differently than when recorded,
  # so only the operations and the absence of failures are the trace's.
  python3 - "$@" <<'PY'
import json, sys
exact = sys.argv.pop(1) == "exact"
r = json.load(open(sys.argv[1]))
a = r["analysis"]
ok = [c for c in r["contenders"] if c["status"] == "ok"]
failed = [c["name"] for c in r["contenders"] if c["status"] == "failed"]
bad = [c["name"] for c in ok if c["ops"] != a["ops"] or c["failures"]
       or (exact and not a["peak_live_bytes"] <= c["live_peak"] <= a["peak_live_bytes"] + a["max_size"])]
missing = set(sys.argv[2:]) - {c["name"] for c in ok}
if failed or bad or missing:
    print("failed:", failed, "mismatch:", bad, "missing:", sorted(missing))
    sys.exit(1)
print("%s: %d contenders replayed %d operations, peak live %d" % (sys.argv[1], len(ok), a["ops"], a["peak_live_bytes"]))
PY
}

if [ "$mode" = wrap ]; then
  "$handoff" wrap "$trace"
  "$replay" --check "$trace"
  "$replay" "$trace" --threads preserve --out "$dir/preserve" --timeout 120
  check_json ops "$dir/preserve/replay.json" glibc c
  grep -q 'cross-thread frees | [1-9]' "$dir/preserve/replay.md"
  "$replay" "$trace" --threads serial --contenders glibc,c,freelist,arena,slab,bump --out "$dir/serial" --timeout 120
  check_json exact "$dir/serial/replay.json" glibc c freelist arena slab bump
  # Refused with the offset: a cut trace, a wrong version.
  head -c 5000 "$trace" >"$dir/cut.trace"
  if "$replay" --check "$dir/cut.trace" 2>"$dir/cut.err"; then echo "cut trace accepted"; exit 1; fi
  grep -q 'offset 4096: truncated' "$dir/cut.err" || { cat "$dir/cut.err"; exit 1; }
  printf '\x07' | dd of="$trace" bs=1 seek=8 conv=notrunc status=none
  if "$replay" --check "$trace" 2>"$dir/version.err"; then echo "wrong version accepted"; exit 1; fi
  grep -q 'offset 8: trace format version 7' "$dir/version.err" || { cat "$dir/version.err"; exit 1; }
else
  lib=$5
  (cd "$dir" && ALLOC_TRACE=$trace LD_PRELOAD=$lib "$handoff" malloc)
  "$replay" --check "$trace"
  children=("$trace".*)
  [ ${#children[@]} -eq 1 ] || { echo "expected one child trace, found: ${children[*]}"; exit 1; }
  out=$("$replay" --check "${children[0]}")
  echo "$out"
  # 1,000 pairs, nothing after them (_exit), no end record.
  grep -q 'cut off (no end record), 2000 events' <<<"$out" || exit 1
  "$replay" "$trace" --out "$dir/replay" --timeout 120
  check_json ops "$dir/replay/replay.json" glibc alloc-malloc
  "$replay" "$trace" --threads serial --contenders glibc,alloc-malloc,freelist,slab --out "$dir/serial" --timeout 120
  check_json exact "$dir/serial/replay.json" glibc alloc-malloc freelist slab
fi
