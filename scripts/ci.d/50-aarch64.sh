#!/usr/bin/env bash
# aarch64 Linux: the library cross-compiled with the asm back end (raw aarch64
# system calls), and the portable suite (every conformance row plus the page
# provider, the page allocator and the abort path) run under qemu-user. The
# freestanding core is cross-built too and its -nostdlib program run.
#
# Criterion is not used here: Debian's arm64 Criterion cannot be installed
# next to the amd64 one (its dependencies are not multiarch-coinstallable, so
# apt would remove the native copy). tests/portable is a plain-C runner of the
# same checks instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}" file gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user

build=build/ci-aarch64
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
  -DALLOC_OS_BACKEND=asm -DALLOC_WERROR=ON -DALLOC_FREESTANDING=ON -DALLOC_PORTABLE_TESTS=ON \
  -DALLOC_TESTS=OFF -DALLOC_BENCH=OFF -DALLOC_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
file "$build/portable_tests" | grep -q "ARM aarch64" || { echo "not an aarch64 build"; exit 1; }
(cd "$build" && ctest --output-on-failure)
