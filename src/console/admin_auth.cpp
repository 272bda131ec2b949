#include "console/admin_auth.h"

#include <sodium.h>

#include "server/log.h"

namespace anoncode::console {

using nlohmann::json;
using server::Request;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equal_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace

std::string_view permission_name(Permission p) {
  switch (p) {
    case Permission::kView:
      return "view";
    case Permission::kViewTrace:
      return "view_trace";
    case Permission::kViewAudit:
      return "view_audit";
    case Permission::kManageWhitelist:
      return "manage_whitelist";
    case Permission::kManageTerminals:
      return "manage_terminals";
    case Permission::kRunRefill:
      return "run_refill";
    case Permission::kDecryptIdentity:
      return "decrypt_identity";
    case Permission::kManageUsers:
      return "manage_users";
    case Permission::kManageAccounts:
      return "manage_accounts";
    case Permission::kRetireIdentity:
      return "retire_identity";
  }
  return "unknown";
}

bool role_has(Role role, Permission p) {
  switch (p) {
    case Permission::kView:
      return true;
    case Permission::kViewTrace:
    case Permission::kViewAudit:
      return role == Role::kAuditor || role == Role::kSecurityOfficer;
    case Permission::kManageWhitelist:
    case Permission::kManageTerminals:
    case Permission::kRunRefill:
      return role == Role::kOperator;
    case Permission::kDecryptIdentity:
    case Permission::kRetireIdentity:
      return role == Role::kSecurityOfficer;
    case Permission::kManageUsers:
    case Permission::kManageAccounts:
      return false;  // the admin token only
  }
  return false;
}

std::string session_cookie(std::string_view session_id, int64_t max_age_ms, bool secure) {
  std::string c =
      std::string(kSessionCookie) + "=" + std::string(session_id) +
      "; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=" + std::to_string(max_age_ms / 1000);
  if (secure) c += "; Secure";
  return c;
}

std::string expired_session_cookie(bool secure) {
  std::string c =
      std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0";
  if (secure) c += "; Secure";
  return c;
}

bool came_over_https(const Request& req) {
  auto proto = req.header("X-Forwarded-Proto");
  return proto && trim(*proto) == "https";
}

std::optional<std::string> session_cookie_of(const Request& req) {
  auto header = req.header("Cookie");
  if (!header) return std::nullopt;
  std::string_view rest = *header;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(part.substr(0, eq)) == kSessionCookie) {
      return std::string(trim(part.substr(eq + 1)));
    }
  }
  return std::nullopt;
}

Error AdminAuth::deny(const Actor& actor, const Request& req, Permission p, std::string reason) {
  // Audited on its own: there is no action to join. A failure to write it is logged, and the
  // request is refused all the same.
  auto logged = audit_.append({actor.name,
                               "access.denied",
                               req.method() + " " + req.route(),
                               {{"permission", permission_name(p)}, {"reason", reason}}},
                              now_());
  if (!logged) server::log_warn("audit_failed", {{"code", logged.error().code_name()}});
  return make_error(ErrorCode::kForbidden, reason == "csrf"
                                               ? "missing or wrong CSRF token (X-CSRF-Token)"
                                               : "your role may not do this");
}

Result<Actor> AdminAuth::authorize(const Request& req, Permission p) {
  // The admin token: judged by the Authorization header alone when there is one.
  if (req.header("Authorization")) {
    ANONCODE_CHECK(server::require_bearer(req, token_hash_));
    return Actor{std::string(kTokenActor), std::nullopt, ""};
  }
  auto cookie = session_cookie_of(req);
  if (!cookie) {
    return make_error(ErrorCode::kUnauthorized,
                      "log in, or send the admin token (Authorization: Bearer …)");
  }
  ANONCODE_TRY(Session session, accounts_.session(*cookie, now_()));
  Actor actor{session.username, session, *cookie};
  if (req.method() != "GET") {
    auto sent = req.header(kCsrfHeader);
    if (!sent || !equal_text(*sent, session.csrf_token)) return deny(actor, req, p, "csrf");
  }
  if (!role_has(session.role, p)) return deny(actor, req, p, "role");
  return actor;
}

void admin_route(server::HttpServer& http, AdminAuth& auth, std::string_view method,
                 std::string_view path, Permission permission, AdminHandler handler) {
  http.route(method, path,
             [&auth, permission, handler = std::move(handler)](const Request& req) -> Result<json> {
               req.add_response_header("Cache-Control", "no-store");
               ANONCODE_TRY(Actor actor, auth.authorize(req, permission));
               Result<json> out = handler(req, actor);
               // The cookie again with a fresh Max-Age, unless the handler set it (logout).
               bool set = false;
               for (const auto& h : req.response_headers()) set = set || h.first == "Set-Cookie";
               if (!actor.is_token() && !set) {
                 req.add_response_header(
                     "Set-Cookie",
                     session_cookie(actor.session_id, auth.accounts().options().idle_timeout_ms,
                                    came_over_https(req)));
               }
               return out;
             });
}

storage::AlsoInTx audited(const Actor& actor, std::string action, std::string target,
                          nlohmann::json details, int64_t at) {
  return
      [record = AuditRecord{actor.name, std::move(action), std::move(target), std::move(details)},
       at](storage::Tx& tx) -> Status {
        ANONCODE_CHECK(AuditLog::append(tx, record, at));
        return {};
      };
}

}  // namespace anoncode::console
