// The code platform (码平台, DESIGN §1–§2, seed 000 §2.3–§2.12): anonymous wallet accounts,
// recharge, code requests (it signs the QR), deductions from POS uploads, queries, the refill job,
// refund and close.
//
// Every wallet operation carries the rider's credential show and an SM2 signature by the wallet's
// key over SM3(show) (docs/API.md). The platform answers it in this order (DESIGN §3.6 rule 1):
//   1. the request's own fields (`invalid_argument`): a malformed request changes nothing;
//   2. the request ledger (request_ledger.h): the identical request again gets exactly the
//      recorded outcome — result or refusal — with its issue response, before any rule runs;
//   3. the wallet signature (`bad_signature`) of a wallet that exists (`not_found`);
//   4. the show, in-process at the privacy backend — this spends the credential's serial;
//   5. the business rules (wallet state, balance, reserve) and the operation, in one database
//      transaction that also records the outcome in the ledger. A refusal by the rules is
//      recorded like a success.
// Failing 1–4 changes nothing and spends nothing. Once 4 succeeded, every answer — success or
// refusal, now or on any retry — carries the rider's next credential (`WalletOutcome::response`),
// so a rider is never stranded and never pushed to show a spent credential again. A clone
// (`sn_reused`) locks the wallet and records the traced user on it.
#pragma once

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "crypto/sm2.h"
#include "crypto/sm4.h"
#include "platform/identity_directory.h"
#include "platform/payment_channel.h"
#include "platform/request_ledger.h"
#include "platform/seed_codes.h"
#include "privacy/privacy_backend.h"
#include "protocol/platform_keys.h"
#include "storage/db.h"

namespace anoncode::platform {

constexpr int64_t kDayMs = 86'400'000;

struct PlatformOptions {
  int64_t refill_delay_ms = 7 * kDayMs;  // strong mode: old → new wallet after this long
  int64_t code_lifetime_ms = 120'000;    // QR validity
  int64_t max_amount = 100'000'000;      // fen, per recharge or refund
  int64_t max_ride_amount = 10'000;      // fen, the maximum fare of one ride
  // How long after a code expires its rides may still be uploaded by an offline POS: a refund
  // keeps max_ride_amount back for each unused code within it, and a close waits for it.
  int64_t upload_window_ms = 3 * kDayMs;
  int64_t clock_skew_ms =
      30'000;  // settlement: how far outside its code's validity a ride may be scanned
  int64_t history_limit = 200;  // records per query, newest first
};

// An anonymous wallet record (用户匿名钱包账户表).
struct WalletRecord {
  std::string b;
  std::string accountid;
  int64_t balance = 0;
  int64_t total_recharge_amount = 0;
  int64_t total_consume_amount = 0;
  int64_t creation_date = 0;
  bool locked = false;
  bool deactivated = false;
  bool strong = false;
  std::optional<std::string> user_id;        // written only by tracing a cheater
  std::optional<std::string> previous_b;     // B1
  std::optional<std::string> superseded_by;  // the next record under the same accountid
  Bytes wallet_public_key;
  Bytes pseudonym;  // P_B = sk·G_B of the credential chain that created it (DESIGN §3.6 rule 3)
  // The head of its accountid holds the accountid's live balance.
  bool is_head() const { return !superseded_by.has_value(); }
};

// What every wallet operation carries.
struct WalletAuth {
  Bytes show;              // crypto::ShowRequest encoding
  std::string wallet;      // B
  Bytes wallet_signature;  // SM2 r‖s over SM3(show) by the wallet key (recharge: by B1's key)
};

// The outcome of a wallet operation: the result, and the rider's next credential whenever the
// show was accepted (also when the operation then failed).
template <typename T>
struct WalletOutcome {
  Result<T> result;
  std::optional<Bytes> response;
  // For the next show on this wallet, issued with the show (code, history, close): the rider
  // needs no nonce request (docs/PROTOCOL.md "Nonces"). None for an answer from the ledger.
  std::optional<crypto::Nonce> next_nonce = {};
  bool ok() const { return result.ok(); }
};

struct RechargeRequest {
  WalletAuth auth;  // auth.wallet = the new B; signature by B1's key, empty on a first recharge
  int64_t amount = 0;
  std::string channel;
  bool strong = false;
  Bytes new_wallet_public_key;  // 65 bytes
  std::string previous_wallet;  // B1, "" on a first recharge
};
struct RechargeResult {
  std::string wallet, accountid;
  int64_t balance = 0;
  std::string order_id;
};

struct CodeResult {
  Bytes payload;  // the 125-byte QR payload
  std::string sequence, accountid;
  int64_t expires_at = 0;
};

enum class HistoryType { kRecharge, kRide };
// A money movement other than a ride: 01 recharge, 03 refill (signed: what this accountid gained
// or lost), 04 refund, 05 close (amount 0).
struct MoneyRecord {
  std::string txn_id, type, wallet, channel, order_id, state;
  int64_t amount = 0;
  int64_t at = 0;
  std::string accountid;
};
// A settled ride joined with its wallet transaction.
struct RideRecord {
  std::string txn_id, sequence, terminal, merchant, wallet;
  int64_t counter = 0, amount = 0, scanned_at = 0, settled_at = 0;
  bool copy_risk = false;
};
struct History {
  std::string wallet, accountid;
  int64_t balance = 0;
  std::vector<MoneyRecord> money;  // for HistoryType::kRecharge
  std::vector<RideRecord> rides;   // for HistoryType::kRide
};

struct RefundRequest {
  WalletAuth auth;
  int64_t amount = 0;
  std::string name, id_number, bank_account;
};
struct RefundResult {
  int64_t refunded = 0;
  int64_t balance = 0;
};

struct CloseResult {
  std::string status = "closed";
  std::string accountid;
};

// Wallet records and their wallet transactions.
struct WalletRecords {
  std::vector<WalletRecord> wallets;
  std::vector<MoneyRecord> transactions;  // all types, rides included, oldest first
};
// What tracing a cheater shows the administrator (seed 000 §2.7): every wallet record of the
// wallet chains a traced user id was written on — the accountids of the locked records, and the
// accountids linked to them by strong-mode refills — and every wallet transaction of them.
using Trace = WalletRecords;

// What the admin console reads (console/console_api.h).
struct CountAndAmount {
  int64_t count = 0;
  int64_t amount = 0;  // fen
};
// The platform's money and rides of [from, until).
struct DayTotals {
  CountAndAmount recharges = {};
  CountAndAmount rides = {};    // by settled_at
  CountAndAmount refunds = {};  // reversed ones left out
  int64_t copy_risks = 0;       // rides with a code used before
};
// A code request (请码) by its sequence.
struct CodeRequestRecord {
  std::string sequence = {}, wallet = {}, accountid = {};
  int64_t issued_at = 0, expires_at = 0, used_count = 0;
};
// A code sequence's request, if any, and the rides settled with it by settled_at, terminal,
// counter. A ride's txn_id is "" when it was settled before rides carried one (migration 0003).
struct CodeLookup {
  std::optional<CodeRequestRecord> code = {};
  std::vector<RideRecord> rides = {};
};
// A strong-mode refill (钱包余额返充登记表).
struct RefillJob {
  std::string id = {};
  int64_t register_date = 0;
  std::string accountid_old = {}, accountid_new = {};
  int64_t due_at = 0;
  std::optional<int64_t> transaction_date = {};  // when it was moved
  std::optional<int64_t> amount = {};            // what it moved
  RefillState state = RefillState::kRegistered;
};
// Registered refills by due_at, id; moved ones newest first.
struct RefillJobs {
  std::vector<RefillJob> pending = {};
  std::vector<RefillJob> done = {};
};

// One ride as the POS front forwards it (MAC already checked).
struct RideUpload {
  int64_t counter = 0;
  Bytes payload;
  int64_t amount = 0;
  int64_t scanned_at = 0;
};
struct SettleSummary {
  int64_t uploaded = 0;    // settled now
  int64_t duplicates = 0;  // (terminal, counter) settled or refused before: nothing changed
  int64_t rejected = 0;    // refused now (recorded, never deducted): see rejected_rides
};

// The show context of each operation (docs/API.md), as the SDK computes it too.
protocol::ShowContext recharge_context(const RechargeRequest& r);
protocol::ShowContext code_context(std::string_view b, std::string_view accountid);
protocol::ShowContext history_context(std::string_view b, std::string_view accountid,
                                      HistoryType type);
protocol::ShowContext refund_context(std::string_view b, std::string_view accountid,
                                     const RefundRequest& r);
protocol::ShowContext close_context(std::string_view b, std::string_view accountid);
std::string_view history_type_name(HistoryType t);

class CodePlatform {
 public:
  // `signing_key`: the platform's QR key (its public part is published with
  // publish_signing_key). `pii`: seals refund bank accounts.
  CodePlatform(storage::Db& db, privacy::PrivacyBackend& privacy, crypto::Sm2PrivateKey signing_key,
               PaymentChannels channels, IdentityDirectory& identities, crypto::Sm4Aead pii,
               PlatformOptions options = {}, crypto::Rng& rng = crypto::OsRng::instance());

  // Records the signing key's public part with its validity in platform_keys (idempotent: an
  // existing row for the key is updated). Run once at start-up, before codes are requested.
  Status publish_signing_key(int64_t valid_from, int64_t valid_until);
  // Every published key, for POS terminals (GET /platform/v1/keys, POST /posfront/v1/sync).
  Result<std::vector<protocol::PlatformPublicKey>> keys();

  // seed 000 §2.3 recharge (§2.8 strong mode)
  WalletOutcome<RechargeResult> recharge(const RechargeRequest& r, int64_t now_ms);
  // seed 000 §2.4 request code
  WalletOutcome<CodeResult> request_code(const WalletAuth& auth, int64_t now_ms);
  // seed 000 §2.6 query
  WalletOutcome<History> history(const WalletAuth& auth, HistoryType type, int64_t now_ms);
  // seed 000 §2.11 refund
  WalletOutcome<RefundResult> refund(const RefundRequest& r, int64_t now_ms);
  // seed 000 §2.12 close. The opening record is the app backend's: it calls this and closes its
  // record when the result is ok.
  WalletOutcome<CloseResult> close(const WalletAuth& auth, int64_t now_ms);

  // seed 000 §2.5 deduction: rides one terminal uploaded, all in one transaction, exactly once
  // by (terminal, counter).
  // `also` runs in the settlement's transaction (the POS front records the terminal's upload).
  Result<SettleSummary> settle_rides(std::string_view terminal, std::string_view merchant,
                                     const std::vector<RideUpload>& rides, int64_t now_ms,
                                     const storage::AlsoInTx& also = {});

  // seed 000 §2.8 refill job: moves the balance of every due strong-mode predecessor into its
  // successor. Idempotent; safe on several nodes at once. Returns how many records it moved.
  Result<int64_t> run_refill(int64_t now_ms);

  // seed 000 §2.7 violation tracing (admin console): empty lists when nothing was traced to
  // this user.
  Result<Trace> trace(std::string_view user_id);

  // What the admin console and the metrics read, each in one transaction.
  Result<DayTotals> day_totals(int64_t from_ms, int64_t until_ms);
  Result<CodeLookup> code_lookup(std::string_view sequence);
  // An accountid's wallet records by creation_date, b, and its newest `limit` transactions,
  // listed oldest first. Empty lists for an unknown accountid.
  Result<WalletRecords> account_records(std::string_view accountid, int64_t limit);
  // At most `limit` of each.
  Result<RefillJobs> refill_jobs(int64_t limit);
  // Refills registered and not moved yet.
  Result<int64_t> pending_refill_count();
  // Wallet requests the request ledger claimed and did not finish.
  Result<int64_t> pending_request_count();

  // A wallet record (admin, app backend, tests). not_found if none.
  Result<WalletRecord> wallet(std::string_view b);
  // The head record of an accountid (its live balance). not_found if none.
  Result<WalletRecord> head_of(std::string_view accountid);

  const PlatformOptions& options() const { return options_; }

 private:
  struct Reserve {
    int64_t codes = 0, amount = 0, until = 0;
  };
  // `loaded`: the signer's wallet record, read already (nullptr: read it here).
  Result<WalletRecord> authorize(const WalletAuth& auth, std::string_view signer_b,
                                 const std::optional<WalletRecord>* loaded = nullptr);
  Status verify_wallet_signature(const WalletRecord& w, const WalletAuth& auth);
  // The request ledger (request_ledger.h): the recorded answer to a request seen before.
  template <typename T>
  std::optional<WalletOutcome<T>> answered(const LedgerKey& k);
  Status refuse_in_ledger(const LedgerKey& k, const Error& e, const Bytes& response,
                          int64_t now_ms);
  // Steps 2–5 of an operation on the signer's own wallet (code, history, close): the recorded
  // answer, else the signature, and the show in `context` of the wallet with `op` on it and its
  // outcome recorded, all in the show's transaction.
  template <typename T>
  WalletOutcome<T> perform_on_wallet(
      const LedgerKey& k, const WalletAuth& auth, int64_t now_ms,
      const std::function<protocol::ShowContext(const WalletRecord&)>& context,
      const std::function<Result<T>(storage::Tx&, const WalletRecord&)>& op);
  Result<Reserve> reserve_of(storage::Tx& tx, std::string_view accountid, int64_t now_ms);
  // The show at the privacy backend. `adopt_pseudonym`: the wallet of ctx.scopes[0] exists
  // without a stored pseudonym (created before migration 0005) and takes the one proven now.
  Result<privacy::ShowOutcome> show(const WalletAuth& auth, const protocol::ShowContext& ctx,
                                    int64_t now_ms, std::vector<std::string> wallets_to_lock,
                                    bool adopt_pseudonym,
                                    const std::optional<std::string>& refund_user = std::nullopt,
                                    const privacy::PrivacyBackend::WithShow& also_in_tx = {});
  void lock_cloned(const std::string& ctx_b, const std::vector<std::string>& wallets,
                   int64_t now_ms);

  std::string random_digits(size_t n);
  std::string random_id(std::string_view prefix);
  // A wallet transaction's id: "T", 8 hex digits of the time in seconds, then 16 random hex
  // digits. Ordered by time, so the ids of a batch go to the end of the key's index instead of
  // one random index page each (a batch of 500 rides dirtied ~185 index pages more per commit).
  std::string txn_id(int64_t now_ms);
  Result<std::string> new_accountid(storage::Tx& tx);

  storage::Db& db_;
  privacy::PrivacyBackend& privacy_;
  crypto::Sm2PrivateKey signing_key_;
  protocol::PlatformKeyId signing_kid_;
  PaymentChannels channels_;
  IdentityDirectory& identities_;
  crypto::Sm4Aead pii_;
  PlatformOptions options_;
  crypto::Rng& rng_;
  std::mutex rng_mu_;
  RequestLedger ledger_;
};

}  // namespace anoncode::platform
