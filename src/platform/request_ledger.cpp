// DESIGN §3.6 rule 1: the request ledger
#include "platform/request_ledger.h"

#include <chrono>
#include <thread>

#include "crypto/sm3.h"
#include "platform/ledger_store.h"
#include "protocol/errors.h"

namespace anoncode::platform {

using storage::Tx;

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
  return protocol::error_body(e);
}

bool is_final_refusal(const Error& e) {
  return e.code != ErrorCode::kInternal && e.code != ErrorCode::kUnavailable;
}

Result<std::optional<LedgerEntry>> RequestLedger::read_in(Tx& tx, const LedgerKey& k) {
  ANONCODE_TRY(auto stored, store::load_request(tx, k));
  if (!stored) return std::optional<LedgerEntry>();
  if (!stored->digest || *stored->digest != k.digest || stored->op != k.op) {
    return make_error(ErrorCode::kConflict,
                      "this show was sent before with other fields; nothing was changed");
  }
  LedgerEntry e;
  e.done = stored->state == "done";
  if (e.done) {
    e.result = nlohmann::json::parse(stored->result, nullptr, false);
    if (e.result.is_discarded() || !e.result.is_object()) {
      return make_error(ErrorCode::kInternal, "a stored outcome does not parse");
    }
  }
  e.issue_response = std::move(stored->issue_response);
  return std::optional<LedgerEntry>(std::move(e));
}

Result<std::optional<LedgerEntry>> RequestLedger::read(const LedgerKey& k) {
  std::optional<LedgerEntry> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(out, read_in(tx, k));
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
  return store::request_recorded(tx, k);
}

Status RequestLedger::claim(Tx& tx, const LedgerKey& k, const Bytes& issue_response,
                            int64_t now_ms) {
  return store::insert_pending_request(tx, k, issue_response, now_ms);
}

Status RequestLedger::finish(Tx& tx, const LedgerKey& k, const nlohmann::json& result,
                             const std::optional<Bytes>& issue_response, int64_t now_ms) {
  return store::record_request_outcome(tx, k, result.dump(), issue_response, now_ms);
}

Status RequestLedger::refuse(const LedgerKey& k, const Error& e, const Bytes& issue_response,
                             int64_t now_ms) {
  return db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto state, store::request_state(tx, k));
    if (state && *state == "done") return {};  // a concurrent copy answered first
    return finish(tx, k, refusal_json(e), issue_response, now_ms);
  });
}

}  // namespace anoncode::platform
