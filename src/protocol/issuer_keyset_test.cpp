// DESIGN §3.6 rule 4: what a client accepts as the issuer's keys.
#include "protocol/issuer_keyset.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"

namespace anoncode::protocol {
namespace {

constexpr int64_t kNow = 1'764'000'000'000;
constexpr int64_t kYear = 365LL * 86'400'000;

IssuerKeySet a_set(int64_t sequence, size_t keys) {
  IssuerKeySet s;
  s.sequence = sequence;
  s.group = "ristretto255";
  s.published_at = kNow;
  for (size_t i = 0; i < keys; ++i) {
    s.keys.push_back({"000000000000000" + std::to_string(i), Bytes(33, static_cast<uint8_t>(i)),
                      kNow - 1000, kNow + kYear});
  }
  s.issuing_kid = s.keys.front().kid;
  return s;
}

TEST(IssuerKeySet, AClientAcceptsOnlyWhatItsTrustRootSigned) {
  auto root = *crypto::Sm2PrivateKey::generate();
  auto other = *crypto::Sm2PrivateKey::generate();
  auto signed_set = sign_keyset(a_set(3, 2), root);
  ASSERT_TRUE(signed_set.ok());
  auto ok = verify_keyset(*signed_set, root.public_key(), 1, kNow);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->sequence, 3);
  EXPECT_EQ(ok->keys.size(), 2u);
  // Another root (the operator substituting keys), a changed body, a changed signature.
  EXPECT_EQ(verify_keyset(*signed_set, other.public_key(), 1, kNow).error().code,
            ErrorCode::kVerificationFailed);
  SignedKeySet changed = *signed_set;
  changed.body[changed.body.find("ristretto255")] = 'R';
  EXPECT_EQ(verify_keyset(changed, root.public_key(), 1, kNow).error().code,
            ErrorCode::kVerificationFailed);
  changed = *signed_set;
  changed.signature[5] ^= 1;
  EXPECT_EQ(verify_keyset(changed, root.public_key(), 1, kNow).error().code,
            ErrorCode::kVerificationFailed);
  // An older set than one seen before (a replay of a rolled-back key).
  EXPECT_EQ(verify_keyset(*signed_set, root.public_key(), 4, kNow).error().code,
            ErrorCode::kVerificationFailed);
  // Three keys valid at once: the issuer could give riders keys of their own.
  auto three = sign_keyset(a_set(5, 3), root);
  EXPECT_EQ(verify_keyset(*three, root.public_key(), 1, kNow).error().code,
            ErrorCode::kIssuerMisbehaved);
  // Three keys, but never more than two valid at one time, is a rotation.
  IssuerKeySet rotation = a_set(6, 3);
  rotation.keys[2].valid_from = kNow + kYear + 1;
  rotation.keys[2].valid_until = kNow + 2 * kYear;
  EXPECT_TRUE(verify_keyset(*sign_keyset(rotation, root), root.public_key(), 1, kNow).ok());
  // Signed but not a key set: refused.
  IssuerKeySet unlisted = a_set(7, 1);
  unlisted.issuing_kid = "ffffffffffffffff";
  EXPECT_EQ(verify_keyset(*sign_keyset(unlisted, root), root.public_key(), 1, kNow).error().code,
            ErrorCode::kMalformed);
  EXPECT_EQ(parse_trust_root("not base64!").error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(parse_trust_root(to_base64url(root.public_key().to_bytes()) + "\n").ok());
}

}  // namespace
// Found by fuzz/issuer_keyset_fuzz: a number past the int64 range (read by nlohmann as a double)
// was converted by get<int64_t>() with undefined behaviour, and 1.5 was read as 1. Only integers.
TEST(IssuerKeySet, ParseRefusesNumbersThatAreNotInt64) {
  const std::string body = a_set(3, 1).body();
  ASSERT_TRUE(IssuerKeySet::parse(body).ok());
  const std::string from = "\"valid_from\":" + std::to_string(kNow - 1000);
  ASSERT_NE(body.find(from), std::string::npos);
  for (std::string bad : {"1600000001800000000000", "1e300", "-1e300", "1.5", "9223372036854775808",
                          "18446744073709551615", "\"1\"", "null"}) {
    SCOPED_TRACE(bad);
    std::string changed = body;
    changed.replace(changed.find(from), from.size(), "\"valid_from\":" + bad);
    auto parsed = IssuerKeySet::parse(changed);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, ErrorCode::kMalformed);
  }
  std::string version = body;
  version.replace(version.find("\"version\":1"), 11, "\"version\":1.0");
  EXPECT_FALSE(IssuerKeySet::parse(version).ok());
  std::string sequence = body;
  sequence.replace(sequence.find("\"sequence\":3"), 12, "\"sequence\":3e0");
  EXPECT_FALSE(IssuerKeySet::parse(sequence).ok());
}

}  // namespace anoncode::protocol
