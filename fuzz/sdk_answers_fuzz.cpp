// The servers' answers as the SDK reads them (sdk/results_json.h): wallet_balance_from,
// code_from, history_from and refund_from read the JSON bodies of the code platform's answers —
// untrusted by the rider's device, whatever TLS says about who sent them.
//
// Properties: no crash; a result that reads is printed (to_json, what `anoncode wallet` and the C
// ABI hand out) as JSON that reads back to the same printed result.
#include "fuzz_util.h"
#include "sdk/results_json.h"

using namespace anoncode;
using namespace anoncode::sdk;

namespace {

template <typename R, typename Read>
void round_trip(const nlohmann::json& answer, Read read) {
  auto r = read(answer);
  if (!r) return;
  nlohmann::json printed = *r;
  auto again = read(printed);
  FUZZ_CHECK(again);
  FUZZ_CHECK(nlohmann::json(*again) == printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = fuzz::as_json(data, size);
  if (!j) return 0;
  round_trip<WalletBalance>(*j, wallet_balance_from);
  round_trip<CodeResult>(*j, code_from);
  round_trip<History>(*j, [](const nlohmann::json& a) { return history_from(a, true); });
  round_trip<History>(*j, [](const nlohmann::json& a) { return history_from(a, false); });
  round_trip<RefundResult>(*j, refund_from);
  return 0;
}
