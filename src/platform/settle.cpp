// seed 000 §2.5 offline scan and deduction: the platform side.
//
// A batch settles in three steps: its payloads are decoded and checked outside any write
// transaction (a payload equal to the one the platform issued — its SM3 digest is on the code's
// record — needs no SM2 verification; any other payload is verified against the published
// keys); then one transaction reads what the batch touches (counters seen, codes, head records)
// and writes each kind of row for the whole batch in one statement. Exactly once per
// (terminal, counter): a counter seen before, or earlier in the batch, is a duplicate.
#include <functional>
#include <map>
#include <set>

#include "common/counters.h"
#include "crypto/sm3.h"
#include "platform/platform.h"
#include "platform/platform_store.h"
#include "privacy/privacy_store.h"
#include "protocol/qr_payload.h"

namespace anoncode::platform {

using storage::Tx;

namespace {

// A ride's payload after the checks that need no database: a verified code, or why not.
struct Verdict {
  std::optional<protocol::QrPayload> qr;
  std::string reason;  // "" if the payload verified
};

// A published key with its point parsed once per batch.
struct VerifyingKey {
  const protocol::PlatformPublicKey* published = nullptr;  // null: the platform's own key
  crypto::Sm2PublicKey key;
};

bool digest_matches(const std::map<std::string, Bytes>& issued, const protocol::QrPayload& qr,
                    ByteView payload) {
  auto it = issued.find(qr.sequence);
  if (it == issued.end()) return false;
  const auto d = crypto::sm3(payload);
  return it->second.size() == d.size() && std::equal(d.begin(), d.end(), it->second.begin());
}

// The checks of one decoded payload, in the order their reasons are reported.
Verdict check_ride(const RideUpload& ride, const protocol::QrPayload& qr,
                   const std::map<protocol::PlatformKeyId, VerifyingKey>& verifying,
                   const std::map<std::string, Bytes>& issued, const PlatformOptions& options,
                   int64_t now_ms) {
  auto key = verifying.find(qr.kid);
  const protocol::PlatformPublicKey* published_key =
      key == verifying.end() ? nullptr : key->second.published;
  const int64_t skew = options.clock_skew_ms;
  if (key == verifying.end()) return {std::nullopt, "unknown_key"};
  if (!digest_matches(issued, qr, ride.payload) &&
      !protocol::verify_qr_signature(qr, key->second.key).ok()) {
    return {std::nullopt, "bad_signature"};
  }
  if (ride.scanned_at < qr.issued_at - skew || ride.scanned_at > qr.expires_at + skew) {
    // DESIGN §3.6 rule 8: a code is charged only within its validity (± the clock skew).
    return {std::nullopt, "outside_validity"};
  }
  if (now_ms > qr.expires_at + options.upload_window_ms) {
    // Past the upload window a refund or close may have paid the reserve out: refused, on
    // record for the operator (the reserve covers exactly the rides inside the window).
    return {std::nullopt, "late_upload"};
  }
  if (published_key != nullptr && (!published_key->covers(qr.issued_at) ||
                                   ride.scanned_at > published_key->valid_until + skew)) {
    // Issued under a key outside its validity, or scanned after the key was retired.
    return {std::nullopt, "key_not_valid"};
  }
  if (ride.amount <= 0 || ride.amount > options.max_ride_amount) {
    return {std::nullopt, "invalid_amount"};
  }
  if (ride.counter < 0) return {std::nullopt, "invalid_counter"};
  return {qr, ""};
}

// What a batch writes, decided ride by ride in order from what it read.
struct BatchWrites {
  SettleSummary sum = {};
  int64_t copy_risks = 0;
  std::map<std::string, int64_t> uses = {}, charges = {};
  std::vector<store::TransactionRow> txns = {};
  std::vector<store::RideRow> settled = {};
  std::vector<store::RejectedRideRow> rejected = {};
  std::vector<privacy::store::CopyViolation> copies = {};
};

struct BatchReads {
  std::set<int64_t> seen;  // counters settled or rejected before (and, as it goes, in the batch)
  std::map<std::string, store::CodeUse> codes;
  std::map<std::string, WalletRecord> heads;
};

BatchWrites decide(const std::string& term, const std::string& merch,
                   const std::vector<RideUpload>& rides, const std::vector<Verdict>& verdicts,
                   BatchReads& in, int64_t now_ms,
                   const std::function<std::string(std::string_view)>& new_id,
                   const std::function<std::string()>& new_txn_id) {
  BatchWrites out;
  for (size_t i = 0; i < rides.size(); ++i) {
    const RideUpload& ride = rides[i];
    if (!in.seen.insert(ride.counter).second) {
      ++out.sum.duplicates;
      continue;
    }
    auto reject = [&](std::string reason) {
      out.rejected.push_back({.terminal = term,
                              .counter = ride.counter,
                              .merchant = merch,
                              .payload = ride.payload,
                              .amount = ride.amount,
                              .scanned_at = ride.scanned_at,
                              .received_at = now_ms,
                              .reason = std::move(reason)});
      ++out.sum.rejected;
    };
    if (!verdicts[i].qr) {
      reject(verdicts[i].reason);
      continue;
    }
    const protocol::QrPayload& qr = *verdicts[i].qr;
    auto code = in.codes.find(qr.sequence);
    if (code == in.codes.end() || code->second.accountid != qr.accountid) {
      reject("unknown_code");
      continue;
    }
    // The record charged: the head of the code's accountid — the active record, or, when the
    // wallet was closed or moved to a strong-mode successor, the record that still holds the
    // accountid's balance. Locked, deactivated and empty wallets are charged all the same: the
    // ride happened offline (balance may go negative).
    auto head = in.heads.find(qr.accountid);
    if (head == in.heads.end()) {
      reject("unknown_wallet");
      continue;
    }
    const std::string& b = head->second.b;
    const int64_t used_before = code->second.used_count + out.uses[qr.sequence]++;
    const bool copy_risk = used_before > 0;
    out.charges[b] += ride.amount;
    const std::string txn_id = new_txn_id();
    out.txns.push_back({.txn_id = txn_id,
                        .paychannel = "",
                        .b = b,
                        .pay_no = qr.sequence,
                        .accountid = qr.accountid,
                        .transaction_date = ride.scanned_at,
                        .amount = ride.amount,
                        .transaction_type = TransactionType::kRide,
                        .order_id = qr.sequence,
                        .state = TransactionState::kNormal});
    out.settled.push_back({.terminal = term,
                           .counter = ride.counter,
                           .merchant = merch,
                           .sequence = qr.sequence,
                           .accountid = qr.accountid,
                           .b = b,
                           .amount = ride.amount,
                           .scanned_at = ride.scanned_at,
                           .settled_at = now_ms,
                           .copy_risk = copy_risk,
                           .txn_id = txn_id});
    if (copy_risk) {
      ++out.copy_risks;
      // 复制风险: the code was used before. Logged where the admin console lists violations.
      out.copies.push_back({.id = new_id("V"),
                            .b = b,
                            .accountid = qr.accountid,
                            .detected_at = now_ms,
                            .detail = "code " + qr.sequence + " used " +
                                      std::to_string(used_before + 1) + " times; terminal " + term +
                                      " counter " + std::to_string(ride.counter)});
    }
    ++out.sum.uploaded;
  }
  return out;
}

}  // namespace

Result<SettleSummary> CodePlatform::settle_rides(std::string_view terminal,
                                                 std::string_view merchant,
                                                 const std::vector<RideUpload>& rides,
                                                 int64_t now_ms, const storage::AlsoInTx& also) {
  if (terminal.empty() || merchant.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "terminal and merchant are required");
  }
  // 1. Decode; find the digests of the payloads the platform issued for these sequences.
  std::vector<std::optional<protocol::QrPayload>> decoded;
  decoded.reserve(rides.size());
  std::vector<std::string> sequences;
  for (const auto& ride : rides) {
    auto qr = protocol::QrPayload::decode(ride.payload);
    if (qr.ok()) sequences.push_back(qr->sequence);
    decoded.push_back(qr.ok() ? std::optional<protocol::QrPayload>(std::move(*qr)) : std::nullopt);
  }
  std::map<std::string, Bytes> issued;
  if (!sequences.empty()) {
    // A read of what never changes once written (a code's digest): no need for SERIALIZABLE.
    ANONCODE_CHECK(db_.transact_locking([&](Tx& tx) -> Status {
      ANONCODE_TRY(issued, store::issued_digests(tx, sequences));
      return {};
    }));
  }

  // 2. Check every payload (pure, and the costly part): a POS checked it offline, the platform
  // checks again — a terminal can only charge codes it saw.
  ANONCODE_TRY(auto published, keys());
  std::map<protocol::PlatformKeyId, VerifyingKey> verifying;
  for (const auto& k : published) {
    auto parsed = crypto::Sm2PublicKey::from_bytes(k.public_key);
    if (parsed.ok()) verifying.insert_or_assign(k.kid, VerifyingKey{&k, *parsed});
  }
  if (!verifying.contains(signing_kid_)) {
    verifying.emplace(signing_kid_, VerifyingKey{nullptr, signing_key_.public_key()});
  }
  std::vector<Verdict> verdicts(rides.size());
  std::vector<int64_t> counters;
  std::vector<std::string> accountids;
  sequences.clear();
  for (size_t i = 0; i < rides.size(); ++i) {
    counters.push_back(rides[i].counter);
    verdicts[i] = decoded[i]
                      ? check_ride(rides[i], *decoded[i], verifying, issued, options_, now_ms)
                      : Verdict{std::nullopt, "malformed"};
    if (verdicts[i].qr) {
      sequences.push_back(verdicts[i].qr->sequence);
      accountids.push_back(verdicts[i].qr->accountid);
    }
  }

  // 3. One transaction: lock and read what the batch touches, decide each ride in order, write.
  // READ COMMITTED with locks taken before the reads they guard, in one order (the terminal, its
  // codes by sequence, the wallet heads by b), instead of SERIALIZABLE, whose predicate locks on
  // a batch's hundreds of rows made concurrent batches (and code requests) fail each other:
  //  - the terminal's lock serialises its batches, so the counters read after it include every
  //    batch settled before (exactly once per (terminal, counter); the primary keys back it up);
  //  - a code's row lock makes its used_count (the copy-risk count) current and ours to update;
  //  - a head's row lock keeps it the head and its balance ours to change until commit: a
  //    recharge, refund, close or refill (SERIALIZABLE) that changes the same row either commits
  //    first (then the lock returns its new version, or the new head) or fails and is retried.
  // docs/PROTOCOL.md "Ride settlement and isolation". SQLite runs one writer at a time anyway.
  const bool lock = db_.dialect() == "postgresql";
  BatchWrites w;
  ANONCODE_CHECK(db_.transact_locking([&](Tx& tx) -> Status {
    const std::string term(terminal), merch(merchant);
    ANONCODE_CHECK(tx.lock("settle:" + term));
    BatchReads in;
    ANONCODE_TRY(in.seen, store::seen_counters(tx, term, counters));
    ANONCODE_TRY(in.codes, store::load_codes(tx, sequences, lock));
    ANONCODE_TRY(in.heads, store::load_heads(tx, accountids, lock));
    w = decide(
        term, merch, rides, verdicts, in, now_ms,
        [this](std::string_view prefix) { return random_id(prefix); },
        [this, now_ms] { return txn_id(now_ms); });
    ANONCODE_CHECK(store::insert_rejected_rides(tx, w.rejected));
    ANONCODE_CHECK(store::count_code_uses(tx, w.uses));
    ANONCODE_CHECK(store::charge_rides(tx, w.charges));
    ANONCODE_CHECK(store::insert_transactions(tx, w.txns));
    ANONCODE_CHECK(store::insert_rides(tx, w.settled));
    ANONCODE_CHECK(privacy::store::insert_copy_violations(tx, w.copies));
    if (also) ANONCODE_CHECK(also(tx));
    return {};
  }));
  counters::add(counters::Event::kRideSettled, static_cast<uint64_t>(w.sum.uploaded));
  counters::add(counters::Event::kRideDuplicate, static_cast<uint64_t>(w.sum.duplicates));
  counters::add(counters::Event::kRideRejected, static_cast<uint64_t>(w.sum.rejected));
  counters::add(counters::Event::kCopyRisk, static_cast<uint64_t>(w.copy_risks));
  return w.sum;
}

}  // namespace anoncode::platform
