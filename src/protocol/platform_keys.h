// The code platform's QR-signing public keys with their validity, as the platform publishes them
// (GET /platform/v1/keys, POST /posfront/v1/sync) and as a POS keeps them for offline checks.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "protocol/qr_payload.h"

namespace anoncode::protocol {

struct PlatformPublicKey {
  PlatformKeyId kid{};
  Bytes public_key;  // SM2, 65 bytes uncompressed
  int64_t valid_from = 0;
  int64_t valid_until = 0;  // Unix ms; a code issued outside [valid_from, valid_until] is refused

  bool covers(int64_t at_ms) const { return valid_from <= at_ms && at_ms <= valid_until; }
};

// {"keys":[{"kid":hex,"public_key":b64,"valid_from":ms,"valid_until":ms}]}
nlohmann::json keys_to_json(const std::vector<PlatformPublicKey>& keys);
// Checks every field: a kid that is not SM3 of its key, or a key that is not an SM2 point, is
// `malformed`.
Result<std::vector<PlatformPublicKey>> keys_from_json(const nlohmann::json& body);

}  // namespace anoncode::protocol
