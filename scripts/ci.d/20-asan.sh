#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer over the whole suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages libclang-rt-14-dev
configure_build asan -DALLOC_WERROR=ON
ctest --preset asan
