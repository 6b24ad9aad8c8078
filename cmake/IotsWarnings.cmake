# Warnings as errors for our own code only; third-party headers come in as SYSTEM.
add_library(iots_warnings INTERFACE)
target_compile_options(iots_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(IOTS_WERROR)
  target_compile_options(iots_warnings INTERFACE -Werror)
endif()

# GCC 12 at -O3 reports impossible overlaps inside libstdc++'s own string concatenation
# (GCC bug 105329, fixed in GCC 13); keep the warning but do not fail a Release build on it.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(iots_warnings INTERFACE -Wno-error=restrict)
endif()

# A unity build (scripts/demo.sh's) compiles the .cpp files of a library as #includes of one file:
# GCC then takes a class of a .cpp with a member of its anonymous namespace for a header's.
if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(iots_warnings INTERFACE -Wno-subobject-linkage)
endif()
