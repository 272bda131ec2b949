// The code platform's SQL: one named function per query, each run inside the caller's
// transaction (storage::Db::transact), so the flows hold no SQL and every platform table has one
// owner here (STYLE.md, after GNU Taler's taler_exchangedb_plugin.h). The statements are written
// once for SQLite and PostgreSQL (storage/db.h). The request ledger's table is ledger_store.h's.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "platform/platform.h"
#include "platform/seed_codes.h"
#include "protocol/platform_keys.h"
#include "storage/db.h"

namespace anoncode::platform::store {

using storage::Tx;

// --- wallet records (anonymous_wallet_accounts, 用户匿名钱包账户表) ---

Result<std::optional<WalletRecord>> load_wallet(Tx& tx, std::string_view b);
// The head of an accountid's chain: the record no later record of the same accountid replaced.
// More than one head is an internal error.
Result<std::optional<WalletRecord>> load_head(Tx& tx, std::string_view accountid);
// Every record of an accountid, by creation_date, b.
Result<std::vector<WalletRecord>> wallets_of_account(Tx& tx, std::string_view accountid);
// The accountids the user id was written on (by tracing a cheater), sorted.
Result<std::vector<std::string>> accounts_of_user(Tx& tx, std::string_view user_id);
Result<bool> accountid_taken(Tx& tx, std::string_view accountid);

// A new record: b, accountid, balance, the two totals, creation_date, wallet_public_key,
// previous_b, strong and pseudonym are written; locked, deactivated, user_id and superseded_by
// take their defaults.
Status insert_wallet(Tx& tx, const WalletRecord& w);
// Deactivates a record that is still active, naming its successor within its accountid (none:
// it stays its accountid's head). false: it was not active.
Result<bool> supersede_wallet(Tx& tx, std::string_view b,
                              const std::optional<std::string>& successor);
Status deactivate_wallet(Tx& tx, std::string_view b);
// A record without a pseudonym (created before migration 0005) takes this one.
Status adopt_pseudonym(Tx& tx, std::string_view b, const Bytes& pseudonym);
// Locks a record and writes the user id on it unless one is there already.
Status lock_wallet(Tx& tx, std::string_view b, const std::optional<std::string>& user_id);
Status debit_balance(Tx& tx, std::string_view b, int64_t amount);
Status credit_balance(Tx& tx, std::string_view b, int64_t amount);

// --- wallet transactions (wallet_transactions) ---

struct TransactionRow {
  std::string txn_id = {};
  std::string paychannel = {};
  std::string b = {};
  std::string pay_no = {};
  std::string accountid = {};
  int64_t transaction_date = 0;
  int64_t amount = 0;
  TransactionType transaction_type = TransactionType::kRecharge;
  AccountType account_type = AccountType::kAnonymousCode;
  std::string order_id = {};
  TransactionState state = TransactionState::kNormal;
};
Status insert_transaction(Tx& tx, const TransactionRow& t);
// A refund's transaction: paid (01) while paid out, then normal (00) or reversed (09).
Status set_transaction_state(Tx& tx, std::string_view txn_id, TransactionState state);
// An accountid's money movements other than rides, newest first, at most `limit`.
Result<std::vector<MoneyRecord>> money_history(Tx& tx, std::string_view accountid, int64_t limit);
// An accountid's settled rides with their transactions, newest first, at most `limit`.
Result<std::vector<RideRecord>> ride_history(Tx& tx, std::string_view accountid, int64_t limit);
// Every transaction of an accountid, rides included, by transaction_date, txn_id.
Result<std::vector<MoneyRecord>> transactions_of_account(Tx& tx, std::string_view accountid);

// --- payment orders (payment_orders) ---

Status insert_payment_order(Tx& tx, std::string_view order_id, std::string_view channel,
                            int64_t amount, int64_t created_at);
// created → paid. false: the order was not in state created.
Result<bool> mark_order_paid(Tx& tx, std::string_view order_id);
// created → failed (the channel did not confirm) or uncredited (paid, then not credited).
Status set_order_state(Tx& tx, std::string_view order_id, std::string_view state);

// --- code requests (code_requests, 请码) ---

Result<bool> sequence_taken(Tx& tx, std::string_view sequence);
// `payload_digest`: SM3 of the signed QR payload (settlement recognises the issued payload).
Status insert_code_request(Tx& tx, std::string_view sequence, std::string_view b,
                           std::string_view accountid, int64_t issued_at, int64_t expires_at,
                           const Bytes& payload_digest);
struct CodeUse {
  std::string accountid = {};
  int64_t used_count = 0;
};
// An accountid's codes never uploaded that expire at or after `expiring_from`.
struct UnusedCodes {
  int64_t count = 0;
  int64_t latest_expiry = 0;  // 0 when there are none
};
Result<UnusedCodes> unused_codes(Tx& tx, std::string_view accountid, int64_t expiring_from);

// --- rides (rides, rejected_rides) ---

struct RideRow {
  std::string terminal = {};
  int64_t counter = 0;
  std::string merchant = {};
  std::string sequence = {};
  std::string accountid = {};
  std::string b = {};
  int64_t amount = 0;
  int64_t scanned_at = 0;
  int64_t settled_at = 0;
  bool copy_risk = false;
  std::string txn_id = {};
};
struct RejectedRideRow {
  std::string terminal = {};
  int64_t counter = 0;
  std::string merchant = {};
  Bytes payload = {};
  int64_t amount = 0;
  int64_t scanned_at = 0;
  int64_t received_at = 0;
  std::string reason = {};
};

// --- settlement, set-based (settle.cpp): a batch's reads and writes are one statement each ---

// The SM3 digests of the payloads issued for `sequences` (codes issued before migration 0009
// have none and are absent).
Result<std::map<std::string, Bytes>> issued_digests(Tx& tx,
                                                    const std::vector<std::string>& sequences);
// Which of `counters` of `terminal` were settled or rejected already.
Result<std::set<int64_t>> seen_counters(Tx& tx, std::string_view terminal,
                                        const std::vector<int64_t>& counters);
// The codes of `sequences` that were issued, by sequence. `lock`: locked (FOR UPDATE, in
// sequence order) for Db::transact_locking; SQLite has no FOR UPDATE and needs none.
Result<std::map<std::string, CodeUse>> load_codes(Tx& tx, const std::vector<std::string>& sequences,
                                                  bool lock = false);
// The head record (load_head) of each of `accountids` that has one, by accountid. `lock`: locked
// (FOR UPDATE, in b order) while still the head — a head a concurrent recharge replaced while this
// waited is looked up again (a later statement sees the new head).
Result<std::map<std::string, WalletRecord>> load_heads(Tx& tx,
                                                       const std::vector<std::string>& accountids,
                                                       bool lock = false);
// used_count += n for each (sequence, n).
Status count_code_uses(Tx& tx, const std::map<std::string, int64_t>& uses);
// balance -= amount, total_consume_amount += amount for each (b, amount).
Status charge_rides(Tx& tx, const std::map<std::string, int64_t>& charges);
Status insert_transactions(Tx& tx, const std::vector<TransactionRow>& rows);
Status insert_rides(Tx& tx, const std::vector<RideRow>& rows);
Status insert_rejected_rides(Tx& tx, const std::vector<RejectedRideRow>& rows);

// --- refunds (refunds) ---

struct RefundRow {
  std::string refund_id = {};
  std::string user_id = {};
  std::string b = {};
  std::string accountid = {};
  int64_t amount = 0;
  Bytes bank_account_sealed = {};
  int64_t created_at = 0;
  std::string txn_id = {};
};
Status insert_refund(Tx& tx, const RefundRow& r);  // state pending
Status mark_refund_paid(Tx& tx, std::string_view refund_id, std::string_view payout_ref);
Status mark_refund_reversed(Tx& tx, std::string_view refund_id);

// --- strong-mode refills (purse_refund_record, 钱包余额返充) ---

Status insert_refill(Tx& tx, std::string_view id, int64_t registered_at,
                     std::string_view accountid_old, std::string_view accountid_new,
                     int64_t due_at);  // state 00
// The ids of the refills registered and due by `now_ms`, by due_at, id.
Result<std::vector<std::string>> due_refills(Tx& tx, int64_t now_ms);
struct RefillRow {
  std::string accountid_old = {};
  std::string accountid_new = {};
  bool registered = false;  // state 00, not moved yet (01)
};
Result<std::optional<RefillRow>> load_refill(Tx& tx, std::string_view id);
// Where a moved refill took the balance of `accountid_old`.
Result<std::optional<std::string>> refilled_into(Tx& tx, std::string_view accountid_old);
// Whether a registered refill will move a balance into `accountid_new`.
Result<bool> refill_pending_into(Tx& tx, std::string_view accountid_new);
// 00 → 01 with the amount moved. false: another run moved it.
Result<bool> complete_refill(Tx& tx, std::string_view id, int64_t amount, int64_t now_ms);
// The accountids linked to this one by a refill, either way.
Result<std::vector<std::string>> refill_links(Tx& tx, std::string_view accountid);

// --- what the admin console and the metrics read ---

// Recharges (01) of [from_ms, until_ms) by transaction_date.
Result<CountAndAmount> recharge_totals(Tx& tx, int64_t from_ms, int64_t until_ms);
// Refunds (04) of [from_ms, until_ms) by transaction_date, the reversed ones (09) left out.
Result<CountAndAmount> refund_totals(Tx& tx, int64_t from_ms, int64_t until_ms);
// Rides settled in [from_ms, until_ms).
Result<CountAndAmount> ride_totals(Tx& tx, int64_t from_ms, int64_t until_ms);
// Rides settled in [from_ms, until_ms) with a code used before (复制风险).
Result<int64_t> copy_risk_count(Tx& tx, int64_t from_ms, int64_t until_ms);
Result<std::optional<CodeRequestRecord>> load_code_request(Tx& tx, std::string_view sequence);
// The rides of a code sequence by settled_at, terminal, counter (txn_id "" where it is NULL).
Result<std::vector<RideRecord>> rides_of_sequence(Tx& tx, std::string_view sequence);
// An accountid's transactions, rides included, newest first, at most `limit`.
Result<std::vector<MoneyRecord>> newest_transactions(Tx& tx, std::string_view accountid,
                                                     int64_t limit);
// Registered refills (00) by due_at, id, at most `limit`.
Result<std::vector<RefillJob>> pending_refills(Tx& tx, int64_t limit);
// Moved refills (01), newest first (transaction_date DESC, id), at most `limit`.
Result<std::vector<RefillJob>> moved_refills(Tx& tx, int64_t limit);
Result<int64_t> count_pending_refills(Tx& tx);

// --- the platform's QR-signing keys (platform_keys) ---

// Inserts the key, or updates the validity of a key already there.
Status upsert_platform_key(Tx& tx, const protocol::PlatformKeyId& kid, const Bytes& public_key,
                           int64_t valid_from, int64_t valid_until);
// Every key, by valid_from, kid.
Result<std::vector<protocol::PlatformPublicKey>> platform_keys(Tx& tx);

}  // namespace anoncode::platform::store
