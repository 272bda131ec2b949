// A key component as a custodian receives it and types it back (docs/KEYS.md "Components"):
//
//   kc1.<key id>.<kcv>.<k>.<n>.<x>.<y>.<check>
//
//   key id  the key the component rebuilds: 1 to 32 of A-Z a-z 0-9 _ -
//   kcv     the key's check value, 6 hex digits: recovery compares it with the rebuilt key's
//   k n x   decimal 1..255 without leading zeros: k of n components are needed, this is number x
//   y       the share, 2 to 128 hex digits (1 to 64 bytes)
//   check   8 hex digits: the first 4 bytes of SM3 over everything before the last '.', so a
//           mistyped character is caught before recovery starts (and said so, rather than
//           "the key does not rebuild")
//
// Hex is written lowercase; uppercase is accepted when typed back, as is whitespace around it.
// The text is a secret: it lives in SecretBytes and never reaches a log.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "kms/shamir.h"

namespace anoncode::kms {

using CheckValue = std::array<uint8_t, 3>;

struct Component {
  std::string key_id = {};
  CheckValue kcv = {};
  Share share = {};
};

inline constexpr size_t kMaxKeyIdLength = 32;
inline constexpr size_t kMaxComponentSecret = 64;

// The component's text (the secret a custodian keeps).
Result<SecretBytes> encode_component(const Component& c);
// Parses a typed component; malformed "component: …" for anything out of shape, malformed
// "component: the check digits do not match …" for a typing error.
Result<Component> decode_component(ByteView text);

// Splits `key` into n components, k of them needed, each carrying `key_id` and the key's `kcv`.
Result<std::vector<Component>> make_components(std::string_view key_id, const CheckValue& kcv,
                                               const SecretBytes& key, int k, int n,
                                               crypto::Rng& rng);

// What components rebuild, with the key id and check value they claim. The caller computes the
// rebuilt key's check value and compares it with `kcv` (a wrong component, or fewer than k
// genuine ones, rebuild another key).
struct Rebuilt {
  std::string key_id = {};
  CheckValue kcv = {};
  SecretBytes key = {};
};
Result<Rebuilt> rebuild(const std::vector<Component>& components);

}  // namespace anoncode::kms
