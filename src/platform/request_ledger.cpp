// DESIGN §3.6 rule 1: the request ledger
#include "platform/request_ledger.h"

#include <chrono>
#include <thread>

#include "crypto/sm3.h"

namespace anoncode::platform {

using storage::Tx;
using storage::Value;

namespace {

Bytes sm3_bytes(ByteView b) {
  auto d = crypto::sm3(b);
  return Bytes(d.begin(), d.end());
}

constexpr int kAwaitMs = 5000, kPollMs = 10;

}  // namespace

LedgerKey ledger_key(std::string_view op, ByteView show, std::initializer_list<ByteView> fields) {
  ByteWriter w;
  w.var(as_bytes(std::string_view("anoncode/v1/request")));
  w.var(as_bytes(op));
  w.var(show);
  for (ByteView f : fields) w.var(f);
  return {std::string(op), sm3_bytes(show), sm3_bytes(w.bytes())};
}

nlohmann::json refusal_json(const Error& e) {
  return {{"error", {{"code", std::string(e.code_name())}, {"message", e.message}}}};
}

bool is_final_refusal(const Error& e) {
  return e.code != ErrorCode::kInternal && e.code != ErrorCode::kUnavailable;
}

Result<std::optional<LedgerEntry>> RequestLedger::read(const LedgerKey& k) {
  std::optional<LedgerEntry> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out.reset();
    ANONCODE_TRY(auto row, tx.query_one("SELECT state, result, digest, issue_response, op "
                                        "FROM platform_requests WHERE request_hash = $1",
                                        {k.key}));
    if (!row) return {};
    if (row->is_null(2) || row->blob(2) != k.digest || row->text(4) != k.op) {
      return make_error(ErrorCode::kConflict,
                        "this show was sent before with other fields; nothing was changed");
    }
    LedgerEntry e;
    e.done = row->text(0) == "done";
    if (e.done) {
      e.result = nlohmann::json::parse(row->text(1), nullptr, false);
      if (e.result.is_discarded() || !e.result.is_object()) {
        return make_error(ErrorCode::kInternal, "a stored outcome does not parse");
      }
    }
    if (!row->is_null(3)) e.issue_response = row->blob(3);
    out = std::move(e);
    return {};
  }));
  return out;
}

Result<std::optional<LedgerEntry>> RequestLedger::find(const LedgerKey& k) {
  for (int waited = 0;; waited += kPollMs) {
    ANONCODE_TRY(auto e, read(k));
    if (!e || e->done || waited >= kAwaitMs) return e;
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
}

Result<bool> RequestLedger::recorded(Tx& tx, const LedgerKey& k) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT 1 FROM platform_requests WHERE request_hash = $1", {k.key}));
  return row.has_value();
}

Status RequestLedger::claim(Tx& tx, const LedgerKey& k, const Bytes& issue_response,
                            int64_t now_ms) {
  ANONCODE_CHECK(tx.exec(
      "INSERT INTO platform_requests (request_hash, op, state, created_at, updated_at, digest, "
      "issue_response) VALUES ($1, $2, 'pending', $3, $3, $4, $5)",
      {k.key, k.op, now_ms, k.digest, issue_response}));
  return {};
}

Status RequestLedger::finish(Tx& tx, const LedgerKey& k, const nlohmann::json& result,
                             const std::optional<Bytes>& issue_response, int64_t now_ms) {
  const Value response = issue_response ? Value(*issue_response) : Value();
  ANONCODE_CHECK(tx.exec(
      "INSERT INTO platform_requests (request_hash, op, state, result, created_at, updated_at, "
      "digest, issue_response) VALUES ($1, $2, 'done', $3, $4, $4, $5, $6) "
      "ON CONFLICT (request_hash) DO UPDATE SET state = 'done', result = $3, updated_at = $4",
      {k.key, k.op, result.dump(), now_ms, k.digest, response}));
  return {};
}

Status RequestLedger::refuse(const LedgerKey& k, const Error& e, const Bytes& issue_response,
                             int64_t now_ms) {
  return db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto row, tx.query_one("SELECT state FROM platform_requests "
                                        "WHERE request_hash = $1",
                                        {k.key}));
    if (row && row->text(0) == "done") return {};  // a concurrent copy answered first
    return finish(tx, k, refusal_json(e), issue_response, now_ms);
  });
}

}  // namespace anoncode::platform
