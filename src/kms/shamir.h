// Key components for custodians (issue #12, docs/KEYS.md "Components"): Shamir's secret sharing
// over GF(2^8), k of n. Seed 003 splits its seed keys into XOR components, all of which are needed;
// with Shamir any k custodians rebuild the key and k - 1 learn nothing about it, so one custodian
// who leaves or loses a component does not lose the key, and one who is coerced does not give
// it away.
//
// Written here rather than taken from Debian's libgfshare: that library multiplies through
// log/exp tables indexed by secret bytes (cache timing) and fills coefficients from libc random()
// unless the application replaces its generator. Ours multiplies without tables or branches on
// secret data, takes its randomness from crypto::Rng, and keeps every secret in SecretBytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "crypto/group.h"

namespace anoncode::kms {

// GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1, in constant time.
uint8_t gf256_mul(uint8_t a, uint8_t b);
uint8_t gf256_inv(uint8_t a);  // 0 for 0

// One custodian's share of a secret: the point x (1..255), the threshold k the secret was split
// with, the count n of shares made, and y = f(x) byte by byte (as long as the secret).
struct Share {
  uint8_t x = 0;
  uint8_t threshold = 0;
  uint8_t count = 0;
  SecretBytes y = {};
};

// Splits `secret` into `n` shares (x = 1..n) of which any `k` rebuild it: 1 <= k <= n <= 255.
Result<std::vector<Share>> split(const SecretBytes& secret, int k, int n, crypto::Rng& rng);

// Rebuilds the secret from shares of one split: at least their threshold of them, distinct x,
// equal lengths (errors: invalid_argument "components: …"). The first k rebuild it; each further
// share must lie on the same polynomial, or it is named as not fitting. With fewer than k
// genuine shares the result is unrelated to the secret, which is why a component carries the
// key's check value (component.h) and recovery compares it.
Result<SecretBytes> combine(const std::vector<Share>& shares);

}  // namespace anoncode::kms
