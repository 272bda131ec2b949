// The one authorization path of every /admin/v1 route (issue 4): a request is authorized
//   - by the bearer admin token (the CLI, scripts): actor "admin-token", every permission; or
//   - by a console session cookie `anoncode_session` whose account's role has the route's
//     permission; a POST must also send the session's CSRF token in `X-CSRF-Token`.
// Otherwise: 401 `unauthorized` (no credentials, a wrong token, no live session) or 403
// `forbidden` (the role lacks the permission, or the CSRF token is missing or wrong). A request
// that carries an Authorization header is judged by it alone. Refusals with 403 are audited
// (`access.denied`): they come from a logged-in account.
//
// Roles (separation of duties; role_has()):
//   kView             dashboard, search, refill list, keys, whitelist, violations, session:
//                     every role
//   kViewTrace        GET trace (a traced user's wallet chains): auditor, security_officer
//   kViewAudit        GET audit, GET audit/verify, GET accounts: auditor, security_officer
//   kManageWhitelist  whitelist add, remove, all: operator
//   kManageTerminals  terminals: operator
//   kRunRefill        refill/run: operator
//   kDecryptIdentity  trace/identity (decrypts personal data): security_officer
//   kManageUsers      users (registers riders with their personal data): the admin token only
//   kManageAccounts   POST accounts, accounts/disable: the admin token only
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "console/admin_accounts.h"
#include "console/audit_log.h"
#include "server/auth.h"
#include "server/clock.h"
#include "server/http_server.h"

namespace anoncode::console {

enum class Permission {
  kView,
  kViewTrace,
  kViewAudit,
  kManageWhitelist,
  kManageTerminals,
  kRunRefill,
  kDecryptIdentity,
  kManageUsers,
  kManageAccounts,
  kRetireIdentity,
};
std::string_view permission_name(Permission p);
bool role_has(Role role, Permission p);

constexpr std::string_view kSessionCookie = "anoncode_session";
constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// Who acts: the admin token, or a console account with its session.
struct Actor {
  std::string name;                // kTokenActor or the username (the audit log's actor)
  std::optional<Session> session;  // none for the admin token
  std::string session_id;          // the cookie's value, for a session (a secret: never logged)
  bool is_token() const { return !session.has_value(); }
};

// `Set-Cookie` value for a session id: HttpOnly; SameSite=Strict; Path=/admin; Max-Age=idle
// timeout; Secure when the request came through a TLS proxy (X-Forwarded-Proto: https).
std::string session_cookie(std::string_view session_id, int64_t max_age_ms, bool secure);
// The cookie that removes it (Max-Age=0).
std::string expired_session_cookie(bool secure);
// Whether the request came through a TLS-terminating proxy.
bool came_over_https(const server::Request& req);
// The session cookie's value, if the request has one.
std::optional<std::string> session_cookie_of(const server::Request& req);

class AdminAuth {
 public:
  AdminAuth(AdminAccounts& accounts, AuditLog& audit, server::TokenHash admin_token_hash,
            server::NowMs now = server::system_now_ms)
      : accounts_(accounts), audit_(audit), token_hash_(admin_token_hash), now_(std::move(now)) {}

  // The actor if the request may use a route that needs `p` (above); 401 or 403 otherwise.
  Result<Actor> authorize(const server::Request& req, Permission p);

  AdminAccounts& accounts() { return accounts_; }
  AuditLog& audit() { return audit_; }
  int64_t now() const { return now_(); }

 private:
  Error deny(const Actor& actor, const server::Request& req, Permission p, std::string reason);

  AdminAccounts& accounts_;
  AuditLog& audit_;
  server::TokenHash token_hash_;
  server::NowMs now_;
};

// The audit entry of an admin change by `actor`, appended in the change's transaction (the
// services' operations take it as their storage::AlsoInTx).
storage::AlsoInTx audited(const Actor& actor, std::string action, std::string target,
                          nlohmann::json details, int64_t at);

using AdminHandler =
    std::function<Result<nlohmann::json>(const server::Request&, const Actor& actor)>;

// Registers an /admin/v1 route behind authorize(): the handler runs only for an authorized
// actor. Answers carry `Cache-Control: no-store`; a session's cookie is sent again with a fresh
// Max-Age (the idle timeout slides with use).
void admin_route(server::HttpServer& http, AdminAuth& auth, std::string_view method,
                 std::string_view path, Permission permission, AdminHandler handler);

}  // namespace anoncode::console
