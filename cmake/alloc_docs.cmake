# API reference: Doxygen over the public headers (include/alloc/*.h) and the
# guides in docs/. Target `docs`; a warning (an undocumented public symbol, a
# broken reference) fails the build. The headers use ordinary C comments in
# front of each declaration; docs/doxygen_filter.py hands them to Doxygen.
#
# Doxygen and python3 are looked for when the target runs, not when CMake
# configures (docs/build_docs.cmake): a user who configures first and installs
# doxygen afterwards, as the message tells them to, then just builds the
# target again, with no stale "not found" in the cache to clear.
find_package(Python3 QUIET COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  set(ALLOC_DOCS_PYTHON ${Python3_EXECUTABLE})
else()
  set(ALLOC_DOCS_PYTHON python3) # found on PATH by doxygen when it runs
endif()
set(ALLOC_DOXYFILE ${PROJECT_BINARY_DIR}/Doxyfile)
file(GLOB ALLOC_PUBLIC_HEADERS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/alloc/*.h)
file(GLOB ALLOC_DOC_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
string(REPLACE ";" " " ALLOC_DOXY_INPUT "${ALLOC_PUBLIC_HEADERS};${ALLOC_DOC_PAGES}")
file(WRITE ${ALLOC_DOXYFILE}
"PROJECT_NAME           = alloc
PROJECT_NUMBER         = ${PROJECT_VERSION}
PROJECT_BRIEF          = \"${PROJECT_DESCRIPTION}\"
OUTPUT_DIRECTORY       = ${PROJECT_BINARY_DIR}/docs
INPUT                  = ${ALLOC_DOXY_INPUT}
FILE_PATTERNS          = *.h *.md
FILTER_SOURCE_FILES    = NO
FILTER_PATTERNS        = \"*.h=${ALLOC_DOCS_PYTHON} ${PROJECT_SOURCE_DIR}/docs/doxygen_filter.py\"
USE_MDFILE_AS_MAINPAGE = ${PROJECT_SOURCE_DIR}/docs/index.md
OPTIMIZE_OUTPUT_FOR_C  = YES
TYPEDEF_HIDES_STRUCT   = YES
EXTRACT_ALL            = NO
EXTRACT_STATIC         = YES
HIDE_UNDOC_MEMBERS     = NO
JAVADOC_AUTOBRIEF      = YES
MARKDOWN_SUPPORT       = YES
AUTOLINK_SUPPORT       = YES
ENABLE_PREPROCESSING   = YES
MACRO_EXPANSION        = YES
EXPAND_ONLY_PREDEF     = YES
PREDEFINED             = ALLOC_API= ALLOC_INLINE=\"static inline\" ALLOC_NODISCARD= ALLOC_MALLOC_ATTR= \\
                       __attribute__(x)= __GNUC__=12
DISTRIBUTE_GROUP_DOC   = YES
HAVE_DOT               = NO
CLASS_GRAPH            = NO
COLLABORATION_GRAPH    = NO
INCLUDE_GRAPH          = NO
INCLUDED_BY_GRAPH      = NO
DIRECTORY_GRAPH        = NO
QUIET                  = YES
WARNINGS               = YES
WARN_IF_UNDOCUMENTED   = YES
WARN_IF_DOC_ERROR      = YES
WARN_NO_PARAMDOC       = NO
WARN_AS_ERROR          = FAIL_ON_WARNINGS
WARN_LOGFILE           = ${PROJECT_BINARY_DIR}/docs/warnings.log
GENERATE_HTML          = YES
GENERATE_LATEX         = NO
HTML_OUTPUT            = html
SOURCE_BROWSER         = NO
STRIP_FROM_PATH        = ${PROJECT_SOURCE_DIR}
FULL_PATH_NAMES        = YES
# Compiler attributes behind the API, not part of it.
EXCLUDE_SYMBOLS        = ALLOC_*_H ALLOC_INLINE ALLOC_MALLOC_ATTR ALLOC_NODISCARD ALLOC_LIKELY ALLOC_UNLIKELY \\
                       ALLOC_NOINLINE ALLOC_API ALLOC_ALIGNOF ALLOC_ALIGNAS ALLOC_NORETURN ALLOC_BUMP_ATOMIC \\
                       ALLOC_BUMP_LOAD_RELAXED ALLOC_BUMP_STORE_RELAXED ALLOC_VEC_EXTENSION \\
                         alloc_call_site_pc ALLOC_CALL_SITE
")
add_custom_target(docs
  COMMAND ${CMAKE_COMMAND} -DDOXYFILE=${ALLOC_DOXYFILE} -DOUT=${PROJECT_BINARY_DIR}/docs
          -DCHECK=${PROJECT_SOURCE_DIR}/docs/check_warnings.cmake -P ${PROJECT_SOURCE_DIR}/docs/build_docs.cmake
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  COMMENT "API reference (Doxygen) in ${PROJECT_BINARY_DIR}/docs/html"
  VERBATIM)
