#!/usr/bin/env bash
# ThreadSanitizer over the multi-thread tests.
#
# Criterion cannot start under TSan (its inheritable arena collides with TSan's
# memory layout: "Could not initialize inheritable arena"), so the tests that
# matter here are plain programs with their own main, named tests/test_*_stress.c;
# this job runs exactly those, and the global adapter's stress and thread
# lifecycle programs over the engine's own names (global_stress_engine,
# global_lifecycle_engine_*: threads from a library constructor, detached and
# short-lived threads, fork while threads allocate). Not the key-destructor
# mode: TSan has finished its own state for a thread by the last destructor
# round, and its runtime faults on any instrumented access there (the mode runs
# natively, in-process and under the preload library). The libc back end is used because TSan intercepts
# mmap/munmap from libc but not raw system calls: with the asm back end it would
# keep stale history for reused addresses and report false races.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
ensure_packages libtsan2
configure_build tsan -DALLOC_WERROR=ON -DALLOC_OS_BACKEND=libc
ctest --preset tsan -R '_stress$|^global_stress_engine$|^global_lifecycle_engine_' \
  -E '^global_lifecycle_engine_key-destructor$'
