#include "console/console_api.h"

#include <algorithm>
#include <cctype>
#include <functional>

#include "platform/platform_http.h"
#include "platform/seed_codes.h"
#include "server/json_fields.h"

namespace anoncode::console {

using nlohmann::json;
using server::Request;
using storage::Row;
using storage::Tx;

namespace {

// What the routes read and act on.
struct ConsoleServices {
  AdminAuth& auth;
  storage::Db& db;
  app::AppBackend& app;
  platform::CodePlatform& platform;
  privacy::PrivacyBackend& privacy;
};

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kSearchTransactions = 1000;
constexpr std::string_view kWalletCols =
    "b, accountid, balance, total_recharge_amount, total_consume_amount, creation_date, "
    "is_locked, is_deactivated, strong, user_id, previous_b";

json opt_text(const Row& r, size_t i) {
  return r.is_null(i) ? json() : json(r.text(i));
}
json opt_int(const Row& r, size_t i) {
  return r.is_null(i) ? json() : json(r.i64(i));
}

// As GET /admin/v1/trace lists them (platform_http.h).
json wallet_json(const Row& r) {
  return {{"wallet", r.text(0)},
          {"accountid", r.text(1)},
          {"balance", r.i64(2)},
          {"total_recharge_amount", r.i64(3)},
          {"total_consume_amount", r.i64(4)},
          {"creation_date", r.i64(5)},
          {"locked", r.text(6) == "1"},
          {"deactivated", r.text(7) == "1"},
          {"strong", r.text(8) == "1"},
          {"user_id", opt_text(r, 9)},
          {"previous_wallet", opt_text(r, 10)}};
}

json transaction_json(const Row& r) {
  return {{"txn_id", r.text(0)},
          {"wallet", r.text(1)},
          {"accountid", r.text(2)},
          {"transaction_type", r.text(3)},
          {"kind", platform::kind_name(r.text(3))},
          {"amount", r.i64(4)},
          {"at", r.i64(5)},
          {"channel", r.text(6)},
          {"order_id", r.text(7)},
          {"state", r.text(8)}};
}

json refill_json(const Row& r) {
  return {{"id", r.text(0)},
          {"register_date", r.i64(1)},
          {"accountid_old", r.text(2)},
          {"accountid_new", r.text(3)},
          {"due_at", r.i64(4)},
          {"transaction_date", opt_int(r, 5)},
          {"amount", opt_int(r, 6)},
          {"state", r.text(7) == "01" ? "done" : "pending"}};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool is_base32(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'); });
}

// Count and amount of the rows a `SELECT COUNT(*), SUM(amount) …` finds.
Result<json> count_and_amount(Tx& tx, const std::string& sql,
                              const std::vector<storage::Value>& p) {
  ANONCODE_TRY(auto row, tx.query_one(sql, p));
  if (!row) return json{{"count", 0}, {"amount", 0}};
  return json{{"count", row->i64(0)}, {"amount", row->i64(1)}};
}

// The dashboard's money and rides of the day [day, day + 1 day).
Status add_day_totals(Tx& tx, int64_t day, json& out) {
  const std::vector<storage::Value> range = {day, day + kDayMs};
  // Sums are cast: PostgreSQL's SUM(BIGINT) is NUMERIC.
  ANONCODE_TRY(out["recharges"],
               count_and_amount(tx,
                                "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) "
                                "FROM wallet_transactions WHERE transaction_type = '01' "
                                "AND transaction_date >= $1 AND transaction_date < $2",
                                range));
  ANONCODE_TRY(out["rides"],
               count_and_amount(tx,
                                "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) "
                                "FROM rides WHERE settled_at >= $1 AND settled_at < $2",
                                range));
  ANONCODE_TRY(out["refunds"],
               count_and_amount(tx,
                                "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) "
                                "FROM wallet_transactions WHERE transaction_type = '04' "
                                "AND state <> '09' AND transaction_date >= $1 "
                                "AND transaction_date < $2",
                                range));
  ANONCODE_TRY(auto copies, tx.query_one("SELECT COUNT(*) FROM rides WHERE copy_risk = '1' "
                                         "AND settled_at >= $1 AND settled_at < $2",
                                         range));
  out["copy_risks"] = copies ? copies->i64(0) : 0;
  return {};
}

// Every violation recorded, by kind, and every terminal.
Status add_violations_and_terminals(Tx& tx, json& out) {
  ANONCODE_TRY(auto kinds,
               tx.query("SELECT kind, COUNT(*) FROM violations GROUP BY kind ORDER BY kind"));
  json by_kind = json::object();
  int64_t total = 0;
  for (const auto& r : kinds) {
    by_kind[r.text(0)] = r.i64(1);
    total += r.i64(1);
  }
  out["open_violations"] = total;
  out["violations_by_kind"] = std::move(by_kind);
  ANONCODE_TRY(auto terminals, tx.query("SELECT terminal, merchant, created_at, last_seen_at "
                                        "FROM terminals ORDER BY terminal"));
  json list = json::array();
  for (const auto& r : terminals) {
    list.push_back({{"terminal", r.text(0)},
                    {"merchant", r.text(1)},
                    {"created_at", r.i64(2)},
                    {"last_seen_at", opt_int(r, 3)}});
  }
  out["terminals"] = std::move(list);
  return {};
}

// What a search query is: "sequence", "accountid" or "wallet".
Result<std::string> search_kind(const std::string& q) {
  if (q.size() == 16 && q.starts_with("nm") && all_digits(std::string_view(q).substr(2))) {
    return std::string("sequence");
  }
  if (q.size() == 19 && all_digits(q)) return std::string("accountid");
  if (q.size() == protocol::kWalletAccountSize && is_base32(q)) return std::string("wallet");
  return make_error(ErrorCode::kInvalidArgument,
                    "q must be an accountid (19 digits), a wallet account B (24 characters A-Z "
                    "2-7) or a code sequence (nm + 14 digits)");
}

// A code sequence's request ("code") and rides; the accountid it was issued for, if any.
Result<std::optional<std::string>> add_code_and_rides(Tx& tx, const std::string& sequence,
                                                      json& out) {
  std::optional<std::string> accountid;
  ANONCODE_TRY(auto code, tx.query_one("SELECT sequence, b, accountid, issued_at, expires_at, "
                                       "used_count FROM code_requests WHERE sequence = $1",
                                       {sequence}));
  if (code) {
    accountid = code->text(2);
    out["code"] = {{"sequence", code->text(0)},  {"wallet", code->text(1)},
                   {"accountid", code->text(2)}, {"issued_at", code->i64(3)},
                   {"expires_at", code->i64(4)}, {"used_count", code->i64(5)}};
  }
  ANONCODE_TRY(auto rides, tx.query("SELECT terminal, counter, merchant, b, amount, scanned_at, "
                                    "settled_at, copy_risk, txn_id FROM rides "
                                    "WHERE sequence = $1 ORDER BY settled_at, terminal, counter",
                                    {sequence}));
  for (const auto& r : rides) {
    out["rides"].push_back({{"terminal", r.text(0)},
                            {"counter", r.i64(1)},
                            {"merchant", r.text(2)},
                            {"wallet", r.text(3)},
                            {"amount", r.i64(4)},
                            {"scanned_at", r.i64(5)},
                            {"settled_at", r.i64(6)},
                            {"copy_risk", r.text(7) == "1"},
                            {"txn_id", opt_text(r, 8)}});
  }
  return accountid;
}

// An accountid's wallet records and its newest transactions, listed oldest first.
Status add_wallets_and_transactions(Tx& tx, const std::optional<std::string>& accountid,
                                    json& out) {
  json wallets = json::array(), txns = json::array();
  if (accountid) {
    ANONCODE_TRY(auto rows, tx.query("SELECT " + std::string(kWalletCols) +
                                         " FROM anonymous_wallet_accounts "
                                         "WHERE accountid = $1 ORDER BY creation_date, b",
                                     {*accountid}));
    for (const auto& r : rows) wallets.push_back(wallet_json(r));
    // The newest ones, listed oldest first.
    ANONCODE_TRY(auto t, tx.query("SELECT txn_id, b, accountid, transaction_type, amount, "
                                  "transaction_date, paychannel, order_id, state "
                                  "FROM wallet_transactions WHERE accountid = $1 "
                                  "ORDER BY transaction_date DESC, txn_id DESC LIMIT $2",
                                  {*accountid, kSearchTransactions}));
    for (auto it = t.rbegin(); it != t.rend(); ++it) txns.push_back(transaction_json(*it));
  }
  out["found"] = !wallets.empty();
  out["accountid"] = accountid ? json(*accountid) : json();
  out["wallets"] = std::move(wallets);
  out["transactions"] = std::move(txns);
  return {};
}

std::string trimmed(std::string q) {
  while (!q.empty() && std::isspace(static_cast<unsigned char>(q.back()))) q.pop_back();
  while (!q.empty() && std::isspace(static_cast<unsigned char>(q.front()))) q.erase(0, 1);
  return q;
}

// DESIGN §3.6 rule 2: a rider who lost the phone without a backup may open again — with a new J,
// after a security officer retired the old one. The retirement and its audit entry are one
// transaction; the old J stays on record, so a clone of the old chain is still traced.
Result<json> post_identity_retire(const ConsoleServices& s, const Request& req,
                                  const Actor& actor) {
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(std::string user_id, server::required_string(body, "user_id", 64));
  ANONCODE_TRY(std::string reason, server::required_string(body, "reason", 200));
  const int64_t now = s.auth.now();
  ANONCODE_CHECK(s.privacy.retire_identity(user_id, actor.name, reason, now, [&](Tx& tx) -> Status {
    ANONCODE_CHECK(
        AuditLog::append(tx, {actor.name, "identity.retire", user_id, {{"reason", reason}}}, now));
    return {};
  }));
  return json{{"user_id", user_id}, {"status", "retired"}};
}

// seed 000 §2.8 refill job, run by an operator (or a scheduler calling this route). The job runs
// one transaction per record (several nodes may run it at once), so there is no one transaction
// to join: its audit entry is appended right after it, with what it moved.
Result<json> post_refill_run(const ConsoleServices& s, const Request& req, const Actor& actor) {
  ANONCODE_TRY(json body, req.json_body());
  const int64_t now = s.auth.now();
  ANONCODE_TRY(json out, platform::refill_run_json(s.platform, body, now));
  json details = {{"moved", out.value("moved", int64_t{0})}};
  if (body.contains("now")) details["now"] = body["now"];
  ANONCODE_CHECK(s.auth.audit().append({actor.name, "refill.run", "", details}, now));
  return out;
}

// seed 000 §2.7 violation tracing: a traced user's wallet chains and their transactions. Who
// looked at whose trace is audited (a read: appended before the answer is sent).
Result<json> get_trace(const ConsoleServices& s, const Request& req, const Actor& actor) {
  auto user_id = req.query("user_id");
  if (!user_id || user_id->empty()) {
    return make_error(ErrorCode::kInvalidArgument, "user_id is required");
  }
  ANONCODE_TRY(json out, platform::trace_json(s.platform, *user_id));
  ANONCODE_CHECK(s.auth.audit().append({actor.name, "trace.view", *user_id, {}}, s.auth.now()));
  return out;
}

// Today (UTC) at a glance.
Result<json> get_dashboard(const ConsoleServices& s, const Request&, const Actor&) {
  const int64_t now = s.auth.now();
  const int64_t day = now - ((now % kDayMs) + kDayMs) % kDayMs;
  json out = {{"day_start", day}, {"now", now}};
  ANONCODE_CHECK(s.db.transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(add_day_totals(tx, day, out));
    return add_violations_and_terminals(tx, out);
  }));
  return out;
}

// A wallet and its transactions, by accountid, wallet account B or code sequence.
Result<json> get_search(const ConsoleServices& s, const Request& req, const Actor&) {
  const std::string q = trimmed(req.query("q").value_or(""));
  ANONCODE_TRY(std::string kind, search_kind(q));
  json out = {{"query", q}, {"kind", kind}};
  ANONCODE_CHECK(s.db.transact([&](Tx& tx) -> Status {
    out["code"] = nullptr;
    out["rides"] = json::array();
    std::optional<std::string> accountid;
    if (kind == "accountid") {
      accountid = q;
    } else if (kind == "wallet") {
      ANONCODE_TRY(
          auto row,
          tx.query_one("SELECT accountid FROM anonymous_wallet_accounts WHERE b = $1", {q}));
      if (row) accountid = row->text(0);
    } else {
      ANONCODE_TRY(accountid, add_code_and_rides(tx, q, out));
    }
    return add_wallets_and_transactions(tx, accountid, out);
  }));
  return out;
}

// Refill jobs (钱包余额返充): pending ones by due date, done ones newest first.
Result<json> get_refill(const ConsoleServices& s, const Request&, const Actor&) {
  json out;
  ANONCODE_CHECK(s.db.transact([&](Tx& tx) -> Status {
    const std::string cols =
        "SELECT id, register_date, accountid_old, accountid_new, due_at, transaction_date, "
        "amount, state FROM purse_refund_record ";
    ANONCODE_TRY(auto pending,
                 tx.query(cols + "WHERE state = '00' ORDER BY due_at, id LIMIT 1000"));
    ANONCODE_TRY(auto done, tx.query(cols + "WHERE state = '01' ORDER BY transaction_date DESC, "
                                            "id LIMIT 1000"));
    out = {{"pending", json::array()}, {"done", json::array()}};
    for (const auto& r : pending) out["pending"].push_back(refill_json(r));
    for (const auto& r : done) out["done"].push_back(refill_json(r));
    return {};
  }));
  return out;
}

// The issuer keys in force and the published platform keys.
Result<json> get_keys(const ConsoleServices& s, const Request&, const Actor&) {
  const auto& issuing = s.app.privacy().issuing_key();
  json issuer = json::array();
  for (const auto& k : s.app.privacy().public_keys()) {
    issuer.push_back({{"kid", to_hex(k.kid())},
                      {"group", std::string(k.group().name())},
                      {"active", k.kid() == issuing.kid()}});
  }
  ANONCODE_TRY(auto published, s.platform.keys());
  json keys = json::array();
  for (const auto& k : published) {
    keys.push_back(
        {{"kid", to_hex(k.kid)}, {"valid_from", k.valid_from}, {"valid_until", k.valid_until}});
  }
  return json{{"issuer_keys", std::move(issuer)}, {"platform_keys", std::move(keys)}};
}

// seed 000 §2.7: the opening information of a traced cheater, decrypted on an explicit request.
// Only for a user id a violation names; the decryption is audited in the same transaction that
// checks that, and committed before anything is decrypted, so no personal data is ever revealed
// without its entry. The entry names the user id, never the values.
Result<json> post_trace_identity(const ConsoleServices& s, const Request& req, const Actor& actor) {
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(std::string user_id, server::required_string(body, "user_id", 64));
  const int64_t now = s.auth.now();
  bool traced = false;
  ANONCODE_CHECK(s.db.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto v,
                 tx.query_one("SELECT COUNT(*) FROM violations WHERE user_id = $1", {user_id}));
    traced = v && v->i64(0) > 0;
    if (!traced) return {};
    ANONCODE_CHECK(AuditLog::append(tx, {actor.name, "identity.decrypt", user_id, {}}, now));
    return {};
  }));
  if (!traced) {
    (void)s.auth.audit().append({actor.name, "access.denied", user_id, {{"reason", "not_traced"}}},
                                now);
    return make_error(ErrorCode::kForbidden, "only a user traced by a violation can be identified");
  }
  ANONCODE_TRY(app::AppUser u, s.app.user(user_id));
  return json{{"user_id", u.user_id},
              {"name", u.name},
              {"id_number", u.id_number},
              {"phone", u.phone},
              {"card_no", u.card_no}};
}

}  // namespace

void register_console_api_routes(server::HttpServer& http, AdminAuth& auth, storage::Db& db,
                                 app::AppBackend& app, platform::CodePlatform& code_platform,
                                 privacy::PrivacyBackend& privacy) {
  const ConsoleServices s{auth, db, app, code_platform, privacy};
  auto admin = [&http, &auth, &s](std::string_view method, std::string_view path, Permission p,
                                  auto handler) {
    admin_route(http, auth, method, path, p, std::bind_front(handler, s));
  };
  admin("POST", "/admin/v1/identity/retire", Permission::kRetireIdentity, post_identity_retire);
  admin("POST", "/admin/v1/refill/run", Permission::kRunRefill, post_refill_run);
  admin("GET", "/admin/v1/trace", Permission::kViewTrace, get_trace);
  admin("GET", "/admin/v1/dashboard", Permission::kView, get_dashboard);
  admin("GET", "/admin/v1/search", Permission::kView, get_search);
  admin("GET", "/admin/v1/refill", Permission::kView, get_refill);
  admin("GET", "/admin/v1/keys", Permission::kView, get_keys);
  admin("POST", "/admin/v1/trace/identity", Permission::kDecryptIdentity, post_trace_identity);
}

}  // namespace anoncode::console
