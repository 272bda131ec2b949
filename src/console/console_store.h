// The console's SQL: one named function per query, each run inside the caller's transaction
// (storage::Db::transact), so the accounts and the audit log hold no SQL and each of the
// console's own tables (admin_accounts, admin_sessions, admin_login_failures, audit_log) has one
// owner here (see platform/platform_store.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console/admin_accounts.h"
#include "console/audit_log.h"
#include "storage/db.h"

namespace anoncode::console::store {

using storage::Tx;

// --- accounts (admin_accounts) ---

// A new account, enabled. A unique violation (the username is taken) is returned as such.
Status insert_account(Tx& tx, std::string_view username, std::string_view role,
                      std::string_view password_hash, int64_t created_at);
// Every account, by username.
Result<std::vector<AccountInfo>> accounts(Tx& tx);
// false: no such account.
Result<bool> set_account_disabled(Tx& tx, std::string_view username, bool disabled);
struct StoredAccount {
  std::string role = {};
  std::string password_hash = {};
  bool disabled = false;
};
Result<std::optional<StoredAccount>> load_account(Tx& tx, std::string_view username);

// --- failed logins (admin_login_failures), by the username's hash ---

// Forgets the failures at or before `at`.
Status forget_login_failures(Tx& tx, const Bytes& username_hash, int64_t at);
Result<int64_t> count_login_failures(Tx& tx, const Bytes& username_hash);
Status insert_login_failure(Tx& tx, const Bytes& username_hash, int64_t at);
Status clear_login_failures(Tx& tx, const Bytes& username_hash);

// --- sessions (admin_sessions), by the hash of their id ---

Status insert_session(Tx& tx, const Bytes& id_hash, std::string_view username, int64_t now_ms);
// A session with its account.
struct StoredSession {
  std::string username = {};
  std::string role = {};
  bool disabled = false;
  int64_t last_seen_at = 0;
  Bytes id_hash = {};
};
Result<std::optional<StoredSession>> load_session(Tx& tx, const Bytes& id_hash);
Status touch_session(Tx& tx, const Bytes& id_hash, int64_t last_seen_at);
// false: no such session.
Result<bool> delete_session(Tx& tx, const Bytes& id_hash);
Status delete_sessions_of(Tx& tx, std::string_view username);
// Deletes the sessions last seen at or before `last_seen_at`.
Status expire_sessions(Tx& tx, int64_t last_seen_at);

// --- the audit log (audit_log) ---

// The chain's last entry.
struct AuditHead {
  int64_t seq = 0;
  Bytes hash = {};
};
Result<std::optional<AuditHead>> audit_head(Tx& tx);
Status insert_audit_entry(Tx& tx, const AuditEntry& e);
Result<int64_t> count_audit_entries(Tx& tx);
// At most `limit` entries after seq `after`, by seq.
Result<std::vector<AuditEntry>> audit_entries_after(Tx& tx, int64_t after, int64_t limit);
// At most `limit` entries before seq `before`, the latest first.
Result<std::vector<AuditEntry>> audit_entries_before(Tx& tx, int64_t before, int64_t limit);

}  // namespace anoncode::console::store
