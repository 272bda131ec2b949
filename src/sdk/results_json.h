// The SDK's results as JSON (DESIGN §6): the one object `anoncode wallet …` prints and the C ABI
// hands out, written here for both. `nlohmann::json j = result;` finds these by ADL.
//
// And the other way: a server's answer read into a result (the SDK's own use). The members a
// result prints are the members of the server's answer, so an answer prints as it came, less the
// next credential ("response").
#pragma once

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "sdk/results.h"

namespace anoncode::sdk {

void to_json(nlohmann::json& j, const OpenResult& r);
void to_json(nlohmann::json& j, const WalletBalance& r);
void to_json(nlohmann::json& j, const CodeResult& r);
void to_json(nlohmann::json& j, const MoneyRecord& r);
void to_json(nlohmann::json& j, const RideRecord& r);
void to_json(nlohmann::json& j, const History& r);
void to_json(nlohmann::json& j, const RefundResult& r);
void to_json(nlohmann::json& j, const CloseResult& r);
void to_json(nlohmann::json& j, const BackupResult& r);
void to_json(nlohmann::json& j, const RestoreResult& r);

// A server's answer as a result; `malformed` when a member is missing or of another type.
Result<WalletBalance> wallet_balance_from(const nlohmann::json& answer);
Result<CodeResult> code_from(const nlohmann::json& answer);
// `rides`: the answer to a ride history query (else to a recharge history query).
Result<History> history_from(const nlohmann::json& answer, bool rides);
Result<RefundResult> refund_from(const nlohmann::json& answer);

}  // namespace anoncode::sdk
