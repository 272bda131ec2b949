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

function(anoncode_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(anoncode_${name} STATIC ${ARG_SOURCES})
  target_include_directories(anoncode_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(anoncode_${name} PUBLIC ${ARG_DEPS})
endfunction()

function(anoncode_test name)
  cmake_parse_arguments(ARG "SLOW" "" "SOURCES;DEPS;LABELS;GROUPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
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
