# iots_module(NAME SOURCES... [DEPS iots_x ...] [LIBS third-party ...])
# One static library per lib/iotshield/<dir>; a directory is a namespace and a dependency boundary.
function(iots_module name)
  cmake_parse_arguments(M "" "" "DEPS;LIBS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(iots_${name} STATIC ${srcs})
  target_include_directories(iots_${name} PUBLIC ${PROJECT_SOURCE_DIR}/lib)
  target_link_libraries(iots_${name} PUBLIC ${M_DEPS} ${M_LIBS} PRIVATE iots_warnings)
endfunction()

# iots_tool(NAME DEPS...): a thin main in tools/NAME.cpp.
function(iots_tool name)
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/${name}.cpp)
  target_link_libraries(${name} PRIVATE ${ARGN} iots_warnings)
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()
