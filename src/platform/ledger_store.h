// The request ledger's SQL (request_ledger.h): the one owner of the platform_requests table, one
// named function per query, each run inside the caller's transaction (see platform_store.h).
#pragma once

#include <optional>
#include <string>

#include "platform/request_ledger.h"
#include "storage/db.h"

namespace anoncode::platform::store {

// A recorded request as it is stored.
struct StoredRequest {
  std::string state = {};   // pending, done
  std::string result = {};  // the outcome's JSON once done
  std::optional<Bytes> digest = {};
  std::optional<Bytes> issue_response = {};
  std::string op = {};
};

// The request with this key's request_hash (SM3 of its show), whatever its digest.
Result<std::optional<StoredRequest>> load_request(storage::Tx& tx, const LedgerKey& k);
// Whether a request with this request_hash is recorded.
Result<bool> request_recorded(storage::Tx& tx, const LedgerKey& k);
// The state of the request with this request_hash, nullopt if none.
Result<std::optional<std::string>> request_state(storage::Tx& tx, const LedgerKey& k);
Status insert_pending_request(storage::Tx& tx, const LedgerKey& k, const Bytes& issue_response,
                              int64_t now_ms);
// Inserts the request as done, or completes a pending one (its digest and issue response stay).
// How many requests are claimed (pending) and not finished: the metrics' gauge.
Result<int64_t> count_pending_requests(storage::Tx& tx);
Status record_request_outcome(storage::Tx& tx, const LedgerKey& k, const std::string& result,
                              const std::optional<Bytes>& issue_response, int64_t now_ms);

}  // namespace anoncode::platform::store
