#include "app/app_http.h"

#include <sodium.h>

#include <algorithm>
#include <functional>

#include "console/audit_log.h"
#include "server/json_fields.h"

namespace anoncode::app {

using console::Actor;
using console::audited;
using console::Permission;
using nlohmann::json;
using server::Request;

namespace {

// What the rider's routes act on.
struct AppService {
  AppBackend& app;
  server::NowMs now = server::system_now_ms;
};

// What the admin routes act on.
struct AppAdminService {
  AppBackend& app;
  console::AdminAuth& auth;
  server::NowMs now = server::system_now_ms;
};

constexpr size_t kMaxBackupBlob = 48 * 1024;  // under the 64 KiB body limit once in base64url

json whitelist_json(const Whitelist& wl) {
  return json{{"whitelist", {{"all", wl.all}, {"users", wl.users}}}};
}

// {"user_id":U} or {"user_ids":[…]}
Result<std::vector<std::string>> user_ids_of(const json& body) {
  if (body.contains("user_ids")) return server::required_string_array(body, "user_ids", 10000, 64);
  ANONCODE_TRY(std::string one, server::required_string(body, "user_id", 64));
  return std::vector<std::string>{one};
}

// The rider an app token names.
Result<std::string> app_user_of(AppBackend& app, const Request& req) {
  auto token = server::bearer_token(req);
  if (!token) return make_error(ErrorCode::kUnauthorized, "missing or wrong app token");
  return app.authenticate(*token);
}

// A restore or its confirmation: the request's {"phone","key_proof"} handed to `attempt` (an
// AppBackend call) with the client's address and the time. A refusal for a lock carries
// Retry-After: the whole seconds until the lock ends.
template <typename R, typename Attempt>
R key_proof_attempt(const Request& req, const server::NowMs& now, Attempt attempt) {
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(std::string phone, server::required_string(body, "phone", 20));
  ANONCODE_TRY(Bytes proof, server::required_bytes(body, "key_proof", 32, 32));
  const int64_t at = now();
  int64_t retry_at = 0;
  R out = attempt(phone, proof, req.client_address(), at, &retry_at);
  if (!out.ok() && out.error().code == ErrorCode::kRateLimited) {
    const int64_t seconds = std::max<int64_t>(1, (retry_at - at + 999) / 1000);
    req.add_response_header("Retry-After", std::to_string(seconds));
  }
  return out;
}

// A whitelist add or remove ({"user_id"} or {"user_ids":[…]}), audited as `action`.
template <typename Change>
Result<json> change_whitelist(const AppAdminService& s, const Request& req, const Actor& actor,
                              std::string action, Change change) {
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(auto ids, user_ids_of(body));
  const int64_t at = s.now();
  ANONCODE_TRY(Whitelist wl,
               change(ids, at, audited(actor, std::move(action), "", {{"user_ids", ids}}, at)));
  return whitelist_json(wl);
}

// A violation as GET /admin/v1/violations lists it.
json violation_json(const privacy::Violation& v) {
  return {{"id", v.id},           {"user_id", v.user_id ? json(*v.user_id) : json(nullptr)},
          {"wallet", v.wallet_b}, {"accountid", v.accountid},
          {"kind", v.kind},       {"detected_at", v.detected_at}};
}

std::string secret_text(const SecretBytes& s) {
  return std::string(reinterpret_cast<const char*>(s.expose_secret().data()), s.size());
}

// seed 000 §2.1 open (开通)
Result<json> post_open(const AppService& s, const Request& req) {
  ANONCODE_TRY(std::string user_id, app_user_of(s.app, req));
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(Bytes request,
               server::required_bytes(body, "request", server::kMaxCredentialMessage));
  ANONCODE_TRY(Bytes response, s.app.open(user_id, request, s.now()));
  ANONCODE_TRY(AppUser u, s.app.user(user_id));
  // The rider's own person digest (identified flow): the SDK checks refunds against it.
  return json{{"status", "opened"},
              {"response", to_base64url(response)},
              {"person", protocol::person_digest(u.name, u.id_number)}};
}

// seed 000 §2.8 backup (钱包备份)
Result<json> post_backup(const AppService& s, const Request& req) {
  ANONCODE_TRY(std::string user_id, app_user_of(s.app, req));
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(std::string phone, server::required_string(body, "phone", 20));
  ANONCODE_TRY(Bytes blob, server::required_bytes(body, "blob", kMaxBackupBlob));
  ANONCODE_TRY(Bytes verifier, server::required_bytes(body, "verifier", 32, 32));
  ANONCODE_CHECK(s.app.backup(user_id, phone, blob, verifier, s.now()));
  return json{{"status", "backed_up"}};
}

// seed 000 §2.12 close: the opening record, after the platform closed the anonymous wallet
Result<json> post_close(const AppService& s, const Request& req) {
  ANONCODE_TRY(std::string user_id, app_user_of(s.app, req));
  ANONCODE_CHECK(s.app.close_opening(user_id, s.now()));
  return json{{"status", "closed"}};
}

// seed 000 §2.9 restore (钱包恢复). No oracle (DESIGN §3.6 rule 6): no backup and a wrong key
// answer alike, and wrong keys are limited per phone and per client address (app_backend.h).
Result<json> post_restore(const AppService& s, const Request& req) {
  ANONCODE_TRY(Bytes blob, key_proof_attempt<Result<Bytes>>(
                               req, s.now, [&s](const auto&... a) { return s.app.restore(a...); }));
  return json{{"blob", to_base64url(blob)}};
}

Result<json> post_restore_confirm(const AppService& s, const Request& req) {
  ANONCODE_CHECK(key_proof_attempt<Status>(
      req, s.now, [&s](const auto&... a) { return s.app.confirm_restore(a...); }));
  return json{{"status", "restored"}};
}

}  // namespace

void register_app_routes(server::HttpServer& http, AppBackend& app, server::NowMs now) {
  const AppService s{app, std::move(now)};
  http.route("POST", "/app/v1/open", std::bind_front(post_open, s));
  http.route("POST", "/app/v1/backup", std::bind_front(post_backup, s));
  http.route("POST", "/app/v1/close", std::bind_front(post_close, s));
  http.route("POST", "/app/v1/restore", std::bind_front(post_restore, s));
  http.route("POST", "/app/v1/restore/confirm", std::bind_front(post_restore_confirm, s));
}

namespace {

Result<json> post_users(const AppAdminService& s, const Request& req, const Actor& actor) {
  ANONCODE_TRY(json body, req.json_body());
  AppUser u;
  ANONCODE_TRY(u.user_id, server::required_string(body, "user_id", 64));
  ANONCODE_TRY(u.name, server::required_string(body, "name", 64));
  ANONCODE_TRY(u.id_number, server::required_string(body, "id_number", 32));
  ANONCODE_TRY(u.phone, server::required_string(body, "phone", 20));
  ANONCODE_TRY(u.card_no, server::required_string(body, "card_no", 32));
  const int64_t at = s.now();
  // The entry names the user id only: never the personal data.
  ANONCODE_TRY(SecretBytes token,
               s.app.add_user(u, at, audited(actor, "user.add", u.user_id, {}, at)));
  return json{{"user_id", u.user_id}, {"app_token", secret_text(token)}};
}

Result<json> get_whitelist(const AppAdminService& s, const Request&, const Actor&) {
  ANONCODE_TRY(Whitelist wl, s.app.whitelist());
  return whitelist_json(wl);
}

Result<json> post_whitelist_add(const AppAdminService& s, const Request& req, const Actor& actor) {
  return change_whitelist(s, req, actor, "whitelist.add",
                          [&s](const auto& ids, int64_t at, const AlsoInTx& also) {
                            return s.app.whitelist_add(ids, at, also);
                          });
}

Result<json> post_whitelist_remove(const AppAdminService& s, const Request& req,
                                   const Actor& actor) {
  return change_whitelist(s, req, actor, "whitelist.remove",
                          [&s](const auto& ids, int64_t, const AlsoInTx& also) {
                            return s.app.whitelist_remove(ids, also);
                          });
}

Result<json> post_whitelist_all(const AppAdminService& s, const Request& req, const Actor& actor) {
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(bool on, server::required_bool(body, "on"));
  const int64_t at = s.now();
  ANONCODE_TRY(Whitelist wl,
               s.app.whitelist_set_all(on, audited(actor, "whitelist.all", "", {{"on", on}}, at)));
  return whitelist_json(wl);
}

// DESIGN §3.6 rule 6: the phones and client addresses locked out of restore, by hash prefix.
Result<json> get_restore_locks(const AppAdminService& s, const Request&, const Actor&) {
  const int64_t at = s.now();
  ANONCODE_TRY(auto locks, s.app.restore_locks(at));
  json list = json::array();
  for (const auto& l : locks) {
    list.push_back({{"kind", l.kind},
                    {"hash", l.hash},
                    {"failures", l.failures},
                    {"locked_until", l.locked_until}});
  }
  return json{{"locks", std::move(list)}, {"now", at}};
}

// seed 000 §2.6 violation tracing (违规追踪): what tracing found. `evidence` is the mark of
// DESIGN §3.6 rule 7, checked against the published issuer key sets — public keys only.
Result<json> get_violations(const AppAdminService& s, const Request&, const Actor&) {
  ANONCODE_TRY(auto found, s.app.privacy().violations());
  ANONCODE_TRY(auto keys, s.app.privacy().published_keys());
  json list = json::array();
  for (const auto& v : found) {
    json item = violation_json(v);
    item["evidence"] = protocol::evidence_status(v.evidence, keys);
    list.push_back(std::move(item));
  }
  return json{{"violations", list}};
}

// DESIGN §3.6 rule 7: a violation's evidence, for anyone to check with the published keys
// (`anoncode admin violations verify`). The two shows give the rider's secret to whoever holds
// them, and so every wallet pseudonym of the rider: the trace permission, and audited like a look
// at a trace (appended before the answer is sent).
Result<json> get_violation_evidence(const AppAdminService& s, const Request& req,
                                    const Actor& actor) {
  auto id = req.query("id");
  if (!id || id->empty() || id->size() > 64) {
    return make_error(ErrorCode::kInvalidArgument, "id is required (1 to 64 characters)");
  }
  ANONCODE_TRY(privacy::Violation v, s.app.privacy().violation(*id));
  ANONCODE_TRY(auto keys, s.app.privacy().published_keys());
  json out = violation_json(v);
  out["status"] = protocol::evidence_status(v.evidence, keys);
  out["evidence"] = nullptr;
  if (v.evidence) {
    auto doc = json::parse(*v.evidence, nullptr, false);
    if (!doc.is_discarded()) out["evidence"] = std::move(doc);
  }
  ANONCODE_CHECK(s.auth.audit().append({actor.name, "violation.evidence", v.id, {}}, s.auth.now()));
  return out;
}

}  // namespace

void register_admin_routes(server::HttpServer& http, AppBackend& app, console::AdminAuth& auth,
                           server::NowMs now) {
  const AppAdminService s{app, auth, std::move(now)};
  auto admin = [&http, &auth, &s](std::string_view method, std::string_view path, Permission p,
                                  auto handler) {
    console::admin_route(http, auth, method, path, p, std::bind_front(handler, s));
  };
  admin("POST", "/admin/v1/users", Permission::kManageUsers, post_users);
  admin("GET", "/admin/v1/whitelist", Permission::kView, get_whitelist);
  admin("POST", "/admin/v1/whitelist/add", Permission::kManageWhitelist, post_whitelist_add);
  admin("POST", "/admin/v1/whitelist/remove", Permission::kManageWhitelist, post_whitelist_remove);
  admin("POST", "/admin/v1/whitelist/all", Permission::kManageWhitelist, post_whitelist_all);
  admin("GET", "/admin/v1/restore-locks", Permission::kView, get_restore_locks);
  admin("GET", "/admin/v1/violations", Permission::kView, get_violations);
  admin("GET", "/admin/v1/violations/evidence", Permission::kViewTrace, get_violation_evidence);
}

}  // namespace anoncode::app
