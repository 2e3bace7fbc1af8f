# Runs Doxygen for the docs target (cmake -P). Variables:
#   DOXYFILE  the Doxyfile written at configure time
#   OUT       output folder (html/, warnings.log)
#   CHECK     docs/check_warnings.cmake
# The tools are looked for here, at build time, so installing them after
# configuring is enough: nothing stale stays in the CMake cache.
find_program(doxygen_exe doxygen)
find_program(python_exe python3)
if(NOT doxygen_exe OR NOT python_exe)
  message(FATAL_ERROR "docs: doxygen and python3 are needed (apt-get install doxygen python3), then build the docs target again")
endif()
file(MAKE_DIRECTORY ${OUT})
file(REMOVE ${OUT}/warnings.log)
execute_process(COMMAND ${doxygen_exe} ${DOXYFILE} RESULT_VARIABLE rc)
set(LOG ${OUT}/warnings.log)
include(${CHECK})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "doxygen failed (${rc})")
endif()
