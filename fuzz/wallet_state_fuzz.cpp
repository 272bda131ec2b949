// The SDK's wallet state (sdk/wallet_state.h): state_from_json reads the state file on the
// rider's device and the plaintext of a backup restored from the app backend — a file any app on
// a rooted phone, or a bad backup, can hand it.
//
// Properties: no crash; a state that reads is written back as JSON that reads to the same state
// (state_to_json is a fixed point after one round: members the SDK does not know are kept as
// they were). Secrets are compared, never printed.
#include "fuzz_util.h"
#include "sdk/wallet_state.h"

using namespace anoncode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = fuzz::as_json(data, size);
  if (!j) return 0;
  auto state = sdk::state_from_json(*j);
  if (!state) return 0;
  nlohmann::json once = sdk::state_to_json(*state);
  auto again = sdk::state_from_json(once);
  FUZZ_CHECK(again);
  FUZZ_CHECK(sdk::state_to_json(*again) == once);
  // Every member of the input the SDK does not know is written back unchanged.
  for (const auto& [k, v] : state->unknown.items()) {
    FUZZ_CHECK(j->contains(k) && (*j)[k] == v && once.contains(k) && once[k] == v);
  }
  return 0;
}
