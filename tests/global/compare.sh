#!/usr/bin/env bash
# compare.sh PROBE PROBE_INPROC PRELOAD_LIB [STRATEGY...]: the edge-case probe
# must print the same lines over glibc, over the adapter in-process (default
# and with an installed handle) and under LD_PRELOAD (default, and with
# ALLOC_STRATEGY set to page and to each STRATEGY named: those compiled in);
# foreign and double frees must end in SIGABRT with the adapter's message.
set -u
probe=$1 inproc=$2 lib=$3
shift 3
strategies=(page "$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

"$probe" >"$tmp/glibc.out" 2>&1 || { echo "probe failed under glibc"; cat "$tmp/glibc.out"; exit 1; }
run() { # name command...
  local name=$1
  shift
  "$@" >"$tmp/$name.out" 2>&1
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "FAIL $name: exit status $rc"
    cat "$tmp/$name.out"
    status=1
  elif ! diff -u "$tmp/glibc.out" "$tmp/$name.out"; then
    echo "FAIL $name: output differs from glibc"
    status=1
  else
    echo "ok   $name ($(wc -l <"$tmp/$name.out") lines identical to glibc)"
  fi
}
run inproc "$inproc"
run inproc-installed "$inproc" install
run inproc-page env ALLOC_STRATEGY=page "$inproc"
run preload env LD_PRELOAD="$lib" "$probe"
for s in "${strategies[@]}"; do
  run "preload-$s" env LD_PRELOAD="$lib" ALLOC_STRATEGY="$s" "$probe"
done

death() { # name expect-message command...
  local name=$1 msg=$2
  shift 2
  ( "$@" >"$tmp/$name.out" 2>&1 ) 2>/dev/null
  local rc=$?
  if [ "$rc" -ne 134 ]; then
    echo "FAIL $name: exit status $rc, expected SIGABRT (134)"
    cat "$tmp/$name.out"
    status=1
  elif ! grep -q "$msg" "$tmp/$name.out"; then
    echo "FAIL $name: no '$msg' in the report"
    cat "$tmp/$name.out"
    status=1
  else
    echo "ok   $name: $(grep -m1 "$msg" "$tmp/$name.out")"
  fi
}
death glibc-foreign "" "$probe" foreign
death inproc-foreign "not allocated by alloc" "$inproc" foreign
death preload-foreign "not allocated by alloc" env LD_PRELOAD="$lib" "$probe" foreign
death inproc-double "double free" "$inproc" double
death preload-double "double free" env LD_PRELOAD="$lib" "$probe" double
# A freed direct block's header may be overwritten by its source (the free
# list's links, a pool's link, a debug fill): still a double free.
death preload-double-large "free(0x[0-9a-f]*): double free" env LD_PRELOAD="$lib" "$probe" double-large
for s in "$@"; do
  case $s in arena | bump) continue ;; # free of their newest block only pops it
  esac
  death "preload-double-$s" "free(0x[0-9a-f]*): double free" env LD_PRELOAD="$lib" ALLOC_STRATEGY="$s" "$probe" double
done
# Under the free list a 1 MiB block stays in a region; under pools it is a
# mapping of its own, unmapped on free (its header cannot be read afterwards).
if [[ " $* " == *" freelist "* ]]; then
  death preload-double-large-freelist "free(0x[0-9a-f]*): double free" env LD_PRELOAD="$lib" ALLOC_STRATEGY=freelist "$probe" double-large
fi
# Aligned blocks inside a size class: the header in front of the user pointer,
# not the block's, is what a second free finds (it once looped the cache).
for an in 32:16 64:16 64:1000 256:2000 1024:16 4096:100; do
  death "preload-double-aligned-$an" "free(0x[0-9a-f]*): double free" env LD_PRELOAD="$lib" "$probe" double-aligned "${an%:*}" "${an#*:}"
done
death preload-double-aligned-freelist "free(0x[0-9a-f]*): double free" env LD_PRELOAD="$lib" ALLOC_STRATEGY=freelist "$probe" double-aligned 64 16
death preload-uaf-usable "malloc_usable_size(0x[0-9a-f]*): use after free" env LD_PRELOAD="$lib" "$probe" uaf-usable
death preload-uaf-realloc "realloc(0x[0-9a-f]*): use after free" env LD_PRELOAD="$lib" "$probe" uaf-realloc
death preload-uaf-realloc-large "realloc(0x[0-9a-f]*): use after free" env LD_PRELOAD="$lib" "$probe" uaf-realloc-large
exit $status
