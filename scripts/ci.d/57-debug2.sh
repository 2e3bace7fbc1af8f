#!/usr/bin/env bash
# ALLOC_DEBUG=2: every strategy's vtable runs its invariant checker after
# each operation (ALLOC_ASSERT_EXPENSIVE). The conformance suite drives every
# allocator through its vtable, and each strategy's own tests its extra entry
# points; a checker that fails aborts the test at the operation that broke
# the invariant. Without this job the expensive tier is compiled nowhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}"

build=build/ci-debug2
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DALLOC_DEBUG=2 -DALLOC_WERROR=ON \
  -DALLOC_BENCH=OFF -DALLOC_EXAMPLES=OFF -DALLOC_PORTABLE_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
(cd "$build" && ctest --output-on-failure -j "$(nproc)" \
  -R '^(conformance|test_(arena|bump|debug|failing|freelist|pool|slab|stack)[a-z_]*|fuzz_replay_.*)$')
