#!/bin/sh
# Consumer of an installed alloc through pkg-config, with a plain compiler
# command line (no CMake): static and shared link.
# Usage: build.sh CC PREFIX OUT_DIR [extra compiler flags...]
set -eu
cc=$1 prefix=$2 out=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
pcdir=$(dirname "$(find "$prefix" -name alloc.pc | head -n 1)")
export PKG_CONFIG_PATH="$pcdir"
pkg-config --exists alloc
pkg-config --print-errors --validate alloc 2>/dev/null || true
mkdir -p "$out"
# shellcheck disable=SC2046
"$cc" "$@" -o "$out/consumer_static" "$here/../consumer.c" $(pkg-config --cflags alloc) \
    "$(pkg-config --variable=libdir alloc)/liballoc.a" $(pkg-config --libs --static alloc | sed 's/-lalloc//')
# shellcheck disable=SC2046
"$cc" "$@" -o "$out/consumer_shared" "$here/../consumer.c" $(pkg-config --cflags --libs alloc) \
    "-Wl,-rpath,$(pkg-config --variable=libdir alloc)"
"$out/consumer_static"
"$out/consumer_shared"
