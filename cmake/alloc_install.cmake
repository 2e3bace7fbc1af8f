# Installation: headers, the static and shared libraries, the preload library
# of the global adapter (when built), a CMake package (find_package(alloc
# CONFIG) -> alloc::alloc, alloc::shared) and a pkg-config file (alloc.pc).
# Plus the packaging tests: install into a scratch prefix and build consumer
# projects against it (CMake package, pkg-config) and against the source tree
# (add_subdirectory).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

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

# The global adapter: alloc::global (the engine, alloc_global_* names) and,
# where malloc may be replaced (no sanitizer), alloc::global_malloc (object
# files defining malloc & co., linked into an executable to replace malloc).
if(TARGET alloc_global)
  set_target_properties(alloc_global PROPERTIES EXPORT_NAME global)
  install(TARGETS alloc_global EXPORT allocTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
if(TARGET alloc_global_malloc)
  set_target_properties(alloc_global_malloc PROPERTIES EXPORT_NAME global_malloc)
  install(TARGETS alloc_global_malloc EXPORT allocTargets
    OBJECTS DESTINATION ${CMAKE_INSTALL_LIBDIR}/alloc-objects)
endif()
# The LD_PRELOAD library is a plugin, not something to link against: it is
# installed next to the libraries but not exported.
if(TARGET alloc_preload)
  install(TARGETS alloc_preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

install(EXPORT allocTargets NAMESPACE alloc:: DESTINATION ${ALLOC_INSTALL_CMAKEDIR})
file(WRITE ${PROJECT_BINARY_DIR}/allocConfig.cmake.in [=[
@PACKAGE_INIT@
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
prefix=${pcfiledir}/@ALLOC_PC_RELPREFIX@
exec_prefix=${prefix}
libdir=@ALLOC_PC_LIBDIR@
includedir=@ALLOC_PC_INCLUDEDIR@

Name: alloc
Description: @PROJECT_DESCRIPTION@
Version: @PROJECT_VERSION@
Libs: -L${libdir} -lalloc
Libs.private: @ALLOC_PC_PRIVATE_LIBS@
Cflags: -I${includedir}
]=])
# The prefix is found relative to the .pc file, so the installed tree can be moved.
file(RELATIVE_PATH ALLOC_PC_RELPREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" ALLOC_PC_RELPREFIX "${ALLOC_PC_RELPREFIX}")
configure_file(${PROJECT_BINARY_DIR}/alloc.pc.in ${PROJECT_BINARY_DIR}/alloc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/alloc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# --- packaging tests ------------------------------------------------------------
if(ALLOC_TESTS AND ALLOC_TOP_LEVEL)
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
      "-DSTRATEGIES=${ALLOC_PKG_STRATEGIES}" "-DGENERATOR=${CMAKE_GENERATOR}")
  if(TARGET alloc_global_malloc)
    list(APPEND ALLOC_PKG_ARGS -DEXPECT_GLOBAL=ON)
  endif()
  foreach(mode install find_package pkg_config add_subdirectory)
    add_test(NAME package_${mode}
      COMMAND ${CMAKE_COMMAND} -DMODE=${mode} -DWORK_DIR=${ALLOC_PKG_WORK}/${mode} ${ALLOC_PKG_ARGS}
              -P ${PROJECT_SOURCE_DIR}/tests/consumer/run.cmake)
    set_tests_properties(package_${mode} PROPERTIES LABELS package TIMEOUT 600)
  endforeach()
  # Consumers of the installed tree need it installed first.
  set_tests_properties(package_install PROPERTIES FIXTURES_SETUP alloc_installed)
  set_tests_properties(package_find_package package_pkg_config PROPERTIES FIXTURES_REQUIRED alloc_installed)
  # The vendored build compiles the whole library again; keep it off the other builds' cores.
  set_tests_properties(package_add_subdirectory PROPERTIES RUN_SERIAL ON)
endif()
