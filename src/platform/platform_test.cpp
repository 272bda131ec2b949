// The code platform as riders and attackers meet it, on SQLite and on PostgreSQL. Each test reads
// as steps (STYLE.md, after GNU Taler), including the attacks. Rides come in through
// settle_rides here; the whole path through a POS terminal and the POS front is in
// src/posfront/posfront_test.cpp.
#include "platform/platform.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <latch>
#include <set>
#include <thread>

#include "platform/platform_http.h"
#include "platform/platform_test_util.h"
#include "protocol/qr_payload.h"

namespace anoncode::platform {
namespace {

using testing::kT0;
using testing::PlatformFixture;
using testing::Rider;

class PlatformTest : public PlatformFixture {
 protected:
  // A ride as the POS front would forward it (the MAC already checked there).
  // A recharge of the rider's wallet (its balance changes) through the fixture.
  bool recharge_free_credit(Rider& r) { return recharge(r, 100).ok(); }

  Result<SettleSummary> ride(const CodeResult& code, int64_t amount, int64_t counter,
                             const std::string& terminal = "T1") {
    return platform_->settle_rides(terminal, "M1", {{counter, code.payload, amount, now_}}, now_);
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, PlatformTest,
                         ::testing::ValuesIn(storage::testing::test_backends()),
                         [](const auto& info) { return info.param; });

TEST_P(PlatformTest, FirstRechargeOpensAWalletAndANormalRechargeCarriesItForward) {
  Rider alice = open("alice", "Alice", "110101199001011234");
  // First recharge: B1 = "", no wallet signature; a new accountid of 19 digits.
  auto first = recharge(alice, 1000);
  ASSERT_TRUE(first.ok()) << first.result.error().message;
  ASSERT_TRUE(first.response.has_value());
  EXPECT_EQ(first.result->balance, 1000);
  EXPECT_TRUE(protocol::is_valid_accountid(first.result->accountid));
  EXPECT_EQ(first.result->wallet.size(), protocol::kWalletAccountSize);
  const std::string b1 = alice.b, accountid = alice.accountid;
  const crypto::Sm2PrivateKey b1_key = *alice.wallet_key;

  // Second recharge names B1 and is signed by B1's key: a new record, same accountid, balance
  // carried; the old record is deactivated and points at its successor.
  auto second = recharge(alice, 500, false, "020001");
  ASSERT_TRUE(second.ok()) << second.result.error().message;
  EXPECT_EQ(second.result->accountid, accountid);
  EXPECT_EQ(second.result->balance, 1500);
  EXPECT_NE(alice.b, b1);
  auto old = platform_->wallet(b1);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->deactivated);
  EXPECT_EQ(old->superseded_by.value_or(""), alice.b);
  EXPECT_EQ(old->balance, 1000);  // the copy it had, for the record
  auto cur = platform_->wallet(alice.b);
  ASSERT_TRUE(cur.ok());
  EXPECT_FALSE(cur->deactivated);
  EXPECT_EQ(cur->previous_b.value_or(""), b1);
  EXPECT_EQ(cur->total_recharge_amount, 1500);
  EXPECT_EQ(platform_->head_of(accountid)->b, alice.b);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM wallet_transactions WHERE transaction_type = '01' AND "
                   "accountid = $1 AND state = '02'",
                   {accountid}),
            2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM payment_orders WHERE state = 'paid'"), 2);

  // The superseded wallet cannot be recharged again.
  Rider stale = alice;
  stale.b = b1;
  stale.wallet_key.emplace(b1_key);
  auto again = recharge(stale, 100);
  EXPECT_EQ(again.result.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(again.response.has_value());  // refused by the rules, after the show
  expect_money_invariant();
}

TEST_P(PlatformTest, AmountsOutOfRangeAreRefusedBeforeTheShowAndSpendNothing) {
  Rider bob = open("bob", "Bob", "110101199001015678");
  for (int64_t bad : {int64_t{0}, int64_t{-100}, options_.max_amount + 1}) {
    auto out = recharge(bob, bad);
    EXPECT_EQ(out.result.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_FALSE(out.response.has_value());
  }
  EXPECT_EQ(recharge(bob, 100, false, "999999").result.error().code, ErrorCode::kInvalidArgument);
  // The credential was never shown: its serial is still fresh.
  auto ok = recharge(bob, 100);
  ASSERT_TRUE(ok.ok()) << ok.result.error().message;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM certification_transactions"), 1);
  EXPECT_EQ(refund(bob, 0).result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refund(bob, -5).result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(privacy_->violations()->empty());
  expect_money_invariant();
}

TEST_P(PlatformTest, ASignatureByTheWrongKeyChangesNothingAndDoesNotSpendTheSerial) {
  Rider carol = open("carol", "Carol", "110101199001019999");
  ASSERT_TRUE(recharge(carol, 800).ok());
  auto stranger = *crypto::Sm2PrivateKey::generate();

  auto p = prepare(carol, code_context(carol.b, carol.accountid), &stranger);
  auto code = platform_->request_code(p.auth, now_);
  EXPECT_EQ(code.result.error().code, ErrorCode::kBadSignature);
  EXPECT_FALSE(code.response.has_value());

  auto key = *crypto::Sm2PrivateKey::generate();
  RechargeRequest req = recharge_request(carol, 100, false, key);
  auto pr = prepare(carol, recharge_context(req), &stranger);
  req.auth = pr.auth;
  EXPECT_EQ(platform_->recharge(req, now_).result.error().code, ErrorCode::kBadSignature);
  // A signature over another show is no better.
  auto other = prepare(carol, code_context(carol.b, carol.accountid), &*carol.wallet_key);
  other.auth.show = p.auth.show;
  EXPECT_EQ(platform_->request_code(other.auth, now_).result.error().code,
            ErrorCode::kBadSignature);

  // Nothing was recorded, and the very same credential still shows once.
  EXPECT_EQ(balance_of(carol.b), 800);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_requests"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM certification_transactions"), 1);
  auto good = request_code(carol);
  ASSERT_TRUE(good.ok()) << good.result.error().message;
  EXPECT_TRUE(privacy_->violations()->empty());
}

TEST_P(PlatformTest, ACodeIsSignedByThePlatformAndRecorded) {
  Rider dave = open("dave", "Dave", "110101199001010001");
  // No code on an empty wallet.
  ASSERT_TRUE(recharge(dave, 300).ok());
  auto code = request_code(dave);
  ASSERT_TRUE(code.ok()) << code.result.error().message;
  ASSERT_TRUE(code.response.has_value());
  auto qr = protocol::QrPayload::decode(code.result->payload);
  ASSERT_TRUE(qr.ok());
  EXPECT_EQ(qr->sequence, code.result->sequence);
  EXPECT_TRUE(protocol::is_valid_sequence(qr->sequence));
  EXPECT_EQ(qr->accountid, dave.accountid);
  EXPECT_EQ(qr->expires_at, now_ + 120'000);
  EXPECT_TRUE(protocol::verify_qr_signature(*qr, platform_key_->public_key()).ok());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_requests WHERE sequence = $1 AND accountid = $2",
                   {qr->sequence, dave.accountid}),
            1);
  auto keys = platform_->keys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].kid, qr->kid);

  // Two codes never share a sequence.
  auto second = request_code(dave);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second.result->sequence, code.result->sequence);

  // A wallet whose balance is used up gets no code (rides already taken are still charged).
  ASSERT_TRUE(ride(*code.result, 300, 1).ok());
  EXPECT_EQ(request_code(dave).result.error().code, ErrorCode::kInsufficientBalance);
}

TEST_P(PlatformTest, RidesAreDeductedOnceAndACopiedCodeIsChargedTwiceAndFlagged) {
  Rider erin = open("erin", "Erin", "110101199001010002");
  ASSERT_TRUE(recharge(erin, 1000).ok());
  auto code = request_code(erin);
  ASSERT_TRUE(code.ok());
  auto first = ride(*code.result, 200, 7);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->uploaded, 1);
  // The same (terminal, counter) again: a duplicate, nothing changes.
  auto dup = ride(*code.result, 200, 7);
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->duplicates, 1);
  EXPECT_EQ(balance_of(erin.b), 800);
  // The same code on another terminal: deducted again and flagged as a copy risk.
  auto copy = ride(*code.result, 200, 1, "T2");
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->uploaded, 1);
  EXPECT_EQ(balance_of(erin.b), 600);
  EXPECT_EQ(
      scalar("SELECT used_count FROM code_requests WHERE sequence = $1", {code.result->sequence}),
      2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides WHERE copy_risk = '1' AND terminal = 'T2'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides WHERE copy_risk = '1' AND terminal = 'T1'"), 0);
  auto v = privacy_->violations();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].kind, "copy");
  EXPECT_FALSE((*v)[0].user_id.has_value());  // a copy identifies nobody
  expect_money_invariant();
}

TEST_P(PlatformTest, RidesThatDoNotVerifyAreRejectedOnceAndChargeNobody) {
  Rider finn = open("finn", "Finn", "110101199001010003");
  ASSERT_TRUE(recharge(finn, 1000).ok());
  auto code = request_code(finn);
  ASSERT_TRUE(code.ok());
  Bytes tampered = code.result->payload;
  tampered[20] = tampered[20] == '1' ? '2' : '1';  // another accountid
  auto forger = *crypto::Sm2PrivateKey::generate();
  auto forged =
      protocol::sign_qr_payload(forger, "nm00000000000077", finn.accountid, now_, now_ + 1);
  Bytes truncated(code.result->payload.begin(), code.result->payload.end() - 1);
  // The issued code's own sequence under a changed signature: not the issued payload, so
  // settlement verifies it, and it fails.
  Bytes bad_signature = code.result->payload;
  bad_signature.back() ^= 0x01;
  // A code the platform never issued, signed with its key (e.g. a restored old database).
  auto unissued =
      protocol::sign_qr_payload(*platform_key_, "nm00000000000078", finn.accountid, now_, now_ + 1);
  auto s = platform_->settle_rides("T1", "M1",
                                   {{1, tampered, 100, now_},
                                    {2, forged->encode(), 100, now_},
                                    {3, truncated, 100, now_},
                                    {4, unissued->encode(), 100, now_},
                                    {5, code.result->payload, 0, now_},
                                    {6, code.result->payload, -300, now_},
                                    {7, bad_signature, 100, now_}},
                                   now_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->rejected, 7);
  EXPECT_EQ(s->uploaded, 0);
  EXPECT_EQ(balance_of(finn.b), 1000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rejected_rides WHERE reason = 'bad_signature'"), 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rejected_rides WHERE reason = 'unknown_key'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rejected_rides WHERE reason = 'invalid_amount'"), 2);
  // Re-sent, they are duplicates: acknowledged exactly once.
  auto again = platform_->settle_rides("T1", "M1", {{1, tampered, 100, now_}}, now_);
  EXPECT_EQ(again->duplicates, 1);
  expect_money_invariant();
}

// One batch, set-based: a code used twice inside it is charged twice and flagged once, a counter
// repeated inside it is a duplicate, and a code issued before its payload digest was recorded
// (migration 0009) is verified by its signature and settles all the same.
TEST_P(PlatformTest, ABatchSettlesCopiesAndRepeatsInsideItExactlyOnce) {
  Rider hana = open("hana", "Hana", "110101199001010009");
  ASSERT_TRUE(recharge(hana, 1000).ok());
  auto c1 = request_code(hana);
  auto c2 = request_code(hana);
  ASSERT_TRUE(c1.ok() && c2.ok());
  ASSERT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                   return tx.run(
                       "UPDATE code_requests SET payload_digest = NULL "
                       "WHERE sequence = $1",
                       {c2.result->sequence});
                 })
                  .ok());
  auto s = platform_->settle_rides("T1", "M1",
                                   {{1, c1.result->payload, 100, now_},
                                    {2, c1.result->payload, 100, now_},
                                    {2, c2.result->payload, 100, now_},
                                    {3, c2.result->payload, 100, now_}},
                                   now_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->uploaded, 3);
  EXPECT_EQ(s->duplicates, 1);
  EXPECT_EQ(s->rejected, 0);
  EXPECT_EQ(balance_of(hana.b), 700);
  EXPECT_EQ(
      scalar("SELECT used_count FROM code_requests WHERE sequence = $1", {c1.result->sequence}), 2);
  EXPECT_EQ(
      scalar("SELECT used_count FROM code_requests WHERE sequence = $1", {c2.result->sequence}), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides WHERE copy_risk = '1' AND counter = 2"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides WHERE copy_risk = '1'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM wallet_transactions WHERE transaction_type = '02'"), 3);
  // Wallet transaction ids: "T", the time in seconds (8 hex digits, so a batch's ids go to the
  // end of the index), 16 random hex digits; distinct.
  char second[9];
  std::snprintf(second, sizeof second, "%08llx", static_cast<unsigned long long>(now_ / 1000));
  std::set<std::string> ids;
  ASSERT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                   ANONCODE_TRY(auto rows, tx.query("SELECT txn_id FROM wallet_transactions"));
                   for (const auto& r : rows) ids.insert(r.text(0));
                   return {};
                 })
                  .ok());
  EXPECT_EQ(ids.size(), 4u);  // the recharge and the three rides
  for (const auto& id : ids) {
    ASSERT_EQ(id.size(), 25u) << id;
    EXPECT_EQ(id.substr(0, 9), "T" + std::string(second)) << id;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 1), std::string::npos) << id;
  }
  auto v = privacy_->violations();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].kind, "copy");
  EXPECT_EQ((*v)[0].wallet_b, hana.b);
  // The whole batch again: every ride a duplicate, nothing moves.
  auto again = platform_->settle_rides("T1", "M1",
                                       {{1, c1.result->payload, 100, now_},
                                        {2, c1.result->payload, 100, now_},
                                        {3, c2.result->payload, 100, now_}},
                                       now_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicates, 3);
  EXPECT_EQ(balance_of(hana.b), 700);
  expect_money_invariant();
}

// Settlement runs READ COMMITTED with locks on PostgreSQL (settle.cpp): terminals uploading at
// once batches that charge the same wallets, one batch sent twice at once (a retry racing the
// original), and normal recharges moving the wallets' heads meanwhile. Each ride is charged once,
// to the head of its accountid, and the money invariant holds. Several rounds, each on new
// terminals with the same codes (so every round's rides are copies of the first round's).
TEST_P(PlatformTest, ParallelBatchesARetryAndRechargesChargeEachRideOnce) {
  constexpr int kRiders = 3, kCodesEach = 20, kRounds = 4;
  std::vector<Rider> riders;
  std::vector<CodeResult> codes;
  for (int i = 0; i < kRiders; ++i) {
    riders.push_back(open("p" + std::to_string(i), "P" + std::to_string(i),
                          "11010119900101010" + std::to_string(i)));
    ASSERT_TRUE(recharge(riders.back(), 10'000).ok());
    for (int k = 0; k < kCodesEach; ++k) {
      auto c = request_code(riders.back());
      ASSERT_TRUE(c.ok()) << c.result.error().message;
      codes.push_back(*c.result);
    }
  }
  // Per round three terminals, each with a batch touching every wallet; T2 and T3 share codes.
  auto batch = [&](size_t first, size_t step) {
    std::vector<RideUpload> rides;
    for (size_t i = first, counter = 1; i < codes.size(); i += step, ++counter) {
      rides.push_back({static_cast<int64_t>(counter), codes[i].payload, 10, now_});
    }
    return rides;
  };
  const std::vector<RideUpload> b1 = batch(0, 2), b2 = batch(1, 2), b3 = batch(1, 4);
  std::atomic<bool> settling{true};
  std::atomic<int> recharges_ok{0};
  std::thread recharger([&] {  // the riders' own thread: recharges while the rounds run
    while (settling) {
      for (auto& r : riders) recharges_ok += recharge(r, 100).ok() ? 1 : 0;
    }
  });
  int64_t uploaded = 0, duplicates = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string n = std::to_string(round);
    const std::vector<std::pair<std::string, const std::vector<RideUpload>*>> uploads = {
        {"T1-" + n, &b1}, {"T1-" + n, &b1}, {"T2-" + n, &b2}, {"T3-" + n, &b3}};
    std::vector<Result<SettleSummary>> outs(uploads.size(), make_error(ErrorCode::kInternal, ""));
    std::latch start(static_cast<std::ptrdiff_t>(uploads.size()));
    std::vector<std::thread> threads;
    for (size_t u = 0; u < uploads.size(); ++u) {
      threads.emplace_back([&, u] {
        start.arrive_and_wait();
        outs[u] = platform_->settle_rides(uploads[u].first, "M1", *uploads[u].second, now_);
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& o : outs) {
      ASSERT_TRUE(o.ok()) << o.error().message;
      uploaded += o->uploaded;
      duplicates += o->duplicates;
      EXPECT_EQ(o->rejected, 0);
    }
  }
  settling = false;
  recharger.join();
  EXPECT_GT(recharges_ok.load(), 0);
  // T1's batch once per round; its other copy all duplicates.
  const auto per_round = static_cast<int64_t>(b1.size() + b2.size() + b3.size());
  EXPECT_EQ(uploaded, kRounds * per_round);
  EXPECT_EQ(duplicates, kRounds * static_cast<int64_t>(b1.size()));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides"), uploaded);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM wallet_transactions WHERE transaction_type = '02'"),
            uploaded);
  // Every settled ride counted one use of its code; all but each code's first use are copies.
  EXPECT_EQ(scalar("SELECT COALESCE(SUM(used_count), 0) FROM code_requests"), uploaded);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides WHERE copy_risk = '1'"),
            uploaded - static_cast<int64_t>(codes.size()));
  for (auto& r : riders) {
    const int64_t ridden =
        scalar("SELECT COALESCE(SUM(amount), 0) FROM rides WHERE accountid = $1", {r.accountid});
    const int64_t paid = scalar(
        "SELECT COALESCE(SUM(amount), 0) FROM wallet_transactions WHERE accountid = $1 AND "
        "transaction_type = '01'",
        {r.accountid});
    EXPECT_EQ(balance_of(r.b), paid - ridden);
  }
  expect_money_invariant();
}

TEST_P(PlatformTest, SupersededAndClosedAndEmptyWalletsAreStillDeducted) {
  Rider gina = open("gina", "Gina", "110101199001010004");
  ASSERT_TRUE(recharge(gina, 300).ok());
  auto old_code = request_code(gina);
  ASSERT_TRUE(old_code.ok());
  const std::string old_b = gina.b;
  // A normal recharge supersedes the record the code was issued for; the ride, uploaded late,
  // is charged to the accountid's current record.
  ASSERT_TRUE(recharge(gina, 200).ok());
  ASSERT_TRUE(ride(*old_code.result, 250, 1).ok());
  EXPECT_EQ(balance_of(gina.b), 250);
  EXPECT_EQ(balance_of(old_b), 300);  // untouched copy
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rides WHERE b = $1", {gina.b}), 1);

  // Rides beyond the balance drive it negative.
  auto code = request_code(gina);
  ASSERT_TRUE(code.ok());
  ASSERT_TRUE(ride(*code.result, 400, 2).ok());
  EXPECT_EQ(balance_of(gina.b), -150);

  // Refund to zero is impossible from a negative balance; recharge, refund all, close.
  ASSERT_TRUE(recharge(gina, 150).ok());
  EXPECT_EQ(balance_of(gina.b), 0);
  ASSERT_TRUE(recharge(gina, 100).ok());
  now_ += 200'000;  // the codes have expired
  auto r = refund(gina, 100);
  ASSERT_TRUE(r.ok()) << r.result.error().message;
  auto c = close(gina);
  ASSERT_TRUE(c.ok()) << c.result.error().message;
  // A ride scanned before the close and uploaded after it is still charged to the closed wallet.
  auto late = platform_->settle_rides(
      "T9", "M1", {{3, code.result->payload, 120, code.result->expires_at - 1}}, now_);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->uploaded, 1);
  auto closed = platform_->wallet(gina.b);
  ASSERT_TRUE(closed.ok());
  EXPECT_TRUE(closed->deactivated);
  EXPECT_EQ(closed->balance, -120);
  expect_money_invariant();
}

TEST_P(PlatformTest, StrongModeOpensAnUnlinkedAccountAndTheRefillMovesTheBalanceAfterTheDelay) {
  Rider hal = open("hal", "Hal", "110101199001010005");
  ASSERT_TRUE(recharge(hal, 1000).ok());
  auto code = request_code(hal);
  ASSERT_TRUE(code.ok());
  const std::string old_b = hal.b, old_acc = hal.accountid;

  auto strong = recharge(hal, 500, /*strong=*/true);
  ASSERT_TRUE(strong.ok()) << strong.result.error().message;
  EXPECT_NE(strong.result->accountid, old_acc);  // a new accountid …
  EXPECT_EQ(strong.result->balance, 500);        // … holding only the new amount
  auto old = platform_->wallet(old_b);
  EXPECT_TRUE(old->deactivated);
  EXPECT_TRUE(old->is_head());  // still holds the old accountid's balance
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM purse_refund_record WHERE accountid_old = $1 AND "
                   "accountid_new = $2 AND state = '00' AND due_at = $3",
                   {old_acc, hal.accountid, now_ + 7 * kDayMs}),
            1);
  // A late offline ride on the old code settles on the old wallet first.
  ASSERT_TRUE(ride(*code.result, 300, 1).ok());
  EXPECT_EQ(balance_of(old_b), 700);

  // Not before the delay.
  auto early = platform_->run_refill(now_ + 7 * kDayMs - 1);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(*early, 0);
  EXPECT_EQ(balance_of(hal.b), 500);
  // After it: moved once, with its transactions on both sides.
  auto due = platform_->run_refill(now_ + 7 * kDayMs);
  ASSERT_TRUE(due.ok()) << due.error().message;
  EXPECT_EQ(*due, 1);
  EXPECT_EQ(balance_of(hal.b), 1200);
  EXPECT_EQ(balance_of(old_b), 0);
  EXPECT_EQ(scalar("SELECT amount FROM purse_refund_record WHERE accountid_old = $1", {old_acc}),
            700);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM wallet_transactions WHERE transaction_type = '03'"), 2);
  // Idempotent.
  EXPECT_EQ(*platform_->run_refill(now_ + 8 * kDayMs), 0);
  EXPECT_EQ(balance_of(hal.b), 1200);

  // The rider's query of the new wallet shows the refill, not the old wallet's rides.
  auto h = history(hal, HistoryType::kRecharge);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.result->balance, 1200);
  ASSERT_EQ(h.result->money.size(), 2u);
  auto rides = history(hal, HistoryType::kRide);
  ASSERT_TRUE(rides.ok());
  EXPECT_TRUE(rides.result->rides.empty());
  expect_money_invariant();
}

TEST_P(PlatformTest, ANegativeBalanceIsRefilledToo) {
  Rider ivy = open("ivy", "Ivy", "110101199001010006");
  ASSERT_TRUE(recharge(ivy, 100).ok());
  auto code = request_code(ivy);
  const std::string old_b = ivy.b;
  ASSERT_TRUE(recharge(ivy, 1000, true).ok());
  ASSERT_TRUE(ride(*code.result, 400, 1).ok());
  EXPECT_EQ(balance_of(old_b), -300);
  EXPECT_EQ(*platform_->run_refill(now_ + 7 * kDayMs), 1);
  EXPECT_EQ(balance_of(ivy.b), 700);
  EXPECT_EQ(balance_of(old_b), 0);
  expect_money_invariant();
}

TEST_P(PlatformTest, FourNodesRunningTheRefillAtOnceMoveEachRecordExactlyOnce) {
  constexpr int kRiders = 6;
  std::vector<Rider> riders;
  for (int i = 0; i < kRiders; ++i) {
    riders.push_back(open("u" + std::to_string(i), "N" + std::to_string(i), std::to_string(i)));
    ASSERT_TRUE(recharge(riders.back(), 100 + i).ok());
    ASSERT_TRUE(recharge(riders.back(), 1000, true).ok());
  }
  std::atomic<int64_t> moved{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> nodes;
  const int64_t at = now_ + 7 * kDayMs;
  for (int n = 0; n < 4; ++n) {
    nodes.emplace_back([&] {
      auto r = platform_->run_refill(at);
      if (r.ok()) {
        moved += *r;
      } else {
        ++errors;
      }
    });
  }
  for (auto& t : nodes) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(moved.load(), kRiders);
  for (int i = 0; i < kRiders; ++i) EXPECT_EQ(balance_of(riders[i].b), 1100 + i);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM purse_refund_record WHERE state = '01'"), kRiders);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM wallet_transactions WHERE transaction_type = '03'"),
            2 * kRiders);
  expect_money_invariant();
}

TEST_P(PlatformTest, RefundsNeedTheBalanceAndTheRidersOwnIdentity) {
  Rider jack = open("jack", "Jack", "110101199001010007");
  Rider kate = open("kate", "Kate", "110101199001010008");
  ASSERT_TRUE(recharge(jack, 30'000).ok());

  auto above = refund(jack, 30'001);
  EXPECT_EQ(above.result.error().code, ErrorCode::kInsufficientBalance);
  EXPECT_TRUE(above.response.has_value());  // refused by the rules, after the show
  // Kate's name and ID number on Jack's wallet: the zero-knowledge check fails.
  auto as_kate = refund(jack, 100, std::make_pair(kate.name, kate.id_number));
  EXPECT_EQ(as_kate.result.error().code, ErrorCode::kVerificationFailed);
  // Nobody registered: refused the same way (anonymous callers learn nothing).
  auto nobody = refund(jack, 100, std::make_pair(std::string("Nobody"), std::string("000")));
  EXPECT_EQ(nobody.result.error().code, ErrorCode::kVerificationFailed);
  // An unused code keeps the maximum fare back (it may still be scanned offline and uploaded).
  ASSERT_TRUE(request_code(jack).ok());
  EXPECT_EQ(refund(jack, 30'000 - options_.max_ride_amount + 1).result.error().code,
            ErrorCode::kInsufficientBalance);
  EXPECT_EQ(balance_of(jack.b), 30'000);

  auto ok = refund(jack, 400);
  ASSERT_TRUE(ok.ok()) << ok.result.error().message;
  EXPECT_EQ(ok.result->refunded, 400);
  EXPECT_EQ(ok.result->balance, 29'600);
  EXPECT_EQ(channel(kChannelUnionPay).total_paid_out(), 400);
  // The refund row is the one deliberate user ↔ wallet link; the bank account is sealed.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds WHERE user_id = 'jack' AND b = $1 AND "
                   "state = 'paid'",
                   {jack.b}),
            1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds WHERE bank_account_sealed = $1",
                   {to_bytes(std::string_view("6222020200112233445"))}),
            0);
  EXPECT_TRUE(privacy_->violations()->empty());
  expect_money_invariant();
}

TEST_P(PlatformTest, ARetriedRefundOrRechargeReturnsTheFirstOutcomeAndMovesNoMoreMoney) {
  Rider leo = open("leo", "Leo", "110101199001010009");
  ASSERT_TRUE(recharge(leo, 1000).ok());
  // A recharge whose reply was lost is sent again verbatim.
  auto prepared = prepare_recharge(leo, 250);
  const RechargeRequest& req = prepared.req;
  const auto& p = prepared.show;
  const auto& key = prepared.key;
  auto first = platform_->recharge(req, now_);
  ASSERT_TRUE(first.ok()) << first.result.error().message;
  auto retry = platform_->recharge(req, now_ + 5000);
  ASSERT_TRUE(retry.ok()) << retry.result.error().message;
  EXPECT_EQ(retry.result->balance, 1250);
  EXPECT_EQ(retry.result->order_id, first.result->order_id);
  EXPECT_EQ(*retry.response, *first.response);
  EXPECT_EQ(channel("010001").total_paid_in(), 1250);
  renew(leo, p, retry);
  leo.wallet_key.emplace(key);
  leo.b = retry.result->wallet;

  RefundRequest rr = refund_request(leo, 300, leo.name, leo.id_number);
  auto pr = prepare(leo, refund_context(leo.b, leo.accountid, rr), &*leo.wallet_key);
  rr.auth = pr.auth;
  auto r1 = platform_->refund(rr, now_);
  ASSERT_TRUE(r1.ok()) << r1.result.error().message;
  auto r2 = platform_->refund(rr, now_ + 1000);
  ASSERT_TRUE(r2.ok()) << r2.result.error().message;
  EXPECT_EQ(r2.result->balance, 950);
  EXPECT_EQ(balance_of(leo.b), 950);
  EXPECT_EQ(channel(kChannelUnionPay).total_paid_out(), 300);
  renew(leo, pr, r2);
  ASSERT_TRUE(request_code(leo).ok());  // the renewed credential works
  EXPECT_TRUE(privacy_->violations()->empty());
  expect_money_invariant();
}

TEST_P(PlatformTest, ADeclinedPaymentCreditsNothingButTheRiderGetsItsNextCredential) {
  Rider mia = open("mia", "Mia", "110101199001010010");
  channel("010002").set_decline_payments(true);
  auto out = recharge(mia, 500, false, "010002");
  EXPECT_EQ(out.result.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(out.response.has_value());  // the serial was spent: the reply carries the next one
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM anonymous_wallet_accounts"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM payment_orders WHERE state = 'failed'"), 1);
  channel("010002").set_decline_payments(false);
  ASSERT_TRUE(recharge(mia, 500, false, "010002").ok());  // with the renewed credential

  // A payout the channel refuses is reversed: the money is back in the wallet.
  channel(kChannelUnionPay).set_decline_payouts(true);
  auto r = refund(mia, 200);
  EXPECT_EQ(r.result.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(r.response.has_value());
  EXPECT_EQ(balance_of(mia.b), 500);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds WHERE state = 'reversed'"), 1);
  channel(kChannelUnionPay).set_decline_payouts(false);
  ASSERT_TRUE(refund(mia, 200).ok());
  EXPECT_EQ(balance_of(mia.b), 300);
  expect_money_invariant();
}

TEST_P(PlatformTest, CloseNeedsAZeroBalanceAndEndsTheWallet) {
  Rider ned = open("ned", "Ned", "110101199001010011");
  ASSERT_TRUE(recharge(ned, 700).ok());
  auto refused = close(ned);
  EXPECT_EQ(refused.result.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(refused.response.has_value());  // a refusal by the rules: the show is spent
  ASSERT_TRUE(refund(ned, 700).ok());
  auto closed = close(ned);
  ASSERT_TRUE(closed.ok()) << closed.result.error().message;
  EXPECT_EQ(closed.result->status, "closed");
  EXPECT_TRUE(platform_->wallet(ned.b)->deactivated);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM wallet_transactions WHERE transaction_type = '05'"), 1);
  // Nothing more on a closed wallet.
  EXPECT_EQ(request_code(ned).result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(recharge(ned, 100).result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(close(ned).result.error().code, ErrorCode::kConflict);
  expect_money_invariant();
}

TEST_P(PlatformTest, AClonedCredentialLocksTheWalletAndNamesTheCheater) {
  Rider olga = open("olga", "Olga", "110101199001010012");
  ASSERT_TRUE(recharge(olga, 900).ok());
  Rider copy = olga;  // the phone is cloned: both hold the same credential and wallet key
  ASSERT_TRUE(request_code(olga).ok());
  auto cloned = request_code(copy);
  EXPECT_EQ(cloned.result.error().code, ErrorCode::kSnReused);
  EXPECT_FALSE(cloned.response.has_value());
  auto w = platform_->wallet(olga.b);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->locked);
  EXPECT_EQ(w->user_id.value_or(""), "olga");
  // The locked wallet is refused even with the genuine, fresh credential.
  EXPECT_EQ(request_code(olga).result.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(refund(olga, 100).result.error().code, ErrorCode::kForbidden);
}

TEST_P(PlatformTest, TracingACheaterShowsItsWholeWalletChainAndNobodyElses) {
  Rider rex = open("rex", "Rex", "110101199001010015");
  Rider sam = open("sam", "Sam", "110101199001010016");
  ASSERT_TRUE(recharge(sam, 400).ok());
  ASSERT_TRUE(recharge(rex, 1000).ok());
  const std::string first_acc = rex.accountid;
  now_ += 1000;
  ASSERT_TRUE(recharge(rex, 200).ok());  // same accountid, a second record
  now_ += 1000;
  ASSERT_TRUE(recharge(rex, 300, true).ok());  // a strong-mode successor: another accountid
  now_ += 1000;
  auto code = request_code(rex);
  ASSERT_TRUE(code.ok());
  ASSERT_TRUE(
      platform_->settle_rides("T1", "M1", {{1, code.result->payload, 100, now_}}, now_).ok());
  Rider clone = rex;
  ASSERT_TRUE(history(rex, HistoryType::kRide).ok());
  EXPECT_EQ(history(clone, HistoryType::kRide).result.error().code, ErrorCode::kSnReused);

  auto t = platform_->trace("rex");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->wallets.size(), 3u);  // both records of the first accountid and the strong one
  for (const auto& w : t->wallets) EXPECT_NE(w.accountid, sam.accountid);
  EXPECT_EQ(t->transactions.size(), 4u);  // three recharges and the ride
  auto j = trace_json(*platform_, "rex");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["transactions"].back()["kind"], "ride");
  EXPECT_TRUE(platform_->trace("sam")->wallets.empty());
  EXPECT_EQ(t->wallets.front().accountid, first_acc);  // oldest first
  EXPECT_EQ(t->wallets.back().accountid, rex.accountid);
  EXPECT_TRUE(t->wallets.back().locked);
  EXPECT_EQ(t->wallets.back().user_id.value_or(""), "rex");
}

TEST_P(PlatformTest, HistoryListsRechargesAndRidesOfTheWalletChainNewestFirst) {
  Rider pia = open("pia", "Pia", "110101199001010013");
  ASSERT_TRUE(recharge(pia, 1000).ok());
  now_ += 1000;
  ASSERT_TRUE(recharge(pia, 500).ok());
  auto code = request_code(pia);
  now_ += 1000;
  ASSERT_TRUE(ride(*code.result, 150, 1).ok());
  now_ += 1000;
  ASSERT_TRUE(ride(*code.result, 50, 2).ok());
  auto money = history(pia, HistoryType::kRecharge);
  ASSERT_TRUE(money.ok()) << money.result.error().message;
  EXPECT_EQ(money.result->balance, 1300);
  ASSERT_EQ(money.result->money.size(), 2u);
  EXPECT_EQ(money.result->money[0].amount, 500);  // newest first
  EXPECT_EQ(money.result->money[1].amount, 1000);
  EXPECT_EQ(money.result->money[0].type, "01");
  auto rides = history(pia, HistoryType::kRide);
  ASSERT_TRUE(rides.ok());
  ASSERT_EQ(rides.result->rides.size(), 2u);
  EXPECT_EQ(rides.result->rides[0].amount, 50);
  EXPECT_EQ(rides.result->rides[1].amount, 150);
  EXPECT_EQ(rides.result->rides[0].sequence, code.result->sequence);
  EXPECT_FALSE(rides.result->rides[0].txn_id.empty());
}

TEST_P(PlatformTest, TheJsonContractCarriesTheResponseAlsoInErrors) {
  Rider quin = open("quin", "Quin", "110101199001010014");
  auto key = *crypto::Sm2PrivateKey::generate();
  RechargeRequest req = recharge_request(quin, 600, false, key);
  auto p = prepare(quin, recharge_context(req), nullptr);
  nlohmann::json body{{"show", to_base64url(p.auth.show)},
                      {"wallet", req.auth.wallet},
                      {"amount", 600},
                      {"channel", "010001"},
                      {"strong", false},
                      {"new_wallet_public_key", to_base64url(req.new_wallet_public_key)},
                      {"previous_wallet", ""}};
  auto reply = post_recharge(*platform_, body, now_);
  ASSERT_EQ(reply.http_status(), 200) << reply.body().dump();
  EXPECT_EQ(reply.body()["balance"], 600);
  EXPECT_TRUE(reply.body()["response"].is_string());
  quin.wallet_key.emplace(key);
  quin.b = reply.body()["wallet"];
  quin.accountid = reply.body()["accountid"];
  {
    WalletOutcome<RechargeResult> as_outcome{
        RechargeResult{}, *from_base64url(reply.body()["response"].get<std::string>())};
    renew(quin, p, as_outcome);
  }
  // On a first recharge, a wallet_signature that is "" or null is the same as none (docs/API.md):
  // the identical request, answered with the stored outcome, byte for byte.
  for (const nlohmann::json& empty : {nlohmann::json(""), nlohmann::json(nullptr)}) {
    nlohmann::json same = body;
    same["wallet_signature"] = empty;
    auto again = post_recharge(*platform_, same, now_);
    EXPECT_EQ(again.http_status(), 200) << again.body().dump();
    EXPECT_EQ(again.body(), reply.body());
  }

  // Missing and mistyped fields.
  nlohmann::json bad = body;
  bad.erase("amount");
  EXPECT_EQ(post_recharge(*platform_, bad, now_).body()["error"]["code"], "invalid_argument");
  bad = body;
  bad["amount"] = "600";
  EXPECT_EQ(post_recharge(*platform_, bad, now_).http_status(), 400);
  bad = body;
  bad["show"] = "not base64!";
  EXPECT_EQ(post_recharge(*platform_, bad, now_).body()["error"]["code"], "malformed");
  EXPECT_EQ(post_code(*platform_, nlohmann::json::array(), now_).http_status(), 400);

  // A refusal by the rules comes after the show: close with a balance carries the next
  // credential …
  auto pc = prepare(quin, close_context(quin.b, quin.accountid), &*quin.wallet_key);
  nlohmann::json close_body{{"show", to_base64url(pc.auth.show)},
                            {"wallet", quin.b},
                            {"wallet_signature", to_base64url(pc.auth.wallet_signature)}};
  auto refused = post_close(*platform_, close_body, now_);
  EXPECT_EQ(refused.http_status(), 409);
  ASSERT_TRUE(refused.body()["response"].is_string());
  renew(quin, pc,
        WalletOutcome<CloseResult>{refused.result.error(),
                                   *from_base64url(refused.body()["response"].get<std::string>())});
  // … and so does a declined payment.
  channel("010001").set_decline_payments(true);
  auto key2 = *crypto::Sm2PrivateKey::generate();
  RechargeRequest req2 = recharge_request(quin, 100, false, key2);
  auto p2 = prepare(quin, recharge_context(req2), &*quin.wallet_key);
  nlohmann::json body2{{"show", to_base64url(p2.auth.show)},
                       {"wallet", req2.auth.wallet},
                       {"wallet_signature", to_base64url(p2.auth.wallet_signature)},
                       {"amount", 100},
                       {"channel", "010001"},
                       {"new_wallet_public_key", to_base64url(req2.new_wallet_public_key)},
                       {"previous_wallet", quin.b}};
  auto declined = post_recharge(*platform_, body2, now_);
  EXPECT_EQ(declined.http_status(), 409);
  EXPECT_EQ(declined.body()["error"]["code"], "conflict");
  EXPECT_TRUE(declined.body()["response"].is_string());

  auto keys = get_keys(*platform_);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)["keys"].size(), 1u);
  auto moved = refill_run_json(*platform_, {{"now", now_}}, now_);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ((*moved)["moved"], 0);
}

// --- DESIGN §3.6 rule 1: the request ledger -------------------------------------------------

// The attack that framed honest riders: a code request is processed but its reply is lost; an
// offline ride then uses the balance up. The SDK resends the identical bytes — and must get the
// code it missed with the next credential, not `insufficient_balance` without one (which left it
// holding a spent credential whose next show, under a new nonce, traced it as a cloner).
TEST_P(PlatformTest, ALostCodeReplyIsAnsweredWithTheSameCodeAfterTheBalanceIsGone) {
  Rider rosa = open("rosa", "Rosa", "110101199001010021");
  ASSERT_TRUE(recharge(rosa, 300).ok());
  auto p = prepare(rosa, code_context(rosa.b, rosa.accountid), &*rosa.wallet_key);
  auto lost = platform_->request_code(p.auth, now_);  // processed; the reply never arrives
  ASSERT_TRUE(lost.ok()) << lost.result.error().message;
  ASSERT_TRUE(ride(*lost.result, 300, 1).ok());  // the code was scanned offline and uploaded
  EXPECT_EQ(balance_of(rosa.b), 0);

  now_ += 10 * 60'000;  // long past the nonce's 60 s
  auto resent = platform_->request_code(p.auth, now_);
  ASSERT_TRUE(resent.ok()) << resent.result.error().message;
  EXPECT_EQ(resent.result->payload, lost.result->payload);
  EXPECT_EQ(resent.result->sequence, lost.result->sequence);
  ASSERT_TRUE(resent.response.has_value());
  EXPECT_EQ(*resent.response, *lost.response);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_requests"), 1);  // no code minted by the replay
  renew(rosa, p, resent);

  // The next request is refused by the rules — after the show, so the refusal carries the next
  // credential, and its resend gets the identical refusal.
  auto p2 = prepare(rosa, code_context(rosa.b, rosa.accountid), &*rosa.wallet_key);
  auto empty = platform_->request_code(p2.auth, now_);
  EXPECT_EQ(empty.result.error().code, ErrorCode::kInsufficientBalance);
  ASSERT_TRUE(empty.response.has_value());
  renew(rosa, p2, empty);
  ASSERT_TRUE(recharge_free_credit(rosa));  // the balance changes meanwhile …
  auto again = platform_->request_code(p2.auth, now_ + 1000);
  EXPECT_EQ(again.result.error().code, ErrorCode::kInsufficientBalance);  // … the answer does not
  EXPECT_EQ(*again.response, *empty.response);
  ASSERT_TRUE(request_code(rosa).ok());
  EXPECT_TRUE(privacy_->violations()->empty());  // never traced
  EXPECT_FALSE(platform_->wallet(rosa.b)->locked);
  expect_money_invariant();
}

TEST_P(PlatformTest, AReplayedHistoryRequestGetsTheRecordedAnswerNotFreshData) {
  Rider sam = open("sam", "Sam", "110101199001010022");
  ASSERT_TRUE(recharge(sam, 500).ok());
  auto p =
      prepare(sam, history_context(sam.b, sam.accountid, HistoryType::kRecharge), &*sam.wallet_key);
  auto first = platform_->history(p.auth, HistoryType::kRecharge, now_);
  ASSERT_TRUE(first.ok());
  renew(sam, p, first);
  ASSERT_TRUE(recharge(sam, 200).ok());
  auto replay = platform_->history(p.auth, HistoryType::kRecharge, now_ + 1000);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay.result->balance, 500);
  ASSERT_EQ(replay.result->money.size(), first.result->money.size());
  EXPECT_EQ(replay.result->money[0].txn_id, first.result->money[0].txn_id);
  EXPECT_EQ(*replay.response, *first.response);
}

// The same show under other fields (a replayed capture with a field changed) is refused and
// changes nothing; the genuine request is still answered.
TEST_P(PlatformTest, TheSameShowUnderOtherFieldsIsRefusedAndChangesNothing) {
  Rider tom = open("tom", "Tom", "110101199001010023");
  ASSERT_TRUE(recharge(tom, 500).ok());
  auto p = prepare(tom, code_context(tom.b, tom.accountid), &*tom.wallet_key);
  auto first = platform_->request_code(p.auth, now_);
  ASSERT_TRUE(first.ok());
  WalletAuth forged = p.auth;
  forged.wallet_signature = *crypto::sm2_sign(*tom.wallet_key, crypto::sm3(p.auth.show));
  auto refused = platform_->request_code(forged, now_);
  EXPECT_EQ(refused.result.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(refused.response.has_value());
  auto hist = platform_->history(p.auth, HistoryType::kRide, now_);  // same show, another op
  EXPECT_EQ(hist.result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_requests"), 1);
  EXPECT_TRUE(privacy_->violations()->empty());
  auto genuine = platform_->request_code(p.auth, now_);
  ASSERT_TRUE(genuine.ok());
  EXPECT_EQ(genuine.result->sequence, first.result->sequence);
}

// Two copies of one request racing on two threads (a retry and the original): one outcome.
TEST_P(PlatformTest, ConcurrentCopiesOfOneCodeRequestGetOneCode) {
  Rider uma = open("uma", "Uma", "110101199001010024");
  ASSERT_TRUE(recharge(uma, 500).ok());
  auto p = prepare(uma, code_context(uma.b, uma.accountid), &*uma.wallet_key);
  std::vector<WalletOutcome<CodeResult>> outs(
      4, WalletOutcome<CodeResult>{make_error(ErrorCode::kInternal, ""), {}});
  std::vector<std::thread> threads;
  for (size_t i = 0; i < outs.size(); ++i) {
    threads.emplace_back([&, i] { outs[i] = platform_->request_code(p.auth, now_); });
  }
  for (auto& t : threads) t.join();
  for (const auto& o : outs) {
    ASSERT_TRUE(o.ok()) << o.result.error().message;
    EXPECT_EQ(o.result->sequence, outs[0].result->sequence);
    EXPECT_EQ(*o.response, *outs[0].response);
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_requests"), 1);
  EXPECT_TRUE(privacy_->violations()->empty());
}

// --- DESIGN §3.6 rule 8: money at the edges ---------------------------------------------------

// A refund right after a code expired, then that code's late offline upload, used to leave a debt
// nobody could collect: the refund keeps the maximum fare back for every code that may still come.
TEST_P(PlatformTest, ARefundKeepsAReserveForCodesThatMayStillBeUploaded) {
  Rider vera = open("vera", "Vera", "110101199001010025");
  ASSERT_TRUE(recharge(vera, 30'000).ok());
  auto code = request_code(vera);
  ASSERT_TRUE(code.ok());
  now_ += options_.code_lifetime_ms + 1;  // the code expired, unscanned as far as we know
  auto all = refund(vera, 30'000);
  EXPECT_EQ(all.result.error().code, ErrorCode::kInsufficientBalance);
  EXPECT_TRUE(all.response.has_value());
  ASSERT_TRUE(refund(vera, 30'000 - options_.max_ride_amount).ok());
  auto code2 = request_code(vera);
  ASSERT_TRUE(code2.ok());
  // The late upload of the first code (scanned while it was valid) is covered.
  auto late = platform_->settle_rides(
      "T1", "M1", {{1, code.result->payload, options_.max_ride_amount, now_ - 2}}, now_);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->uploaded, 1);
  EXPECT_EQ(balance_of(vera.b), 0);
  // The second code may still come: close waits for its upload window.
  EXPECT_EQ(close(vera).result.error().code, ErrorCode::kConflict);
  now_ += options_.code_lifetime_ms + options_.upload_window_ms + 1;
  auto closed = close(vera);
  ASSERT_TRUE(closed.ok()) << closed.result.error().message;
  expect_money_invariant();
}

TEST_P(PlatformTest, SettlementRejectsARideOutsideItsCodesValidity) {
  Rider walt = open("walt", "Walt", "110101199001010026");
  ASSERT_TRUE(recharge(walt, 1000).ok());
  auto code = request_code(walt);
  ASSERT_TRUE(code.ok());
  const int64_t after = code.result->expires_at + options_.clock_skew_ms + 1;
  const int64_t before = now_ - options_.clock_skew_ms - 1;
  auto s = platform_->settle_rides(
      "T1", "M1", {{1, code.result->payload, 100, after}, {2, code.result->payload, 100, before}},
      now_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->rejected, 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rejected_rides WHERE reason = 'outside_validity'"), 2);
  EXPECT_EQ(balance_of(walt.b), 1000);
  // Uploaded after the upload window (a refund may have paid its reserve out): refused too.
  auto late = platform_->settle_rides("T1", "M1", {{4, code.result->payload, 100, now_}},
                                      code.result->expires_at + options_.upload_window_ms + 1);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->rejected, 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM rejected_rides WHERE reason = 'late_upload'"), 1);
  // Within the skew it is charged.
  auto ok = platform_->settle_rides(
      "T1", "M1", {{3, code.result->payload, 100, code.result->expires_at + 1000}}, now_);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->uploaded, 1);
  expect_money_invariant();
}

// Every field that changes what a recharge does is in the show context: a captured request with
// `strong`, the channel or the new wallet key changed does not verify, and spends nothing.
TEST_P(PlatformTest, ARechargeWithAChangedFieldDoesNotVerify) {
  Rider xena = open("xena", "Xena", "110101199001010027");
  ASSERT_TRUE(recharge(xena, 1000).ok());
  const RechargeRequest req = prepare_recharge(xena, 200).req;
  RechargeRequest strong = req;
  strong.strong = true;
  EXPECT_EQ(platform_->recharge(strong, now_).result.error().code, ErrorCode::kVerificationFailed);
  RechargeRequest other_channel = req;
  other_channel.channel = "010002";
  EXPECT_EQ(platform_->recharge(other_channel, now_).result.error().code,
            ErrorCode::kVerificationFailed);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM anonymous_wallet_accounts"), 1);
  auto genuine = platform_->recharge(req, now_);
  ASSERT_TRUE(genuine.ok()) << genuine.result.error().message;
  EXPECT_EQ(genuine.result->balance, 1200);
}

// A first recharge's request carries no wallet signature. A copy with bytes put there is refused
// before the ledger, so it can neither run first nor turn the rider's own request into a conflict
// without the next credential (the clean-room client's FINDINGS.md item 2).
TEST_P(PlatformTest, AFirstRechargeWithAWalletSignatureIsRefusedAndChangesNothing) {
  Rider yuki = open("yuki", "Yuki", "110101199001010031");
  const RechargeRequest req = prepare_recharge(yuki, 500).req;
  ASSERT_TRUE(req.auth.wallet_signature.empty());
  RechargeRequest forged = req;
  forged.auth.wallet_signature = Bytes(64, 0x5a);
  auto refused = platform_->recharge(forged, now_);
  EXPECT_EQ(refused.result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(refused.response.has_value());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM certification_transactions"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM platform_requests"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM anonymous_wallet_accounts"), 0);
  auto genuine = platform_->recharge(req, now_);
  ASSERT_TRUE(genuine.ok()) << genuine.result.error().message;
  EXPECT_EQ(genuine.result->balance, 500);
  EXPECT_TRUE(genuine.response.has_value());
}

// --- DESIGN §3.6 rule 3: a wallet answers only to its credential secret ----------------------

// Two colluding riders share a wallet key: the second one's credential cannot act on the wallet
// (its pseudonym differs), and copying the first one's pseudonym into its show breaks the proof.
TEST_P(PlatformTest, AColluderWithACopiedWalletKeyCannotSpendTheWallet) {
  Rider yan = open("yan", "Yan", "110101199001010028");
  Rider zoe = open("zoe", "Zoe", "110101199001010029");
  ASSERT_TRUE(recharge(yan, 1000).ok());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM anonymous_wallet_accounts WHERE pseudonym IS NOT NULL"),
            1);
  // Zoe holds a copy of Yan's wallet key and account.
  zoe.b = yan.b;
  zoe.accountid = yan.accountid;
  zoe.wallet_key.emplace(*yan.wallet_key);
  const int64_t shows = scalar("SELECT COUNT(*) FROM certification_transactions");
  auto code = request_code(zoe);
  EXPECT_EQ(code.result.error().code, ErrorCode::kForbidden);
  EXPECT_FALSE(code.response.has_value());
  EXPECT_EQ(recharge(zoe, 100).result.error().code, ErrorCode::kForbidden);  // nor recharge it
  EXPECT_EQ(refund(zoe, 100, std::make_pair(zoe.name, zoe.id_number)).result.error().code,
            ErrorCode::kForbidden);
  // Zoe's show with Yan's pseudonym in place of her own: the proof does not verify.
  auto p = prepare(zoe, code_context(zoe.b, zoe.accountid), &*zoe.wallet_key);
  auto req = crypto::ShowRequest::decode(p.auth.show);
  ASSERT_TRUE(req.ok());
  auto stored = platform_->wallet(yan.b);
  ASSERT_TRUE(stored.ok());
  req->pseudonyms[0] = *g().decode_point(stored->pseudonym);
  p.auth.show = req->encode();
  p.auth.wallet_signature = *crypto::sm2_sign(*zoe.wallet_key, crypto::sm3(p.auth.show));
  EXPECT_EQ(platform_->request_code(p.auth, now_).result.error().code,
            ErrorCode::kVerificationFailed);
  // Nothing was spent or charged; Yan's own credential still works on his wallet.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM certification_transactions"), shows);
  EXPECT_EQ(balance_of(yan.b), 1000);
  ASSERT_TRUE(request_code(yan).ok());
  ASSERT_TRUE(recharge(yan, 100).ok());
  ASSERT_TRUE(request_code(yan).ok());  // the new wallet carries the same chain's pseudonym
  EXPECT_TRUE(privacy_->violations()->empty());
}

// A wallet created before pseudonyms were stored takes the first one proven for it.
TEST_P(PlatformTest, AWalletWithoutAStoredPseudonymTakesTheFirstOneShown) {
  Rider abe = open("abe", "Abe", "110101199001010030");
  Rider bea = open("bea", "Bea", "110101199001010031");
  ASSERT_TRUE(recharge(abe, 1000).ok());
  ASSERT_EQ(scalar("SELECT COUNT(*) FROM anonymous_wallet_accounts WHERE pseudonym IS NULL"), 0);
  ASSERT_TRUE(db_->transact([](storage::Tx& tx) -> Status {
                   ANONCODE_CHECK(tx.exec("UPDATE anonymous_wallet_accounts SET pseudonym = NULL"));
                   return {};
                 })
                  .ok());
  ASSERT_TRUE(request_code(abe).ok());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM anonymous_wallet_accounts WHERE pseudonym IS NULL"), 0);
  bea.b = abe.b;
  bea.accountid = abe.accountid;
  bea.wallet_key.emplace(*abe.wallet_key);
  EXPECT_EQ(request_code(bea).result.error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(request_code(abe).ok());
}

}  // namespace
}  // namespace anoncode::platform
