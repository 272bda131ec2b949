// The app backend's SQL (app_store.h)
#include "app/app_store.h"

namespace anoncode::app::store {

namespace {

// Whether a query returned a row.
Result<bool> any_row(Tx& tx, std::string_view sql, const storage::Value& param) {
  ANONCODE_TRY(auto row, tx.query_one(sql, {param}));
  return row.has_value();
}

}  // namespace

Result<bool> user_registered(Tx& tx, std::string_view user_id) {
  return any_row(tx, "SELECT 1 FROM app_users WHERE user_id = $1", std::string(user_id));
}

Result<bool> person_registered(Tx& tx, const Bytes& id_lookup) {
  return any_row(tx, "SELECT 1 FROM app_users WHERE id_lookup = $1", id_lookup);
}

Status insert_user(Tx& tx, std::string_view user_id, const Bytes& app_token_hash, const Bytes& pii,
                   const Bytes& id_lookup, int64_t created_at) {
  return tx.run(
      "INSERT INTO app_users (user_id, app_token_hash, pii, id_lookup, created_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      {std::string(user_id), app_token_hash, pii, id_lookup, created_at});
}

Result<std::optional<TokenUser>> user_of_token(Tx& tx, const Bytes& app_token_hash) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT user_id, app_token_hash FROM app_users "
                                      "WHERE app_token_hash = $1",
                                      {app_token_hash}));
  if (!row) return std::optional<TokenUser>();
  return std::optional<TokenUser>(TokenUser{row->text(0), row->blob(1)});
}

Result<std::optional<Bytes>> sealed_pii(Tx& tx, std::string_view user_id) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT pii FROM app_users WHERE user_id = $1",
                                      {std::string(user_id)}));
  if (!row) return std::optional<Bytes>();
  return std::optional<Bytes>(row->blob(0));
}

Result<std::vector<SealedUser>> users_of_id_lookup(Tx& tx, const Bytes& id_lookup) {
  ANONCODE_TRY(auto rows, tx.query("SELECT user_id, pii FROM app_users WHERE id_lookup = $1 "
                                   "ORDER BY user_id",
                                   {id_lookup}));
  std::vector<SealedUser> out;
  for (const auto& r : rows) out.push_back(SealedUser{r.text(0), r.blob(1)});
  return out;
}

Result<std::optional<std::string>> setting(Tx& tx, std::string_view name) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT value FROM settings WHERE name = $1", {std::string(name)}));
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(row->text(0));
}

Status set_setting(Tx& tx, std::string_view name, std::string_view value) {
  return tx.run(
      "INSERT INTO settings (name, value) VALUES ($1, $2) "
      "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      {std::string(name), std::string(value)});
}

Result<std::vector<std::string>> whitelisted_users(Tx& tx) {
  ANONCODE_TRY(auto rows, tx.query("SELECT user_id FROM whitelist ORDER BY user_id"));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.text(0));
  return out;
}

Result<bool> user_whitelisted(Tx& tx, std::string_view user_id) {
  return any_row(tx, "SELECT 1 FROM whitelist WHERE user_id = $1", std::string(user_id));
}

Status whitelist_user(Tx& tx, std::string_view user_id, int64_t added_at) {
  return tx.run(
      "INSERT INTO whitelist (user_id, added_at) VALUES ($1, $2) ON CONFLICT (user_id) "
      "DO NOTHING",
      {std::string(user_id), added_at});
}

Status unwhitelist_user(Tx& tx, std::string_view user_id) {
  return tx.run("DELETE FROM whitelist WHERE user_id = $1", {std::string(user_id)});
}

Status upsert_opening(Tx& tx, const OpeningRow& o) {
  return tx.run(
      "INSERT INTO anonymous_code_user_relationship (bind_id, chnl_id, open_id, card_no, "
      "card_type, biz_id, user_id, create_time, modi_time, state) "
      "VALUES ($1, $2, $3, $4, 'N', $5, $6, $7, $7, '0') "
      "ON CONFLICT (user_id) DO UPDATE SET state = '0', modi_time = $7",
      {o.bind_id, o.chnl_id, o.open_id, o.card_no, o.biz_id, o.user_id, o.at});
}

Result<bool> close_opening(Tx& tx, std::string_view user_id, int64_t at) {
  ANONCODE_TRY(int64_t n, tx.exec("UPDATE anonymous_code_user_relationship SET state = '1', "
                                  "modi_time = $2 WHERE user_id = $1 AND state = '0'",
                                  {std::string(user_id), at}));
  return n == 1;
}

Result<bool> opening_recorded(Tx& tx, std::string_view user_id) {
  return any_row(tx, "SELECT 1 FROM anonymous_code_user_relationship WHERE user_id = $1",
                 std::string(user_id));
}

Status upsert_backup(Tx& tx, std::string_view phone, const Bytes& blob, const Bytes& verifier,
                     int64_t created_at) {
  return tx.run(
      "INSERT INTO wallet_backups (phone, blob, verifier, created_at, released_at, consumed_at) "
      "VALUES ($1, $2, $3, $4, NULL, NULL) ON CONFLICT (phone) DO UPDATE SET "
      "blob = excluded.blob, verifier = excluded.verifier, created_at = excluded.created_at, "
      "released_at = NULL, consumed_at = NULL",
      {std::string(phone), blob, verifier, created_at});
}

Result<std::optional<BackupVerifier>> backup_verifier(Tx& tx, std::string_view phone) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT verifier, consumed_at FROM wallet_backups "
                                      "WHERE phone = $1",
                                      {std::string(phone)}));
  if (!row) return std::optional<BackupVerifier>();
  return std::optional<BackupVerifier>(BackupVerifier{row->blob(0), !row->is_null(1)});
}

Result<std::optional<Bytes>> backup_blob(Tx& tx, std::string_view phone) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT blob FROM wallet_backups WHERE phone = $1",
                                      {std::string(phone)}));
  if (!row) return std::optional<Bytes>();
  return std::optional<Bytes>(row->blob(0));
}

Status release_backup(Tx& tx, std::string_view phone, int64_t at) {
  return tx.run(
      "UPDATE wallet_backups SET released_at = $2 WHERE phone = $1 AND released_at IS NULL",
      {std::string(phone), at});
}

Status consume_backup(Tx& tx, std::string_view phone, int64_t at) {
  return tx.run(
      "UPDATE wallet_backups SET consumed_at = $2, blob = $3, "
      "released_at = COALESCE(released_at, $2) WHERE phone = $1 "
      "AND consumed_at IS NULL",
      {std::string(phone), at, Bytes{}});
}

Result<std::optional<FailureCount>> failure_count(Tx& tx, const Bytes& subject) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT failures, window_start FROM restore_limits "
                                      "WHERE subject = $1",
                                      {subject}));
  if (!row) return std::optional<FailureCount>();
  return std::optional<FailureCount>(FailureCount{row->i64(0), row->i64(1)});
}

Status upsert_failure_count(Tx& tx, const Bytes& subject, std::string_view kind,
                            const FailureCount& count, int64_t locked_until, int64_t updated_at) {
  return tx.run(
      "INSERT INTO restore_limits (subject, kind, failures, window_start, locked_until, "
      "updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject) DO UPDATE SET "
      "failures = excluded.failures, window_start = excluded.window_start, "
      "locked_until = excluded.locked_until, updated_at = excluded.updated_at",
      {subject, std::string(kind), count.failures, count.window_start, locked_until, updated_at});
}

Result<std::optional<int64_t>> locked_until(Tx& tx, const Bytes& subject1, const Bytes& subject2,
                                            int64_t now_ms) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT MAX(locked_until) FROM restore_limits "
                                      "WHERE subject IN ($1, $2) AND locked_until > $3",
                                      {subject1, subject2, now_ms}));
  if (!row || row->is_null(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(row->i64(0));
}

Status clear_failures(Tx& tx, const Bytes& subject) {
  return tx.run("DELETE FROM restore_limits WHERE subject = $1", {subject});
}

Result<std::vector<LockRow>> locks(Tx& tx, int64_t now_ms) {
  ANONCODE_TRY(auto rows, tx.query("SELECT kind, subject, failures, locked_until "
                                   "FROM restore_limits WHERE locked_until > $1 "
                                   "ORDER BY locked_until DESC, subject LIMIT 1000",
                                   {now_ms}));
  std::vector<LockRow> out;
  for (const auto& r : rows) out.push_back(LockRow{r.text(0), r.blob(1), r.i64(2), r.i64(3)});
  return out;
}

}  // namespace anoncode::app::store
