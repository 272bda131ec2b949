// What the code platform's flow files (recharge.cpp, code.cpp, …) share besides CodePlatform's
// own members: the refusals several flows give, the wallet lookup they start from, and the
// request ledger's record of a result. Not part of the platform's interface (platform.h).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "platform/platform.h"
#include "storage/db.h"

namespace anoncode::platform {

Error wallet_locked();
Error wallet_inactive();
Error amount_out_of_range(int64_t max);
// Retryable: the rider's SDK keeps its journal on a 503 and sends the request again.
Error still_processing();

// An amount as a request's ledger key carries it.
std::string amount_text(int64_t amount);

// The wallet record B as an operation on it needs it: present, not locked, not deactivated.
Result<WalletRecord> load_usable_wallet(storage::Tx& tx, std::string_view b);

// What the request ledger records for a result: {"ok": …}. Defined in platform.cpp for the
// result types of the flows that record their outcome themselves (recharge, refund).
template <typename T>
nlohmann::json ok_json(const T& value);

// The outcome the ledger holds for a request this call did not finish (a concurrent copy claimed
// it first, or this call's refusal was recorded): `stored`, the answer of
// CodePlatform::answered, or "still processing" while the request is pending.
template <typename T>
WalletOutcome<T> or_still_processing(std::optional<WalletOutcome<T>> stored,
                                     const Bytes& response) {
  if (stored) return std::move(*stored);
  return {still_processing(), response};
}

}  // namespace anoncode::platform
