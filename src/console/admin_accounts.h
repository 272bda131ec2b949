// Console accounts, roles and sessions (issue 4 "Security"; docs/OPERATIONS.md "Admin accounts,
// roles and the audit log").
//
// - Passwords are kept only as libsodium argon2id strings (crypto_pwhash_str, the INTERACTIVE
//   limits: 64 MiB, 2 passes).
// - A session id is 32 random bytes (base64url in the `anoncode_session` cookie); the database
//   keeps its SM3 hash. A session ends 8 hours after its last use, at logout, or when its
//   account is disabled.
// - Each session has a CSRF token, SM3("anoncode/v1/csrf" ‖ session id) in base64url: only the
//   holder of the cookie can compute it, the database cannot, and it needs no storage.
// - Login rate limiting: after 5 failed logins for a username within 15 minutes, further attempts
//   are refused with `rate_limited` without checking the password. Failures are counted by the
//   SM3 of the username tried, for accounts that exist and for those that do not alike.
// - A wrong username and a wrong password get the same `unauthorized` answer after the same
//   work (an unknown username is checked against a dummy hash).
// - Every login (success, failure, refusal) and logout is appended to the audit log in the same
//   transaction that records it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "storage/db.h"

namespace anoncode::console {

// Separation of duties (issue 4): what each role may do is in admin_auth.h.
enum class Role {
  kOperator,         // operator: whitelist, refill, terminals; reads
  kAuditor,          // auditor: reads everything except personal data, the audit log
  kSecurityOfficer,  // security_officer: tracing and decrypting personal data; reads
};
std::string_view role_name(Role role);
std::optional<Role> role_from_name(std::string_view name);

// The actor name the admin token acts as; no account may take it.
constexpr std::string_view kTokenActor = "admin-token";

struct SessionOptions {
  int64_t idle_timeout_ms = 8 * 3'600'000;       // 8 h
  int max_failed_logins = 5;                     // per username …
  int64_t failed_login_window_ms = 15 * 60'000;  // … within 15 min
};

// A live session.
struct Session {
  std::string username;
  Role role = Role::kAuditor;
  std::string csrf_token;  // base64url
};

// What a successful login hands out: the cookie's value (a secret) and the session.
struct NewSession {
  SecretBytes id;  // base64url text of 32 random bytes
  Session session;
};

// An account as listed (never its password hash).
struct AccountInfo {
  std::string username;
  Role role = Role::kAuditor;
  int64_t created_at = 0;
  bool disabled = false;
};

using InTx = std::function<Status(storage::Tx&)>;

class AdminAccounts {
 public:
  explicit AdminAccounts(storage::Db& db, SessionOptions options = {});

  // A username: 1–64 of A-Z a-z 0-9 - _ . @, not "admin-token". A password: 12–1024 bytes.
  static Status check_username(std::string_view username);
  static Status check_password(const SecretBytes& password);

  // Creates an account; `conflict` if the username exists. `also` runs in the same transaction
  // (the caller's audit entry).
  Status create(std::string_view username, Role role, const SecretBytes& password, int64_t now_ms,
                const InTx& also = {});

  // Every account, by username.
  Result<std::vector<AccountInfo>> list();
  // Disables (or enables again) an account; disabling also ends its sessions. `not_found` for an
  // unknown username. `also` runs in the same transaction.
  Status set_disabled(std::string_view username, bool disabled, const InTx& also = {});

  // Checks a password and opens a session. `rate_limited` after too many failures,
  // `unauthorized` for a wrong username, a wrong password or a disabled account (one answer).
  Result<NewSession> login(std::string_view username, const SecretBytes& password, int64_t now_ms);

  // The live session a cookie value names, marking it used now; `unauthorized` if there is none
  // (unknown, expired, logged out, or its account disabled).
  Result<Session> session(std::string_view session_id, int64_t now_ms);

  // Ends a session; audited. `unauthorized` if it is not live.
  Status logout(std::string_view session_id, int64_t now_ms);

  // The CSRF token of a session id (see above).
  static std::string csrf_token_for(std::string_view session_id);

  const SessionOptions& options() const { return options_; }

 private:
  storage::Db& db_;
  SessionOptions options_;
};

}  // namespace anoncode::console
