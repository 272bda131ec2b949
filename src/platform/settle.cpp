// seed 000 §2.5 offline scan and deduction: the platform side
#include "common/counters.h"
#include "platform/platform.h"
#include "platform/platform_store.h"
#include "privacy/privacy_store.h"
#include "protocol/qr_payload.h"

namespace anoncode::platform {

using storage::Tx;

Result<SettleSummary> CodePlatform::settle_rides(std::string_view terminal,
                                                 std::string_view merchant,
                                                 const std::vector<RideUpload>& rides,
                                                 int64_t now_ms) {
  if (terminal.empty() || merchant.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "terminal and merchant are required");
  }
  // Verify every payload first, outside the transaction (pure and the costly part): a POS
  // checked it offline, the platform checks again — a terminal can only charge codes it saw.
  ANONCODE_TRY(auto published, keys());
  struct Verdict {
    std::optional<protocol::QrPayload> qr;
    std::string reason;  // "" if the payload verified
  };
  std::vector<Verdict> verdicts;
  verdicts.reserve(rides.size());
  for (const auto& ride : rides) {
    Verdict v;
    auto qr = protocol::QrPayload::decode(ride.payload);
    if (!qr.ok()) {
      v.reason = "malformed";
    } else {
      std::optional<crypto::Sm2PublicKey> key;
      const protocol::PlatformPublicKey* published_key = nullptr;
      for (const auto& k : published) {
        if (k.kid == qr->kid) published_key = &k;
      }
      if (published_key != nullptr) {
        auto parsed = crypto::Sm2PublicKey::from_bytes(published_key->public_key);
        if (parsed.ok()) key = *parsed;
      } else if (qr->kid == signing_kid_) {
        key = signing_key_.public_key();
      }
      const int64_t skew = options_.clock_skew_ms;
      if (!key) {
        v.reason = "unknown_key";
      } else if (!protocol::verify_qr_signature(*qr, *key).ok()) {
        v.reason = "bad_signature";
      } else if (ride.scanned_at < qr->issued_at - skew ||
                 ride.scanned_at > qr->expires_at + skew) {
        // DESIGN §3.6 rule 8: a code is charged only within its validity (± the clock skew).
        v.reason = "outside_validity";
      } else if (now_ms > qr->expires_at + options_.upload_window_ms) {
        // Past the upload window a refund or close may have paid the reserve out: refused, on
        // record for the operator (the reserve covers exactly the rides inside the window).
        v.reason = "late_upload";
      } else if (published_key != nullptr &&
                 (!published_key->covers(qr->issued_at) ||
                  ride.scanned_at > published_key->valid_until + skew)) {
        // Issued under a key outside its validity, or scanned after the key was retired.
        v.reason = "key_not_valid";
      } else if (ride.amount <= 0 || ride.amount > options_.max_ride_amount) {
        v.reason = "invalid_amount";
      } else if (ride.counter < 0) {
        v.reason = "invalid_counter";
      } else {
        v.qr = *qr;
      }
    }
    verdicts.push_back(std::move(v));
  }

  SettleSummary sum;
  int64_t copy_risks = 0;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    sum = SettleSummary{};
    copy_risks = 0;
    const std::string term(terminal), merch(merchant);
    for (size_t i = 0; i < rides.size(); ++i) {
      const RideUpload& ride = rides[i];
      const Verdict& v = verdicts[i];
      ANONCODE_TRY(bool seen, store::ride_seen(tx, term, ride.counter));
      if (seen) {
        ++sum.duplicates;
        continue;
      }
      auto reject = [&](const std::string& reason) -> Status {
        ANONCODE_CHECK(store::insert_rejected_ride(tx, {.terminal = term,
                                                        .counter = ride.counter,
                                                        .merchant = merch,
                                                        .payload = ride.payload,
                                                        .amount = ride.amount,
                                                        .scanned_at = ride.scanned_at,
                                                        .received_at = now_ms,
                                                        .reason = reason}));
        ++sum.rejected;
        return {};
      };
      if (!v.qr) {
        ANONCODE_CHECK(reject(v.reason));
        continue;
      }
      const protocol::QrPayload& qr = *v.qr;
      ANONCODE_TRY(auto code, store::load_code(tx, qr.sequence));
      if (!code || code->accountid != qr.accountid) {
        ANONCODE_CHECK(reject("unknown_code"));
        continue;
      }
      // The record charged: the head of the code's accountid — the active record, or, when the
      // wallet was closed or moved to a strong-mode successor, the record that still holds the
      // accountid's balance. Locked, deactivated and empty wallets are charged all the same: the
      // ride happened offline (balance may go negative).
      ANONCODE_TRY(auto head, store::load_head(tx, qr.accountid));
      if (!head) {
        ANONCODE_CHECK(reject("unknown_wallet"));
        continue;
      }
      const int64_t used_before = code->used_count;
      const bool copy_risk = used_before > 0;
      ANONCODE_CHECK(store::count_code_use(tx, qr.sequence));
      ANONCODE_CHECK(store::charge_ride(tx, head->b, ride.amount));
      const std::string txn_id = random_id("T");
      ANONCODE_CHECK(store::insert_transaction(tx, {.txn_id = txn_id,
                                                    .paychannel = "",
                                                    .b = head->b,
                                                    .pay_no = qr.sequence,
                                                    .accountid = qr.accountid,
                                                    .transaction_date = ride.scanned_at,
                                                    .amount = ride.amount,
                                                    .transaction_type = TransactionType::kRide,
                                                    .order_id = qr.sequence,
                                                    .state = TransactionState::kNormal}));
      ANONCODE_CHECK(store::insert_ride(tx, {.terminal = term,
                                             .counter = ride.counter,
                                             .merchant = merch,
                                             .sequence = qr.sequence,
                                             .accountid = qr.accountid,
                                             .b = head->b,
                                             .amount = ride.amount,
                                             .scanned_at = ride.scanned_at,
                                             .settled_at = now_ms,
                                             .copy_risk = copy_risk,
                                             .txn_id = txn_id}));
      if (copy_risk) {
        ++copy_risks;
        // 复制风险: the code was used before. Logged where the admin console lists violations.
        ANONCODE_CHECK(privacy::store::insert_copy_violation(
            tx, random_id("V"), head->b, qr.accountid, now_ms,
            "code " + qr.sequence + " used " + std::to_string(used_before + 1) +
                " times; terminal " + term + " counter " + std::to_string(ride.counter)));
      }
      ++sum.uploaded;
    }
    return {};
  }));
  counters::add(counters::Event::kRideSettled, static_cast<uint64_t>(sum.uploaded));
  counters::add(counters::Event::kRideDuplicate, static_cast<uint64_t>(sum.duplicates));
  counters::add(counters::Event::kRideRejected, static_cast<uint64_t>(sum.rejected));
  counters::add(counters::Event::kCopyRisk, static_cast<uint64_t>(copy_risks));
  return sum;
}

}  // namespace anoncode::platform
