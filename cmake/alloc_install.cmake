# Installation: headers, the static and shared libraries, the preload library
# of the global adapter (when built), a CMake package (find_package(alloc
# CONFIG) -> alloc::alloc, alloc::shared) and a pkg-config file (alloc.pc).
# Plus the packaging tests: install into a scratch prefix and build consumer
# projects against it (CMake package, pkg-config, the README's pkg-config line)
# and against the source tree (add_subdirectory, FetchContent).
# ALLOC_INSTALL (on when alloc is the top-level project) adds the install rules.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(ALLOC_INSTALL)
set(ALLOC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/alloc CACHE STRING
    "Where the CMake package files are installed (relative to the prefix)")

# The shared library is exported as alloc::shared, matching its alias here.
set_target_properties(alloc_shared PROPERTIES EXPORT_NAME shared)

install(TARGETS alloc alloc_shared EXPORT allocTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/alloc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The global adapter: alloc::global (the engine, alloc_global_* names) and,
# where malloc may be replaced (no sanitizer), alloc::global_malloc: the
# malloc & co. definitions. In the build tree that is an object library; what
# is installed is a static library, liballoc_malloc.a, with `-u malloc` in its
# link interface: the linker then takes the member that defines malloc even
# though the program's own objects never name it (only the C library does),
# and the program's malloc is alloc's. No object files in the installed tree.
if(TARGET alloc_global)
  set_target_properties(alloc_global PROPERTIES EXPORT_NAME global)
  install(TARGETS alloc_global EXPORT allocTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
if(TARGET alloc_global_malloc)
  add_library(alloc_global_malloc_archive STATIC $<TARGET_OBJECTS:alloc_global_malloc>)
  set_target_properties(alloc_global_malloc_archive PROPERTIES OUTPUT_NAME alloc_malloc EXPORT_NAME global_malloc)
  target_link_libraries(alloc_global_malloc_archive INTERFACE alloc_global)
  target_link_options(alloc_global_malloc_archive INTERFACE "LINKER:-u,malloc")
  install(TARGETS alloc_global_malloc_archive EXPORT allocTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
# The LD_PRELOAD library is a plugin, not something to link against: it is
# installed next to the libraries but not exported.
if(TARGET alloc_preload)
  install(TARGETS alloc_preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

install(EXPORT allocTargets NAMESPACE alloc:: DESTINATION ${ALLOC_INSTALL_CMAKEDIR})
file(WRITE ${PROJECT_BINARY_DIR}/allocConfig.cmake.in [=[
# alloc @PROJECT_VERSION@: C11 allocator strategy toolkit. MIT licence (LICENSE
# in the installed documentation folder, @CMAKE_INSTALL_DOCDIR@).
@PACKAGE_INIT@
set(alloc_LICENSE "MIT")
include(CMakeFindDependencyMacro)
find_dependency(Threads)
include("${CMAKE_CURRENT_LIST_DIR}/allocTargets.cmake")
check_required_components(alloc)
]=])
configure_package_config_file(${PROJECT_BINARY_DIR}/allocConfig.cmake.in ${PROJECT_BINARY_DIR}/allocConfig.cmake
  INSTALL_DESTINATION ${ALLOC_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/allocConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/allocConfig.cmake ${PROJECT_BINARY_DIR}/allocConfigVersion.cmake
  DESTINATION ${ALLOC_INSTALL_CMAKEDIR})

# pkg-config: -lalloc (the shared library where both exist; --static adds
# what the static one needs).
if(IS_ABSOLUTE ${CMAKE_INSTALL_LIBDIR})
  set(ALLOC_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
else()
  set(ALLOC_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE ${CMAKE_INSTALL_INCLUDEDIR})
  set(ALLOC_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
else()
  set(ALLOC_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(ALLOC_PC_PRIVATE_LIBS "-lpthread")
if(CMAKE_DL_LIBS)
  string(APPEND ALLOC_PC_PRIVATE_LIBS " -l${CMAKE_DL_LIBS}")
endif()
file(WRITE ${PROJECT_BINARY_DIR}/alloc.pc.in [=[
# alloc, MIT licence (LICENSE in @CMAKE_INSTALL_DOCDIR@ under the prefix).
# Outside the system library paths the shared library needs a run-time path:
# cc app.c $(pkg-config --cflags --libs alloc) -Wl,-rpath,$(pkg-config --variable=libdir alloc)
prefix=${pcfiledir}/@ALLOC_PC_RELPREFIX@
exec_prefix=${prefix}
libdir=@ALLOC_PC_LIBDIR@
includedir=@ALLOC_PC_INCLUDEDIR@

Name: alloc
Description: @PROJECT_DESCRIPTION@ (MIT licence)
Version: @PROJECT_VERSION@
License: MIT
Libs: -L${libdir} -lalloc
Libs.private: @ALLOC_PC_PRIVATE_LIBS@
Cflags: -I${includedir}
]=])
# The prefix is found relative to the .pc file, so the installed tree can be moved.
file(RELATIVE_PATH ALLOC_PC_RELPREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" ALLOC_PC_RELPREFIX "${ALLOC_PC_RELPREFIX}")
configure_file(${PROJECT_BINARY_DIR}/alloc.pc.in ${PROJECT_BINARY_DIR}/alloc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/alloc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()

# --- packaging tests ------------------------------------------------------------
if(ALLOC_TESTS AND ALLOC_TOP_LEVEL AND ALLOC_INSTALL)
  set(ALLOC_PKG_WORK ${PROJECT_BINARY_DIR}/package-test)
  set(ALLOC_PKG_FLAGS "")
  if(ALLOC_SANITIZE STREQUAL "address")
    set(ALLOC_PKG_FLAGS "-fsanitize=address,undefined")
  elseif(ALLOC_SANITIZE STREQUAL "thread")
    set(ALLOC_PKG_FLAGS "-fsanitize=thread")
  endif()
  string(REPLACE ";" "," ALLOC_PKG_STRATEGIES "${ALLOC_STRATEGIES}")
  set(ALLOC_PKG_ARGS -DBUILD_DIR=${PROJECT_BINARY_DIR} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
      -DPREFIX=${ALLOC_PKG_WORK}/prefix -DC_COMPILER=${CMAKE_C_COMPILER} "-DC_FLAGS=${ALLOC_PKG_FLAGS}"
      "-DSTRATEGIES=${ALLOC_PKG_STRATEGIES}" "-DGENERATOR=${CMAKE_GENERATOR}" "-DBUILD_TYPE=${CMAKE_BUILD_TYPE}")
  if(TARGET alloc_global_malloc)
    list(APPEND ALLOC_PKG_ARGS -DEXPECT_GLOBAL=ON)
  endif()
  foreach(mode install find_package pkg_config readme_pkg_config release_default add_subdirectory fetchcontent)
    add_test(NAME package_${mode}
      COMMAND ${CMAKE_COMMAND} -DMODE=${mode} -DWORK_DIR=${ALLOC_PKG_WORK}/${mode} ${ALLOC_PKG_ARGS}
              -P ${PROJECT_SOURCE_DIR}/tests/consumer/run.cmake)
    set_tests_properties(package_${mode} PROPERTIES LABELS package TIMEOUT 600)
  endforeach()
  # Consumers of the installed tree need it installed first.
  set_tests_properties(package_install PROPERTIES FIXTURES_SETUP alloc_installed)
  set_tests_properties(package_find_package package_pkg_config package_readme_pkg_config
                       PROPERTIES FIXTURES_REQUIRED alloc_installed)
  # The vendored builds compile the whole library again; keep them off the other builds' cores.
  set_tests_properties(package_add_subdirectory package_fetchcontent package_release_default PROPERTIES RUN_SERIAL ON)
endif()
