// What the kms tests share.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/secret.h"

namespace anoncode::kms::testing {

// A key written in hex in a test.
inline SecretBytes key_hex(std::string_view hex) {
  auto b = from_hex(hex);
  EXPECT_TRUE(b.ok()) << hex;
  return b.ok() ? SecretBytes(std::span<const uint8_t>(*b)) : SecretBytes();
}

inline std::string hex_of(const SecretBytes& s) {
  return to_hex(ByteView(s.expose_secret().data(), s.size()));
}

}  // namespace anoncode::kms::testing
