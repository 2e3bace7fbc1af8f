#!/usr/bin/env bash
# API reference: builds the Doxygen docs target, which fails on any warning
# (an undocumented public symbol, a broken reference). The target finds
# doxygen when it runs (docs/build_docs.cmake), so a build configured before
# doxygen was installed builds the docs too: nothing is cached at configure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages doxygen python3
cmake -S . -B build/docs -G Ninja -DALLOC_TESTS=OFF -DALLOC_BENCH=OFF -DALLOC_EXAMPLES=OFF >/dev/null
cmake --build build/docs --target docs
