# The C++ check (cmake -P, registered with ctest as cxx_headers). Variables:
#   SOURCE_DIR  the alloc source tree
#   WORK_DIR    scratch folder
#   C_COMPILER  the C compiler of the build
# For each C++ compiler found (g++, clang++) and each standard from C++11 on
# that it knows (C++23 is spelled c++2b by older ones): every public header
# alone (each must be self-contained), then tests/cxx/all_headers.cpp, which
# includes them all and instantiates every macro; warnings are errors. Then
# the C side of the same trap: a vector of pointers (ALLOC_VEC_DEFINE(v, T *))
# in C with -Werror=incompatible-pointer-types, which GCC 14 makes an error.
# Fails when no C++ compiler is found at all: scripts/lib.sh installs both.
cmake_minimum_required(VERSION 3.20)

function(compile what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "${what} failed:\n${cmd}\n${out}")
  endif()
endfunction()

file(MAKE_DIRECTORY ${WORK_DIR})
file(GLOB headers ${SOURCE_DIR}/include/alloc/*.h ${SOURCE_DIR}/include/alloc/*.hpp)
set(flags -Wall -Wextra -Wpedantic -Werror -I${SOURCE_DIR}/include)
set(found "")
foreach(cxx g++ clang++)
  find_program(exe_${cxx} NAMES ${cxx})
  if(NOT exe_${cxx})
    message(STATUS "${cxx}: not found, skipped")
    continue()
  endif()
  list(APPEND found ${cxx})
  foreach(std 11 14 17 20 23)
    set(flag -std=c++${std})
    execute_process(COMMAND ${exe_${cxx}} ${flag} -x c++ -fsyntax-only /dev/null
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(NOT rc EQUAL 0 AND std EQUAL 23)
      set(flag -std=c++2b)
      execute_process(COMMAND ${exe_${cxx}} ${flag} -x c++ -fsyntax-only /dev/null
                      RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    endif()
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${cxx} does not accept C++${std}")
    endif()
    foreach(h ${headers})
      get_filename_component(name ${h} NAME)
      if(name MATCHES "\\.hpp$" AND std LESS 17)
        continue() # pmr.hpp is C++17 (std::pmr)
      endif()
      file(WRITE ${WORK_DIR}/${name}.cpp "#include \"alloc/${name}\"\n")
      compile("${cxx} ${flag} ${name}" ${exe_${cxx}} ${flag} ${flags} -fsyntax-only ${WORK_DIR}/${name}.cpp)
    endforeach()
    compile("${cxx} ${flag} all_headers.cpp" ${exe_${cxx}} ${flag} ${flags} -fsyntax-only
            ${SOURCE_DIR}/tests/cxx/all_headers.cpp)
    message(STATUS "${cxx} ${flag}: every header and macro compiles")
  endforeach()
endforeach()
if(NOT found)
  message(FATAL_ERROR "no C++ compiler (g++, clang++) found")
endif()
compile("C vector of pointers" ${C_COMPILER} -std=c11 -Wall -Wextra -Wpedantic -Werror
        -Werror=incompatible-pointer-types -I${SOURCE_DIR}/include -fsyntax-only
        ${SOURCE_DIR}/tests/cxx/vec_of_pointers.c)
