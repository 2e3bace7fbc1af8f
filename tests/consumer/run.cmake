# Driver of the packaging tests (cmake -P). Variables:
#   MODE          install | find_package | pkg_config | add_subdirectory
#   BUILD_DIR     the alloc build tree (for install)
#   SOURCE_DIR    the alloc source tree
#   WORK_DIR      scratch directory of this test
#   PREFIX        install prefix the consumers use
#   C_COMPILER    the compiler of the alloc build
#   C_FLAGS       extra flags (sanitizers) the consumers must use as well
#   STRATEGIES    the ALLOC_STRATEGIES list of the alloc build ("," separated)
#   GENERATOR     CMake generator of the alloc build
#   EXPECT_GLOBAL the build has the global adapter's malloc replacement
cmake_minimum_required(VERSION 3.20)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()

string(REPLACE "," ";" STRATEGIES "${STRATEGIES}")
set(consumer_args -G "${GENERATOR}" -DCMAKE_C_COMPILER=${C_COMPILER} "-DCMAKE_C_FLAGS=${C_FLAGS}"
                  "-DCMAKE_EXE_LINKER_FLAGS=${C_FLAGS}" -DCMAKE_BUILD_TYPE=Debug)

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})
  foreach(f include/alloc/alloc.h include/alloc/containers.h)
    if(NOT EXISTS ${PREFIX}/${f})
      message(FATAL_ERROR "not installed: ${f}")
    endif()
  endforeach()
  file(GLOB_RECURSE libs ${PREFIX}/*liballoc.a ${PREFIX}/*liballoc.so ${PREFIX}/*allocConfig.cmake ${PREFIX}/*alloc.pc)
  list(LENGTH libs n)
  if(n LESS 4)
    message(FATAL_ERROR "install is missing pieces; found: ${libs}")
  endif()
elseif(MODE STREQUAL "find_package")
  file(REMOVE_RECURSE ${WORK_DIR})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer/find_package -B ${WORK_DIR} ${consumer_args}
      -DCMAKE_PREFIX_PATH=${PREFIX})
  run(${CMAKE_COMMAND} --build ${WORK_DIR})
  run(${WORK_DIR}/consumer_static)
  run(${WORK_DIR}/consumer_shared)
  if(EXPECT_GLOBAL)
    run(${WORK_DIR}/consumer_global)
  endif()
elseif(MODE STREQUAL "pkg_config")
  file(REMOVE_RECURSE ${WORK_DIR})
  separate_arguments(flags UNIX_COMMAND "${C_FLAGS}")
  run(sh ${SOURCE_DIR}/tests/consumer/pkg_config/build.sh ${C_COMPILER} ${PREFIX} ${WORK_DIR} ${flags})
elseif(MODE STREQUAL "add_subdirectory")
  file(REMOVE_RECURSE ${WORK_DIR})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer/add_subdirectory -B ${WORK_DIR} ${consumer_args}
      -DALLOC_SOURCE_DIR=${SOURCE_DIR} "-DALLOC_STRATEGIES=${STRATEGIES}")
  run(${CMAKE_COMMAND} --build ${WORK_DIR})
  run(${WORK_DIR}/consumer)
else()
  message(FATAL_ERROR "unknown MODE ${MODE}")
endif()
