# bench_report test: runs alloc-bench on a tiny budget so that a budgeted
# workload stops early, then checks the report says so and keeps its form:
#   cmake -DBENCH=<alloc-bench> -DOUT=<dir> -P check_report.cmake
# What it holds: an over-budget pair shows what it reached (not a blank or a
# "skip"), times carry a unit, the report opens with the which-one table,
# the baseline's own 1.00 is not bolded, and a row with nothing in it is
# left out.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${BENCH} --contenders glibc,page --workloads paired,realloc-step --scale 0.01
                        --reps 1 --budget 1e-9 --no-plots --out ${OUT}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "alloc-bench exited with ${rc}")
endif()
file(READ ${OUT}/results.md md)

function(expect regex what)
  if(NOT md MATCHES "${regex}")
    message(FATAL_ERROR "results.md: ${what} (no match for ${regex})")
  endif()
endfunction()

expect("\\| glibc \\| [0-9.]+ ns \\| > [0-9.]+ (ns|µs|ms|s) \\(reached [0-9.]+ KiB of 256\\) \\|"
       "glibc's row gives paired in ns and the over-budget realloc-step as what it reached")
expect("- glibc / realloc-step: over-budget" "the over-budget pair is listed with its status")
string(FIND "${md}" "## Which one for which pattern" choice)
string(FIND "${md}" "## CPU time per operation" times)
if(choice LESS 0 OR times LESS 0 OR NOT choice LESS times)
  message(FATAL_ERROR "results.md: the which-one table does not come before the time table")
endif()
expect("\\| one short-lived block at a time \\| paired \\| [^|]*\\| [^|]*\\| glibc: [0-9.]+ ns \\|"
       "the which-one table names glibc as the fastest other malloc on paired")
# The speedup-against-glibc table: glibc's own 1.00 plain, and page (no
# paired, and no glibc figure to compare its realloc-step with) left out.
string(FIND "${md}" "## Speedup against glibc" start)
string(SUBSTRING "${md}" ${start} -1 rest)
string(FIND "${rest}" "\n## " next)
string(SUBSTRING "${rest}" 0 ${next} section)
if(NOT section MATCHES "\\| glibc \\| 1\\.00 \\|")
  message(FATAL_ERROR "results.md: glibc's own speedup is not a plain 1.00:\n${section}")
endif()
if(section MATCHES "\\| page \\|")
  message(FATAL_ERROR "results.md: an empty row (page) is in the speedup table:\n${section}")
endif()
if(md MATCHES "Speedup against jemalloc")
  message(FATAL_ERROR "results.md: a speedup table against jemalloc, which was not in the run")
endif()
