// The POS terminal offline, against a scripted POS front: what it accepts, what it refuses, what
// survives a restart, and that a lost acknowledgement re-sends rather than loses rides.
#include "pos/pos_terminal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "protocol/terminal_mac.h"

namespace anoncode::pos {
namespace {

using protocol::kDefaultCodeLifetimeMs;
using protocol::mac_equal;
using protocol::platform_key_id;
using protocol::sign_qr_payload;

constexpr int64_t kNow = 1'764'000'000'000;

// Plays the POS front: answers sync with the key list and counts rides by (counter).
struct ScriptedFront {
  std::vector<PlatformPublicKey> keys;
  std::set<int64_t> settled;
  std::vector<nlohmann::json> batches;
  bool lose_ack = false;  // the server settles, the reply never arrives
  SecretBytes key;

  Transport transport() {
    return [this](const std::string& path, const nlohmann::json& body) -> Result<nlohmann::json> {
      if (path == "/posfront/v1/sync") return keys_to_json(keys);
      batches.push_back(body);
      int64_t up = 0, dup = 0;
      for (const auto& r : body["rides"]) {
        auto payload = from_base64url(r["payload"].get<std::string>());
        auto mac = from_base64url(r["mac"].get<std::string>());
        auto want = ride_mac(key, body["terminal"].get<std::string>(),
                             body["merchant"].get<std::string>(), r["counter"].get<int64_t>(),
                             *payload, r["amount"].get<int64_t>(), r["scanned_at"].get<int64_t>());
        if (!mac_equal(want, *mac)) return make_error(ErrorCode::kVerificationFailed, "bad MAC");
      }
      for (const auto& r : body["rides"]) {
        (settled.insert(r["counter"].get<int64_t>()).second ? up : dup) += 1;
      }
      if (lose_ack) return make_error(ErrorCode::kUnavailable, "connection reset");
      return nlohmann::json{{"uploaded", up}, {"duplicates", dup}};
    };
  }
};

class PosTerminalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("anoncode-pos-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Bytes k(kTerminalKeySize, 0x5A);
    key_ = SecretBytes(k);
    front_.key = key_;
    front_.keys.push_back({platform_key_id(platform_.public_key()),
                           platform_.public_key().to_bytes(), kNow - 86'400'000,
                           kNow + 86'400'000});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string store_path() const { return (dir_ / "pos.json").string(); }
  PosTerminal open_pos() {
    auto pos = PosTerminal::open(store_path(), "T0001", "M0001", key_);
    EXPECT_TRUE(pos.ok()) << pos.error().message;
    return std::move(*pos);
  }
  Bytes code(const std::string& seq, int64_t issued = kNow,
             const crypto::Sm2PrivateKey* signer = nullptr) {
    auto p = sign_qr_payload(signer ? *signer : platform_, seq, "6210123456789012345", issued,
                             issued + kDefaultCodeLifetimeMs);
    EXPECT_TRUE(p.ok());
    return p->encode();
  }

  std::filesystem::path dir_;
  SecretBytes key_;
  crypto::Sm2PrivateKey platform_ = *crypto::Sm2PrivateKey::generate();
  ScriptedFront front_;
};

TEST_F(PosTerminalTest, AValidCodeIsAcceptedOfflineQueuedWithAMacAndPersisted) {
  auto pos = open_pos();
  ASSERT_TRUE(pos.sync(front_.transport(), kNow).ok());
  auto r = pos.scan(code("nm00000000000001"), 200, kNow + 1000);
  ASSERT_TRUE(r.accepted) << r.reason;
  EXPECT_EQ(r.counter, 1);
  EXPECT_EQ(r.sequence, "nm00000000000001");
  ASSERT_EQ(pos.store().queue.size(), 1u);
  const auto& q = pos.store().queue[0];
  auto want = ride_mac(key_, "T0001", "M0001", 1, q.payload, 200, kNow + 1000);
  EXPECT_TRUE(mac_equal(want, q.mac));

  // The store is on disk, readable only by its owner, and a restart sees the same state.
  struct stat st {};
  ASSERT_EQ(::stat(store_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = PosTerminal::open(store_path(), "T0001", "M0001", std::nullopt);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->store().queue.size(), 1u);
  EXPECT_EQ(again->store().next_counter, 2);
  EXPECT_EQ(again->scan(code("nm00000000000001"), 200, kNow + 2000).reason, "duplicate");
}

TEST_F(PosTerminalTest, RefusalsNameTheirReasonAndQueueNothing) {
  auto pos = open_pos();
  // Before the first sync the POS knows no platform key.
  EXPECT_EQ(pos.scan(code("nm00000000000001"), 200, kNow).reason, "unknown_key");
  ASSERT_TRUE(pos.sync(front_.transport(), kNow).ok());
  auto forger = *crypto::Sm2PrivateKey::generate();
  auto forged =
      sign_qr_payload(forger, "nm00000000000002", "6210123456789012345", kNow, kNow + 120'000);
  forged->kid = platform_key_id(platform_.public_key());
  EXPECT_EQ(pos.scan(forged->encode(), 200, kNow).reason, "bad_signature");
  Bytes truncated = code("nm00000000000003");
  truncated.pop_back();
  EXPECT_EQ(pos.scan(truncated, 200, kNow).reason, "malformed");
  // Expired beyond the 30 s tolerance; within it, accepted.
  EXPECT_EQ(pos.scan(code("nm00000000000004", kNow - 200'000), 200, kNow).reason, "expired");
  EXPECT_TRUE(pos.scan(code("nm00000000000005", kNow - 140'000), 200, kNow).accepted);
  EXPECT_EQ(pos.scan(code("nm00000000000006"), 0, kNow).reason, "invalid_argument");
  EXPECT_EQ(pos.scan(code("nm00000000000006"), -100, kNow).reason, "invalid_argument");
  // A code issued outside its key's validity.
  EXPECT_EQ(pos.scan(code("nm00000000000007", kNow + 86'400'001), 200, kNow + 86'400'002).reason,
            "expired");
  EXPECT_EQ(pos.store().queue.size(), 1u);
}

TEST_F(PosTerminalTest, AStoreOpensOnlyForItsTerminalAndFirstNeedsTheKey) {
  EXPECT_EQ(PosTerminal::open(store_path(), "T0001", "M0001", std::nullopt).error().code,
            ErrorCode::kInvalidArgument);
  open_pos();
  EXPECT_EQ(PosTerminal::open(store_path(), "T0002", "M0001", std::nullopt).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(PosTerminal::open(store_path(), "T0001", "M0002", std::nullopt).error().code,
            ErrorCode::kInvalidArgument);
  Bytes other(kTerminalKeySize, 1);
  EXPECT_EQ(PosTerminal::open(store_path(), "T0001", "M0001", SecretBytes(other)).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(PosTerminalTest, ALostAcknowledgementResendsTheSameRidesAndCountersNeverRepeat) {
  auto pos = open_pos();
  ASSERT_TRUE(pos.sync(front_.transport(), kNow).ok());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(pos.scan(code("nm0000000000000" + std::to_string(i)), 200, kNow).accepted);
  }
  front_.lose_ack = true;
  EXPECT_EQ(pos.upload(front_.transport()).error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(pos.store().queue.size(), 3u);  // not acknowledged: still queued
  EXPECT_EQ(front_.settled.size(), 3u);     // yet the server settled them

  // The POS restarts and uploads again: the server sees duplicates, nothing is settled twice.
  front_.lose_ack = false;
  auto restarted = PosTerminal::open(store_path(), "T0001", "M0001", std::nullopt);
  ASSERT_TRUE(restarted.ok());
  auto sum = restarted->upload(front_.transport());
  ASSERT_TRUE(sum.ok()) << sum.error().message;
  EXPECT_EQ(sum->uploaded, 0);
  EXPECT_EQ(sum->duplicates, 3);
  EXPECT_TRUE(restarted->store().queue.empty());
  ASSERT_EQ(front_.batches.size(), 2u);
  EXPECT_EQ(front_.batches[0]["rides"], front_.batches[1]["rides"]);

  auto next = restarted->scan(code("nm00000000000009"), 200, kNow);
  ASSERT_TRUE(next.accepted);
  EXPECT_EQ(next.counter, 4);
  sum = restarted->upload(front_.transport());
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->uploaded, 1);
}

TEST_F(PosTerminalTest, LargeQueuesGoInBatches) {
  auto pos = PosTerminal::open(store_path(), "T0001", "M0001", key_, {.max_batch = 4});
  ASSERT_TRUE(pos.ok());
  ASSERT_TRUE(pos->sync(front_.transport(), kNow).ok());
  for (int i = 10; i < 20; ++i) {
    ASSERT_TRUE(pos->scan(code("nm000000000000" + std::to_string(i)), 150, kNow).accepted);
  }
  auto sum = pos->upload(front_.transport());
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->uploaded, 10);
  EXPECT_EQ(front_.batches.size(), 3u);
}

}  // namespace
}  // namespace anoncode::pos
