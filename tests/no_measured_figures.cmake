# Headers and strategy pages state bounds (O(1), bytes of overhead); measured
# figures (instruction counts, nanoseconds) live only in the pages the
# benchmark run regenerates (docs/benchmarks.md, docs/choosing.md, bench/results).
# Figures copied by hand into a header or a guide drift from the code: the
# free list's header and its page once disagreed by a factor of three.
# cmake -P, SOURCE_DIR = the alloc source tree.
file(GLOB files ${SOURCE_DIR}/include/alloc/*.h ${SOURCE_DIR}/include/alloc/*.hpp ${SOURCE_DIR}/docs/*.md)
list(FILTER files EXCLUDE REGEX "/docs/(benchmarks|choosing)\\.md$")
set(bad "")
foreach(f ${files})
  file(STRINGS ${f} lines REGEX "[0-9] *instructions|instructions per|[0-9] ?ns per|[0-9] ns\\b")
  foreach(line ${lines})
    file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
    string(APPEND bad "  ${rel}: ${line}\n")
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "measured figures outside the benchmark pages (state a bound, point to docs/benchmarks.md):\n${bad}")
endif()
