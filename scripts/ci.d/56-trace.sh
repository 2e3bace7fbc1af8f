#!/usr/bin/env bash
# Trace logging: a build with ALLOC_TRACE=ON, where test_core_trace asserts
# that the free list's split and merge events reach the sink as well-formed
# lines and that the library's object code calls the emitter. (The default
# build, in scripts/test.sh, runs the same test, which there asserts that no
# object file refers to the emitter.)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}" binutils

build=build/ci-trace
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DALLOC_TRACE=ON -DALLOC_WERROR=ON \
  -DALLOC_BENCH=OFF -DALLOC_EXAMPLES=OFF -DALLOC_PORTABLE_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target test_core_trace
(cd "$build" && ctest --output-on-failure -R '^test_core_trace$')
