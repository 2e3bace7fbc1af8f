# The malloc adapter's tests, included by tests/CMakeLists.txt after the
# Criterion suites exist: tests/test_global*.c link with the engine, and the
# probe, stress, lifecycle, osfail and introspect programs (tests/global/*.c)
# run over glibc, in-process and under the preload library.
#
# These tests were registered from the top-level directory until they moved
# here; names, timeouts, environments and working directory are kept as they
# were (CI scripts select them by name). In particular the engine's stress and
# lifecycle tests ran without ALLOC_TEST_ENV (not visible where they were
# registered); global_engine_env keeps that until the sanitizer jobs are
# checked with it.
if(NOT TARGET alloc_global)
  return()
endif()
set(global_engine_env "")
file(GLOB tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/test_global*.c)
foreach(src ${tests})
  get_filename_component(name ${src} NAME_WE)
  if(TARGET ${name})
    target_link_libraries(${name} PRIVATE alloc_global)
  endif()
endforeach()
set(dir ${PROJECT_SOURCE_DIR}/tests/global)
add_executable(global_probe ${dir}/probe.c)
add_executable(global_stress ${dir}/stress.c)
foreach(t global_probe global_stress)
  target_compile_options(${t} PRIVATE -Wall -Wextra -fno-builtin)
  target_link_libraries(${t} PRIVATE Threads::Threads)
endforeach()
# The stress program over the engine's alloc_global_* names: what the
# sanitizer builds (ASan, TSan) can check of the caches, classes and fork.
add_executable(global_stress_engine ${dir}/stress.c)
target_compile_options(global_stress_engine PRIVATE -Wall -Wextra)
target_compile_definitions(global_stress_engine PRIVATE ALLOC_STRESS_ENGINE=1)
target_link_libraries(global_stress_engine PRIVATE alloc_global alloc Threads::Threads)
add_test(NAME global_stress_engine COMMAND global_stress_engine 4 4000 WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
# Thread lifecycles, signals and fork (lifecycle.c): every mode under the
# preload library and linked in, and the thread modes over the engine's own
# names (what the sanitizer builds check). Each mode's timeout turns a hang
# into a failure.
set(lifecycle_thread_modes ctor-thread key-destructor detached short-lived fork-threads fork-exiting-threads atfork-malloc)
set(lifecycle_modes ${lifecycle_thread_modes} signal-fork signal-fork-nested)
add_library(global_lifecycle_lib_engine SHARED ${dir}/lifecycle_lib.c)
target_compile_definitions(global_lifecycle_lib_engine PRIVATE ALLOC_STRESS_ENGINE=1)
target_link_libraries(global_lifecycle_lib_engine PRIVATE alloc_global alloc Threads::Threads)
add_executable(global_lifecycle_engine ${dir}/lifecycle.c)
target_compile_definitions(global_lifecycle_engine PRIVATE ALLOC_STRESS_ENGINE=1)
target_link_libraries(global_lifecycle_engine PRIVATE global_lifecycle_lib_engine alloc_global alloc
                      Threads::Threads ${CMAKE_DL_LIBS})
foreach(mode ${lifecycle_thread_modes})
  add_test(NAME global_lifecycle_engine_${mode} COMMAND global_lifecycle_engine ${mode} alloc WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  set_tests_properties(global_lifecycle_engine_${mode} PROPERTIES TIMEOUT 180 ENVIRONMENT "${global_engine_env}")
endforeach()
set_tests_properties(global_stress_engine PROPERTIES TIMEOUT 300 ENVIRONMENT "${global_engine_env}")
if(NOT ALLOC_GLOBAL_REPLACES_MALLOC)
  return()
endif()
add_executable(global_probe_inproc ${dir}/probe.c)
add_executable(global_stress_inproc ${dir}/stress.c)
foreach(t global_probe_inproc global_stress_inproc)
  target_compile_options(${t} PRIVATE -Wall -Wextra -fno-builtin)
  target_compile_definitions(${t} PRIVATE ALLOC_PROBE_INPROC=1)
  target_link_libraries(${t} PRIVATE alloc_global_malloc alloc Threads::Threads)
endforeach()
add_library(global_lifecycle_lib SHARED ${dir}/lifecycle_lib.c)
target_link_libraries(global_lifecycle_lib PRIVATE Threads::Threads)
add_executable(global_lifecycle ${dir}/lifecycle.c)
add_executable(global_lifecycle_inproc ${dir}/lifecycle.c)
target_link_libraries(global_lifecycle PRIVATE global_lifecycle_lib Threads::Threads ${CMAKE_DL_LIBS})
target_link_libraries(global_lifecycle_inproc PRIVATE global_lifecycle_lib alloc_global_malloc alloc
                      Threads::Threads ${CMAKE_DL_LIBS})
# The in-process program exports the malloc names (and alloc_global_* for
# the checks) to the library and to dlsym.
set_target_properties(global_lifecycle_inproc PROPERTIES ENABLE_EXPORTS ON)
target_include_directories(global_lifecycle PRIVATE ${PROJECT_SOURCE_DIR}/include)
foreach(mode ${lifecycle_modes})
  add_test(NAME global_lifecycle_preload_${mode}
           COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=$<TARGET_FILE:alloc_preload>
                   $<TARGET_FILE:global_lifecycle> ${mode} alloc WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  add_test(NAME global_lifecycle_inproc_${mode} COMMAND global_lifecycle_inproc ${mode} alloc WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  add_test(NAME global_lifecycle_glibc_${mode} COMMAND global_lifecycle ${mode} WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  set_tests_properties(global_lifecycle_preload_${mode} global_lifecycle_inproc_${mode}
                       global_lifecycle_glibc_${mode} PROPERTIES TIMEOUT 180)
endforeach()
# Valid frees while the system refuses to unmap (at vm.max_map_count):
# under the preload library (default and page strategies) and over glibc.
add_executable(global_osfail ${dir}/osfail.c)
target_link_libraries(global_osfail PRIVATE ${CMAKE_DL_LIBS})
foreach(mode large churn)
  add_test(NAME global_osfail_preload_${mode}
           COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=$<TARGET_FILE:alloc_preload> $<TARGET_FILE:global_osfail> ${mode} WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  add_test(NAME global_osfail_glibc_${mode} COMMAND global_osfail ${mode} WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  set_tests_properties(global_osfail_preload_${mode} global_osfail_glibc_${mode} PROPERTIES TIMEOUT 180)
endforeach()
add_test(NAME global_osfail_preload_page
         COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=$<TARGET_FILE:alloc_preload> ALLOC_STRATEGY=page
                 $<TARGET_FILE:global_osfail> page WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
set_tests_properties(global_osfail_preload_page PROPERTIES TIMEOUT 180)
# malloc_trim, mallinfo2, malloc_stats: glibc's semantics, checked over
# glibc and over the preload library (which adds the decay check).
add_executable(global_introspect ${dir}/introspect.c)
target_link_libraries(global_introspect PRIVATE ${CMAKE_DL_LIBS})
add_test(NAME global_introspect_glibc COMMAND global_introspect WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
add_test(NAME global_introspect_preload
         COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=$<TARGET_FILE:alloc_preload> $<TARGET_FILE:global_introspect> alloc WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
add_test(NAME global_env_options
         COMMAND bash ${dir}/env_options.sh $<TARGET_FILE:alloc_preload> $<TARGET_FILE:global_introspect> WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
set_tests_properties(global_introspect_glibc global_introspect_preload global_env_options PROPERTIES TIMEOUT 120)
add_test(NAME global_probe_compare
         COMMAND bash ${dir}/compare.sh $<TARGET_FILE:global_probe> $<TARGET_FILE:global_probe_inproc>
                 $<TARGET_FILE:alloc_preload> ${ALLOC_GLOBAL_NAMED} WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
add_test(NAME global_stress_preload
         COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=$<TARGET_FILE:alloc_preload>
                 $<TARGET_FILE:global_stress> 4 20000 WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
foreach(strategy ${ALLOC_GLOBAL_NAMED})
  add_test(NAME global_stress_preload_${strategy}
           COMMAND ${CMAKE_COMMAND} -E env LD_PRELOAD=$<TARGET_FILE:alloc_preload> ALLOC_STRATEGY=${strategy}
                   $<TARGET_FILE:global_stress> 2 4000 WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  set_tests_properties(global_stress_preload_${strategy} PROPERTIES TIMEOUT 300)
endforeach()
find_program(ALLOC_VALGRIND_EXE valgrind)
if(ALLOC_VALGRIND AND ALLOC_VALGRIND_EXE)
  # Memcheck over the adapter's own blocks (client requests on): the probe
  # in-process, with Valgrind's malloc replacement kept out of the executable.
  add_test(NAME global_probe_valgrind
           COMMAND ${ALLOC_VALGRIND_EXE} --soname-synonyms=somalloc=nouserintercepts --error-exitcode=9 -q
                   $<TARGET_FILE:global_probe_inproc> WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  set_tests_properties(global_probe_valgrind PROPERTIES TIMEOUT 600)
endif()
add_test(NAME global_stress_inproc COMMAND global_stress_inproc 4 8000 WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
add_test(NAME global_stress_inproc_installed COMMAND global_stress_inproc 4 8000 install WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
set_tests_properties(global_probe_compare global_stress_preload global_stress_inproc
                     global_stress_inproc_installed PROPERTIES TIMEOUT 300)
