# Fails the docs target if Doxygen logged any warning (FAIL_ON_WARNINGS makes
# doxygen exit non-zero too; this prints them in one place).
if(EXISTS ${LOG})
  file(READ ${LOG} text)
  string(STRIP "${text}" text)
  if(NOT text STREQUAL "")
    message("${text}")
    message(FATAL_ERROR "Doxygen reported warnings (see above)")
  endif()
endif()
