// The app backend's SQL: one named function per query, each run inside the caller's transaction
// (storage::Db::transact), so the backend holds no SQL and each of its tables (app_users,
// settings, whitelist, anonymous_code_user_relationship, wallet_backups, restore_limits) has one
// owner here (see platform/platform_store.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.h"

namespace anoncode::app::store {

using storage::Tx;

// --- riders (app_users) ---

Result<bool> user_registered(Tx& tx, std::string_view user_id);
// Whether a user with this ID number lookup (AppBackend::id_lookup) is registered.
Result<bool> person_registered(Tx& tx, const Bytes& id_lookup);
// A unique violation (a race with another registration) is returned as such.
Status insert_user(Tx& tx, std::string_view user_id, const Bytes& app_token_hash, const Bytes& pii,
                   const Bytes& id_lookup, int64_t created_at);
struct TokenUser {
  std::string user_id = {};
  Bytes app_token_hash = {};
};
Result<std::optional<TokenUser>> user_of_token(Tx& tx, const Bytes& app_token_hash);
// A user's sealed personal data.
Result<std::optional<Bytes>> sealed_pii(Tx& tx, std::string_view user_id);
struct SealedUser {
  std::string user_id = {};
  Bytes pii = {};
};
// The users with this ID number lookup, by user_id.
Result<std::vector<SealedUser>> users_of_id_lookup(Tx& tx, const Bytes& id_lookup);

// --- whitelist and settings (whitelist, settings) ---

Result<std::optional<std::string>> setting(Tx& tx, std::string_view name);
Status set_setting(Tx& tx, std::string_view name, std::string_view value);
// The whitelisted user ids, sorted.
Result<std::vector<std::string>> whitelisted_users(Tx& tx);
Result<bool> user_whitelisted(Tx& tx, std::string_view user_id);
// Adds a user unless listed already.
Status whitelist_user(Tx& tx, std::string_view user_id, int64_t added_at);
Status unwhitelist_user(Tx& tx, std::string_view user_id);

// --- opening records (anonymous_code_user_relationship) ---

struct OpeningRow {
  std::string bind_id = {};
  std::string chnl_id = {};
  std::string open_id = {};
  std::string card_no = {};
  std::string biz_id = {};
  std::string user_id = {};
  int64_t at = 0;
};
// Inserts the record open (state 0), or opens again the user's record.
Status upsert_opening(Tx& tx, const OpeningRow& o);
// Open (0) → closed (1). false: the user had no open record.
Result<bool> close_opening(Tx& tx, std::string_view user_id, int64_t at);
Result<bool> opening_recorded(Tx& tx, std::string_view user_id);

// --- wallet backups (wallet_backups) ---

// Inserts or replaces the phone's backup, neither released nor consumed.
Status upsert_backup(Tx& tx, std::string_view phone, const Bytes& blob, const Bytes& verifier,
                     int64_t created_at);
struct BackupVerifier {
  Bytes verifier = {};
  bool consumed = false;
};
Result<std::optional<BackupVerifier>> backup_verifier(Tx& tx, std::string_view phone);
Result<std::optional<Bytes>> backup_blob(Tx& tx, std::string_view phone);
// Marks the backup released unless it was already.
Status release_backup(Tx& tx, std::string_view phone, int64_t at);
// Consumes a backup not consumed yet: its blob is emptied, released_at set if it was not.
Status consume_backup(Tx& tx, std::string_view phone, int64_t at);

// --- restore limits (restore_limits) ---

struct FailureCount {
  int64_t failures = 0;
  int64_t window_start = 0;
};
Result<std::optional<FailureCount>> failure_count(Tx& tx, const Bytes& subject);
// Inserts or replaces the subject's count.
Status upsert_failure_count(Tx& tx, const Bytes& subject, std::string_view kind,
                            const FailureCount& count, int64_t locked_until, int64_t updated_at);
// The latest locked_until of these subjects after `now_ms`, nullopt if neither is locked.
Result<std::optional<int64_t>> locked_until(Tx& tx, const Bytes& subject1, const Bytes& subject2,
                                            int64_t now_ms);
Status clear_failures(Tx& tx, const Bytes& subject);
struct LockRow {
  std::string kind = {};
  Bytes subject = {};
  int64_t failures = 0;
  int64_t locked_until = 0;
};
// The locks in force at `now_ms`, the latest first, at most 1000.
Result<std::vector<LockRow>> locks(Tx& tx, int64_t now_ms);

}  // namespace anoncode::app::store
