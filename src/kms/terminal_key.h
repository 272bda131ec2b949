// Terminal keys as seed 003's card systems derive them (issue #12 item 5, docs/KEYS.md "Terminal
// keys"): one terminal master key (SM4) in the key management; each terminal's key diversified
// (分散) from it by the terminal's id, so no terminal key is stored anywhere but in its terminal;
// each ride carries a TAC, an SM4 CBC-MAC under the terminal's key, that the POS front recomputes.
//
//   factor(id)        = the first 8 bytes of SM3("anoncode/v1/terminal-id" ‖ id): terminal ids
//                       are text of up to 32 characters, not the 8-byte PAN digits PBOC expects
//   diversify(MK, id) = SM4_MK(factor ‖ ~factor)  — PBOC 3.0's SM4 diversification: one block,
//                       the factor and its complement, so no two ids' blocks are related
//   tac(K, ride)      = the first 8 bytes of SM4-CBC-MAC_K(ride data), zero IV, ISO/IEC 9797-1
//                       padding method 2 (0x80, then zeros to the block); the ride data is
//                       "anoncode/v1/tac" ‖ u8(len) ‖ terminal ‖ u64(counter) ‖ u64(amount)
//                       ‖ u8(len) ‖ sequence ‖ u64(scanned_at), integers big-endian
//
// Eight bytes of TAC rather than the four of a card's: a forger has one try per ride, which the
// POS front refuses and records, and 2^-64 leaves nothing to count on.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"

namespace anoncode::kms {

using Tac = std::array<uint8_t, 8>;

struct TacInput {
  std::string_view terminal = {};
  int64_t counter = 0;
  int64_t amount = 0;
  std::string_view sequence = {};
  int64_t scanned_at = 0;
};

// The terminal's key from the terminal master key (16 bytes) and the terminal's id (1 to 32
// characters; invalid_argument otherwise).
Result<SecretBytes> diversify_terminal_key(const SecretBytes& master, std::string_view terminal);

// The TAC of a ride under the terminal's key (16 bytes). invalid_argument for a terminal or a
// sequence longer than 255 bytes.
Result<Tac> ride_tac(const SecretBytes& terminal_key, const TacInput& ride);

// Constant-time comparison.
bool tac_equal(const Tac& a, const Tac& b);

}  // namespace anoncode::kms
