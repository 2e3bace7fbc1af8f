# The descriptors (tests/descriptors): descriptor.c plus one file per src/
# folder, <folder>.c, kept when that folder is in the build. Sets
# ALLOC_DESCRIPTOR_SOURCES; the malloc adapter's (global.c) is kept only
# when its engine is built (TARGET alloc_global) and the caller links it.
# Included by tests/, fuzz/ and bench/.
set(ALLOC_DESCRIPTOR_DIR ${PROJECT_SOURCE_DIR}/tests/descriptors)
file(GLOB ALLOC_DESCRIPTOR_SOURCES CONFIGURE_DEPENDS ${ALLOC_DESCRIPTOR_DIR}/*.c)
foreach(src ${ALLOC_DESCRIPTOR_SOURCES})
  get_filename_component(folder ${src} NAME_WE)
  if(folder STREQUAL "descriptor")
    continue()
  endif()
  alloc_folder_enabled(${folder} enabled)
  if(folder STREQUAL "global" AND NOT TARGET alloc_global)
    set(enabled OFF)
  endif()
  if(NOT enabled)
    list(REMOVE_ITEM ALLOC_DESCRIPTOR_SOURCES ${src})
  endif()
endforeach()
# Without the adapter: for harnesses that do not link alloc_global.
set(ALLOC_DESCRIPTOR_SOURCES_NO_GLOBAL ${ALLOC_DESCRIPTOR_SOURCES})
list(FILTER ALLOC_DESCRIPTOR_SOURCES_NO_GLOBAL EXCLUDE REGEX "/global\\.c$")
