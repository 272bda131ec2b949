// The request ledger (DESIGN §3.6 rule 1; docs/PROTOCOL.md "The request ledger"): one component in
// front of every wallet operation — recharge, code, history, refund, close.
//
// A request is keyed by the SM3 of its show request (a show is unique: it carries a single-use
// nonce and fresh randomness) and identified by the SM3 of every field it carries (`digest`).
// Before any business rule, and before the show's nonce is looked at, the platform asks the
// ledger: the identical request again is answered with exactly the stored outcome — a result or a
// refusal — and always with the issue response of its show, so a rider whose reply was lost gets
// the answer it missed and can never be pushed into showing its credential a second time. The
// same show under other fields is refused (`conflict`) and changes nothing.
//
// The outcome is written in the same transaction as the operation's effects, so a crash leaves
// either both or neither. Transient failures (`internal`, `unavailable`) are not recorded: the
// retry runs the operation again (the privacy backend answers the show's replay with the same
// issue response).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "storage/db.h"

namespace anoncode::platform {

// What identifies one wallet request.
struct LedgerKey {
  std::string op;  // recharge, code, history, refund, close
  Bytes key;       // SM3(show request)
  Bytes digest;    // SM3 of the whole request: the op and every field, length-prefixed
};

// Builds a LedgerKey: `fields` are every field of the request besides the show, in a fixed order.
LedgerKey ledger_key(std::string_view op, ByteView show, std::initializer_list<ByteView> fields);

// A recorded request.
struct LedgerEntry {
  bool done = false;                    // false: pending (a payment channel is being called)
  nlohmann::json result;                // {"ok": {...}} or {"error": {"code", "message"}}
  std::optional<Bytes> issue_response;  // the show's next credential, once it was spent
};

class RequestLedger {
 public:
  explicit RequestLedger(storage::Db& db) : db_(db) {}

  // The entry for this request, nullopt if none. A pending entry is awaited (a concurrent copy of
  // the request, on this node or another, is finishing it) for up to 5 s. The same show with
  // another digest is a `conflict`.
  Result<std::optional<LedgerEntry>> find(const LedgerKey& k);

  // The entry for this request in the caller's transaction, without waiting for a pending one.
  static Result<std::optional<LedgerEntry>> read_in(storage::Tx& tx, const LedgerKey& k);

  // Inside an operation's transaction: whether the request is recorded already (a concurrent
  // copy won); claims it as pending (recharge, refund: before calling a payment channel); records
  // its final outcome (inserts, or completes a pending claim).
  static Result<bool> recorded(storage::Tx& tx, const LedgerKey& k);
  static Status claim(storage::Tx& tx, const LedgerKey& k, const Bytes& issue_response,
                      int64_t now_ms);
  static Status finish(storage::Tx& tx, const LedgerKey& k, const nlohmann::json& result,
                       const std::optional<Bytes>& issue_response, int64_t now_ms);

  // A refusal in its own transaction (unless a concurrent copy recorded an outcome first).
  Status refuse(const LedgerKey& k, const Error& e, const Bytes& issue_response, int64_t now_ms);

 private:
  Result<std::optional<LedgerEntry>> read(const LedgerKey& k);
  storage::Db& db_;
};

// The JSON a ledger stores for a refusal.
nlohmann::json refusal_json(const Error& e);
// Whether an error is a final answer to record (a refusal by the rules), not a transient one.
bool is_final_refusal(const Error& e);

}  // namespace anoncode::platform
