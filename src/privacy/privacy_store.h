// The privacy backend's SQL: one named function per query, each run inside the caller's
// transaction (storage::Db::transact), so the backend holds no SQL and each of its tables
// (userid_records, retired_identities, show_nonces, certification_transactions, violations,
// issuer_keysets) has one owner here (see platform/platform_store.h). The platform writes its
// violations (copied codes) and reads the user of a traced clone through the functions below.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "privacy/privacy_backend.h"
#include "protocol/issuer_keyset.h"
#include "storage/db.h"

namespace anoncode::privacy::store {

using storage::Tx;

// --- open identities (userid_records, retired_identities) ---

// The open recorded for a user: its request's hash and issue response (null for an open
// recorded before they were kept).
struct RecordedOpen {
  std::optional<Bytes> open_request_hash = {};
  std::optional<Bytes> issue_response = {};
};
Result<std::optional<RecordedOpen>> load_open(Tx& tx, std::string_view user_id);
// A user's identity commitment J and when it was registered.
struct Identity {
  Bytes j = {};
  int64_t opened_at = 0;
};
Result<std::optional<Identity>> load_identity(Tx& tx, std::string_view user_id);
Result<bool> identity_retired(Tx& tx, const Bytes& j);
// A unique violation (the J is registered to another user) is returned as such.
Status insert_identity(Tx& tx, std::string_view user_id, const Bytes& j, int64_t creation_date,
                       const Bytes& open_request_hash, const Bytes& issue_response);
Status retire_identity(Tx& tx, const Identity& identity, std::string_view user_id,
                       int64_t retired_at, std::string_view retired_by, std::string_view reason);
Status delete_identity(Tx& tx, std::string_view user_id);
// The user id J was registered to, retired or not.
Result<std::optional<std::string>> user_of_identity(Tx& tx, const Bytes& j);

// --- show nonces (show_nonces) ---

// Sweeps the nonces that expired before `before`.
Status sweep_nonces(Tx& tx, int64_t before);
Status insert_nonce(Tx& tx, const Bytes& nonce, int64_t expires_at);
struct StoredNonce {
  int64_t expires_at = 0;
  bool used = false;
};
Result<std::optional<StoredNonce>> load_nonce(Tx& tx, const Bytes& nonce);
Status use_nonce(Tx& tx, const Bytes& nonce, int64_t used_at);
// Marks the nonce used unless it was already.
Status use_nonce_if_unused(Tx& tx, const Bytes& nonce, int64_t used_at);

// --- the SN registry (certification_transactions) ---

// An accepted show as the registry kept it.
struct RecordedShow {
  Bytes request_hash = {};
  Bytes issue_response = {};
  Bytes r = {};
  Bytes c = {};
  std::optional<std::string> b = {};
  std::optional<Bytes> show_request = {};  // null for a show recorded before migration 0007
  std::optional<std::string> show_context = {};
  int64_t usage_date = 0;
};
Result<std::optional<RecordedShow>> load_show(Tx& tx, const Bytes& sn);
struct ShowRow {
  Bytes sn = {};
  std::string b = {};
  std::string certification_type = {};
  std::string accountid = {};
  int64_t usage_date = 0;
  Bytes r = {};
  Bytes c = {};
  Bytes kid = {};
  Bytes nonce = {};
  Bytes request_hash = {};
  Bytes issue_response = {};
  Bytes show_request = {};
  std::string show_context = {};
};
Status insert_show(Tx& tx, const ShowRow& s);
// State 01: the serial was shown again.
Status mark_show_repeated(Tx& tx, const Bytes& sn);

// --- violations ---

struct CloneViolation {
  std::string id = {};
  std::optional<std::string> user_id = {};
  Bytes sn = {};
  std::string b = {};
  std::string accountid = {};
  int64_t detected_at = 0;
  std::string detail = {};
  std::optional<std::string> evidence = {};
};
Status insert_clone_violation(Tx& tx, const CloneViolation& v);
// 复制风险 (seed 000 §2.6): a code used more than once, found by the platform's settlement.
struct CopyViolation {
  std::string id = {};
  std::string b = {};
  std::string accountid = {};
  int64_t detected_at = 0;
  std::string detail = {};
};
Status insert_copy_violations(Tx& tx, const std::vector<CopyViolation>& rows);
// The user id of the latest clone violation traced to a user on wallet B (the platform locks
// the wallets of a traced clone with it).
Result<std::optional<std::string>> clone_user(Tx& tx, std::string_view b);
// Every violation, by detected_at, id.
Result<std::vector<Violation>> violations(Tx& tx);
Result<std::optional<Violation>> load_violation(Tx& tx, std::string_view id);
// How many violations of each kind were recorded, by kind (the console's dashboard).
Result<std::vector<std::pair<std::string, int64_t>>> violation_counts(Tx& tx);
// How many violations were recorded (the anoncode_violations gauge), and how many name `user_id`
// (the console reveals only a traced user's identity, in the caller's transaction).
Result<int64_t> count_violations(Tx& tx);
Result<int64_t> count_violations_of(Tx& tx, std::string_view user_id);

// --- published issuer key sets (issuer_keysets) ---

Result<std::optional<protocol::SignedKeySet>> latest_keyset(Tx& tx);
// Every key set, by sequence.
Result<std::vector<protocol::SignedKeySet>> keysets(Tx& tx);
// A unique violation (another node published this sequence) is returned as such.
Status insert_keyset(Tx& tx, int64_t sequence, const protocol::SignedKeySet& set,
                     int64_t published_at);

}  // namespace anoncode::privacy::store
