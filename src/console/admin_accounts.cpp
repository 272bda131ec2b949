#include "console/admin_accounts.h"

#include <sodium.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "console/audit_log.h"
#include "console/console_store.h"
#include "crypto/sm3.h"

namespace anoncode::console {

using storage::Tx;

namespace {

constexpr size_t kSessionIdBytes = 32;
constexpr size_t kMinPassword = 12;
constexpr size_t kMaxPassword = 1024;
constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
constexpr std::string_view kCsrfTag = "anoncode/v1/csrf";
// The actor of an audit entry about a username that is no account: never the text tried (it
// may be a password typed into the wrong field).
constexpr std::string_view kUnknownActor = "-";

Error unauthorized() {
  return make_error(ErrorCode::kUnauthorized, "wrong username or password");
}
Error no_session() {
  return make_error(ErrorCode::kUnauthorized, "no live session: log in");
}

bool is_username_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '@';
}

Bytes hash_bytes(std::string_view text) {
  auto d = crypto::sm3(as_bytes(text));
  return Bytes(d.begin(), d.end());
}

Result<std::string> hash_password(const SecretBytes& password) {
  char out[crypto_pwhash_STRBYTES];
  auto pw = password.expose_secret();
  if (crypto_pwhash_str(out, reinterpret_cast<const char*>(pw.data()), pw.size(), kOpsLimit,
                        kMemLimit) != 0) {
    return make_error(ErrorCode::kUnavailable, "out of memory hashing the password");
  }
  return std::string(out);
}

bool password_matches(const std::string& stored, const SecretBytes& password) {
  auto pw = password.expose_secret();
  return crypto_pwhash_str_verify(stored.c_str(), reinterpret_cast<const char*>(pw.data()),
                                  pw.size()) == 0;
}

// A hash no password matches in practice, checked for unknown usernames so that they cost what a
// wrong password costs.
const std::string& dummy_hash() {
  static const std::string hash = [] {
    SecretBytes random(32);
    randombytes_buf(random.expose_secret_mut().data(), random.size());
    auto h = hash_password(random);
    if (!h) throw std::runtime_error("cannot compute the dummy password hash");
    return *h;
  }();
  return hash;
}

bool well_formed_session_id(std::string_view id) {
  if (id.size() != 43) return false;  // base64url of 32 bytes
  auto raw = from_base64url(id);
  return raw.ok() && raw->size() == kSessionIdBytes;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kOperator:
      return "operator";
    case Role::kAuditor:
      return "auditor";
    case Role::kSecurityOfficer:
      return "security_officer";
  }
  return "auditor";
}

std::optional<Role> role_from_name(std::string_view name) {
  for (Role r : {Role::kOperator, Role::kAuditor, Role::kSecurityOfficer}) {
    if (role_name(r) == name) return r;
  }
  return std::nullopt;
}

AdminAccounts::AdminAccounts(storage::Db& db, SessionOptions options) : db_(db), options_(options) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

Status AdminAccounts::check_username(std::string_view username) {
  if (username.empty() || username.size() > 64 ||
      !std::all_of(username.begin(), username.end(), is_username_char) || username == kTokenActor ||
      username == kUnknownActor) {
    return make_error(ErrorCode::kInvalidArgument,
                      "username must be 1 to 64 of A-Z a-z 0-9 - _ . @ (and not admin-token)");
  }
  return {};
}

Status AdminAccounts::check_password(const SecretBytes& password) {
  if (password.size() < kMinPassword || password.size() > kMaxPassword) {
    return make_error(ErrorCode::kInvalidArgument, "password must be 12 to 1024 bytes");
  }
  return {};
}

std::string AdminAccounts::csrf_token_for(std::string_view session_id) {
  ByteWriter w;
  w.var(as_bytes(kCsrfTag)).raw(as_bytes(session_id));
  return to_base64url(crypto::sm3(ByteView(w.bytes())));
}

Status AdminAccounts::create(std::string_view username, Role role, const SecretBytes& password,
                             int64_t now_ms, const InTx& also) {
  ANONCODE_CHECK(check_username(username));
  ANONCODE_CHECK(check_password(password));
  ANONCODE_TRY(std::string hash, hash_password(password));
  return db_.transact([&](Tx& tx) -> Status {
    auto inserted = store::insert_account(tx, username, role_name(role), hash, now_ms);
    if (!inserted.ok() && storage::is_unique_violation(inserted.error())) {
      return make_error(ErrorCode::kConflict, "this username is taken");
    }
    if (!inserted.ok()) return inserted.error();
    if (also) ANONCODE_CHECK(also(tx));
    return {};
  });
}

Result<std::vector<AccountInfo>> AdminAccounts::list() {
  std::vector<AccountInfo> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(out, store::accounts(tx));
    return {};
  }));
  return out;
}

Status AdminAccounts::set_disabled(std::string_view username, bool disabled, const InTx& also) {
  return db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(bool found, store::set_account_disabled(tx, username, disabled));
    if (!found) return make_error(ErrorCode::kNotFound, "no such account");
    if (disabled) ANONCODE_CHECK(store::delete_sessions_of(tx, username));
    if (also) ANONCODE_CHECK(also(tx));
    return {};
  });
}

Result<NewSession> AdminAccounts::login(std::string_view username, const SecretBytes& password,
                                        int64_t now_ms) {
  const Bytes who = hash_bytes(username);
  const bool well_formed = check_username(username).ok() && password.size() <= kMaxPassword;

  // 1. The rate limit and the account. The attempt is counted as a failure before the password
  //    is checked (and uncounted if it succeeds), so parallel attempts cannot exceed the limit:
  //    they serialise on these rows.
  std::optional<store::StoredAccount> account;
  bool limited = false;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    account.reset();
    limited = false;
    if (well_formed) {
      ANONCODE_TRY(account, store::load_account(tx, username));
    }
    const std::string actor = account ? std::string(username) : std::string(kUnknownActor);
    ANONCODE_CHECK(store::forget_login_failures(tx, who, now_ms - options_.failed_login_window_ms));
    ANONCODE_TRY(int64_t failures, store::count_login_failures(tx, who));
    if (failures >= options_.max_failed_logins) {
      limited = true;
      ANONCODE_CHECK(
          AuditLog::append(tx, {actor, "login.refused", "", {{"reason", "rate_limited"}}}, now_ms));
      return {};
    }
    return store::insert_login_failure(tx, who, now_ms);
  }));
  if (limited) {
    return make_error(ErrorCode::kRateLimited,
                      "too many failed logins for this username: try again later");
  }

  // 2. The password, outside any transaction (argon2id takes tens of milliseconds). An unknown
  //    username is checked against a dummy hash so that it takes as long.
  const bool matches = password_matches(account ? account->password_hash : dummy_hash(), password);
  const auto role = account ? role_from_name(account->role) : std::nullopt;
  const bool ok = matches && account && !account->disabled && role.has_value();

  // 3. The outcome and its audit entry, in one transaction.
  SecretBytes raw(kSessionIdBytes);
  randombytes_buf(raw.expose_secret_mut().data(), raw.size());
  std::string id_text = to_base64url(raw.expose_secret());
  NewSession out{SecretBytes(as_bytes(id_text)), Session{}};
  const Bytes id_hash = hash_bytes(id_text);
  out.session.csrf_token = csrf_token_for(id_text);
  sodium_memzero(id_text.data(), id_text.size());
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    if (!ok) {
      std::string reason = !account            ? "unknown_account"
                           : account->disabled ? "disabled"
                           : !role.has_value() ? "unknown_role"
                                               : "wrong_password";
      const std::string actor = account ? std::string(username) : std::string(kUnknownActor);
      ANONCODE_CHECK(
          AuditLog::append(tx, {actor, "login.failed", "", {{"reason", reason}}}, now_ms));
      return {};
    }
    // A success clears the username's failures, including this attempt's.
    ANONCODE_CHECK(store::clear_login_failures(tx, who));
    ANONCODE_CHECK(store::expire_sessions(tx, now_ms - options_.idle_timeout_ms));
    ANONCODE_CHECK(store::insert_session(tx, id_hash, username, now_ms));
    ANONCODE_CHECK(AuditLog::append(
        tx, {std::string(username), "login", "", {{"role", role_name(*role)}}}, now_ms));
    return {};
  }));
  if (!ok) return unauthorized();
  out.session.username = std::string(username);
  out.session.role = *role;
  return out;
}

Result<Session> AdminAccounts::session(std::string_view session_id, int64_t now_ms) {
  if (!well_formed_session_id(session_id)) return no_session();
  const Bytes id_hash = hash_bytes(session_id);
  std::optional<Session> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out.reset();
    ANONCODE_TRY(auto row, store::load_session(tx, id_hash));
    if (!row || row->id_hash.size() != id_hash.size() ||
        sodium_memcmp(row->id_hash.data(), id_hash.data(), id_hash.size()) != 0) {
      return {};
    }
    auto role = role_from_name(row->role);
    if (row->disabled || !role || now_ms - row->last_seen_at >= options_.idle_timeout_ms) {
      ANONCODE_CHECK(store::delete_session(tx, id_hash));
      return {};
    }
    // Only write when it moves by a minute or more: most requests of a page are read-only.
    if (now_ms - row->last_seen_at >= 60'000 || now_ms < row->last_seen_at) {
      ANONCODE_CHECK(store::touch_session(tx, id_hash, now_ms));
    }
    out = Session{row->username, *role, csrf_token_for(session_id)};
    return {};
  }));
  if (!out) return no_session();
  return *out;
}

Status AdminAccounts::logout(std::string_view session_id, int64_t now_ms) {
  ANONCODE_TRY(Session s, session(session_id, now_ms));
  const Bytes id_hash = hash_bytes(session_id);
  return db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(bool deleted, store::delete_session(tx, id_hash));
    if (!deleted) return no_session();
    ANONCODE_CHECK(AuditLog::append(tx, {s.username, "logout", "", {}}, now_ms));
    return {};
  });
}

}  // namespace anoncode::console
