# Builds 32-bit x86 code with the host compiler's -m32 (Debian packages
# libc6-dev-i386 and lib32gcc-12-dev; gcc-multilib would do too but conflicts
# with the aarch64 cross compiler). The programs run natively on an x86_64
# kernel. The asm back end is 64-bit only, so the root build picks libc.
#   cmake -S . -B build/m32 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/i686-linux-gnu-m32.cmake
# Criterion is not installed for i386 (Debian's i386 Criterion cannot be
# co-installed with the native one): configure with -DALLOC_TESTS=OFF and run
# the plain-C portable suite (tests/portable).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)

if(NOT CMAKE_C_COMPILER)
  set(CMAKE_C_COMPILER gcc)
endif()
# libc6-dev-i386 ships the 32-bit C library headers but not the kernel's
# <asm/...> ones, which gcc-multilib would add as a link to the host's (x86's
# are shared by both word sizes). Make that link inside the build tree instead
# of on the system.
set(ALLOC_M32_INCLUDE ${CMAKE_BINARY_DIR}/m32-include)
if(NOT EXISTS ${ALLOC_M32_INCLUDE}/asm AND EXISTS /usr/include/x86_64-linux-gnu/asm)
  file(MAKE_DIRECTORY ${ALLOC_M32_INCLUDE})
  file(CREATE_LINK /usr/include/x86_64-linux-gnu/asm ${ALLOC_M32_INCLUDE}/asm SYMBOLIC)
endif()
set(CMAKE_C_FLAGS_INIT "-m32 -idirafter ${ALLOC_M32_INCLUDE}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-m32")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-m32")
# Libraries of the 32-bit multilib, not the host's 64-bit ones.
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)
set(FIND_LIBRARY_USE_LIB64_PATHS OFF)
set_property(GLOBAL PROPERTY FIND_LIBRARY_USE_LIB32_PATHS ON)
set_property(GLOBAL PROPERTY FIND_LIBRARY_USE_LIB64_PATHS OFF)
