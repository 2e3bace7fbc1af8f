#!/usr/bin/env bash
# Runs every test of the default configuration (Debug, asm back end, warnings as
# errors). Installs what is missing first. Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}"
configure_build default -DALLOC_WERROR=ON
ctest --preset default
