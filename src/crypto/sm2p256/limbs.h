// Four-limb (4 × 64-bit, little-endian) arithmetic modulo a 256-bit odd modulus, in constant
// time: Montgomery multiplication (CIOS: portable unsigned __int128 code, and MULX/ADX assembly
// on x86-64 CPUs that have it, see mont_x86_64.h), modular addition and subtraction with masked
// corrections, constant-time selection and comparison. The SM2 field (field.h) and the SM2
// group order (scalar.h) are two instances of it.
//
// Every function here runs in time independent of the limb values: no branch and no memory
// index depends on them. Values are kept fully reduced (< m) between operations.
#pragma once

#include <cstdint>

#include "crypto/sm2p256/ct.h"
#include "crypto/sm2p256/modulus.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>

#include "crypto/sm2p256/mont_x86_64.h"
#define ANONCODE_SM2P256_X86_64 1
#endif

namespace anoncode::crypto::sm2p256 {

namespace detail {
// Whether mont_mul uses the MULX/ADCX/ADOX code (mont_x86_64.h): set once at start-up from
// CPUID (point.cpp). Zero-initialized, so anything that runs earlier takes the portable path,
// which computes the same values. Tests switch it to compare the two.
extern bool g_use_adx;

}  // namespace detail

// r = mask ? a : b (mask is all ones or zero).
__attribute__((always_inline)) inline void select4(u64 r[4], u64 mask, const u64 a[4],
                                                   const u64 b[4]) {
  for (int i = 0; i < 4; ++i) r[i] = (a[i] & mask) | (b[i] & ~mask);
}
// r = mask ? a : r.
__attribute__((always_inline)) inline void cmov4(u64 r[4], u64 mask, const u64 a[4]) {
  for (int i = 0; i < 4; ++i) r[i] ^= (r[i] ^ a[i]) & mask;
}
__attribute__((always_inline)) inline u64 is_zero4(const u64 a[4]) {
  return mask_is_zero(a[0] | a[1] | a[2] | a[3]);
}
__attribute__((always_inline)) inline u64 eq4(const u64 a[4], const u64 b[4]) {
  return mask_is_zero((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]));
}

// r = a − b; returns the borrow (0 or 1).
__attribute__((always_inline)) inline u64 sub4(u64 r[4], const u64 a[4], const u64 b[4]) {
#ifdef ANONCODE_SM2P256_X86_64
  // GCC turns __int128 carry chains into spills; the intrinsics become SUB/SBB.
  unsigned long long t0, t1, t2, t3;
  unsigned char c = _subborrow_u64(0, a[0], b[0], &t0);
  c = _subborrow_u64(c, a[1], b[1], &t1);
  c = _subborrow_u64(c, a[2], b[2], &t2);
  c = _subborrow_u64(c, a[3], b[3], &t3);
  r[0] = t0;
  r[1] = t1;
  r[2] = t2;
  r[3] = t3;
  return c;
#endif
  u64 borrow = 0;
  for (int i = 0; i < 4; ++i) {
    u128 d = static_cast<u128>(a[i]) - b[i] - borrow;
    r[i] = static_cast<u64>(d);
    borrow = static_cast<u64>(d >> 64) & 1;
  }
  return borrow;
}
// r = a + b; returns the carry (0 or 1).
__attribute__((always_inline)) inline u64 add4(u64 r[4], const u64 a[4], const u64 b[4]) {
#ifdef ANONCODE_SM2P256_X86_64
  unsigned long long t0, t1, t2, t3;
  unsigned char c = _addcarry_u64(0, a[0], b[0], &t0);
  c = _addcarry_u64(c, a[1], b[1], &t1);
  c = _addcarry_u64(c, a[2], b[2], &t2);
  c = _addcarry_u64(c, a[3], b[3], &t3);
  r[0] = t0;
  r[1] = t1;
  r[2] = t2;
  r[3] = t3;
  return c;
#endif
  u64 carry = 0;
  for (int i = 0; i < 4; ++i) {
    u128 s = static_cast<u128>(a[i]) + b[i] + carry;
    r[i] = static_cast<u64>(s);
    carry = static_cast<u64>(s >> 64);
  }
  return carry;
}
// All ones if a < b.
__attribute__((always_inline)) inline u64 lt4(const u64 a[4], const u64 b[4]) {
  u64 t[4];
  return mask_from_bit(sub4(t, a, b));
}

// (hi:t) − m if that is non-negative, else t; for a 257-bit value hi:t < 2m.
template <const Modulus& M>
__attribute__((always_inline)) inline void reduce_once(u64 r[4], u64 hi, const u64 t[4]) {
  u64 s[4];
  u64 borrow = sub4(s, t, M.m);
  // The 257-bit subtraction borrows iff hi:t < m, i.e. hi == 0 and the 256-bit one borrowed.
  u64 keep_t = mask_from_bit(borrow & ~hi);
  select4(r, keep_t, t, s);
}

template <const Modulus& M>
__attribute__((always_inline)) inline void add_mod(u64 r[4], const u64 a[4], const u64 b[4]) {
  u64 t[4];
  u64 carry = add4(t, a, b);
  reduce_once<M>(r, carry, t);
}

template <const Modulus& M>
__attribute__((always_inline)) inline void sub_mod(u64 r[4], const u64 a[4], const u64 b[4]) {
  u64 t[4], mm[4];
  u64 mask = mask_from_bit(sub4(t, a, b));
  for (int i = 0; i < 4; ++i) mm[i] = M.m[i] & mask;
  add4(r, t, mm);
}

template <const Modulus& M>
__attribute__((always_inline)) inline void neg_mod(u64 r[4], const u64 a[4]) {
  static constexpr u64 zero[4] = {0, 0, 0, 0};
  sub_mod<M>(r, zero, a);
}

// r = a·b·R⁻¹ mod m (CIOS), portable. Inputs need a·b < m·R (e.g. one of them < m, the other
// < R); the output is fully reduced.
template <const Modulus& M>
inline void mont_mul_portable(u64 r[4], const u64 a[4], const u64 b[4]) {
  u64 t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  for (int i = 0; i < 4; ++i) {
    const u64 bi = b[i];
    u128 c = static_cast<u128>(a[0]) * bi + t0;
    t0 = static_cast<u64>(c);
    c = static_cast<u128>(a[1]) * bi + t1 + static_cast<u64>(c >> 64);
    t1 = static_cast<u64>(c);
    c = static_cast<u128>(a[2]) * bi + t2 + static_cast<u64>(c >> 64);
    t2 = static_cast<u64>(c);
    c = static_cast<u128>(a[3]) * bi + t3 + static_cast<u64>(c >> 64);
    t3 = static_cast<u64>(c);
    c = static_cast<u128>(t4) + static_cast<u64>(c >> 64);
    t4 = static_cast<u64>(c);
    const u64 t5 = static_cast<u64>(c >> 64);

    const u64 q = t0 * M.minv;
    c = static_cast<u128>(q) * M.m[0] + t0;  // low word becomes 0 by construction
    c = static_cast<u128>(q) * M.m[1] + t1 + static_cast<u64>(c >> 64);
    t0 = static_cast<u64>(c);
    c = static_cast<u128>(q) * M.m[2] + t2 + static_cast<u64>(c >> 64);
    t1 = static_cast<u64>(c);
    c = static_cast<u128>(q) * M.m[3] + t3 + static_cast<u64>(c >> 64);
    t2 = static_cast<u64>(c);
    c = static_cast<u128>(t4) + static_cast<u64>(c >> 64);
    t3 = static_cast<u64>(c);
    t4 = t5 + static_cast<u64>(c >> 64);
  }
  const u64 t[4] = {t0, t1, t2, t3};
  reduce_once<M>(r, t4, t);
}

// r = a·b·R⁻¹ mod m, fully reduced, for a, b < m: the MULX/ADX code where the CPU has it.
template <const Modulus& M>
__attribute__((always_inline)) inline void mont_mul(u64 r[4], const u64 a[4], const u64 b[4]) {
#ifdef ANONCODE_SM2P256_X86_64
  if (detail::g_use_adx) {  // fixed at start-up: the branch does not depend on data
    x86_64::mont_mul<M>(r, a, b);
    return;
  }
#endif
  mont_mul_portable<M>(r, a, b);
}

// r = a²·R⁻¹ mod m, fully reduced, for a < m.
template <const Modulus& M>
__attribute__((always_inline)) inline void mont_sqr(u64 r[4], const u64 a[4]) {
#ifdef ANONCODE_SM2P256_X86_64
  if (detail::g_use_adx) {
    x86_64::mont_sqr<M>(r, a);
    return;
  }
#endif
  mont_mul_portable<M>(r, a, a);
}

// r = a^e for a public exponent e (Montgomery form in and out). Fixed 4-bit windows: the
// sequence of operations depends only on e, never on a.
template <const Modulus& M>
inline void mont_pow_public_exponent(u64 r[4], const u64 a[4], const u64 e[4]) {
  u64 table[16][4];
  for (int i = 0; i < 4; ++i) table[0][i] = M.one[i];
  for (int i = 0; i < 4; ++i) table[1][i] = a[i];
  for (int j = 2; j < 16; ++j) mont_mul<M>(table[j], table[j - 1], a);
  u64 acc[4] = {M.one[0], M.one[1], M.one[2], M.one[3]};
  for (int w = 63; w >= 0; --w) {
    for (int s = 0; s < 4; ++s) mont_sqr<M>(acc, acc);
    const unsigned nibble = static_cast<unsigned>(e[w / 16] >> (4 * (w % 16))) & 15;
    if (nibble != 0) mont_mul<M>(acc, acc, table[nibble]);  // e is public
  }
  for (int i = 0; i < 4; ++i) r[i] = acc[i];
}

// Big-endian 32 bytes <-> limbs (no reduction).
inline void limbs_from_be(u64 r[4], const uint8_t in[32]) {
  for (int i = 0; i < 4; ++i) {
    u64 w = 0;
    for (int j = 0; j < 8; ++j) w = (w << 8) | in[(3 - i) * 8 + j];
    r[i] = w;
  }
}
inline void limbs_to_be(uint8_t out[32], const u64 a[4]) {
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 8; ++j) out[(3 - i) * 8 + j] = static_cast<uint8_t>(a[i] >> (56 - 8 * j));
  }
}

}  // namespace anoncode::crypto::sm2p256
