#include "app/app_http.h"

#include <sodium.h>

#include <algorithm>

#include "console/audit_log.h"
#include "server/json_fields.h"

namespace anoncode::app {

using nlohmann::json;
using server::Request;

namespace {

constexpr size_t kMaxOpenRequest = 4096;
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

// The audit entry of an admin change, appended in the change's transaction.
AlsoInTx audited(const console::Actor& actor, std::string action, std::string target, json details,
                 int64_t at) {
  return [record = console::AuditRecord{actor.name, std::move(action), std::move(target),
                                        std::move(details)},
          at](storage::Tx& tx) -> Status {
    ANONCODE_CHECK(console::AuditLog::append(tx, record, at));
    return {};
  };
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

// A violation as GET /admin/v1/violations lists it.
json violation_json(const privacy::Violation& v) {
  return {{"id", v.id},           {"user_id", v.user_id ? json(*v.user_id) : json(nullptr)},
          {"wallet", v.wallet_b}, {"accountid", v.accountid},
          {"kind", v.kind},       {"detected_at", v.detected_at}};
}

std::string secret_text(const SecretBytes& s) {
  return std::string(reinterpret_cast<const char*>(s.expose_secret().data()), s.size());
}

}  // namespace

void register_app_routes(server::HttpServer& http, AppBackend& app, server::NowMs now) {
  // seed 000 §2.1 open (开通)
  http.route("POST", "/app/v1/open", [&app, now](const Request& req) -> Result<json> {
    ANONCODE_TRY(std::string user_id, app_user_of(app, req));
    ANONCODE_TRY(json body, req.json_body());
    ANONCODE_TRY(Bytes request, server::required_bytes(body, "request", kMaxOpenRequest));
    ANONCODE_TRY(Bytes response, app.open(user_id, request, now()));
    ANONCODE_TRY(AppUser u, app.user(user_id));
    // The rider's own person digest (identified flow): the SDK checks refunds against it.
    return json{{"status", "opened"},
                {"response", to_base64url(response)},
                {"person", protocol::person_digest(u.name, u.id_number)}};
  });

  // seed 000 §2.8 backup (钱包备份)
  http.route("POST", "/app/v1/backup", [&app, now](const Request& req) -> Result<json> {
    ANONCODE_TRY(std::string user_id, app_user_of(app, req));
    ANONCODE_TRY(json body, req.json_body());
    ANONCODE_TRY(std::string phone, server::required_string(body, "phone", 20));
    ANONCODE_TRY(Bytes blob, server::required_bytes(body, "blob", kMaxBackupBlob));
    ANONCODE_TRY(Bytes verifier, server::required_bytes(body, "verifier", 32, 32));
    ANONCODE_CHECK(app.backup(user_id, phone, blob, verifier, now()));
    return json{{"status", "backed_up"}};
  });

  // seed 000 §2.12 close: the opening record, after the platform closed the anonymous wallet
  http.route("POST", "/app/v1/close", [&app, now](const Request& req) -> Result<json> {
    ANONCODE_TRY(std::string user_id, app_user_of(app, req));
    ANONCODE_CHECK(app.close_opening(user_id, now()));
    return json{{"status", "closed"}};
  });

  // seed 000 §2.9 restore (钱包恢复). No oracle (DESIGN §3.6 rule 6): no backup and a wrong key
  // answer alike, and wrong keys are limited per phone and per client address (app_backend.h).
  http.route("POST", "/app/v1/restore", [&app, now](const Request& req) -> Result<json> {
    ANONCODE_TRY(Bytes blob, key_proof_attempt<Result<Bytes>>(
                                 req, now, [&app](const auto&... a) { return app.restore(a...); }));
    return json{{"blob", to_base64url(blob)}};
  });

  http.route("POST", "/app/v1/restore/confirm", [&app, now](const Request& req) -> Result<json> {
    ANONCODE_CHECK(key_proof_attempt<Status>(
        req, now, [&app](const auto&... a) { return app.confirm_restore(a...); }));
    return json{{"status", "restored"}};
  });
}

void register_admin_routes(server::HttpServer& http, AppBackend& app, console::AdminAuth& auth,
                           server::NowMs now) {
  using console::Actor;
  using console::Permission;
  auto admin = [&http, &auth](std::string_view method, std::string_view path, Permission p,
                              console::AdminHandler handler) {
    console::admin_route(http, auth, method, path, p, std::move(handler));
  };

  admin("POST", "/admin/v1/users", Permission::kManageUsers,
        [&app, now](const Request& req, const Actor& actor) -> Result<json> {
          ANONCODE_TRY(json body, req.json_body());
          AppUser u;
          ANONCODE_TRY(u.user_id, server::required_string(body, "user_id", 64));
          ANONCODE_TRY(u.name, server::required_string(body, "name", 64));
          ANONCODE_TRY(u.id_number, server::required_string(body, "id_number", 32));
          ANONCODE_TRY(u.phone, server::required_string(body, "phone", 20));
          ANONCODE_TRY(u.card_no, server::required_string(body, "card_no", 32));
          const int64_t at = now();
          // The entry names the user id only: never the personal data.
          ANONCODE_TRY(SecretBytes token,
                       app.add_user(u, at, audited(actor, "user.add", u.user_id, {}, at)));
          return json{{"user_id", u.user_id}, {"app_token", secret_text(token)}};
        });

  admin("GET", "/admin/v1/whitelist", Permission::kView,
        [&app](const Request&, const Actor&) -> Result<json> {
          ANONCODE_TRY(Whitelist wl, app.whitelist());
          return whitelist_json(wl);
        });
  admin("POST", "/admin/v1/whitelist/add", Permission::kManageWhitelist,
        [&app, now](const Request& req, const Actor& actor) -> Result<json> {
          ANONCODE_TRY(json body, req.json_body());
          ANONCODE_TRY(auto ids, user_ids_of(body));
          const int64_t at = now();
          ANONCODE_TRY(Whitelist wl,
                       app.whitelist_add(
                           ids, at, audited(actor, "whitelist.add", "", {{"user_ids", ids}}, at)));
          return whitelist_json(wl);
        });
  admin("POST", "/admin/v1/whitelist/remove", Permission::kManageWhitelist,
        [&app, now](const Request& req, const Actor& actor) -> Result<json> {
          ANONCODE_TRY(json body, req.json_body());
          ANONCODE_TRY(auto ids, user_ids_of(body));
          const int64_t at = now();
          ANONCODE_TRY(Whitelist wl,
                       app.whitelist_remove(
                           ids, audited(actor, "whitelist.remove", "", {{"user_ids", ids}}, at)));
          return whitelist_json(wl);
        });
  admin("POST", "/admin/v1/whitelist/all", Permission::kManageWhitelist,
        [&app, now](const Request& req, const Actor& actor) -> Result<json> {
          ANONCODE_TRY(json body, req.json_body());
          ANONCODE_TRY(bool on, server::required_bool(body, "on"));
          const int64_t at = now();
          ANONCODE_TRY(Whitelist wl, app.whitelist_set_all(on, audited(actor, "whitelist.all", "",
                                                                       {{"on", on}}, at)));
          return whitelist_json(wl);
        });

  admin("POST", "/admin/v1/terminals", Permission::kManageTerminals,
        [&app, now](const Request& req, const Actor& actor) -> Result<json> {
          ANONCODE_TRY(json body, req.json_body());
          ANONCODE_TRY(std::string terminal, server::required_string(body, "terminal", 32));
          ANONCODE_TRY(std::string merchant, server::required_string(body, "merchant", 32));
          const int64_t at = now();
          // Never the terminal key.
          ANONCODE_TRY(NewTerminal t, app.add_terminal(terminal, merchant, at,
                                                       audited(actor, "terminal.add", terminal,
                                                               {{"merchant", merchant}}, at)));
          return json{{"terminal", t.terminal},
                      {"merchant", t.merchant},
                      {"terminal_key", to_base64url(t.key.expose_secret())}};
        });

  // DESIGN §3.6 rule 6: the phones and client addresses locked out of restore, by hash prefix.
  admin("GET", "/admin/v1/restore-locks", Permission::kView,
        [&app, now](const Request&, const Actor&) -> Result<json> {
          const int64_t at = now();
          ANONCODE_TRY(auto locks, app.restore_locks(at));
          json list = json::array();
          for (const auto& l : locks) {
            list.push_back({{"kind", l.kind},
                            {"hash", l.hash},
                            {"failures", l.failures},
                            {"locked_until", l.locked_until}});
          }
          return json{{"locks", std::move(list)}, {"now", at}};
        });

  // seed 000 §2.6 violation tracing (违规追踪): what tracing found. `evidence` is the mark of
  // DESIGN §3.6 rule 7, checked against the published issuer key sets — public keys only.
  admin("GET", "/admin/v1/violations", Permission::kView,
        [&app](const Request&, const Actor&) -> Result<json> {
          ANONCODE_TRY(auto found, app.privacy().violations());
          ANONCODE_TRY(auto keys, app.privacy().published_keys());
          json list = json::array();
          for (const auto& v : found) {
            json item = violation_json(v);
            item["evidence"] = protocol::evidence_status(v.evidence, keys);
            list.push_back(std::move(item));
          }
          return json{{"violations", list}};
        });

  // DESIGN §3.6 rule 7: a violation's evidence, for anyone to check with the published keys
  // (`anoncode admin violations verify`). The two shows give the rider's secret to whoever holds
  // them, and so every wallet pseudonym of the rider: the trace permission, and audited like a
  // look at a trace (appended before the answer is sent).
  admin("GET", "/admin/v1/violations/evidence", Permission::kViewTrace,
        [&app, &auth](const Request& req, const Actor& actor) -> Result<json> {
          auto id = req.query("id");
          if (!id || id->empty() || id->size() > 64) {
            return make_error(ErrorCode::kInvalidArgument, "id is required (1 to 64 characters)");
          }
          ANONCODE_TRY(privacy::Violation v, app.privacy().violation(*id));
          ANONCODE_TRY(auto keys, app.privacy().published_keys());
          json out = violation_json(v);
          out["status"] = protocol::evidence_status(v.evidence, keys);
          out["evidence"] = nullptr;
          if (v.evidence) {
            auto doc = json::parse(*v.evidence, nullptr, false);
            if (!doc.is_discarded()) out["evidence"] = std::move(doc);
          }
          ANONCODE_CHECK(
              auth.audit().append({actor.name, "violation.evidence", v.id, {}}, auth.now()));
          return out;
        });
}

}  // namespace anoncode::app
