// The MACs a POS terminal puts on its requests to the POS front (docs/API.md "POS front"),
// HMAC-SM3 under the terminal key. The POS computes them, the POS front checks them.
#pragma once

#include <string_view>

#include "common/bytes.h"
#include "common/secret.h"
#include "crypto/sm3.h"

namespace anoncode::protocol {

constexpr size_t kTerminalKeySize = 32;
constexpr size_t kTerminalMacSize = 32;

// HMAC-SM3(key, "anoncode/v1/sync" ‖ var(terminal) ‖ var(merchant) ‖ u64(at))
crypto::Sm3Digest sync_mac(const SecretBytes& key, std::string_view terminal,
                           std::string_view merchant, int64_t at);

// HMAC-SM3(key, "anoncode/v1/ride" ‖ var(terminal) ‖ var(merchant) ‖ u64(counter) ‖ var(payload)
//          ‖ u64(amount) ‖ u64(scanned_at))
crypto::Sm3Digest ride_mac(const SecretBytes& key, std::string_view terminal,
                           std::string_view merchant, int64_t counter, ByteView payload,
                           int64_t amount, int64_t scanned_at);

// Constant-time comparison of a received MAC with the expected one (any length mismatch fails).
bool mac_equal(const crypto::Sm3Digest& expected, ByteView received);

}  // namespace anoncode::protocol
