# Warnings as errors for our own code only; third-party headers come in as SYSTEM.
add_library(iots_warnings INTERFACE)
target_compile_options(iots_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(IOTS_WERROR)
  target_compile_options(iots_warnings INTERFACE -Werror)
endif()
