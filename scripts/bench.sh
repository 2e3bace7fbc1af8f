#!/usr/bin/env bash
# The main job. Until the benchmark lands this builds the release configuration
# and runs the examples. Usage: bash scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_packages "${BASE_PACKAGES[@]}"
configure_build release
ctest --preset release -L example
