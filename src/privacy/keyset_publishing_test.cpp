// DESIGN §3.6 rule 4: how the privacy backend publishes the issuer key sets (append-only, one new
// sequence per change, on SQLite and PostgreSQL).
#include <gtest/gtest.h>

#include "crypto/test_util.h"
#include "privacy/privacy_backend.h"
#include "protocol/issuer_keyset.h"
#include "storage/test_databases.h"

namespace anoncode::privacy {
namespace {

constexpr int64_t kNow = 1'764'000'000'000;
constexpr int64_t kYear = 365LL * 86'400'000;

class KeySetPublishing : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Backends, KeySetPublishing,
                         ::testing::ValuesIn(storage::testing::test_backends()),
                         [](const auto& info) { return info.param; });

TEST_P(KeySetPublishing, OneSignedSetPerChangeOfKeysAndTheHistoryIsKept) {
  ANONCODE_REQUIRE_BACKEND(GetParam());
  auto db = storage::Db::open(storage::testing::fresh_database_url(GetParam()));
  ASSERT_TRUE(db.ok());
  crypto::SeededRng rng("keyset-test");
  const auto& g = crypto::service_test_group();
  auto root = *crypto::Sm2PrivateKey::generate();
  auto first_key = crypto::IssuerKey::generate(g, rng);
  EXPECT_EQ(PrivacyBackend(**db, g, {first_key}, rng).latest_keyset().error().code,
            ErrorCode::kNotFound);
  {
    PrivacyBackend backend(**db, g, {first_key}, rng);
    auto s1 = backend.publish_keyset(root, kNow, kYear);
    ASSERT_TRUE(s1.ok()) << s1.error().message;
    // Started again with the same keys (another node, a restart): nothing new is published.
    auto again = backend.publish_keyset(root, kNow + 5000, kYear);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->body, s1->body);
  }
  // A rotation: a new issuing key beside the old one.
  auto second_key = crypto::IssuerKey::generate(g, rng);
  PrivacyBackend rotated(**db, g, {second_key, first_key}, rng);
  auto s2 = rotated.publish_keyset(root, kNow + 86'400'000, kYear);
  ASSERT_TRUE(s2.ok());
  auto parsed = protocol::verify_keyset(*s2, root.public_key(), 2, kNow + 86'400'000);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->sequence, 2);
  EXPECT_EQ(parsed->issuing_kid, to_hex(second_key.kid()));
  ASSERT_EQ(parsed->keys.size(), 2u);
  EXPECT_EQ(parsed->keys[1].valid_from, kNow);  // the old key keeps its first validity
  auto history = rotated.keysets();
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  for (const auto& s : *history)
    EXPECT_TRUE(protocol::verify_keyset(s, root.public_key(), 1, kNow).ok());
}

}  // namespace
}  // namespace anoncode::privacy
