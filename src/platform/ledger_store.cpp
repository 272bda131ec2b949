// The request ledger's SQL (ledger_store.h)
#include "platform/ledger_store.h"

namespace anoncode::platform::store {

using storage::Tx;
using storage::Value;

Result<std::optional<StoredRequest>> load_request(Tx& tx, const LedgerKey& k) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT state, result, digest, issue_response, op "
                                      "FROM platform_requests WHERE request_hash = $1",
                                      {k.key}));
  if (!row) return std::optional<StoredRequest>();
  StoredRequest s;
  s.state = row->text(0);
  if (!row->is_null(1)) s.result = row->text(1);
  if (!row->is_null(2)) s.digest = row->blob(2);
  if (!row->is_null(3)) s.issue_response = row->blob(3);
  s.op = row->text(4);
  return std::optional<StoredRequest>(std::move(s));
}

Result<bool> request_recorded(Tx& tx, const LedgerKey& k) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT 1 FROM platform_requests WHERE request_hash = $1", {k.key}));
  return row.has_value();
}

Result<std::optional<std::string>> request_state(Tx& tx, const LedgerKey& k) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT state FROM platform_requests "
                                      "WHERE request_hash = $1",
                                      {k.key}));
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(row->text(0));
}

Result<int64_t> count_pending_requests(Tx& tx) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT COUNT(*) FROM platform_requests WHERE state = 'pending'"));
  return row ? row->i64(0) : 0;
}

Status insert_pending_request(Tx& tx, const LedgerKey& k, const Bytes& issue_response,
                              int64_t now_ms) {
  ANONCODE_CHECK(tx.exec(
      "INSERT INTO platform_requests (request_hash, op, state, created_at, updated_at, digest, "
      "issue_response) VALUES ($1, $2, 'pending', $3, $3, $4, $5)",
      {k.key, k.op, now_ms, k.digest, issue_response}));
  return {};
}

Status record_request_outcome(Tx& tx, const LedgerKey& k, const std::string& result,
                              const std::optional<Bytes>& issue_response, int64_t now_ms) {
  const Value response = issue_response ? Value(*issue_response) : Value();
  ANONCODE_CHECK(tx.exec(
      "INSERT INTO platform_requests (request_hash, op, state, result, created_at, updated_at, "
      "digest, issue_response) VALUES ($1, $2, 'done', $3, $4, $4, $5, $6) "
      "ON CONFLICT (request_hash) DO UPDATE SET state = 'done', result = $3, updated_at = $4",
      {k.key, k.op, result, now_ms, k.digest, response}));
  return {};
}

}  // namespace anoncode::platform::store
