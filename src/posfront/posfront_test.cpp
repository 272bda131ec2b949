// Scenario tests across the rider, the code platform, the POS front and POS terminals, on SQLite
// and PostgreSQL: a ride from recharge to query, the copy and replay attacks, the terminals'
// authentication, and the money invariant over a long randomized run.
#include "posfront/posfront.h"
#include "posfront/posfront_http.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "console/audit_log.h"
#include "platform/platform_test_util.h"
#include "pos/pos_terminal.h"
#include "pos/qr_image.h"
#include "posfront/terminal_keys.h"
#include "protocol/terminal_mac.h"

namespace anoncode::posfront {
namespace {

using nlohmann::json;
using platform::HistoryType;
using platform::testing::PlatformFixture;
using platform::testing::Rider;

class ScenarioTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The scenarios jump days ahead (refills); rides scanned before a jump are still uploaded.
    platform::PlatformOptions options;
    options.upload_window_ms = 30 * platform::kDayMs;
    make_platform(options);
    front_ = std::make_unique<PosFront>(*db_, *platform_, sealer());
    dir_ = std::filesystem::temp_directory_path() /
           storage::testing::unique_name("anoncode-scenario-");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // The personal-data key the POS front seals terminal keys under.
  static crypto::Sm4Aead sealer() {
    return *crypto::Sm4Aead::create(SecretBytes(Bytes(crypto::Sm4Aead::kMasterKeySize, 0x17)));
  }

  // The POS front in-process, at the test's clock.
  pos::Transport transport() {
    return [this](const std::string& path, const nlohmann::json& body) -> Result<nlohmann::json> {
      if (path == "/posfront/v1/sync") return post_sync(*front_, body, now_);
      if (path == "/posfront/v1/batches") return post_batches(*front_, body, now_);
      return make_error(ErrorCode::kNotFound, "no route");
    };
  }

  // An administrator registers the terminal; the POS takes its key on the first sync.
  pos::PosTerminal terminal(const std::string& id, const std::string& merchant = "M0001") {
    auto key = front_->register_terminal(id, merchant, now_);
    EXPECT_TRUE(key.ok()) << key.error().message;
    auto pos = pos::PosTerminal::open((dir_ / (id + ".json")).string(), id, merchant, *key);
    EXPECT_TRUE(pos.ok()) << pos.error().message;
    auto synced = pos->sync(transport(), now_);
    EXPECT_TRUE(synced.ok()) << synced.error().message;
    return std::move(*pos);
  }

  Bytes code_payload(Rider& r) {
    auto code = request_code(r);
    EXPECT_TRUE(code.ok()) << code.result.error().message;
    return code.ok() ? code.result->payload : Bytes{};
  }

  std::unique_ptr<PosFront> front_;
  std::filesystem::path dir_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ScenarioTest,
                         ::testing::ValuesIn(storage::testing::test_backends()),
                         [](const auto& info) { return info.param; });

TEST_P(ScenarioTest, ARideFromRechargeThroughAnOfflinePosToTheRidersQuery) {
  Rider alice = open("alice", "Alice", "110101199001011234");
  auto bus = terminal("BUS-0001");
  // 1. Recharge 10 yuan through WeChat.
  ASSERT_TRUE(recharge(alice, 1000).ok());
  // 2. Request a code; the phone shows it as a QR image.
  auto code = request_code(alice);
  ASSERT_TRUE(code.ok());
  auto png = pos::render_qr_png(code.result->payload);
  ASSERT_TRUE(png.ok());
  // 3. The bus is offline: its camera reads the image and the POS checks it by itself.
  now_ += 20'000;
  auto scanned = pos::decode_qr_png(*png);
  ASSERT_TRUE(scanned.ok()) << scanned.error().message;
  auto accepted = bus.scan(*scanned, 200, now_);
  ASSERT_TRUE(accepted.accepted) << accepted.reason;
  EXPECT_EQ(balance_of(alice.b), 1000);  // nothing deducted while offline
  // 4. Back at the depot: upload; the platform deducts.
  now_ += 3'600'000;
  auto up = bus.upload(transport());
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(up->uploaded, 1);
  EXPECT_EQ(up->duplicates, 0);
  EXPECT_TRUE(bus.store().queue.empty());
  EXPECT_EQ(balance_of(alice.b), 800);
  // 5. The rider's query shows the ride joined with its wallet transaction.
  auto rides = history(alice, HistoryType::kRide);
  ASSERT_TRUE(rides.ok()) << rides.result.error().message;
  EXPECT_EQ(rides.result->balance, 800);
  ASSERT_EQ(rides.result->rides.size(), 1u);
  const auto& ride = rides.result->rides[0];
  EXPECT_EQ(ride.sequence, code.result->sequence);
  EXPECT_EQ(ride.terminal, "BUS-0001");
  EXPECT_EQ(ride.merchant, "M0001");
  EXPECT_EQ(ride.amount, 200);
  EXPECT_EQ(ride.scanned_at, now_ - 3'600'000);
  EXPECT_FALSE(ride.copy_risk);
  auto money = history(alice, HistoryType::kRecharge);
  ASSERT_TRUE(money.ok());
  ASSERT_EQ(money.result->money.size(), 1u);
  EXPECT_EQ(money.result->money[0].channel, "010001");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM terminals WHERE last_seen_at = $1", {now_}), 1);
  expect_money_invariant();
}

TEST_P(ScenarioTest, ACodeCopiedToASecondPosIsChargedOnBothAndFlaggedAsACopyRisk) {
  Rider bob = open("bob", "Bob", "110101199001015678");
  auto bus = terminal("BUS-0001");
  auto metro = terminal("METRO-0001", "M0002");
  ASSERT_TRUE(recharge(bob, 1000).ok());
  Bytes payload = code_payload(bob);
  // A screenshot of the code travels to another rider; both POS are offline, each accepts it.
  ASSERT_TRUE(bus.scan(payload, 200, now_).accepted);
  EXPECT_EQ(bus.scan(payload, 200, now_).reason, "duplicate");  // the same POS refuses it
  ASSERT_TRUE(metro.scan(payload, 300, now_ + 1000).accepted);
  ASSERT_TRUE(bus.upload(transport()).ok());
  ASSERT_TRUE(metro.upload(transport()).ok());
  EXPECT_EQ(balance_of(bob.b), 500);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides WHERE copy_risk = '1'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM violations WHERE kind = 'copy' AND b = $1", {bob.b}), 1);
  expect_money_invariant();
}

TEST_P(ScenarioTest, AReplayedUploadCountsDuplicatesAndChangesNothing) {
  Rider carol = open("carol", "Carol", "110101199001019999");
  auto bus = terminal("BUS-0001");
  ASSERT_TRUE(recharge(carol, 1000).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(bus.scan(code_payload(carol), 100, now_).accepted);
  }
  // Capture the batch as it goes over the wire, then replay it.
  nlohmann::json sent;
  auto capture = [&](const std::string& path, const nlohmann::json& body) {
    sent = body;
    return transport()(path, body);
  };
  auto up = bus.upload(capture);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->uploaded, 3);
  EXPECT_EQ(balance_of(carol.b), 700);
  auto replay = post_batches(*front_, sent, now_ + 10'000);
  ASSERT_TRUE(replay.ok()) << replay.error().message;
  EXPECT_EQ((*replay)["uploaded"], 0);
  EXPECT_EQ((*replay)["duplicates"], 3);
  EXPECT_EQ(balance_of(carol.b), 700);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides"), 3);
  expect_money_invariant();
}

TEST_P(ScenarioTest, TerminalsMustBeRegisteredUnderTheirMerchantAndEveryMacMustHold) {
  Rider dave = open("dave", "Dave", "110101199001010001");
  ASSERT_TRUE(recharge(dave, 1000).ok());
  auto bus = terminal("BUS-0001");
  ASSERT_TRUE(bus.scan(code_payload(dave), 100, now_).accepted);
  ASSERT_TRUE(bus.scan(code_payload(dave), 100, now_).accepted);
  auto body = pos::PosTerminal::to_json(bus.store());
  nlohmann::json batch{
      {"terminal", "BUS-0001"}, {"merchant", "M0001"}, {"rides", nlohmann::json::array()}};
  for (const auto& r : body["queue"]) batch["rides"].push_back(r);

  // An unregistered terminal: 401, also for sync.
  nlohmann::json rogue = batch;
  rogue["terminal"] = "BUS-9999";
  EXPECT_EQ(post_batches(*front_, rogue, now_).error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(post_sync(*front_,
                      {{"terminal", "BUS-9999"},
                       {"merchant", "M0001"},
                       {"at", now_},
                       {"mac", to_base64url(Bytes(32, 0))}},
                      now_)
                .error()
                .code,
            ErrorCode::kUnauthorized);
  // Under another merchant: 403 forbidden.
  nlohmann::json other = batch;
  other["merchant"] = "M0002";
  EXPECT_EQ(post_batches(*front_, other, now_).error().code, ErrorCode::kForbidden);
  // One bad MAC (the fare raised after the scan): 403, and the whole batch is refused.
  nlohmann::json raised = batch;
  raised["rides"][1]["amount"] = 10'000;
  EXPECT_EQ(post_batches(*front_, raised, now_).error().code, ErrorCode::kVerificationFailed);
  EXPECT_EQ(balance_of(dave.b), 1000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rejected_rides"), 0);
  // A sync with a bad MAC, or from a terminal whose clock is far off.
  auto key_sync = [&](int64_t at, const Bytes& mac) {
    return post_sync(
        *front_,
        {{"terminal", "BUS-0001"}, {"merchant", "M0001"}, {"at", at}, {"mac", to_base64url(mac)}},
        now_);
  };
  EXPECT_EQ(key_sync(now_, Bytes(32, 1)).error().code, ErrorCode::kVerificationFailed);
  auto far = now_ - 3'600'000;
  auto good_mac = protocol::sync_mac(bus.store().terminal_key, "BUS-0001", "M0001", far);
  EXPECT_EQ(key_sync(far, Bytes(good_mac.begin(), good_mac.end())).error().code,
            ErrorCode::kExpired);
  // Registering the same terminal twice is a conflict.
  EXPECT_EQ(front_->register_terminal("BUS-0001", "M0001", now_).error().code,
            ErrorCode::kConflict);
  // The genuine batch still goes through.
  auto up = bus.upload(transport());
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(up->uploaded, 2);
  EXPECT_EQ(balance_of(dave.b), 800);
}

// POST /admin/v1/terminals: one registration path, the POS front's, audited in its transaction;
// the key is returned once and kept sealed under the personal-data key, bound to its terminal.
TEST_P(ScenarioTest, AnAdministratorRegistersATerminalOnceAndTheAuditLogSaysWho) {
  const console::Actor ops{.name = "ops", .session = std::nullopt, .session_id = ""};
  auto t = post_terminals(*front_, {{"terminal", "T001"}, {"merchant", "BIZ01"}}, ops, now_);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ((*t)["terminal"], "T001");
  EXPECT_EQ((*t)["merchant"], "BIZ01");
  auto key = from_base64url(t->value("terminal_key", ""));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), kTerminalKeyBytes);

  // Again, under another merchant: a conflict that changes nothing and audits nothing.
  auto again = post_terminals(*front_, {{"terminal", "T001"}, {"merchant", "BIZ02"}}, ops, now_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  // Bad ids: refused before anything is written.
  for (const json& bad :
       {json{{"terminal", "has space"}, {"merchant", "BIZ01"}},
        json{{"terminal", std::string(33, 'T')}, {"merchant", "BIZ01"}},
        json{{"terminal", "T002"}, {"merchant", ""}}, json{{"terminal", "T002"}}}) {
    auto r = post_terminals(*front_, bad, ops, now_);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM terminals"), 1);

  console::AuditLog audit(*db_);
  auto entries = audit.entries(10, std::nullopt);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].actor, "ops");
  EXPECT_EQ((*entries)[0].action, "terminal.add");
  EXPECT_EQ((*entries)[0].target, "T001");
  EXPECT_EQ(json::parse((*entries)[0].details), (json{{"merchant", "BIZ01"}}));

  std::optional<storage::Row> row;
  ASSERT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                   ANONCODE_TRY(row, tx.query_one("SELECT merchant, key_sealed FROM terminals "
                                                  "WHERE terminal = $1",
                                                  {std::string("T001")}));
                   return {};
                 })
                  .ok());
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->text(0), "BIZ01");
  auto opened = open_terminal_key(sealer(), "T001", row->blob(1));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(Bytes(opened->expose_secret().begin(), opened->expose_secret().end()), *key);
  EXPECT_FALSE(open_terminal_key(sealer(), "T002", row->blob(1)).ok());
}

TEST_P(ScenarioTest, ForgedTruncatedAndExpiredCodesAreRefusedOfflineByThePos) {
  Rider erin = open("erin", "Erin", "110101199001010002");
  ASSERT_TRUE(recharge(erin, 1000).ok());
  auto bus = terminal("BUS-0001");
  Bytes genuine = code_payload(erin);
  // A forger's code carrying the platform's key id.
  auto forger = *crypto::Sm2PrivateKey::generate();
  auto qr = protocol::QrPayload::decode(genuine);
  auto forged =
      protocol::sign_qr_payload(forger, "nm99999999999999", qr->accountid, now_, now_ + 120'000);
  forged->kid = qr->kid;
  EXPECT_EQ(bus.scan(forged->encode(), 200, now_).reason, "bad_signature");
  EXPECT_EQ(bus.scan(Bytes(genuine.begin(), genuine.begin() + 60), 200, now_).reason, "malformed");
  // Past its expiry by more than the 30 s tolerance.
  EXPECT_EQ(bus.scan(genuine, 200, now_ + 120'000 + 30'001).reason, "expired");
  // Within the tolerance, accepted.
  EXPECT_TRUE(bus.scan(genuine, 200, now_ + 120'000 + 29'000).accepted);
  EXPECT_EQ(bus.store().queue.size(), 1u);
}

TEST_P(ScenarioTest, AMaliciousTerminalCannotChargeACodeThePlatformDidNotSign) {
  Rider finn = open("finn", "Finn", "110101199001010003");
  ASSERT_TRUE(recharge(finn, 1000).ok());
  Bytes genuine = code_payload(finn);
  auto key = front_->register_terminal("EVIL-01", "M0001", now_);
  ASSERT_TRUE(key.ok());
  // It MACs a payload naming Finn's accountid with a signature of its own making.
  Bytes fake = genuine;
  std::copy_n("nm11111111111111", 16, fake.begin() + 2);
  auto mac = protocol::ride_mac(*key, "EVIL-01", "M0001", 1, fake, 5000, now_);
  nlohmann::json batch{{"terminal", "EVIL-01"},
                       {"merchant", "M0001"},
                       {"rides",
                        {{{"counter", 1},
                          {"payload", to_base64url(fake)},
                          {"amount", 5000},
                          {"scanned_at", now_},
                          {"mac", to_base64url(mac)}}}}};
  auto r = post_batches(*front_, batch, now_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["rejected"], 1);
  EXPECT_EQ((*r)["uploaded"], 0);
  EXPECT_EQ(balance_of(finn.b), 1000);
}

TEST_P(ScenarioTest, StrongModeLateRidesSettleBeforeTheRefill) {
  Rider gina = open("gina", "Gina", "110101199001010004");
  auto bus = terminal("BUS-0001");
  ASSERT_TRUE(recharge(gina, 1000).ok());
  const std::string old_b = gina.b;
  ASSERT_TRUE(bus.scan(code_payload(gina), 300, now_).accepted);
  ASSERT_TRUE(recharge(gina, 500, /*strong=*/true).ok());
  // The bus uploads two days later; the ride lands on the old wallet.
  now_ += 2 * platform::kDayMs;
  ASSERT_TRUE(bus.upload(transport()).ok());
  EXPECT_EQ(balance_of(old_b), 700);
  EXPECT_EQ(balance_of(gina.b), 500);
  now_ += 5 * platform::kDayMs;
  EXPECT_EQ(*platform_->run_refill(now_), 1);
  EXPECT_EQ(balance_of(gina.b), 1200);
  expect_money_invariant();
}

// THE MONEY INVARIANT over a randomized run (see expect_money_invariant for its precise form):
// riders recharge (normal and strong), request codes, ride on two offline buses (sometimes the
// same code on both: a copy), buses upload (sometimes twice: replays), riders ask for refunds
// (some refused), and the refill job runs as time passes. Checked every 25 steps and at the end,
// also against a model the test keeps itself.
TEST_P(ScenarioTest, TheMoneyInvariantHoldsOverAFewHundredRandomOperations) {
  std::mt19937_64 rnd(20241114);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rnd);
  };
  std::vector<Rider> riders;
  for (int i = 0; i < 4; ++i) {
    riders.push_back(open("user" + std::to_string(i), "Name" + std::to_string(i),
                          "1101011990010100" + std::to_string(10 + i)));
  }
  std::vector<pos::PosTerminal> buses;
  buses.push_back(terminal("BUS-A"));
  buses.push_back(terminal("BUS-B", "M0002"));

  int64_t model_recharged = 0, model_rides = 0, model_refunded = 0;
  int recharges = 0, rides = 0, copies = 0, replays = 0, refunds = 0, refills = 0;
  nlohmann::json last_batch;
  for (int step = 1; step <= 300; ++step) {
    now_ += pick(0, 20'000);
    Rider& r = riders[static_cast<size_t>(pick(0, 3))];
    const int64_t op = pick(0, 99);
    if (r.b.empty() || op < 20) {
      const int64_t amount = pick(1, 5000);
      auto out = recharge(r, amount, /*strong=*/pick(0, 3) == 0,
                          std::string(pick(0, 1) ? "010001" : "020001"));
      ASSERT_TRUE(out.ok()) << step << ": " << out.result.error().message;
      model_recharged += amount;
      ++recharges;
    } else if (op < 60) {
      auto code = request_code(r);
      if (!code.ok()) {
        ASSERT_EQ(code.result.error().code, ErrorCode::kInsufficientBalance) << step;
        continue;
      }
      const int64_t fare = pick(100, 400);
      auto& bus = buses[static_cast<size_t>(pick(0, 1))];
      auto s = bus.scan(code.result->payload, fare, now_ + pick(0, 60'000));
      ASSERT_TRUE(s.accepted) << step << ": " << s.reason;
      model_rides += fare;
      ++rides;
      if (pick(0, 9) == 0) {  // the code was copied to the other bus
        auto& other = &bus == &buses[0] ? buses[1] : buses[0];
        ASSERT_TRUE(other.scan(code.result->payload, fare, now_ + 1000).accepted);
        model_rides += fare;
        ++copies;
      }
    } else if (op < 80) {
      auto& bus = buses[static_cast<size_t>(pick(0, 1))];
      auto capture = [&](const std::string& path, const nlohmann::json& body) {
        last_batch = body;
        return transport()(path, body);
      };
      auto up = bus.upload(capture);
      ASSERT_TRUE(up.ok()) << step << ": " << up.error().message;
      ASSERT_EQ(up->rejected, 0) << "step " << step;
      if (!last_batch.is_null() && pick(0, 2) == 0) {  // the last batch arrives again
        auto again = post_batches(*front_, last_batch, now_);
        ASSERT_TRUE(again.ok());
        ASSERT_EQ((*again)["uploaded"], 0);
        ++replays;
      }
    } else if (op < 92) {
      auto w = platform_->wallet(r.b);
      ASSERT_TRUE(w.ok());
      const int64_t amount = pick(1, std::max<int64_t>(1, w->balance + 200));
      auto out = refund(r, amount);
      if (out.ok()) {
        ASSERT_LE(amount, w->balance);
        model_refunded += amount;
        ++refunds;
      } else {
        ASSERT_TRUE(out.result.error().code == ErrorCode::kInsufficientBalance ||
                    out.result.error().code == ErrorCode::kConflict)
            << step << ": " << out.result.error().message;
      }
    } else {
      now_ += pick(0, 3) * platform::kDayMs;
      auto moved = platform_->run_refill(now_);
      ASSERT_TRUE(moved.ok()) << moved.error().message;
      refills += static_cast<int>(*moved);
    }
    if (step % 25 == 0) expect_money_invariant();
  }
  // Everything uploaded, every refill due.
  for (auto& bus : buses) ASSERT_TRUE(bus.upload(transport()).ok());
  now_ += 8 * platform::kDayMs;
  auto moved = platform_->run_refill(now_);
  ASSERT_TRUE(moved.ok());
  refills += static_cast<int>(*moved);
  expect_money_invariant();
  const int64_t heads = scalar(
      "SELECT COALESCE(SUM(balance), 0) FROM anonymous_wallet_accounts WHERE superseded_by IS "
      "NULL");
  EXPECT_EQ(heads, model_recharged - model_rides - model_refunded);
  // After the refills, every rider's money is in its current wallet.
  int64_t current = 0;
  for (auto& r : riders) current += balance_of(r.b);
  EXPECT_EQ(current, heads);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides"), rides + copies);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides WHERE copy_risk = '1'"), copies);
  // The run exercised what it claims to.
  EXPECT_GT(recharges, 20);
  EXPECT_GT(rides, 50);
  EXPECT_GT(copies, 0);
  EXPECT_GT(replays, 0);
  EXPECT_GT(refunds, 0);
  EXPECT_GT(refills, 0);
}

}  // namespace
}  // namespace anoncode::posfront
