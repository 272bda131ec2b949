// The SM2 prime field, p = 2^256 − 2^224 − 2^96 + 2^64 − 1 (GB/T 32918.5), in Montgomery form
// (R = 2^256) on four 64-bit limbs. Constant-time unless a name ends in _vartime.
//
// p ≡ −1 mod 2^64, so the Montgomery constant −p⁻¹ mod 2^64 is 1 and every reduction step
// multiplies by the limbs of p directly; the compiler sees them as constants.
#pragma once

#include "crypto/sm2p256/limbs.h"

namespace anoncode::crypto::sm2p256 {

inline constexpr Modulus kP = detail::make_modulus(0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF00000000,
                                                   0xFFFFFFFFFFFFFFFF, 0xFFFFFFFEFFFFFFFF);
static_assert(kP.minv == 1);

// A field element, Montgomery form, fully reduced.
struct Fe {
  u64 v[4];
};

inline Fe fe_zero() {
  return Fe{{0, 0, 0, 0}};
}
inline Fe fe_one() {
  return Fe{{kP.one[0], kP.one[1], kP.one[2], kP.one[3]}};
}
inline Fe fe_add(const Fe& a, const Fe& b) {
  Fe r;
  add_mod<kP>(r.v, a.v, b.v);
  return r;
}
inline Fe fe_sub(const Fe& a, const Fe& b) {
  Fe r;
  sub_mod<kP>(r.v, a.v, b.v);
  return r;
}
inline Fe fe_neg(const Fe& a) {
  Fe r;
  neg_mod<kP>(r.v, a.v);
  return r;
}
inline Fe fe_dbl(const Fe& a) {
  return fe_add(a, a);
}
inline Fe fe_mul(const Fe& a, const Fe& b) {
  Fe r;
  mont_mul<kP>(r.v, a.v, b.v);
  return r;
}
inline Fe fe_sqr(const Fe& a) {
  return fe_mul(a, a);
}
// a^(2^n).
inline Fe fe_sqr_n(Fe a, int n) {
  for (int i = 0; i < n; ++i) a = fe_sqr(a);
  return a;
}
// mask ? a : b.
inline Fe fe_select(u64 mask, const Fe& a, const Fe& b) {
  Fe r;
  select4(r.v, mask, a.v, b.v);
  return r;
}
inline u64 fe_is_zero(const Fe& a) {
  return is_zero4(a.v);
}
inline u64 fe_eq(const Fe& a, const Fe& b) {
  return eq4(a.v, b.v);
}

// Into and out of Montgomery form.
inline Fe fe_to_mont(const u64 a[4]) {
  Fe r;
  mont_mul<kP>(r.v, a, kP.r2);
  return r;
}
inline void fe_from_mont(u64 r[4], const Fe& a) {
  static constexpr u64 one[4] = {1, 0, 0, 0};
  mont_mul<kP>(r, a.v, one);
}

// a⁻¹ = a^(p−2) by a fixed addition chain (255 squarings, 14 multiplications); 0 maps to 0.
inline Fe fe_inv(const Fe& a) {
  // p − 2 = [31 ones] 0 [128 ones] [32 zeros] [32 ones] [30 ones] 0 1, most significant first.
  Fe x1 = a;
  Fe x2 = fe_mul(fe_sqr(x1), x1);
  Fe x3 = fe_mul(fe_sqr(x2), x1);
  Fe x6 = fe_mul(fe_sqr_n(x3, 3), x3);
  Fe x12 = fe_mul(fe_sqr_n(x6, 6), x6);
  Fe x15 = fe_mul(fe_sqr_n(x12, 3), x3);
  Fe x30 = fe_mul(fe_sqr_n(x15, 15), x15);
  Fe x31 = fe_mul(fe_sqr(x30), x1);
  Fe x32 = fe_mul(fe_sqr(x31), x1);
  Fe r = fe_sqr(x31);                                      // 31 ones, 0
  for (int i = 0; i < 4; ++i) r = fe_mul(fe_sqr_n(r, 32), x32);  // 128 ones
  r = fe_sqr_n(r, 32);                                     // 32 zeros
  r = fe_mul(fe_sqr_n(r, 32), x32);                        // 32 ones
  r = fe_mul(fe_sqr_n(r, 30), x30);                        // 30 ones
  r = fe_mul(fe_sqr_n(r, 2), x1);                          // 0 1
  return r;
}

// A candidate square root, a^((p+1)/4) (p ≡ 3 mod 4); the caller checks that it squares to a.
inline Fe fe_sqrt_candidate(const Fe& a) {
  static constexpr u64 e[4] = {0x4000000000000000, 0xFFFFFFFFC0000000, 0xFFFFFFFFFFFFFFFF,
                               0x3FFFFFFFBFFFFFFF};
  Fe r;
  mont_pow_public_exponent<kP>(r.v, a.v, e);
  return r;
}

// Canonical big-endian bytes. The range check on input is on public data only.
inline bool fe_from_bytes_vartime(Fe& out, const uint8_t in[32]) {
  u64 a[4];
  limbs_from_be(a, in);
  if (!lt4(a, kP.m)) return false;
  out = fe_to_mont(a);
  return true;
}
inline void fe_to_bytes(uint8_t out[32], const Fe& a) {
  u64 t[4];
  fe_from_mont(t, a);
  limbs_to_be(out, t);
}
// The low bit of the canonical value (the SEC1 parity of y).
inline u64 fe_parity(const Fe& a) {
  u64 t[4];
  fe_from_mont(t, a);
  return t[0] & 1;
}

// Reduces a 512-bit big-endian string mod p (hash to field): hi·2^256 + lo.
inline Fe fe_reduce_wide(const uint8_t in[64]) {
  u64 hi[4], lo[4];
  limbs_from_be(hi, in);
  limbs_from_be(lo, in + 32);
  reduce_once<kP>(hi, 0, hi);  // 2^256 < 2p: one subtraction reduces
  reduce_once<kP>(lo, 0, lo);
  // Montgomery form of hi·2^256 is hi·R², i.e. mont_mul(hi, R³ mod p) = mont_mul(R²·hi, R²).
  Fe h = fe_to_mont(hi);
  h = fe_mul(h, Fe{{kP.r2[0], kP.r2[1], kP.r2[2], kP.r2[3]}});
  return fe_add(h, fe_to_mont(lo));
}

}  // namespace anoncode::crypto::sm2p256
