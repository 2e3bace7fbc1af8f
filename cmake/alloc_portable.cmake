# The portable test suite (tests/portable): the conformance rows and the page
# provider checked by a plain-C runner, for the targets where Criterion cannot
# be installed next to the host's copy: cross-compiled aarch64 (run under
# qemu-user through the toolchain's CMAKE_CROSSCOMPILING_EMULATOR) and -m32.
# On by default only when cross-compiling (the -m32 toolchain counts as one):
# native builds have the Criterion suite, and -DALLOC_PORTABLE_TESTS=ON runs
# this one there too. Registered with ctest as "portable".
if(ALLOC_TOP_LEVEL AND CMAKE_CROSSCOMPILING)
  set(ALLOC_PORTABLE_DEFAULT ON)
else()
  set(ALLOC_PORTABLE_DEFAULT OFF)
endif()
option(ALLOC_PORTABLE_TESTS "Build the plain-C portable test suite (tests/portable)" ${ALLOC_PORTABLE_DEFAULT})

if(ALLOC_PORTABLE_TESTS)
  include(${PROJECT_SOURCE_DIR}/tests/descriptors/sources.cmake)
  add_executable(portable_tests
    tests/portable/harness.c tests/portable/conformance_checks.c tests/conformance/suite.c tests/portable/os_checks.c
    ${ALLOC_DESCRIPTOR_SOURCES})
  if(TARGET alloc_global)
    target_link_libraries(portable_tests PRIVATE alloc_global)
  endif()
  target_link_libraries(portable_tests PRIVATE alloc Threads::Threads)
  target_include_directories(portable_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/portable ${PROJECT_SOURCE_DIR}/tests/conformance ${ALLOC_DESCRIPTOR_DIR}
    ${ALLOC_INTERNAL_INCLUDE})
  # The checks fill and verify every byte of up to 256 MiB of live blocks:
  # optimised, they take seconds rather than minutes (more so under qemu).
  # The library itself keeps the configuration's flags.
  target_compile_options(portable_tests PRIVATE ${ALLOC_WARNINGS} -O2)
  if(ALLOC_OS_BACKEND STREQUAL "asm")
    set(expect_asm 1)
  else()
    set(expect_asm 0)
  endif()
  target_compile_definitions(portable_tests PRIVATE ALLOC_DEBUG=${ALLOC_DEBUG} ALLOC_PORTABLE_EXPECT_ASM=${expect_asm})
  if(ALLOC_VALGRIND)
    target_compile_definitions(portable_tests PRIVATE ALLOC_TRACK_VALGRIND=1)
  endif()
  # Under an emulator (qemu-user) the same checks run over less memory: block
  # lengths capped at 64 KiB, and a longer time before a case counts as hung.
  if(CMAKE_CROSSCOMPILING_EMULATOR)
    set(default_args -L 65536 -t 900)
  else()
    set(default_args "")
  endif()
  set(ALLOC_PORTABLE_ARGS "${default_args}" CACHE STRING "Arguments of the portable suite's ctest run (see tests/portable/harness.c)")
  # The Valgrind job runs the whole suite under memcheck, several minutes.
  set(ALLOC_PORTABLE_TIMEOUT 900 CACHE STRING "ctest timeout of the portable suite, in seconds")
  enable_testing()
  add_test(NAME portable COMMAND portable_tests ${ALLOC_PORTABLE_ARGS})
  set_tests_properties(portable PROPERTIES TIMEOUT ${ALLOC_PORTABLE_TIMEOUT} ENVIRONMENT
    "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;TSAN_OPTIONS=halt_on_error=1")
endif()
