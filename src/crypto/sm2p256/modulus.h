// A 256-bit odd modulus with its Montgomery constants (R = 2^256), computed at compile time.
#pragma once

#include <cstdint>

namespace anoncode::crypto::sm2p256 {

using u64 = uint64_t;
using u128 = unsigned __int128;

// A modulus with its Montgomery constants (R = 2^256), computed at compile time.
struct Modulus {
  u64 m[4];
  u64 minv;    // −m⁻¹ mod 2^64
  u64 one[4];  // R mod m: 1 in Montgomery form
  u64 r2[4];   // R² mod m: converts into Montgomery form
};

namespace detail {

// x = 2x mod m for x < m (compile time only).
constexpr void double_mod(u64 x[4], const u64 m[4]) {
  u64 top = x[3] >> 63;
  for (int i = 3; i > 0; --i) x[i] = (x[i] << 1) | (x[i - 1] >> 63);
  x[0] <<= 1;
  bool ge = top != 0;
  if (!ge) {
    ge = true;  // equal counts as >=
    for (int i = 3; i >= 0; --i) {
      if (x[i] != m[i]) {
        ge = x[i] > m[i];
        break;
      }
    }
  }
  if (ge) {
    u64 borrow = 0;
    for (int i = 0; i < 4; ++i) {
      u128 d = static_cast<u128>(x[i]) - m[i] - borrow;
      x[i] = static_cast<u64>(d);
      borrow = static_cast<u64>(d >> 64) & 1;
    }
  }
}

constexpr Modulus make_modulus(u64 m0, u64 m1, u64 m2, u64 m3) {
  Modulus M{{m0, m1, m2, m3}, 0, {1, 0, 0, 0}, {0, 0, 0, 0}};
  u64 inv = 1;  // Newton: inv = m0⁻¹ mod 2^64 (6 steps double 1 correct bit to 64)
  for (int i = 0; i < 6; ++i) inv *= 2 - m0 * inv;
  M.minv = 0 - inv;
  for (int i = 0; i < 256; ++i) double_mod(M.one, M.m);
  for (int i = 0; i < 4; ++i) M.r2[i] = M.one[i];
  for (int i = 0; i < 256; ++i) double_mod(M.r2, M.m);
  return M;
}

}  // namespace detail

}  // namespace anoncode::crypto::sm2p256
