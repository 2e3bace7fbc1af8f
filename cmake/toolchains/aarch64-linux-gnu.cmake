# Cross-compiles for 64-bit ARM Linux with Debian's gcc-aarch64-linux-gnu, and
# runs the resulting test programs under qemu-user (package qemu-user), which
# ctest uses automatically through CMAKE_CROSSCOMPILING_EMULATOR.
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# Criterion is not installed for this architecture (Debian's arm64 Criterion
# cannot be co-installed with the native one), so configure with
# -DALLOC_TESTS=OFF and run the plain-C portable suite (tests/portable).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(ALLOC_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${ALLOC_CROSS_TRIPLE}-gcc)
# The target's C library and headers (Debian's libc6-dev-arm64-cross).
set(ALLOC_CROSS_SYSROOT /usr/${ALLOC_CROSS_TRIPLE})

set(CMAKE_FIND_ROOT_PATH ${ALLOC_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(ALLOC_QEMU_AARCH64 qemu-aarch64)
if(ALLOC_QEMU_AARCH64)
  # -L: where qemu finds the target's dynamic loader and shared libraries.
  set(CMAKE_CROSSCOMPILING_EMULATOR ${ALLOC_QEMU_AARCH64} -L ${ALLOC_CROSS_SYSROOT})
endif()
