#!/usr/bin/env bash
# Real programs with the global adapter as their malloc (LD_PRELOAD), each
# also run under glibc (the reference output) and jemalloc (a time reference):
#   python   a dict/JSON/regex workload (tests/global/workload.py)
#   pytests  a subset of CPython's own test suite
#   sqlite   a generated 200,000-row database, updates, VACUUM, integrity_check
#   git      init, commit 1,000 files, a second commit, gc, fsck
#   gxx      g++ -O2 compiling and running a C++ program (tests/global/sample.cpp)
# Every program's output under alloc must equal its output under glibc. The
# times (wall, and user+system CPU of the whole process tree) of all three
# allocators are printed at the end and kept in build/preload/times.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}" sqlite3 git g++ python3 libjemalloc2 gawk
PY=/usr/bin/python3
pyver=$($PY -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ensure_packages "libpython${pyver}-testsuite"

build=build/preload
# The folders of the strategies the adapter can select (src/global/strategies.def).
folders=$(sed -n 's/^ALLOC_GLOBAL_STRATEGY([A-Z0-9_]*, "[a-z0-9_]*", \([a-z0-9_]*\)).*/\1/p' src/global/strategies.def | paste -sd';')
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DALLOC_WERROR=ON -DALLOC_STRATEGIES="global;$folders" \
  -DALLOC_TESTS=OFF -DALLOC_BENCH=OFF -DALLOC_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target alloc_preload
ALLOC_LIB=$root/$build/src/global/liballoc_preload.so
JEMALLOC_LIB=$(dpkg -L libjemalloc2 | grep -m1 '/libjemalloc\.so\.2$')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- the workloads: each runs in an empty current directory, prints to stdout
# only what must not depend on the allocator, and fails on any error. ---------
wl_python() { "$PY" "$root/tests/global/workload.py"; }

wl_pytests() {
  "$PY" -m test test_dict test_list test_set test_json test_re test_bytes test_unicode \
    test_threading test_gc test_pickle >log.txt 2>&1 || { tail -50 log.txt >&2; return 1; }
  grep -E '^(All [0-9]+ tests OK\.|Tests result: )' log.txt
}

wl_sqlite() {
  sqlite3 db.sqlite <<'SQL'
PRAGMA journal_mode=WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, val REAL, data BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
  INSERT INTO t SELECT x, 'name' || (x * 7919 % 100003), x * 1.25, zeroblob(x % 300) FROM c;
CREATE INDEX t_name ON t(name);
CREATE INDEX t_val ON t(val);
UPDATE t SET val = val * 2, name = upper(name) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 7 = 0;
SELECT count(*), sum(val), sum(length(data)) FROM t;
SELECT name, count(*) AS n FROM t GROUP BY name ORDER BY n DESC, name LIMIT 5;
SELECT group_concat(id, ',') FROM (SELECT id FROM t ORDER BY name DESC, id LIMIT 20);
VACUUM;
PRAGMA integrity_check;
SQL
}

wl_git() {
  export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.invalid \
    GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.invalid \
    GIT_AUTHOR_DATE='2024-01-01T00:00:00+0000' GIT_COMMITTER_DATE='2024-01-01T00:00:00+0000'
  git init -q -b main repo
  cd repo
  mkdir -p $(seq -f 'dir%g' 0 19)
  gawk 'BEGIN { for (i = 1; i <= 1000; i++) { f = sprintf("dir%d/file%d.txt", i % 20, i);
         for (j = 0; j < 20 + i % 50; j++) printf "file %d line %d %s\n", i, j, sprintf("%x", i * j * 2654435761 % 4294967296) > f;
         close(f) } }'
  git add -A
  git commit -q -m "1,000 files"
  gawk 'BEGIN { for (i = 1; i <= 1000; i += 10) { f = sprintf("dir%d/file%d.txt", i % 20, i);
         printf "changed %d\n", i >> f; close(f) } }'
  git commit -q -a -m "100 files changed"
  git gc -q
  git fsck --full --strict 2>&1
  git rev-parse HEAD HEAD~1
  git count-objects -v | grep -E '^(count|in-pack|packs):'
  git log --format='%s' | cat
  git diff --stat HEAD~1 | tail -1
}

wl_gxx() {
  cp "$root/tests/global/sample.cpp" .
  g++ -O2 -std=c++17 -S sample.cpp -o sample.s
  g++ -O2 sample.s -o sample
  ./sample
  sha256sum sample.s
}

# --- running ------------------------------------------------------------------
allocators=(glibc jemalloc alloc)
# PRELOAD_WORKLOADS="python sqlite" runs a subset (all by default).
read -r -a workloads <<<"${PRELOAD_WORKLOADS:-python pytests sqlite git gxx}"
declare -A wall cpu
status=0
start=$SECONDS

in_dir() { # dir preload-lib command: runs command in dir with LD_PRELOAD set (if lib is not empty)
  local dir=$1 lib=$2
  shift 2
  (
    set -e
    cd "$dir"
    if [ -n "$lib" ]; then export LD_PRELOAD=$lib; fi
    "$@"
  )
}

run_one() { # workload allocator
  local w=$1 a=$2 lib=""
  case $a in
  jemalloc) lib=$JEMALLOC_LIB ;;
  alloc) lib=$ALLOC_LIB ;;
  esac
  local d=$work/$w-$a
  mkdir -p "$d"
  local TIMEFORMAT='%R %U %S' rc
  # (bash prints nothing for `time ( subshell )`, hence the function; errexit
  # is off around it so that it stays on inside the workload)
  set +e
  { time in_dir "$d" "$lib" "wl_$w" >"$d.out" 2>"$d.err"; } 2>"$d.time"
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "FAIL $w under $a (exit status $rc):"
    tail -30 "$d.err"
    status=1
  fi
  local r u s
  read -r r u s <"$d.time" || { r=0 u=0 s=0; }
  wall[$w,$a]=$r
  cpu[$w,$a]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
}

for w in "${workloads[@]}"; do
  for a in "${allocators[@]}"; do
    run_one "$w" "$a"
  done
  for a in jemalloc alloc; do
    if ! diff -u "$work/$w-glibc.out" "$work/$w-$a.out" >"$work/$w-$a.diff"; then
      echo "FAIL $w: output under $a differs from glibc:"
      head -40 "$work/$w-$a.diff"
      status=1
    fi
  done
  echo "=== $w: $(wc -l <"$work/$w-glibc.out") output lines; alloc identical to glibc: $(
    [ -s "$work/$w-alloc.diff" ] && echo no || echo yes)"
done

# ALLOC_STATS=1 prints the adapter's statistics at exit.
stats_line=$(ALLOC_STATS=1 LD_PRELOAD=$ALLOC_LIB "$PY" -c 'print("x" * 1000)' 2>&1 >/dev/null)
if ! grep -q '^alloc: strategy default: in use' <<<"$stats_line"; then
  echo "FAIL ALLOC_STATS=1 printed: $stats_line"
  status=1
fi
# ALLOC_STRATEGY selects the strategy (page: one mapping per block).
page_out=$(ALLOC_STRATEGY=page ALLOC_STATS=1 LD_PRELOAD=$ALLOC_LIB "$PY" -c 'print(sum(range(1000)))' 2>&1)
if ! grep -q '^alloc: strategy page:' <<<"$page_out" || ! grep -q '^499500$' <<<"$page_out"; then
  echo "FAIL ALLOC_STRATEGY=page: $page_out"
  status=1
fi

{
  echo "real-program times in seconds, wall (user+sys), $(nproc) cores, $(date -u +%F)"
  printf '%-8s' workload
  for a in "${allocators[@]}"; do printf '  %-20s' "$a"; done
  echo
  for w in "${workloads[@]}"; do
    printf '%-8s' "$w"
    for a in "${allocators[@]}"; do printf '  %-20s' "${wall[$w,$a]} (${cpu[$w,$a]})"; done
    echo
  done
  echo "stats of a small python run: $stats_line"
} | tee "$build/times.txt"
echo "=== preload job: $((SECONDS - start)) s"
exit $status
