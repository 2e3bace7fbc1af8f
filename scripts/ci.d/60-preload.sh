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

# --- the workloads (wl_python, wl_pytests, wl_sqlite, wl_git, wl_gxx) -------
source scripts/real_programs.sh

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
if ! grep -Eq '^alloc\[[0-9]+ python3[.0-9]*\]: strategy default: in use' <<<"$stats_line"; then
  echo "FAIL ALLOC_STATS=1 printed: $stats_line"
  status=1
fi
# ALLOC_STRATEGY selects the strategy (page: one mapping per block).
page_out=$(ALLOC_STRATEGY=page ALLOC_STATS=1 LD_PRELOAD=$ALLOC_LIB "$PY" -c 'print(sum(range(1000)))' 2>&1)
if ! grep -Eq '^alloc\[[0-9]+ python3[.0-9]*\]: strategy page:' <<<"$page_out" || ! grep -q '^499500$' <<<"$page_out"; then
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
