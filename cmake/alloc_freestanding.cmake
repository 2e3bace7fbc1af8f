# The freestanding core (include/alloc/freestanding.h): ALLOC_FREESTANDING=ON
# builds, next to the usual library, a static library `alloc_freestanding`
# compiled with -ffreestanding and the C macro ALLOC_FREESTANDING=1: the
# interface, diagnostics, and the strategies that work over a caller's buffer
# or another handle. It needs no C library: no malloc, stdio, errno variable
# or system call; the program provides memcpy, memmove, memset, memcmp and
# strlen. The page provider is its "none" back end (every map fails), so a
# strategy left on its default backing behaves as out of memory.
#
# On Linux x86_64 and aarch64 a test program (tests/freestanding) is linked
# against it with -nostdlib -static and run by ctest (under qemu-user when
# cross-compiling): the link itself proves that nothing else is needed.
#
# For a bare-metal toolchain, configure with that toolchain and build the
# alloc_freestanding target alone.
option(ALLOC_FREESTANDING "Build the freestanding core (alloc_freestanding) and its -nostdlib test program" OFF)
set(ALLOC_FREESTANDING_FOLDERS "bump;arena;stack;pool;freelist" CACHE STRING
  "src/ folders compiled into the freestanding core (those that exist)")
# Sources of those folders that need an operating system (threads, yields).
set(ALLOC_FREESTANDING_EXCLUDE "/pool_mt\\.c$" CACHE STRING
  "Regular expression of sources left out of the freestanding core")

if(ALLOC_FREESTANDING)
  if(NOT ALLOC_SANITIZE STREQUAL "")
    message(FATAL_ERROR "ALLOC_FREESTANDING cannot be combined with ALLOC_SANITIZE (sanitizers need a C library)")
  endif()
  file(GLOB fs_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/core/*.c)
  list(APPEND fs_sources ${PROJECT_SOURCE_DIR}/src/os/symbols.c
    ${PROJECT_SOURCE_DIR}/src/os/os.c ${PROJECT_SOURCE_DIR}/src/os/backend_none.c
    ${PROJECT_SOURCE_DIR}/src/page/page.c)
  set(fs_folders "")
  foreach(folder ${ALLOC_FREESTANDING_FOLDERS})
    file(GLOB folder_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${folder}/*.c)
    if(folder_sources)
      list(APPEND fs_sources ${folder_sources})
      list(APPEND fs_folders ${folder})
    endif()
  endforeach()
  list(FILTER fs_sources EXCLUDE REGEX "${ALLOC_FREESTANDING_EXCLUDE}")
  message(STATUS "alloc: freestanding core with: ${fs_folders}")

  # No stack protector (its guard and failure handler live in the C library),
  # no position-independent code (nothing relocates a -nostdlib static image).
  set(ALLOC_FREESTANDING_FLAGS -ffreestanding -fno-stack-protector -fno-pic)
  # GCC on aarch64 turns atomics into calls to libgcc helpers that pick LSE or
  # LL/SC at run time, using the C library's getauxval: inline them instead.
  include(CheckCCompilerFlag)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    check_c_compiler_flag(-mno-outline-atomics ALLOC_HAVE_NO_OUTLINE_ATOMICS)
    if(ALLOC_HAVE_NO_OUTLINE_ATOMICS)
      list(APPEND ALLOC_FREESTANDING_FLAGS -mno-outline-atomics)
    endif()
  endif()
  add_library(alloc_freestanding STATIC ${fs_sources})
  target_include_directories(alloc_freestanding PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
  target_compile_definitions(alloc_freestanding PUBLIC ALLOC_FREESTANDING=1 PRIVATE ALLOC_DEBUG=${ALLOC_DEBUG})
  target_compile_options(alloc_freestanding PRIVATE ${ALLOC_WARNINGS} ${ALLOC_FREESTANDING_FLAGS})
  target_compile_options(alloc_freestanding PUBLIC -ffreestanding)
  if(ALLOC_TRACE)
    target_compile_definitions(alloc_freestanding PRIVATE ALLOC_TRACE_ENABLED=1)
  endif()
  set_target_properties(alloc_freestanding PROPERTIES POSITION_INDEPENDENT_CODE OFF)

  if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|aarch64|arm64)$"
     AND NOT CMAKE_SIZEOF_VOID_P EQUAL 4)
    add_executable(freestanding_demo ${PROJECT_SOURCE_DIR}/tests/freestanding/main.c)
    target_link_libraries(freestanding_demo PRIVATE alloc_freestanding)
    target_compile_options(freestanding_demo PRIVATE ${ALLOC_WARNINGS} ${ALLOC_FREESTANDING_FLAGS})
    target_compile_definitions(freestanding_demo PRIVATE ALLOC_DEBUG=${ALLOC_DEBUG})
    # The program's own memset & co. must not be turned back into calls to
    # themselves by GCC's loop-idiom recognition.
    check_c_compiler_flag(-fno-tree-loop-distribute-patterns ALLOC_HAVE_NO_LOOP_PATTERNS)
    if(ALLOC_HAVE_NO_LOOP_PATTERNS)
      target_compile_options(freestanding_demo PRIVATE -fno-tree-loop-distribute-patterns)
    endif()
    foreach(folder ${fs_folders})
      string(TOUPPER ${folder} upper)
      target_compile_definitions(freestanding_demo PRIVATE ALLOC_FS_HAVE_${upper}=1)
    endforeach()
    # The proof: a static image with no C library, no start files, nothing but
    # the program, the core, and libgcc (compiler helpers, not a C library).
    target_link_options(freestanding_demo PRIVATE -nostdlib -static $<$<C_COMPILER_ID:GNU>:-no-pie>)
    target_link_libraries(freestanding_demo PRIVATE gcc)
    set_target_properties(freestanding_demo PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    enable_testing()
    add_test(NAME freestanding COMMAND freestanding_demo)
    set_tests_properties(freestanding PROPERTIES TIMEOUT 300)
  endif()
endif()
