#!/usr/bin/env bash
# env_options.sh PRELOAD_LIB PROGRAM: the adapter's environment options as a
# user types them. ALLOC_STATS takes 1/yes/true/on and 0/no/false/off (any
# case) and warns about anything else; its line names the process id and the
# program, and its peak counts a 100 MiB block that was freed; an unknown
# ALLOC_STRATEGY or a malformed purge option warns, naming what it accepts.
# PROGRAM is global_introspect, whose "peak" mode allocates and frees 100 MiB.
set -u
lib=$1 prog=$2
status=0
run() { env LD_PRELOAD="$lib" "$@" "$prog" peak 2>&1 >/dev/null; }
expect() { # description, output, extended regex that must match
  if grep -Eq "$3" <<<"$2"; then echo "ok   $1"; else
    echo "FAIL $1: expected /$3/ in:"; echo "$2"; status=1; fi
}
expect_none() { # description, output, regex that must not match
  if grep -Eq "$3" <<<"$2"; then echo "FAIL $1: unexpected /$3/ in:"; echo "$2"; status=1; else
    echo "ok   $1"; fi
}
name=$(basename "$prog")
for v in 1 yes TRUE On; do
  out=$(run ALLOC_STATS=$v)
  expect "ALLOC_STATS=$v prints the line with pid and program" "$out" "^alloc\[[0-9]+ $name\]: strategy default: "
  expect "ALLOC_STATS=$v: the peak counts the freed 100 MiB block" "$out" "\(peak (10[4-9]|1[1-9][0-9]|[2-9][0-9][0-9])[0-9]{6}\)"
done
for v in 0 no FALSE off ""; do
  out=$(run ALLOC_STATS=$v)
  expect_none "ALLOC_STATS='$v' prints nothing" "$out" "strategy"
done
out=$(run ALLOC_STATS=maybe)
expect "ALLOC_STATS=maybe warns" "$out" "ALLOC_STATS=maybe is not a yes/no value"
expect_none "ALLOC_STATS=maybe counts as no" "$out" "strategy default"
out=$(run ALLOC_STRATEGY=bogus)
expect "ALLOC_STRATEGY=bogus lists the choices" "$out" "ALLOC_STRATEGY=bogus is not available here \(choices: default, page[a-z, ]*\); using the default"
out=$(run ALLOC_PURGE_DELAY_MS=soon)
expect "ALLOC_PURGE_DELAY_MS=soon warns" "$out" "ALLOC_PURGE_DELAY_MS=soon is not a number of milliseconds"
out=$(run ALLOC_RETAIN_BYTES=12Q)
expect "ALLOC_RETAIN_BYTES=12Q warns" "$out" "ALLOC_RETAIN_BYTES=12Q is not a size"
out=$(run ALLOC_RETAIN_BYTES=16M ALLOC_PURGE_DELAY_MS=0)
expect_none "valid purge options are silent" "$out" "alloc:"
exit $status
