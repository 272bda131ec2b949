// What a POS terminal reads (pos/pos_terminal.h, protocol/platform_keys.h): its store file
// (PosTerminal::from_json: the queue of rides, the terminal key, the platform keys, the codes
// seen) and the platform keys the POS front sends at sync (keys_from_json). Both are JSON
// documents; the store embeds the keys' list.
//
// Properties: no crash; keys that read carry a kid that is SM3 of the key and a non-empty
// validity; a store that reads is written (to_json) as JSON that reads to the same store.
#include "fuzz_util.h"
#include "pos/pos_terminal.h"
#include "protocol/platform_keys.h"

using namespace anoncode;
using namespace anoncode::pos;
using namespace anoncode::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = fuzz::as_json(data, size);
  if (!j) return 0;
  if (auto keys = keys_from_json(*j)) {
    for (const auto& k : *keys) {
      auto key = crypto::Sm2PublicKey::from_bytes(k.public_key);
      FUZZ_CHECK(key && platform_key_id(*key) == k.kid && k.valid_from <= k.valid_until);
    }
    auto again = keys_from_json(keys_to_json(*keys));
    FUZZ_CHECK(again && keys_to_json(*again) == keys_to_json(*keys));
  }
  if (auto store = PosTerminal::from_json(*j)) {
    nlohmann::json once = PosTerminal::to_json(*store);
    auto again = PosTerminal::from_json(once);
    FUZZ_CHECK(again);
    FUZZ_CHECK(PosTerminal::to_json(*again) == once);
  }
  return 0;
}
