// Helpers shared by the crypto tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
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

// The group the service suites (privacy, platform, POS front, app) run on: ANONCODE_TEST_GROUP,
// default ristretto255. Each of those suites is registered twice with ctest, the second time
// with ANONCODE_TEST_GROUP=sm2 and the name prefix "sm2:" (anoncode_test … GROUPS sm2).
inline const Group& service_test_group() {
  const char* name = std::getenv("ANONCODE_TEST_GROUP");
  auto g = group_by_name(name != nullptr && *name != '\0' ? name : "ristretto255");
  if (!g) throw std::runtime_error("ANONCODE_TEST_GROUP names no group");
  return **g;
}

}  // namespace anoncode::crypto
