# One helper to add a library and one to add its tests (STYLE.md layout).
#
#   anoncode_library(NAME SOURCES a.cpp b.cpp DEPS other_lib)
#   anoncode_test(NAME SOURCES a_test.cpp DEPS lib LABELS crypto [SLOW] [GROUPS sm2 …])
#
# Library targets are called anoncode_<NAME>; tests are one gtest executable each, registered
# with ctest test by test (gtest_discover_tests) so a failure names the exact case. A SLOW test
# executable is registered as one ctest test that also carries the label `slow`
# (`ctest -LE slow` skips it). GROUPS registers the tests again once per named credential group,
# prefixed "<group>:" and run with ANONCODE_TEST_GROUP=<group> (crypto/test_util.h).
include(GoogleTest)

# Layering is enforced by the include path (docs/ARCHITECTURE.md): a source directory's headers
# (`#include "crypto/sm3.h"`) are reachable only through an include root of its own,
# build/include/<dir>/<dir> → src/<dir>, which a library publishes to those that link it. A
# library sees its own directory and its declared dependencies' (transitively), nothing else: an
# undeclared dependency does not compile.
function(anoncode_include_root out)
  get_filename_component(dir ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  set(root ${PROJECT_BINARY_DIR}/include/${dir})
  if(NOT EXISTS ${root}/${dir})
    file(MAKE_DIRECTORY ${root})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${dir} SYMBOLIC)
  endif()
  set(${out} ${root} PARENT_SCOPE)
endfunction()

# A target that is not a library (an executable, a test) reaching its own directory's headers.
function(anoncode_own_headers target)
  anoncode_include_root(root)
  target_include_directories(${target} PRIVATE ${root})
endfunction()

function(anoncode_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(anoncode_${name} STATIC ${ARG_SOURCES})
  anoncode_include_root(root)
  target_include_directories(anoncode_${name} PUBLIC ${root})
  target_link_libraries(anoncode_${name} PUBLIC ${ARG_DEPS})
endfunction()

function(anoncode_test name)
  cmake_parse_arguments(ARG "SLOW" "" "SOURCES;DEPS;LABELS;GROUPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  anoncode_own_headers(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE ANONCODE_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data")
  if(ARG_SLOW)
    # gtest_discover_tests cannot write a list-valued LABELS property, so register it whole.
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS};slow")
  else()
    gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
    foreach(group IN LISTS ARG_GROUPS)
      gtest_discover_tests(${name} TEST_PREFIX "${group}:" DISCOVERY_TIMEOUT 60
        PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "ANONCODE_TEST_GROUP=${group}")
    endforeach()
  endif()
endfunction()

# A libFuzzer target (ANONCODE_FUZZ, fuzz/CMakeLists.txt): one executable linked with libFuzzer's
# main, added to the `fuzz` target, its seed corpus in fuzz/corpus/<name>/.
function(anoncode_fuzz_target name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  anoncode_own_headers(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzz ${name})
endfunction()
