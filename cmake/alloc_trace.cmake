# Trace logging (include/alloc/trace.h): ALLOC_TRACE=ON compiles the
# strategies' ALLOC_TRACE statements (src/core/trace.h) in, one line per split,
# merge and free-list event through the sink set with alloc_set_trace_sink.
# OFF (the default) compiles them out: no call, no argument evaluated.
option(ALLOC_TRACE "Emit trace events (splits, merges, free-list operations) through the trace sink" OFF)
if(ALLOC_TRACE)
  target_compile_definitions(alloc_objects PRIVATE ALLOC_TRACE_ENABLED=1)
endif()

# tests/test_core_trace.c learns what to expect: whether this build traces,
# whether the free list (whose events it asserts) is built, and where the
# static library is (a build without tracing must hold no call to the emitter).
if(TARGET test_core_trace)
  alloc_folder_enabled(freelist freelist_enabled)
  if(freelist_enabled AND EXISTS ${PROJECT_SOURCE_DIR}/src/freelist AND EXISTS ${PROJECT_SOURCE_DIR}/include/alloc/freelist.h)
    set(have_freelist 1)
  else()
    set(have_freelist 0)
  endif()
  if(ALLOC_TRACE)
    set(trace_on 1)
  else()
    set(trace_on 0)
  endif()
  find_program(ALLOC_NM NAMES ${CMAKE_NM} nm)
  target_compile_definitions(test_core_trace PRIVATE
    ALLOC_TEST_TRACE_ON=${trace_on} ALLOC_TEST_HAVE_FREELIST=${have_freelist}
    "ALLOC_TEST_LIBRARY=\"$<TARGET_FILE:alloc>\"" "ALLOC_TEST_NM=\"${ALLOC_NM}\"")
endif()
