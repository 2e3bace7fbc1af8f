#!/usr/bin/env bash
# The freestanding core on x86_64: built with -ffreestanding by GCC and by
# Clang, and a program linked against it with -nostdlib -static (no C library,
# no start files) that runs each strategy and exits 0. The aarch64 build of
# the same program runs in 50-aarch64.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}" file clang

for cc in gcc clang; do
  build=build/ci-freestanding-$cc
  echo "--- freestanding core, $cc"
  CC=$cc cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DALLOC_FREESTANDING=ON -DALLOC_WERROR=ON \
    -DALLOC_TESTS=OFF -DALLOC_BENCH=OFF -DALLOC_EXAMPLES=OFF -DALLOC_PORTABLE_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target alloc_freestanding freestanding_demo
  file "$build/freestanding_demo" | grep -q "statically linked" || { echo "not a static image"; exit 1; }
  (cd "$build" && ctest --output-on-failure -R '^freestanding$')
done
