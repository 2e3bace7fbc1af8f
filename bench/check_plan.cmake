# bench_plan test: the pairs a callgrind pass selects, without running them
# (alloc-bench --plan), so scripts/bench.sh's filter reaches that pass:
#   cmake -DBENCH=<alloc-bench> -P check_plan.cmake
# What it holds: given all workloads, the callgrind pass runs its own set
# (and reaches the large bands: realloc growth and large blocks); given
# named workloads, it runs those the contenders join, less the threaded one
# it cannot measure; given only that one, it runs nothing.
function(plan expected)
  execute_process(COMMAND ${BENCH} --plan ${ARGN} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "alloc-bench --plan ${ARGN}: exit ${rc}")
  endif()
  if(NOT out STREQUAL expected)
    message(FATAL_ERROR "alloc-bench --plan ${ARGN}:\nexpected:\n${expected}\ngot:\n${out}")
  endif()
endfunction()

plan("glibc paired\nglibc lifo\nglibc batch-freeall\nglibc churn-4k\nglibc realloc-double\nglibc realloc-step\nglibc large\n"
     --callgrind --contenders glibc)
# (floor, the harness's own cost, is in every build and joins paired only of these.)
plan("floor paired\nglibc paired\nglibc phase\n"
     --callgrind --contenders glibc,floor --workloads paired,prodcons,phase)
plan("" --callgrind --contenders glibc --workloads prodcons)
# The timing pass keeps what the callgrind pass leaves out.
plan("glibc prodcons\n" --contenders glibc --workloads prodcons)
