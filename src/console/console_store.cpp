// The console's SQL (console_store.h)
#include "console/console_store.h"

namespace anoncode::console::store {

using storage::Row;

namespace {

// A statement that changes at most one row: whether it changed one.
Result<bool> changed_one(const Result<int64_t>& changed) {
  if (!changed.ok()) return changed.error();
  return *changed == 1;
}

constexpr std::string_view kEntryCols = "seq, at, actor, action, target, details, prev_hash, hash";

Result<std::vector<AuditEntry>> audit_entries(Tx& tx, std::string_view where_order, int64_t bound,
                                              int64_t limit) {
  ANONCODE_TRY(auto rows, tx.query("SELECT " + std::string(kEntryCols) + " FROM audit_log " +
                                       std::string(where_order),
                                   {bound, limit}));
  std::vector<AuditEntry> out;
  for (const auto& r : rows) {
    out.push_back(AuditEntry{r.i64(0), r.i64(1), r.text(2), r.text(3), r.text(4), r.text(5),
                             r.blob(6), r.blob(7)});
  }
  return out;
}

}  // namespace

Status insert_account(Tx& tx, std::string_view username, std::string_view role,
                      std::string_view password_hash, int64_t created_at) {
  return tx.run(
      "INSERT INTO admin_accounts (username, role, password_hash, created_at, disabled) "
      "VALUES ($1, $2, $3, $4, '0')",
      {std::string(username), std::string(role), std::string(password_hash), created_at});
}

Result<std::vector<AccountInfo>> accounts(Tx& tx) {
  ANONCODE_TRY(auto rows, tx.query("SELECT username, role, created_at, disabled "
                                   "FROM admin_accounts ORDER BY username"));
  std::vector<AccountInfo> out;
  for (const auto& r : rows) {
    out.push_back({r.text(0), role_from_name(r.text(1)).value_or(Role::kAuditor), r.i64(2),
                   r.text(3) == "1"});
  }
  return out;
}

Result<bool> set_account_disabled(Tx& tx, std::string_view username, bool disabled) {
  return changed_one(tx.exec("UPDATE admin_accounts SET disabled = $2 WHERE username = $1",
                             {std::string(username), std::string(disabled ? "1" : "0")}));
}

Result<std::optional<StoredAccount>> load_account(Tx& tx, std::string_view username) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT role, password_hash, disabled FROM admin_accounts "
                                      "WHERE username = $1",
                                      {std::string(username)}));
  if (!row) return std::optional<StoredAccount>();
  return std::optional<StoredAccount>(
      StoredAccount{row->text(0), row->text(1), row->text(2) == "1"});
}

Status forget_login_failures(Tx& tx, const Bytes& username_hash, int64_t at) {
  return tx.run("DELETE FROM admin_login_failures WHERE username_hash = $1 AND at <= $2",
                {username_hash, at});
}

Result<int64_t> count_login_failures(Tx& tx, const Bytes& username_hash) {
  ANONCODE_TRY(auto n, tx.query_one("SELECT COUNT(*) FROM admin_login_failures "
                                    "WHERE username_hash = $1",
                                    {username_hash}));
  return n ? n->i64(0) : 0;
}

Status insert_login_failure(Tx& tx, const Bytes& username_hash, int64_t at) {
  return tx.run("INSERT INTO admin_login_failures (username_hash, at) VALUES ($1, $2)",
                {username_hash, at});
}

Status clear_login_failures(Tx& tx, const Bytes& username_hash) {
  return tx.run("DELETE FROM admin_login_failures WHERE username_hash = $1", {username_hash});
}

Status insert_session(Tx& tx, const Bytes& id_hash, std::string_view username, int64_t now_ms) {
  return tx.run(
      "INSERT INTO admin_sessions (id_hash, username, created_at, last_seen_at) "
      "VALUES ($1, $2, $3, $3)",
      {id_hash, std::string(username), now_ms});
}

Result<std::optional<StoredSession>> load_session(Tx& tx, const Bytes& id_hash) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT s.username, a.role, a.disabled, s.last_seen_at, "
                                      "s.id_hash FROM admin_sessions s JOIN admin_accounts a "
                                      "ON a.username = s.username WHERE s.id_hash = $1",
                                      {id_hash}));
  if (!row) return std::optional<StoredSession>();
  return std::optional<StoredSession>(
      StoredSession{row->text(0), row->text(1), row->text(2) == "1", row->i64(3), row->blob(4)});
}

Status touch_session(Tx& tx, const Bytes& id_hash, int64_t last_seen_at) {
  return tx.run("UPDATE admin_sessions SET last_seen_at = $2 WHERE id_hash = $1",
                {id_hash, last_seen_at});
}

Result<bool> delete_session(Tx& tx, const Bytes& id_hash) {
  return changed_one(tx.exec("DELETE FROM admin_sessions WHERE id_hash = $1", {id_hash}));
}

Status delete_sessions_of(Tx& tx, std::string_view username) {
  return tx.run("DELETE FROM admin_sessions WHERE username = $1", {std::string(username)});
}

Status expire_sessions(Tx& tx, int64_t last_seen_at) {
  return tx.run("DELETE FROM admin_sessions WHERE last_seen_at <= $1", {last_seen_at});
}

Result<std::optional<AuditHead>> audit_head(Tx& tx) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", {}));
  if (!row) return std::optional<AuditHead>();
  return std::optional<AuditHead>(AuditHead{row->i64(0), row->blob(1)});
}

Status insert_audit_entry(Tx& tx, const AuditEntry& e) {
  return tx.run(
      "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {e.seq, e.at, e.actor, e.action, e.target, e.details, e.prev_hash, e.hash});
}

Result<int64_t> count_audit_entries(Tx& tx) {
  ANONCODE_TRY(auto n, tx.query_one("SELECT COUNT(*) FROM audit_log", {}));
  return n ? n->i64(0) : 0;
}

Result<std::vector<AuditEntry>> audit_entries_after(Tx& tx, int64_t after, int64_t limit) {
  return audit_entries(tx, "WHERE seq > $1 ORDER BY seq LIMIT $2", after, limit);
}

Result<std::vector<AuditEntry>> audit_entries_before(Tx& tx, int64_t before, int64_t limit) {
  return audit_entries(tx, "WHERE seq < $1 ORDER BY seq DESC LIMIT $2", before, limit);
}

}  // namespace anoncode::console::store
