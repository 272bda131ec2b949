// The QR payload as the platform signs it and as a POS or an attacker meets it.
#include "protocol/qr_payload.h"

#include <gtest/gtest.h>

#include "protocol/platform_keys.h"

namespace anoncode::protocol {
namespace {

constexpr int64_t kNow = 1'764'000'000'000;

class QrPayloadTest : public ::testing::Test {
 protected:
  crypto::Sm2PrivateKey platform_ = *crypto::Sm2PrivateKey::generate();
  crypto::Sm2PrivateKey forger_ = *crypto::Sm2PrivateKey::generate();

  QrPayload sign(int64_t issued = kNow) {
    auto p = sign_qr_payload(platform_, "nm12345678901234", "6210123456789012345", issued,
                             issued + kDefaultCodeLifetimeMs);
    EXPECT_TRUE(p.ok());
    return *p;
  }
};

TEST_F(QrPayloadTest, ASignedPayloadIs125BytesRoundTripsAndVerifies) {
  QrPayload p = sign();
  Bytes wire = p.encode();
  ASSERT_EQ(wire.size(), kQrPayloadSize);
  EXPECT_EQ(wire[0], 0x01);
  EXPECT_EQ(wire[1], 'N');
  EXPECT_EQ(std::string(wire.begin() + 2, wire.begin() + 18), "nm12345678901234");
  EXPECT_EQ(std::string(wire.begin() + 18, wire.begin() + 37), "6210123456789012345");
  auto back = QrPayload::decode(wire);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->sequence, p.sequence);
  EXPECT_EQ(back->accountid, p.accountid);
  EXPECT_EQ(back->kid, platform_key_id(platform_.public_key()));
  EXPECT_EQ(back->issued_at, kNow);
  EXPECT_EQ(back->expires_at, kNow + 120'000);
  EXPECT_TRUE(verify_qr_signature(*back, platform_.public_key()).ok());
}

TEST_F(QrPayloadTest, TruncatedExtendedOrMistypedPayloadsAreMalformed) {
  Bytes wire = sign().encode();
  auto code_of = [](const Bytes& b) { return QrPayload::decode(b).error().code; };
  EXPECT_EQ(code_of(Bytes(wire.begin(), wire.end() - 1)), ErrorCode::kMalformed);
  Bytes longer = wire;
  longer.push_back(0);
  EXPECT_EQ(code_of(longer), ErrorCode::kMalformed);
  EXPECT_EQ(code_of(Bytes{}), ErrorCode::kMalformed);
  Bytes v2 = wire;
  v2[0] = 0x02;
  EXPECT_EQ(code_of(v2), ErrorCode::kMalformed);
  Bytes ordinary = wire;
  ordinary[1] = 'C';  // an ordinary ride code is not ours
  EXPECT_EQ(code_of(ordinary), ErrorCode::kMalformed);
  Bytes seq = wire;
  seq[2] = 'x';
  EXPECT_EQ(code_of(seq), ErrorCode::kMalformed);
  Bytes digits = wire;
  digits[10] = 'a';
  EXPECT_EQ(code_of(digits), ErrorCode::kMalformed);
  Bytes acc = wire;
  acc[20] = '/';
  EXPECT_EQ(code_of(acc), ErrorCode::kMalformed);
  Bytes backwards = wire;
  for (int i = 53; i < 61; ++i) backwards[i] = 0;  // expires before it was issued
  EXPECT_EQ(code_of(backwards), ErrorCode::kMalformed);
}

TEST_F(QrPayloadTest, ForgedOrTamperedCodesHaveBadSignatures) {
  // A forger signs its own code and puts the platform's key id on it.
  auto forged =
      sign_qr_payload(forger_, "nm00000000000001", "6210123456789012345", kNow, kNow + 120'000);
  ASSERT_TRUE(forged.ok());
  forged->kid = platform_key_id(platform_.public_key());
  auto decoded = QrPayload::decode(forged->encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(verify_qr_signature(*decoded, platform_.public_key()).error().code,
            ErrorCode::kBadSignature);
  // A genuine code with another accountid written over it.
  Bytes wire = sign().encode();
  wire[36] = wire[36] == '9' ? '8' : '9';
  auto tampered = QrPayload::decode(wire);
  ASSERT_TRUE(tampered.ok());
  EXPECT_EQ(verify_qr_signature(*tampered, platform_.public_key()).error().code,
            ErrorCode::kBadSignature);
  // A genuine code checked against another key.
  EXPECT_EQ(verify_qr_signature(sign(), forger_.public_key()).error().code,
            ErrorCode::kBadSignature);
}

TEST_F(QrPayloadTest, ExpiryHonoursTheClockSkewToleranceAndNothingMore) {
  QrPayload p = sign();
  const int64_t skew = 30'000;
  EXPECT_TRUE(check_qr_freshness(p, kNow, skew).ok());
  EXPECT_TRUE(check_qr_freshness(p, p.expires_at + skew, skew).ok());
  EXPECT_EQ(check_qr_freshness(p, p.expires_at + skew + 1, skew).error().code, ErrorCode::kExpired);
  EXPECT_EQ(check_qr_freshness(p, p.expires_at + 1, 0).error().code, ErrorCode::kExpired);
  // A POS whose clock is behind the platform's by less than the tolerance still accepts.
  EXPECT_TRUE(check_qr_freshness(p, kNow - skew, skew).ok());
  EXPECT_EQ(check_qr_freshness(p, kNow - skew - 1, skew).error().code, ErrorCode::kExpired);
}

TEST_F(QrPayloadTest, SigningRefusesBadFields) {
  EXPECT_FALSE(sign_qr_payload(platform_, "nm123", "6210123456789012345", kNow, kNow + 1).ok());
  EXPECT_FALSE(sign_qr_payload(platform_, "nm12345678901234", "62101", kNow, kNow + 1).ok());
  EXPECT_FALSE(
      sign_qr_payload(platform_, "nm12345678901234", "6210123456789012345", kNow, kNow).ok());
}

TEST_F(QrPayloadTest, KeyListsRoundTripAndAKidMustMatchItsKey) {
  PlatformPublicKey k{platform_key_id(platform_.public_key()), platform_.public_key().to_bytes(),
                      kNow, kNow + 1000};
  auto j = keys_to_json({k});
  auto back = keys_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].kid, k.kid);
  EXPECT_EQ((*back)[0].public_key, k.public_key);
  EXPECT_EQ((*back)[0].valid_until, kNow + 1000);
  j["keys"][0]["public_key"] = to_base64url(forger_.public_key().to_bytes());
  EXPECT_EQ(keys_from_json(j).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(keys_from_json(nlohmann::json::object()).error().code, ErrorCode::kMalformed);
}

}  // namespace
}  // namespace anoncode::protocol
