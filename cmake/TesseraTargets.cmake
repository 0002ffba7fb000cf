# Helpers that give every Tessera target the same warnings, include paths and sanitizers.

set(TESSERA_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

if(TESSERA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# tessera_module(NAME SOURCES_DIR DEPS...): a static library from src/<dir>/**/*.cpp.
function(tessera_module name dir)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*.cpp)
  # The CUDA backend's sources are added by src/CMakeLists.txt only in CUDA builds.
  list(FILTER sources EXCLUDE REGEX "/backends/cuda/")
  if(NOT sources)  # a module whose sources are not written yet
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(${name} INTERFACE ${ARGN})
    return()
  endif()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${TESSERA_WARNINGS}>)
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()

# tessera_test(NAME LABEL SOURCES...): a GoogleTest executable registered with CTest.
function(tessera_test name label)
  if(NOT ARGN)
    return()
  endif()
  add_executable(${name} ${ARGN})
  target_compile_options(${name} PRIVATE ${TESSERA_WARNINGS})
  target_link_libraries(${name} PRIVATE tessera tessera_test_support GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} NO_PRETTY_VALUES PROPERTIES LABELS ${label} DISCOVERY_TIMEOUT 60)
  # The sanitizer job builds only these (target unit_tests) and runs `ctest -L unit`.
  if(label STREQUAL "unit")
    set_property(GLOBAL APPEND PROPERTY TESSERA_UNIT_TESTS ${name})
  endif()
endfunction()
