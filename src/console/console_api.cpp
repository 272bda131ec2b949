#include "console/console_api.h"

#include <algorithm>
#include <cctype>
#include <functional>

#include "platform/platform_http.h"
#include "platform/seed_codes.h"
#include "posfront/posfront_store.h"
#include "privacy/privacy_store.h"
#include "server/json_fields.h"

namespace anoncode::console {

using nlohmann::json;
using server::Request;
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
constexpr int64_t kRefillJobs = 1000;  // pending ones, and done ones, at most

json count_and_amount_json(const platform::CountAndAmount& c) {
  return {{"count", c.count}, {"amount", c.amount}};
}

json code_json(const platform::CodeRequestRecord& c) {
  return {{"sequence", c.sequence},   {"wallet", c.wallet},         {"accountid", c.accountid},
          {"issued_at", c.issued_at}, {"expires_at", c.expires_at}, {"used_count", c.used_count}};
}

// A ride of a code sequence; txn_id null for one settled before rides carried it.
json ride_json(const platform::RideRecord& r) {
  return {{"terminal", r.terminal},
          {"counter", r.counter},
          {"merchant", r.merchant},
          {"wallet", r.wallet},
          {"amount", r.amount},
          {"scanned_at", r.scanned_at},
          {"settled_at", r.settled_at},
          {"copy_risk", r.copy_risk},
          {"txn_id", r.txn_id.empty() ? json() : json(r.txn_id)}};
}

json refill_json(const platform::RefillJob& j) {
  auto opt = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(); };
  return {{"id", j.id},
          {"register_date", j.register_date},
          {"accountid_old", j.accountid_old},
          {"accountid_new", j.accountid_new},
          {"due_at", j.due_at},
          {"transaction_date", opt(j.transaction_date)},
          {"amount", opt(j.amount)},
          {"state", j.state == platform::RefillState::kMoved ? "done" : "pending"}};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool is_base32(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'); });
}

// The dashboard's money and rides of the day [day, day + 1 day).
Result<json> day_totals_json(const ConsoleServices& s, int64_t day) {
  ANONCODE_TRY(platform::DayTotals t, s.platform.day_totals(day, day + kDayMs));
  return json{{"recharges", count_and_amount_json(t.recharges)},
              {"rides", count_and_amount_json(t.rides)},
              {"refunds", count_and_amount_json(t.refunds)},
              {"copy_risks", t.copy_risks}};
}

// Every violation recorded, by kind, and every terminal.
Status add_violations_and_terminals(Tx& tx, json& out) {
  ANONCODE_TRY(auto kinds, privacy::store::violation_counts(tx));
  json by_kind = json::object();
  int64_t total = 0;
  for (const auto& [kind, n] : kinds) {
    by_kind[kind] = n;
    total += n;
  }
  out["open_violations"] = total;
  out["violations_by_kind"] = std::move(by_kind);
  ANONCODE_TRY(auto terminals, posfront::store::list_terminals(tx));
  json list = json::array();
  for (const auto& t : terminals) {
    list.push_back({{"terminal", t.terminal},
                    {"merchant", t.merchant},
                    {"created_at", t.created_at},
                    {"last_seen_at", t.last_seen_at ? json(*t.last_seen_at) : json(nullptr)}});
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
Result<std::optional<std::string>> add_code_and_rides(const ConsoleServices& s,
                                                      const std::string& sequence, json& out) {
  ANONCODE_TRY(platform::CodeLookup found, s.platform.code_lookup(sequence));
  std::optional<std::string> accountid;
  if (found.code) {
    accountid = found.code->accountid;
    out["code"] = code_json(*found.code);
  }
  for (const auto& r : found.rides) out["rides"].push_back(ride_json(r));
  return accountid;
}

// The accountid a wallet account B belongs to, if there is such a wallet.
Result<std::optional<std::string>> accountid_of_wallet(const ConsoleServices& s,
                                                       const std::string& b) {
  auto w = s.platform.wallet(b);
  if (w.ok()) return std::optional<std::string>(w->accountid);
  if (w.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
  return w.error();
}

// An accountid's wallet records and its newest transactions, listed oldest first.
Status add_wallets_and_transactions(const ConsoleServices& s,
                                    const std::optional<std::string>& accountid, json& out) {
  platform::WalletRecords records;
  if (accountid) {
    ANONCODE_TRY(records, s.platform.account_records(*accountid, kSearchTransactions));
  }
  out["found"] = !records.wallets.empty();
  out["accountid"] = accountid ? json(*accountid) : json();
  out.update(platform::wallet_records_json(records));
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
  ANONCODE_TRY(json totals, day_totals_json(s, day));
  out.update(totals);
  ANONCODE_CHECK(
      s.db.transact([&](Tx& tx) -> Status { return add_violations_and_terminals(tx, out); }));
  return out;
}

// A wallet and its transactions, by accountid, wallet account B or code sequence.
Result<json> get_search(const ConsoleServices& s, const Request& req, const Actor&) {
  const std::string q = trimmed(req.query("q").value_or(""));
  ANONCODE_TRY(std::string kind, search_kind(q));
  json out = {{"query", q}, {"kind", kind}, {"code", nullptr}, {"rides", json::array()}};
  std::optional<std::string> accountid;
  if (kind == "accountid") {
    accountid = q;
  } else if (kind == "wallet") {
    ANONCODE_TRY(accountid, accountid_of_wallet(s, q));
  } else {
    ANONCODE_TRY(accountid, add_code_and_rides(s, q, out));
  }
  ANONCODE_CHECK(add_wallets_and_transactions(s, accountid, out));
  return out;
}

// Refill jobs (钱包余额返充): pending ones by due date, done ones newest first.
Result<json> get_refill(const ConsoleServices& s, const Request&, const Actor&) {
  ANONCODE_TRY(platform::RefillJobs jobs, s.platform.refill_jobs(kRefillJobs));
  json out = {{"pending", json::array()}, {"done", json::array()}};
  for (const auto& j : jobs.pending) out["pending"].push_back(refill_json(j));
  for (const auto& j : jobs.done) out["done"].push_back(refill_json(j));
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
    ANONCODE_TRY(int64_t violations, privacy::store::count_violations_of(tx, user_id));
    traced = violations > 0;
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
