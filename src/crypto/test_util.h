// Helpers shared by the crypto tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "crypto/group.h"

namespace anoncode::crypto {

// Runs a test suite once per group backend.
class PerGroup : public ::testing::TestWithParam<const Group*> {
 protected:
  const Group& g() const { return *GetParam(); }
};

inline std::string group_test_name(const ::testing::TestParamInfo<const Group*>& info) {
  std::string n(info.param->name());
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

#define ANONCODE_PER_GROUP(suite) \
  INSTANTIATE_TEST_SUITE_P(AllGroups, suite, ::testing::ValuesIn(all_groups()), group_test_name)

}  // namespace anoncode::crypto
