# Included by the add_subdirectory and FetchContent consumers after alloc was
# added: a subproject must leave the parent's cache alone (the parent was
# configured without a build type and must still have none) and must not
# build its tests, fuzzers, benchmark or examples.
get_property(parent_build_type CACHE CMAKE_BUILD_TYPE PROPERTY VALUE)
if(parent_build_type OR CMAKE_BUILD_TYPE)
  message(FATAL_ERROR "alloc set the parent's CMAKE_BUILD_TYPE to '${parent_build_type}${CMAKE_BUILD_TYPE}'")
endif()
foreach(t conformance test_arena test_pmr cxx_all_headers tracking_proof alloc-bench example_hello_world portable_tests)
  if(TARGET ${t})
    message(FATAL_ERROR "alloc as a subproject defines its own target ${t} (tests, fuzzers, bench and examples must be off)")
  endif()
endforeach()
if(NOT TARGET alloc::alloc OR NOT TARGET alloc::shared)
  message(FATAL_ERROR "alloc::alloc and alloc::shared must exist")
endif()
