#!/usr/bin/env bash
# The libc back end of the page provider: the whole suite over mmap from libc.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
configure_build libc -DALLOC_WERROR=ON
ctest --preset libc
