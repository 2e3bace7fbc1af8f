#!/usr/bin/env bash
# 32-bit x86 (-m32): pointers and size_t of 4 bytes, libc back end (the asm
# back end is 64-bit only). The library is built with warnings as errors and
# the portable suite runs every conformance row and the page-provider checks
# natively.
#
# Packages: libc6-dev-i386 and lib32gcc-12-dev rather than gcc-multilib, which
# conflicts with the aarch64 cross compiler of 50-aarch64.sh. Criterion is not
# used: Debian's i386 Criterion cannot be installed next to the amd64 one, so
# tests/portable (plain C, the same checks) runs instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}" file libc6-dev-i386 lib32gcc-12-dev

build=build/ci-m32
rm -f "$build/CMakeCache.txt"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/i686-linux-gnu-m32.cmake -DALLOC_WERROR=ON \
  -DALLOC_TESTS=OFF -DALLOC_BENCH=OFF -DALLOC_EXAMPLES=OFF -DALLOC_PORTABLE_TESTS=ON >/dev/null
# The library and the suite (src/global's malloc adapter is 64-bit only so far).
cmake --build "$build" -j "$(nproc)" --target alloc portable_tests
file "$build/portable_tests" | grep -q "ELF 32-bit" || { echo "not a 32-bit build"; exit 1; }
(cd "$build" && ctest --output-on-failure -R '^portable$')
