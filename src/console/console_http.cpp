#include "console/console_http.h"

#include <sodium.h>

#include <charconv>
#include <functional>

#include "server/json_fields.h"

namespace anoncode::console {

using nlohmann::json;
using server::Request;

namespace {

constexpr size_t kMaxUsernameField = 256;  // longer than any username: a login answers 401
constexpr size_t kMaxPasswordField = 1024;

json session_json(const Session& s) {
  return {{"username", s.username}, {"role", role_name(s.role)}, {"csrf_token", s.csrf_token}};
}

SecretBytes secret_of(std::string& text) {
  SecretBytes s(as_bytes(text));
  sodium_memzero(text.data(), text.size());
  return s;
}

}  // namespace

Result<std::optional<int64_t>> optional_query_int(const Request& req, std::string_view name,
                                                  int64_t min, int64_t max) {
  auto text = req.query(name);
  if (!text) return std::optional<int64_t>();
  int64_t v = 0;
  const char* end = text->data() + text->size();
  auto [p, ec] = std::from_chars(text->data(), end, v);
  if (text->empty() || ec != std::errc() || p != end || v < min || v > max) {
    return make_error(ErrorCode::kInvalidArgument, std::string(name) + " must be an integer from " +
                                                       std::to_string(min) + " to " +
                                                       std::to_string(max));
  }
  return std::optional<int64_t>(v);
}

Result<int64_t> query_int(const Request& req, std::string_view name, int64_t min, int64_t max,
                          int64_t fallback) {
  ANONCODE_TRY(auto v, optional_query_int(req, name, min, max));
  return v.value_or(fallback);
}

namespace {

// Login: the one /admin/v1 route without credentials.
Result<json> post_session_login(AdminAuth& auth, const Request& req) {
  req.add_response_header("Cache-Control", "no-store");
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(std::string username, server::required_string(body, "username", kMaxUsernameField));
  ANONCODE_TRY(std::string password_text,
               server::required_string(body, "password", kMaxPasswordField));
  body.clear();
  SecretBytes password = secret_of(password_text);
  ANONCODE_TRY(NewSession s, auth.accounts().login(username, password, auth.now()));
  std::string id(reinterpret_cast<const char*>(s.id.expose_secret().data()), s.id.size());
  req.add_response_header(
      "Set-Cookie",
      session_cookie(id, auth.accounts().options().idle_timeout_ms, came_over_https(req)));
  sodium_memzero(id.data(), id.size());
  return session_json(s.session);
}

Result<json> get_session(AdminAuth&, const Request&, const Actor& actor) {
  if (actor.is_token()) {
    return json{{"username", actor.name}, {"role", nullptr}, {"csrf_token", nullptr}};
  }
  return session_json(*actor.session);
}

Result<json> post_session_logout(AdminAuth& auth, const Request& req, const Actor& actor) {
  if (actor.is_token()) {
    return make_error(ErrorCode::kInvalidArgument, "the admin token has no session");
  }
  ANONCODE_CHECK(auth.accounts().logout(actor.session_id, auth.now()));
  req.add_response_header("Set-Cookie", expired_session_cookie(came_over_https(req)));
  return json{{"status", "logged_out"}};
}

Result<json> post_accounts(AdminAuth& auth, const Request& req, const Actor& actor) {
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(std::string username, server::required_string(body, "username", 64));
  ANONCODE_TRY(std::string role_text, server::required_string(body, "role", 32));
  ANONCODE_TRY(std::string password_text,
               server::required_string(body, "password", kMaxPasswordField));
  body.clear();
  SecretBytes password = secret_of(password_text);
  auto role = role_from_name(role_text);
  if (!role) {
    return make_error(ErrorCode::kInvalidArgument,
                      "role must be operator, auditor or security_officer");
  }
  const int64_t now = auth.now();
  ANONCODE_CHECK(
      auth.accounts().create(username, *role, password, now, [&](storage::Tx& tx) -> Status {
        ANONCODE_CHECK(AuditLog::append(
            tx, {actor.name, "account.add", username, {{"role", role_text}}}, now));
        return {};
      }));
  return json{{"username", username}, {"role", role_text}, {"created_at", now}};
}

Result<json> get_accounts(AdminAuth& auth, const Request&, const Actor&) {
  ANONCODE_TRY(auto accounts, auth.accounts().list());
  json list = json::array();
  for (const auto& a : accounts) {
    list.push_back({{"username", a.username},
                    {"role", role_name(a.role)},
                    {"created_at", a.created_at},
                    {"disabled", a.disabled}});
  }
  return json{{"accounts", std::move(list)}};
}

Result<json> post_accounts_disable(AdminAuth& auth, const Request& req, const Actor& actor) {
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(std::string username, server::required_string(body, "username", 64));
  ANONCODE_TRY(bool disabled, server::required_bool(body, "disabled"));
  const int64_t now = auth.now();
  ANONCODE_CHECK(auth.accounts().set_disabled(username, disabled, [&](storage::Tx& tx) -> Status {
    ANONCODE_CHECK(AuditLog::append(
        tx, {actor.name, disabled ? "account.disable" : "account.enable", username, {}}, now));
    return {};
  }));
  return json{{"username", username}, {"disabled", disabled}};
}

Result<json> get_audit(AdminAuth& auth, const Request& req, const Actor&) {
  ANONCODE_TRY(int64_t limit, query_int(req, "limit", 1, 1000, 50));
  ANONCODE_TRY(auto before, optional_query_int(req, "before_seq", 1, INT64_MAX));
  ANONCODE_TRY(auto entries, auth.audit().entries(limit, before));
  json list = json::array();
  for (const auto& e : entries) list.push_back(audit_entry_json(e));
  json next = entries.size() == static_cast<size_t>(limit) && entries.back().seq > 1
                  ? json(entries.back().seq)
                  : json();
  return json{{"entries", std::move(list)}, {"next_before_seq", std::move(next)}};
}

Result<json> get_audit_verify(AdminAuth& auth, const Request&, const Actor&) {
  ANONCODE_TRY(AuditVerification v, auth.audit().verify());
  return audit_verification_json(v);
}

}  // namespace

void register_console_routes(server::HttpServer& http, AdminAuth& auth) {
  auto admin = [&http, &auth](std::string_view method, std::string_view path, Permission p,
                              auto handler) {
    admin_route(http, auth, method, path, p, std::bind_front(handler, std::ref(auth)));
  };
  http.route("POST", "/admin/v1/session/login",
             std::bind_front(post_session_login, std::ref(auth)));
  admin("GET", "/admin/v1/session", Permission::kView, get_session);
  admin("POST", "/admin/v1/session/logout", Permission::kView, post_session_logout);
  admin("POST", "/admin/v1/accounts", Permission::kManageAccounts, post_accounts);
  admin("GET", "/admin/v1/accounts", Permission::kViewAudit, get_accounts);
  admin("POST", "/admin/v1/accounts/disable", Permission::kManageAccounts, post_accounts_disable);
  admin("GET", "/admin/v1/audit", Permission::kViewAudit, get_audit);
  admin("GET", "/admin/v1/audit/verify", Permission::kViewAudit, get_audit_verify);
}

}  // namespace anoncode::console
