// The privacy backend's SQL (privacy_store.h)
#include "privacy/privacy_store.h"

namespace anoncode::privacy::store {

using storage::Row;
using storage::Value;

namespace {

constexpr std::string_view kViolationCols =
    "id, kind, user_id, b, accountid, detected_at, evidence";

Violation violation_of(const Row& r) {
  return Violation{r.text(0),
                   r.text(1),
                   r.opt_text(2),
                   r.is_null(3) ? "" : r.text(3),
                   r.is_null(4) ? "" : r.text(4),
                   r.i64(5),
                   r.opt_text(6)};
}

}  // namespace

Result<std::optional<RecordedOpen>> load_open(Tx& tx, std::string_view user_id) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT open_request_hash, issue_response "
                                      "FROM userid_records WHERE user_id = $1",
                                      {std::string(user_id)}));
  if (!row) return std::optional<RecordedOpen>();
  return std::optional<RecordedOpen>(RecordedOpen{row->opt_blob(0), row->opt_blob(1)});
}

Result<std::optional<Identity>> load_identity(Tx& tx, std::string_view user_id) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT j, creation_date FROM userid_records "
                                      "WHERE user_id = $1",
                                      {std::string(user_id)}));
  if (!row) return std::optional<Identity>();
  return std::optional<Identity>(Identity{row->blob(0), row->i64(1)});
}

Result<bool> identity_retired(Tx& tx, const Bytes& j) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT 1 FROM retired_identities WHERE j = $1", {j}));
  return row.has_value();
}

Status insert_identity(Tx& tx, std::string_view user_id, const Bytes& j, int64_t creation_date,
                       const Bytes& open_request_hash, const Bytes& issue_response) {
  return tx.run(
      "INSERT INTO userid_records (user_id, j, creation_date, open_request_hash, "
      "issue_response) VALUES ($1, $2, $3, $4, $5)",
      {std::string(user_id), j, creation_date, open_request_hash, issue_response});
}

Status retire_identity(Tx& tx, const Identity& identity, std::string_view user_id,
                       int64_t retired_at, std::string_view retired_by, std::string_view reason) {
  return tx.run(
      "INSERT INTO retired_identities (j, user_id, opened_at, retired_at, retired_by, reason) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {identity.j, std::string(user_id), identity.opened_at, retired_at, std::string(retired_by),
       std::string(reason)});
}

Status delete_identity(Tx& tx, std::string_view user_id) {
  return tx.run("DELETE FROM userid_records WHERE user_id = $1", {std::string(user_id)});
}

Result<std::optional<std::string>> user_of_identity(Tx& tx, const Bytes& j) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT user_id FROM userid_records WHERE j = $1 "
                                      "UNION ALL "
                                      "SELECT user_id FROM retired_identities WHERE j = $1",
                                      {j}));
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(row->text(0));
}

Status sweep_nonces(Tx& tx, int64_t before) {
  return tx.run("DELETE FROM show_nonces WHERE expires_at < $1", {before});
}

Status insert_nonce(Tx& tx, const Bytes& nonce, int64_t expires_at) {
  return tx.run("INSERT INTO show_nonces (nonce, expires_at) VALUES ($1, $2)", {nonce, expires_at});
}

Result<std::optional<StoredNonce>> load_nonce(Tx& tx, const Bytes& nonce) {
  ANONCODE_TRY(
      auto row,
      tx.query_one("SELECT expires_at, used_at FROM show_nonces WHERE nonce = $1", {nonce}));
  if (!row) return std::optional<StoredNonce>();
  return std::optional<StoredNonce>(StoredNonce{row->i64(0), !row->is_null(1)});
}

Status use_nonce(Tx& tx, const Bytes& nonce, int64_t used_at) {
  return tx.run("UPDATE show_nonces SET used_at = $2 WHERE nonce = $1", {nonce, used_at});
}

Status use_nonce_if_unused(Tx& tx, const Bytes& nonce, int64_t used_at) {
  return tx.run("UPDATE show_nonces SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL",
                {nonce, used_at});
}

Result<std::optional<RecordedShow>> load_show(Tx& tx, const Bytes& sn) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT request_hash, issue_response, r, c, b, "
                                      "show_request, show_context, usage_date "
                                      "FROM certification_transactions WHERE sn = $1",
                                      {sn}));
  if (!row) return std::optional<RecordedShow>();
  RecordedShow s;
  s.request_hash = row->blob(0);
  s.issue_response = row->blob(1);
  s.r = row->blob(2);
  s.c = row->blob(3);
  s.b = row->opt_text(4);
  s.show_request = row->opt_blob(5);
  s.show_context = row->opt_text(6);
  s.usage_date = row->i64(7);
  return std::optional<RecordedShow>(std::move(s));
}

Status insert_show(Tx& tx, const ShowRow& s) {
  return tx.run(
      "INSERT INTO certification_transactions (sn, b, certification_type, accountid, usage_date, "
      "r, c, kid, nonce, request_hash, issue_response, show_request, show_context) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
      {s.sn, s.b, s.certification_type, s.accountid, s.usage_date, s.r, s.c, s.kid, s.nonce,
       s.request_hash, s.issue_response, s.show_request, s.show_context});
}

Status mark_show_repeated(Tx& tx, const Bytes& sn) {
  return tx.run("UPDATE certification_transactions SET state = '01' WHERE sn = $1", {sn});
}

Status insert_clone_violation(Tx& tx, const CloneViolation& v) {
  return tx.run(
      "INSERT INTO violations (id, kind, user_id, sn, b, accountid, detected_at, detail, "
      "evidence) VALUES ($1, 'clone', $2, $3, $4, $5, $6, $7, $8)",
      {v.id, storage::text_or_null(v.user_id), v.sn, v.b, v.accountid, v.detected_at, v.detail,
       storage::text_or_null(v.evidence)});
}

Status insert_copy_violations(Tx& tx, const std::vector<CopyViolation>& rows) {
  // user_id and sn stay NULL: a copied code names a wallet, not a user.
  return storage::insert_each(
      tx, "INSERT INTO violations (id, kind, b, accountid, detected_at, detail) VALUES ", 6, rows,
      [](const CopyViolation& v) {
        return std::vector<storage::Value>{v.id,        std::string("copy"), v.b,
                                           v.accountid, v.detected_at,       v.detail};
      });
}

Result<std::optional<std::string>> clone_user(Tx& tx, std::string_view b) {
  ANONCODE_TRY(auto user, tx.query_one("SELECT user_id FROM violations WHERE kind = 'clone' "
                                       "AND b = $1 AND user_id IS NOT NULL "
                                       "ORDER BY detected_at DESC, id DESC LIMIT 1",
                                       {std::string(b)}));
  if (!user) return std::optional<std::string>();
  return std::optional<std::string>(user->text(0));
}

Result<std::vector<Violation>> violations(Tx& tx) {
  ANONCODE_TRY(auto rows, tx.query("SELECT " + std::string(kViolationCols) +
                                   " FROM violations ORDER BY detected_at, id"));
  std::vector<Violation> out;
  for (const auto& r : rows) out.push_back(violation_of(r));
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> violation_counts(Tx& tx) {
  ANONCODE_TRY(auto rows,
               tx.query("SELECT kind, COUNT(*) FROM violations GROUP BY kind ORDER BY kind"));
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& r : rows) out.emplace_back(r.text(0), r.i64(1));
  return out;
}

Result<int64_t> count_violations(Tx& tx) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT COUNT(*) FROM violations"));
  return row ? row->i64(0) : 0;
}

Result<int64_t> count_violations_of(Tx& tx, std::string_view user_id) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT COUNT(*) FROM violations WHERE user_id = $1",
                                      {std::string(user_id)}));
  return row ? row->i64(0) : 0;
}

Result<std::optional<Violation>> load_violation(Tx& tx, std::string_view id) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT " + std::string(kViolationCols) +
                                          " FROM violations WHERE id = $1",
                                      {std::string(id)}));
  if (!row) return std::optional<Violation>();
  return std::optional<Violation>(violation_of(*row));
}

Result<std::optional<protocol::SignedKeySet>> latest_keyset(Tx& tx) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT body, signature FROM issuer_keysets "
                                      "ORDER BY sequence DESC LIMIT 1"));
  if (!row) return std::optional<protocol::SignedKeySet>();
  return std::optional<protocol::SignedKeySet>(protocol::SignedKeySet{row->text(0), row->blob(1)});
}

Result<std::vector<protocol::SignedKeySet>> keysets(Tx& tx) {
  ANONCODE_TRY(auto rows, tx.query("SELECT body, signature FROM issuer_keysets ORDER BY sequence"));
  std::vector<protocol::SignedKeySet> out;
  for (const auto& r : rows) out.push_back({r.text(0), r.blob(1)});
  return out;
}

Status insert_keyset(Tx& tx, int64_t sequence, const protocol::SignedKeySet& set,
                     int64_t published_at) {
  return tx.run(
      "INSERT INTO issuer_keysets (sequence, body, signature, published_at) "
      "VALUES ($1, $2, $3, $4)",
      {sequence, set.body, set.signature, published_at});
}

}  // namespace anoncode::privacy::store
