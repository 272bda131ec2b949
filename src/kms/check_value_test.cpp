#include "kms/check_value.h"

#include <gtest/gtest.h>

#include "kms/kms_test_util.h"

#include "crypto/sm2.h"
#include "crypto/sm3.h"

namespace anoncode::kms {
namespace {

using testing::hex_of;
using testing::key_hex;

TEST(CheckValue, SymmetricKeysEncryptAZeroBlock) {
  // Computed independently: `head -c16 /dev/zero | openssl enc -sm4-ecb|-aes-128-ecb|-aes-256-ecb
  // -K KEY -nopad | xxd -p`.
  auto sm4 = kcv_sm4(key_hex("0123456789abcdeffedcba9876543210"));
  ASSERT_TRUE(sm4.ok());
  EXPECT_EQ(kcv_hex(*sm4), "2677f4");
  auto aes128 = kcv_aes(SecretBytes(16));
  ASSERT_TRUE(aes128.ok());
  EXPECT_EQ(kcv_hex(*aes128), "66e94b");
  auto aes256 = kcv_aes(SecretBytes(32));
  ASSERT_TRUE(aes256.ok());
  EXPECT_EQ(kcv_hex(*aes256), "dc95c0");
  EXPECT_FALSE(kcv_sm4(SecretBytes(15)).ok());
  EXPECT_FALSE(kcv_aes(SecretBytes(20)).ok());
}

TEST(CheckValue, AnAsymmetricKeyHasTheCheckValueOfItsPublicKey) {
  auto key = crypto::Sm2PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  const Bytes pub = key->public_key().to_bytes();
  const CheckValue kcv = kcv_public(pub);
  const auto d = crypto::sm3(pub);
  EXPECT_EQ(kcv, (CheckValue{d[0], d[1], d[2]}));
  auto other = crypto::Sm2PrivateKey::generate();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(kcv_public(other->public_key().to_bytes()), kcv);
}

TEST(CheckValue, OtherSecretsDifferByKeyAndRevealNothingOfIt) {
  const SecretBytes a = key_hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  const SecretBytes b = key_hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeefe");
  EXPECT_NE(kcv_secret(a), kcv_secret(b));
  EXPECT_EQ(kcv_secret(a), kcv_secret(a));
  // `printf anoncode/v1/kcv | openssl mac -digest SM3 -macopt hexkey:0011…eeff HMAC`
  EXPECT_EQ(kcv_hex(kcv_secret(a)), "6312cd");
}

}  // namespace
}  // namespace anoncode::kms
