// The code platform's SQL (platform_store.h)
#include "platform/platform_store.h"

#include <algorithm>

namespace anoncode::platform::store {

using storage::Row;
using storage::Value;

namespace {

constexpr std::string_view kWalletCols =
    "b, accountid, balance, total_recharge_amount, total_consume_amount, creation_date, "
    "is_locked, is_deactivated, strong, user_id, previous_b, superseded_by, wallet_public_key, "
    "pseudonym";

// A statement whose count of changed rows the caller does not need.
// A seed code as a statement parameter.
template <typename E>
Value code(E value) {
  return std::string(to_code(value));
}

Status ran(const Result<int64_t>& changed) {
  if (!changed.ok()) return changed.error();
  return {};
}

Value text_or_null(const std::optional<std::string>& s) {
  return s ? Value(*s) : Value();
}

std::optional<std::string> opt_text(const Row& r, size_t i) {
  return r.is_null(i) ? std::nullopt : std::optional<std::string>(r.text(i));
}

WalletRecord wallet_from_row(const Row& r) {
  WalletRecord w;
  w.b = r.text(0);
  w.accountid = r.text(1);
  w.balance = r.i64(2);
  w.total_recharge_amount = r.i64(3);
  w.total_consume_amount = r.i64(4);
  w.creation_date = r.i64(5);
  w.locked = r.text(6) == "1";
  w.deactivated = r.text(7) == "1";
  w.strong = r.text(8) == "1";
  w.user_id = opt_text(r, 9);
  w.previous_b = opt_text(r, 10);
  w.superseded_by = opt_text(r, 11);
  w.wallet_public_key = r.blob(12);
  if (!r.is_null(13)) w.pseudonym = r.blob(13);
  return w;
}

// Every row, as `of` reads it.
template <typename T, typename F>
std::vector<T> each_row(const storage::Rows& rows, F&& of) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(of(r));
  return out;
}

std::string first_text(const Row& r) {
  return r.text(0);
}

MoneyRecord money_from_row(const Row& r, std::string accountid) {
  MoneyRecord m;
  m.txn_id = r.text(0);
  m.type = r.text(1);
  m.wallet = r.text(2);
  m.channel = r.text(3);
  m.order_id = r.text(4);
  m.state = r.text(5);
  m.amount = r.i64(6);
  m.at = r.i64(7);
  m.accountid = std::move(accountid);
  return m;
}

RideRecord ride_from_row(const Row& r) {
  RideRecord ride;
  ride.txn_id = r.text(0);
  ride.sequence = r.text(1);
  ride.terminal = r.text(2);
  ride.merchant = r.text(3);
  ride.wallet = r.text(4);
  ride.counter = r.i64(5);
  ride.amount = r.i64(6);
  ride.scanned_at = r.i64(7);
  ride.settled_at = r.i64(8);
  ride.copy_risk = r.text(9) == "1";
  return ride;
}

CountAndAmount count_and_amount(const std::optional<Row>& row) {
  if (!row) return {};
  return {row->i64(0), row->i64(1)};
}

RefillJob refill_from_row(const Row& r) {
  RefillJob j;
  j.id = r.text(0);
  j.register_date = r.i64(1);
  j.accountid_old = r.text(2);
  j.accountid_new = r.text(3);
  j.due_at = r.i64(4);
  if (!r.is_null(5)) j.transaction_date = r.i64(5);
  if (!r.is_null(6)) j.amount = r.i64(6);
  j.state = from_code<RefillState>(r.text(7)).value_or(RefillState::kRegistered);
  return j;
}

constexpr std::string_view kRefillCols =
    "id, register_date, accountid_old, accountid_new, due_at, transaction_date, amount, state";

}  // namespace

// --- wallet records ---

Result<std::optional<WalletRecord>> load_wallet(Tx& tx, std::string_view b) {
  ANONCODE_TRY(auto row, tx.query_one(std::string("SELECT ") + std::string(kWalletCols) +
                                          " FROM anonymous_wallet_accounts WHERE b = $1",
                                      {std::string(b)}));
  if (!row) return std::optional<WalletRecord>();
  return std::optional<WalletRecord>(wallet_from_row(*row));
}

Result<std::optional<WalletRecord>> load_head(Tx& tx, std::string_view accountid) {
  ANONCODE_TRY(auto rows, tx.query(std::string("SELECT ") + std::string(kWalletCols) +
                                       " FROM anonymous_wallet_accounts "
                                       "WHERE accountid = $1 AND superseded_by IS NULL",
                                   {std::string(accountid)}));
  if (rows.empty()) return std::optional<WalletRecord>();
  if (rows.size() > 1) {
    return make_error(ErrorCode::kInternal, "an accountid has more than one head record");
  }
  return std::optional<WalletRecord>(wallet_from_row(rows[0]));
}

Result<std::vector<WalletRecord>> wallets_of_account(Tx& tx, std::string_view accountid) {
  ANONCODE_TRY(auto rows, tx.query(std::string("SELECT ") + std::string(kWalletCols) +
                                       " FROM anonymous_wallet_accounts WHERE accountid = $1 "
                                       "ORDER BY creation_date, b",
                                   {std::string(accountid)}));
  return each_row<WalletRecord>(rows, wallet_from_row);
}

Result<std::vector<std::string>> accounts_of_user(Tx& tx, std::string_view user_id) {
  ANONCODE_TRY(auto rows, tx.query("SELECT DISTINCT accountid FROM anonymous_wallet_accounts "
                                   "WHERE user_id = $1 ORDER BY accountid",
                                   {std::string(user_id)}));
  return each_row<std::string>(rows, first_text);
}

Result<bool> accountid_taken(Tx& tx, std::string_view accountid) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT 1 FROM anonymous_wallet_accounts WHERE accountid = $1",
                            {std::string(accountid)}));
  return row.has_value();
}

Status insert_wallet(Tx& tx, const WalletRecord& w) {
  return ran(tx.exec(
      "INSERT INTO anonymous_wallet_accounts (b, total_recharge_amount, total_consume_amount, "
      "balance, accountid, creation_date, wallet_public_key, previous_b, strong, pseudonym) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {w.b, w.total_recharge_amount, w.total_consume_amount, w.balance, w.accountid,
       w.creation_date, w.wallet_public_key, text_or_null(w.previous_b),
       std::string(w.strong ? "1" : "0"), w.pseudonym}));
}

Result<bool> supersede_wallet(Tx& tx, std::string_view b,
                              const std::optional<std::string>& successor) {
  ANONCODE_TRY(int64_t n, tx.exec("UPDATE anonymous_wallet_accounts SET is_deactivated = '1', "
                                  "superseded_by = $2 WHERE b = $1 AND is_deactivated = '0'",
                                  {std::string(b), text_or_null(successor)}));
  return n == 1;
}

Status deactivate_wallet(Tx& tx, std::string_view b) {
  return ran(
      tx.exec("UPDATE anonymous_wallet_accounts SET is_deactivated = '1' "
              "WHERE b = $1",
              {std::string(b)}));
}

Status adopt_pseudonym(Tx& tx, std::string_view b, const Bytes& pseudonym) {
  return ran(
      tx.exec("UPDATE anonymous_wallet_accounts SET pseudonym = $2 "
              "WHERE b = $1 AND pseudonym IS NULL",
              {std::string(b), pseudonym}));
}

Status lock_wallet(Tx& tx, std::string_view b, const std::optional<std::string>& user_id) {
  return ran(
      tx.exec("UPDATE anonymous_wallet_accounts SET is_locked = '1', "
              "user_id = COALESCE(user_id, $2) WHERE b = $1",
              {std::string(b), text_or_null(user_id)}));
}

Status debit_balance(Tx& tx, std::string_view b, int64_t amount) {
  return ran(
      tx.exec("UPDATE anonymous_wallet_accounts SET balance = balance - $2 "
              "WHERE b = $1",
              {std::string(b), amount}));
}

Status credit_balance(Tx& tx, std::string_view b, int64_t amount) {
  return ran(
      tx.exec("UPDATE anonymous_wallet_accounts SET balance = balance + $2 "
              "WHERE b = $1",
              {std::string(b), amount}));
}

// --- wallet transactions ---

Status insert_transaction(Tx& tx, const TransactionRow& t) {
  return insert_transactions(tx, {t});
}

Status set_transaction_state(Tx& tx, std::string_view txn_id, TransactionState state) {
  return ran(tx.exec("UPDATE wallet_transactions SET state = $2 WHERE txn_id = $1",
                     {std::string(txn_id), code(state)}));
}

Result<std::vector<MoneyRecord>> money_history(Tx& tx, std::string_view accountid, int64_t limit) {
  ANONCODE_TRY(auto rows,
               tx.query("SELECT txn_id, transaction_type, b, paychannel, order_id, state, "
                        "amount, transaction_date FROM wallet_transactions "
                        "WHERE accountid = $1 AND transaction_type <> $3 "
                        "ORDER BY transaction_date DESC, txn_id DESC LIMIT $2",
                        {std::string(accountid), limit, code(TransactionType::kRide)}));
  return each_row<MoneyRecord>(
      rows, [&](const Row& r) { return money_from_row(r, std::string(accountid)); });
}

Result<std::vector<RideRecord>> ride_history(Tx& tx, std::string_view accountid, int64_t limit) {
  ANONCODE_TRY(auto rows,
               tx.query("SELECT t.txn_id, r.sequence, r.terminal, r.merchant, t.b, "
                        "r.counter, t.amount, r.scanned_at, r.settled_at, r.copy_risk "
                        "FROM rides r JOIN wallet_transactions t ON t.txn_id = r.txn_id "
                        "WHERE r.accountid = $1 "
                        "ORDER BY r.scanned_at DESC, r.terminal DESC, r.counter DESC LIMIT $2",
                        {std::string(accountid), limit}));
  return each_row<RideRecord>(rows, ride_from_row);
}

Result<std::vector<MoneyRecord>> transactions_of_account(Tx& tx, std::string_view accountid) {
  ANONCODE_TRY(auto rows,
               tx.query("SELECT txn_id, transaction_type, b, paychannel, order_id, state, "
                        "amount, transaction_date, accountid FROM wallet_transactions "
                        "WHERE accountid = $1 ORDER BY transaction_date, txn_id",
                        {std::string(accountid)}));
  return each_row<MoneyRecord>(rows, [](const Row& r) { return money_from_row(r, r.text(8)); });
}

// --- payment orders ---

Status insert_payment_order(Tx& tx, std::string_view order_id, std::string_view channel,
                            int64_t amount, int64_t created_at) {
  return ran(
      tx.exec("INSERT INTO payment_orders (order_id, channel, amount, state, "
              "created_at) VALUES ($1, $2, $3, 'created', $4)",
              {std::string(order_id), std::string(channel), amount, created_at}));
}

Result<bool> mark_order_paid(Tx& tx, std::string_view order_id) {
  ANONCODE_TRY(int64_t n, tx.exec("UPDATE payment_orders SET state = 'paid' "
                                  "WHERE order_id = $1 AND state = 'created'",
                                  {std::string(order_id)}));
  return n == 1;
}

Status set_order_state(Tx& tx, std::string_view order_id, std::string_view state) {
  return ran(tx.exec("UPDATE payment_orders SET state = $2 WHERE order_id = $1",
                     {std::string(order_id), std::string(state)}));
}

// --- code requests ---

Result<bool> sequence_taken(Tx& tx, std::string_view sequence) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT 1 FROM code_requests WHERE sequence = $1",
                                      {std::string(sequence)}));
  return row.has_value();
}

Status insert_code_request(Tx& tx, std::string_view sequence, std::string_view b,
                           std::string_view accountid, int64_t issued_at, int64_t expires_at,
                           const Bytes& payload_digest) {
  return tx.run(
      "INSERT INTO code_requests (sequence, b, accountid, issued_at, "
      "expires_at, used_count, payload_digest) VALUES ($1, $2, $3, $4, $5, 0, $6)",
      {std::string(sequence), std::string(b), std::string(accountid), issued_at, expires_at,
       payload_digest});
}

Result<UnusedCodes> unused_codes(Tx& tx, std::string_view accountid, int64_t expiring_from) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT COUNT(*), COALESCE(MAX(expires_at), 0) FROM code_requests "
                            "WHERE accountid = $1 AND used_count = 0 AND expires_at >= $2",
                            {std::string(accountid), expiring_from}));
  if (!row) return UnusedCodes{};
  return UnusedCodes{row->i64(0), row->i64(1)};
}

// --- rides ---

// --- settlement, set-based ---

namespace {

// Runs `fn(params, in_list)` over `keys` in chunks that fit one statement: `params` holds
// `fixed` then the chunk's keys, `in_list` their placeholders ("$2, $3, …").
template <typename Key, typename Fn>
Status in_chunks(const std::vector<Value>& fixed, const std::vector<Key>& keys, Fn fn) {
  const size_t chunk = storage::kMaxStatementParams - fixed.size();
  for (size_t begin = 0; begin < keys.size(); begin += chunk) {
    const size_t n = std::min(chunk, keys.size() - begin);
    std::vector<Value> params = fixed;
    for (size_t i = begin; i < begin + n; ++i) params.emplace_back(keys[i]);
    ANONCODE_CHECK(fn(params, storage::placeholders(fixed.size() + 1, n)));
  }
  return {};
}

}  // namespace

Result<std::map<std::string, Bytes>> issued_digests(Tx& tx,
                                                    const std::vector<std::string>& sequences) {
  std::map<std::string, Bytes> out;
  ANONCODE_CHECK(in_chunks({}, sequences, [&](const auto& params, const std::string& in) -> Status {
    ANONCODE_TRY(auto rows, tx.query("SELECT sequence, payload_digest FROM code_requests "
                                     "WHERE payload_digest IS NOT NULL AND sequence IN (" +
                                         in + ")",
                                     params));
    for (const auto& r : rows) out.emplace(r.text(0), r.blob(1));
    return {};
  }));
  return out;
}

Result<std::set<int64_t>> seen_counters(Tx& tx, std::string_view terminal,
                                        const std::vector<int64_t>& counters) {
  std::set<int64_t> out;
  ANONCODE_CHECK(in_chunks(
      {std::string(terminal)}, counters, [&](const auto& params, const std::string& in) -> Status {
        ANONCODE_TRY(auto rows, tx.query("SELECT counter FROM rides WHERE terminal = $1 AND "
                                         "counter IN (" +
                                             in +
                                             ") UNION ALL SELECT counter FROM rejected_rides "
                                             "WHERE terminal = $1 AND counter IN (" +
                                             in + ")",
                                         params));
        for (const auto& r : rows) out.insert(r.i64(0));
        return {};
      }));
  return out;
}

namespace {

// `keys` sorted and without repeats: chunks of sorted keys lock in one global order.
std::vector<std::string> sorted_unique(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

Result<std::map<std::string, CodeUse>> load_codes(Tx& tx, const std::vector<std::string>& sequences,
                                                  bool lock) {
  std::map<std::string, CodeUse> out;
  const std::string suffix = lock ? " ORDER BY sequence FOR UPDATE" : "";
  ANONCODE_CHECK(in_chunks(
      {}, sorted_unique(sequences), [&](const auto& params, const std::string& in) -> Status {
        ANONCODE_TRY(auto rows, tx.query("SELECT sequence, accountid, used_count FROM "
                                         "code_requests WHERE sequence IN (" +
                                             in + ")" + suffix,
                                         params));
        for (const auto& r : rows) {
          out.emplace(r.text(0), CodeUse{r.text(1), r.i64(2)});
        }
        return {};
      }));
  return out;
}

Result<std::map<std::string, WalletRecord>> load_heads(Tx& tx,
                                                       const std::vector<std::string>& accountids,
                                                       bool lock) {
  std::map<std::string, WalletRecord> out;
  const std::string suffix = lock ? " ORDER BY b FOR UPDATE" : "";
  std::vector<std::string> wanted = sorted_unique(accountids);
  // Locking, a head that a concurrent recharge superseded while this statement waited for its
  // lock drops out of the result (its new head committed after the statement began): a second
  // statement finds it. Twice more at most; a wallet still missing is reported unknown.
  for (int round = 0; round < (lock ? 3 : 1) && !wanted.empty(); ++round) {
    ANONCODE_CHECK(in_chunks({}, wanted, [&](const auto& params, const std::string& in) -> Status {
      ANONCODE_TRY(auto rows, tx.query(std::string("SELECT ") + std::string(kWalletCols) +
                                           " FROM anonymous_wallet_accounts WHERE "
                                           "superseded_by IS NULL AND accountid IN (" +
                                           in + ")" + suffix,
                                       params));
      for (const auto& r : rows) {
        WalletRecord w = wallet_from_row(r);
        if (!out.emplace(w.accountid, w).second) {
          return make_error(ErrorCode::kInternal, "an accountid has more than one head record");
        }
      }
      return {};
    }));
    std::erase_if(wanted, [&](const std::string& a) { return out.contains(a); });
  }
  return out;
}

namespace {

// `UPDATE table SET <set> FROM v WHERE table.<key> = v.key` for each (key, n) of `by_key`, v
// being the VALUES list (key, n) — a CTE, which SQLite and PostgreSQL both take.
Status update_by_key(Tx& tx, std::string_view table, std::string_view key_col, std::string_view set,
                     const std::map<std::string, int64_t>& by_key) {
  std::vector<Value> flat;
  flat.reserve(by_key.size() * 2);
  for (const auto& [k, n] : by_key) {
    flat.emplace_back(k);
    flat.emplace_back(n);
  }
  const size_t per_statement = storage::kMaxStatementParams / 2;
  const size_t rows = by_key.size();
  for (size_t begin = 0; begin < rows; begin += per_statement) {
    const size_t n = std::min(per_statement, rows - begin);
    std::vector<Value> params(flat.begin() + static_cast<ptrdiff_t>(begin * 2),
                              flat.begin() + static_cast<ptrdiff_t>((begin + n) * 2));
    ANONCODE_CHECK(tx.run("WITH v(k, n) AS (VALUES " + storage::value_rows(1, n, 2) + ") UPDATE " +
                              std::string(table) + " SET " + std::string(set) + " FROM v WHERE " +
                              std::string(table) + "." + std::string(key_col) + " = v.k",
                          params));
  }
  return {};
}

}  // namespace

Status count_code_uses(Tx& tx, const std::map<std::string, int64_t>& uses) {
  return update_by_key(tx, "code_requests", "sequence", "used_count = used_count + v.n", uses);
}

Status charge_rides(Tx& tx, const std::map<std::string, int64_t>& charges) {
  return update_by_key(tx, "anonymous_wallet_accounts", "b",
                       "balance = balance - v.n, total_consume_amount = total_consume_amount + v.n",
                       charges);
}

namespace {

constexpr std::string_view kTransactionCols =
    "txn_id, paychannel, b, pay_no, accountid, transaction_date, amount, transaction_type, "
    "account_type, order_id, state";

std::vector<Value> transaction_values(const TransactionRow& t) {
  return {t.txn_id,
          t.paychannel,
          t.b,
          t.pay_no,
          t.accountid,
          t.transaction_date,
          t.amount,
          code(t.transaction_type),
          code(t.account_type),
          t.order_id,
          code(t.state)};
}

}  // namespace

Status insert_transactions(Tx& tx, const std::vector<TransactionRow>& rows) {
  // One row (a recharge, a refund): one INSERT, one round trip; a batch: COPY.
  if (rows.size() == 1) {
    return storage::insert_each(
        tx, "INSERT INTO wallet_transactions (" + std::string(kTransactionCols) + ") VALUES ", 11,
        rows, transaction_values);
  }
  return storage::copy_each(tx, "wallet_transactions", kTransactionCols, 11, rows,
                            transaction_values);
}

Status insert_rides(Tx& tx, const std::vector<RideRow>& rows) {
  return storage::copy_each(
      tx, "rides",
      "terminal, counter, merchant, sequence, accountid, b, amount, scanned_at, settled_at, "
      "copy_risk, txn_id",
      11, rows, [](const RideRow& r) {
        return std::vector<Value>{
            r.terminal, r.counter, r.merchant,   r.sequence,   r.accountid,
            r.b,        r.amount,  r.scanned_at, r.settled_at, std::string(r.copy_risk ? "1" : "0"),
            r.txn_id};
      });
}

Status insert_rejected_rides(Tx& tx, const std::vector<RejectedRideRow>& rows) {
  return storage::copy_each(
      tx, "rejected_rides",
      "terminal, counter, merchant, payload, amount, scanned_at, received_at, reason", 8, rows,
      [](const RejectedRideRow& r) {
        return std::vector<Value>{r.terminal, r.counter,    r.merchant,    r.payload,
                                  r.amount,   r.scanned_at, r.received_at, r.reason};
      });
}

// --- refunds ---

Status insert_refund(Tx& tx, const RefundRow& r) {
  return ran(
      tx.exec("INSERT INTO refunds (refund_id, user_id, b, accountid, amount, bank_account_sealed, "
              "created_at, state, txn_id) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
              {r.refund_id, r.user_id, r.b, r.accountid, r.amount, r.bank_account_sealed,
               r.created_at, r.txn_id}));
}

Status mark_refund_paid(Tx& tx, std::string_view refund_id, std::string_view payout_ref) {
  return ran(
      tx.exec("UPDATE refunds SET state = 'paid', payout_ref = $2 "
              "WHERE refund_id = $1",
              {std::string(refund_id), std::string(payout_ref)}));
}

Status mark_refund_reversed(Tx& tx, std::string_view refund_id) {
  return ran(tx.exec("UPDATE refunds SET state = 'reversed' WHERE refund_id = $1",
                     {std::string(refund_id)}));
}

// --- strong-mode refills ---

Status insert_refill(Tx& tx, std::string_view id, int64_t registered_at,
                     std::string_view accountid_old, std::string_view accountid_new,
                     int64_t due_at) {
  return ran(
      tx.exec("INSERT INTO purse_refund_record (id, register_date, accountid_old, accountid_new, "
              "due_at, modify_date, state) VALUES ($1, $2, $3, $4, $5, $2, $6)",
              {std::string(id), registered_at, std::string(accountid_old),
               std::string(accountid_new), due_at, code(RefillState::kRegistered)}));
}

Result<std::vector<std::string>> due_refills(Tx& tx, int64_t now_ms) {
  ANONCODE_TRY(auto rows, tx.query("SELECT id FROM purse_refund_record "
                                   "WHERE state = $2 AND due_at <= $1 ORDER BY due_at, id",
                                   {now_ms, code(RefillState::kRegistered)}));
  return each_row<std::string>(rows, first_text);
}

Result<std::optional<RefillRow>> load_refill(Tx& tx, std::string_view id) {
  ANONCODE_TRY(auto rec, tx.query_one("SELECT accountid_old, accountid_new, state "
                                      "FROM purse_refund_record WHERE id = $1",
                                      {std::string(id)}));
  if (!rec) return std::optional<RefillRow>();
  return std::optional<RefillRow>(
      RefillRow{rec->text(0), rec->text(1),
                from_code<RefillState>(rec->text(2)) == RefillState::kRegistered});
}

Result<std::optional<std::string>> refilled_into(Tx& tx, std::string_view accountid_old) {
  ANONCODE_TRY(auto next, tx.query_one("SELECT accountid_new FROM purse_refund_record "
                                       "WHERE accountid_old = $1 AND state = $2",
                                       {std::string(accountid_old), code(RefillState::kMoved)}));
  if (!next) return std::optional<std::string>();
  return std::optional<std::string>(next->text(0));
}

Result<bool> refill_pending_into(Tx& tx, std::string_view accountid_new) {
  ANONCODE_TRY(auto pending,
               tx.query_one("SELECT 1 FROM purse_refund_record "
                            "WHERE accountid_new = $1 AND state = $2 LIMIT 1",
                            {std::string(accountid_new), code(RefillState::kRegistered)}));
  return pending.has_value();
}

Result<bool> complete_refill(Tx& tx, std::string_view id, int64_t amount, int64_t now_ms) {
  ANONCODE_TRY(int64_t n, tx.exec("UPDATE purse_refund_record SET state = $4, amount = $2, "
                                  "transaction_date = $3, modify_date = $3 "
                                  "WHERE id = $1 AND state = $5",
                                  {std::string(id), amount, now_ms, code(RefillState::kMoved),
                                   code(RefillState::kRegistered)}));
  return n == 1;
}

Result<std::vector<std::string>> refill_links(Tx& tx, std::string_view accountid) {
  ANONCODE_TRY(auto rows, tx.query("SELECT accountid_new FROM purse_refund_record "
                                   "WHERE accountid_old = $1 UNION "
                                   "SELECT accountid_old FROM purse_refund_record "
                                   "WHERE accountid_new = $1",
                                   {std::string(accountid)}));
  return each_row<std::string>(rows, first_text);
}

// --- what the admin console and the metrics read ---
// Sums are cast: PostgreSQL's SUM(BIGINT) is NUMERIC.

Result<CountAndAmount> recharge_totals(Tx& tx, int64_t from_ms, int64_t until_ms) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) "
                                      "FROM wallet_transactions WHERE transaction_type = $3 "
                                      "AND transaction_date >= $1 AND transaction_date < $2",
                                      {from_ms, until_ms, code(TransactionType::kRecharge)}));
  return count_and_amount(row);
}

Result<CountAndAmount> refund_totals(Tx& tx, int64_t from_ms, int64_t until_ms) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) "
                                      "FROM wallet_transactions WHERE transaction_type = $3 "
                                      "AND state <> $4 AND transaction_date >= $1 "
                                      "AND transaction_date < $2",
                                      {from_ms, until_ms, code(TransactionType::kRefund),
                                       code(TransactionState::kReversed)}));
  return count_and_amount(row);
}

Result<CountAndAmount> ride_totals(Tx& tx, int64_t from_ms, int64_t until_ms) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) "
                                      "FROM rides WHERE settled_at >= $1 AND settled_at < $2",
                                      {from_ms, until_ms}));
  return count_and_amount(row);
}

Result<int64_t> copy_risk_count(Tx& tx, int64_t from_ms, int64_t until_ms) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT COUNT(*) FROM rides WHERE copy_risk = '1' "
                                      "AND settled_at >= $1 AND settled_at < $2",
                                      {from_ms, until_ms}));
  return row ? row->i64(0) : 0;
}

Result<std::optional<CodeRequestRecord>> load_code_request(Tx& tx, std::string_view sequence) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT sequence, b, accountid, issued_at, expires_at, "
                                      "used_count FROM code_requests WHERE sequence = $1",
                                      {std::string(sequence)}));
  if (!row) return std::optional<CodeRequestRecord>();
  return std::optional<CodeRequestRecord>(CodeRequestRecord{
      row->text(0), row->text(1), row->text(2), row->i64(3), row->i64(4), row->i64(5)});
}

Result<std::vector<RideRecord>> rides_of_sequence(Tx& tx, std::string_view sequence) {
  ANONCODE_TRY(auto rows,
               tx.query("SELECT COALESCE(txn_id, ''), sequence, terminal, merchant, b, counter, "
                        "amount, scanned_at, settled_at, copy_risk FROM rides "
                        "WHERE sequence = $1 ORDER BY settled_at, terminal, counter",
                        {std::string(sequence)}));
  return each_row<RideRecord>(rows, ride_from_row);
}

Result<std::vector<MoneyRecord>> newest_transactions(Tx& tx, std::string_view accountid,
                                                     int64_t limit) {
  ANONCODE_TRY(auto rows,
               tx.query("SELECT txn_id, transaction_type, b, paychannel, order_id, state, "
                        "amount, transaction_date, accountid FROM wallet_transactions "
                        "WHERE accountid = $1 "
                        "ORDER BY transaction_date DESC, txn_id DESC LIMIT $2",
                        {std::string(accountid), limit}));
  return each_row<MoneyRecord>(rows, [](const Row& r) { return money_from_row(r, r.text(8)); });
}

Result<std::vector<RefillJob>> pending_refills(Tx& tx, int64_t limit) {
  ANONCODE_TRY(auto rows, tx.query("SELECT " + std::string(kRefillCols) +
                                       " FROM purse_refund_record WHERE state = $1 "
                                       "ORDER BY due_at, id LIMIT $2",
                                   {code(RefillState::kRegistered), limit}));
  return each_row<RefillJob>(rows, refill_from_row);
}

Result<std::vector<RefillJob>> moved_refills(Tx& tx, int64_t limit) {
  ANONCODE_TRY(auto rows, tx.query("SELECT " + std::string(kRefillCols) +
                                       " FROM purse_refund_record WHERE state = $1 "
                                       "ORDER BY transaction_date DESC, id LIMIT $2",
                                   {code(RefillState::kMoved), limit}));
  return each_row<RefillJob>(rows, refill_from_row);
}

Result<int64_t> count_pending_refills(Tx& tx) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT COUNT(*) FROM purse_refund_record WHERE state = $1",
                                      {code(RefillState::kRegistered)}));
  return row ? row->i64(0) : 0;
}

// --- the platform's QR-signing keys ---

Status upsert_platform_key(Tx& tx, const protocol::PlatformKeyId& kid, const Bytes& public_key,
                           int64_t valid_from, int64_t valid_until) {
  return ran(
      tx.exec("INSERT INTO platform_keys (kid, public_key, valid_from, valid_until) "
              "VALUES ($1, $2, $3, $4) ON CONFLICT (kid) DO UPDATE SET valid_from = $3, "
              "valid_until = $4",
              {Bytes(kid.begin(), kid.end()), public_key, valid_from, valid_until}));
}

Result<std::vector<protocol::PlatformPublicKey>> platform_keys(Tx& tx) {
  ANONCODE_TRY(auto rows, tx.query("SELECT kid, public_key, valid_from, valid_until "
                                   "FROM platform_keys ORDER BY valid_from, kid"));
  std::vector<protocol::PlatformPublicKey> out;
  for (const auto& r : rows) {
    protocol::PlatformPublicKey k;
    if (r.blob(0).size() != k.kid.size()) return make_error(ErrorCode::kInternal, "kid size");
    std::copy(r.blob(0).begin(), r.blob(0).end(), k.kid.begin());
    k.public_key = r.blob(1);
    k.valid_from = r.i64(2);
    k.valid_until = r.i64(3);
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace anoncode::platform::store
