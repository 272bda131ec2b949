// SM2 signatures (GB/T 32918.2) on our own curve arithmetic (src/crypto/sm2p256/): what
// sm2_sign and sm2_verify in sm2.h run on. Internal to the crypto layer; everything else uses
// sm2.h. Keys carry a precomputed form: the private scalar d with (1 + d)⁻¹, and the public
// point with its ZA = SM3(ENTL || ID || a || b || xG || yG || xA || yA) for kSm2UserId.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>

#include "common/bytes.h"
#include "common/secret.h"
#include "crypto/sm2p256/point.h"
#include "crypto/sm3.h"

namespace anoncode::crypto {

struct Sm2FastPublicKey {
  sm2p256::Aff point;
  Sm3Digest za{};
  // A key that verifies more than once (a terminal's copy of the platform key) gets tables on
  // its second use: odd multiples of P and of 2^128·P, so that s·G + t·P splits into four
  // 128-bit halves and needs 128 doublings instead of 256. A key used once never pays for them.
  static constexpr int kTableWidth = 6;         // 16 odd multiples each
  using Tables = std::array<sm2p256::Aff, 32>;  // [0, 16): P; [16, 32): 2^128·P
  mutable std::atomic<uint32_t> uses{0};
  mutable std::once_flag tables_once;
  mutable std::unique_ptr<const Tables> tables;
};

// Secret: wiped on destruction.
struct Sm2FastPrivateKey {
  sm2p256::Sc d;
  sm2p256::Sc inv_one_plus_d;  // (1 + d)⁻¹ mod n, so signing needs no inversion
  Sm2FastPrivateKey() = default;
  Sm2FastPrivateKey(const Sm2FastPrivateKey&) = delete;
  Sm2FastPrivateKey& operator=(const Sm2FastPrivateKey&) = delete;
  ~Sm2FastPrivateKey();
};

// From a validated SEC1 uncompressed point (65 bytes); anything else is a bug (logic_error).
std::shared_ptr<const Sm2FastPublicKey> sm2_fast_public_key(ByteView uncompressed);
// From d in [1, n − 2] (32 bytes big-endian), already range-checked by the caller.
std::shared_ptr<const Sm2FastPrivateKey> sm2_fast_private_key(std::span<const uint8_t> d);

// r || s (64 bytes). Constant-time in d and k. The nonce k is 64 bytes from the OS CSPRNG
// reduced mod n (uniform to within 2^-256) unless `fixed_nonce` is given (tests: 32 bytes
// big-endian, 1 <= k < n; a nonce that would need a retry is `invalid_argument`).
Result<Bytes> sm2_fast_sign(const Sm2FastPrivateKey& key, const Sm2FastPublicKey& pub,
                            ByteView message, const SecretBytes* fixed_nonce = nullptr);
// Public inputs only: variable time.
bool sm2_fast_verify_vartime(const Sm2FastPublicKey& pub, ByteView message, ByteView signature);

}  // namespace anoncode::crypto
