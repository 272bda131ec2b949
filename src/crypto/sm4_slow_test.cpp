// GB/T 32907's iterated example: one block encrypted 1,000,000 times under one key. Its own
// executable, so ctest can label it `slow` (ctest -LE slow skips it).
#include <gtest/gtest.h>

#include "crypto/sm4.h"
#include "crypto/sm_test_util.h"

namespace anoncode::crypto {
namespace {

using namespace anoncode::crypto::testing;

TEST(Sm4Slow, MillionRounds) {
  const auto vectors = read_vec("sm4.vec", "SM4-ECB-ITERATED");
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm4.vec line " + std::to_string(v.line));
    const SecretBytes key(v.hex("key"));
    const unsigned long rounds = std::stoul(v.text("iterations"));
    Bytes block = v.hex("pt");
    for (unsigned long i = 0; i < rounds; ++i) {
      auto next = sm4_encrypt_block(key, block);
      ASSERT_TRUE(next.ok());
      block = std::move(next).value();
    }
    EXPECT_EQ(to_hex(block), to_hex(v.hex("ct")));
  }
}

}  // namespace
}  // namespace anoncode::crypto
