// The SM2 prime field, p = 2^256 − 2^224 − 2^96 + 2^64 − 1 (GB/T 32918.5), in Montgomery form
// (R = 2^256) on four 64-bit limbs. Constant-time unless a name ends in _vartime.
//
// p ≡ −1 mod 2^64, so the Montgomery constant −p⁻¹ mod 2^64 is 1 and every reduction step
// multiplies by the limbs of p directly; the compiler sees them as constants.
#pragma once

#include "crypto/sm2p256/limbs.h"

namespace anoncode::crypto::sm2p256 {

// Hidden: position-independent code then reaches it RIP-relative, which the assembly in
// mont_x86_64.h needs (no register to spare for a GOT address).
inline constexpr Modulus kP __attribute__((visibility("hidden"))) = detail::make_modulus(
    0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF00000000, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFEFFFFFFFF);
static_assert(kP.minv == 1);

// Hot paths: the point formulas call these millions of times; keep them inlined.
#define ANONCODE_SM2P256_INLINE __attribute__((always_inline)) inline

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
#ifdef ANONCODE_SM2P256_X86_64
// a + b mod p and a − b mod p in baseline x86-64 (ADD/ADC, SUB/SBB, CMOV): GCC compiles the
// portable versions' masked selection to vector shuffles, about twice as slow.
ANONCODE_SM2P256_INLINE Fe fe_add(const Fe& a, const Fe& b) {
  u64 r0 = a.v[0], r1 = a.v[1], r2 = a.v[2], r3 = a.v[3], c = 0, s0, s1, s2, s3;
  __asm__(
      "addq %[b0], %[r0]\n\t"
      "adcq %[b1], %[r1]\n\t"
      "adcq %[b2], %[r2]\n\t"
      "adcq %[b3], %[r3]\n\t"
      "adcq $0, %[c]\n\t" /* c:r = a + b < 2p */
      "movq %[r0], %[s0]\n\t"
      "subq %[p0], %[s0]\n\t"
      "movq %[r1], %[s1]\n\t"
      "sbbq %[p1], %[s1]\n\t"
      "movq %[r2], %[s2]\n\t"
      "sbbq %[p2], %[s2]\n\t"
      "movq %[r3], %[s3]\n\t"
      "sbbq %[p3], %[s3]\n\t"
      "sbbq $0, %[c]\n\t" /* borrows iff c:r < p: then keep r */
      "cmovcq %[r0], %[s0]\n\t"
      "cmovcq %[r1], %[s1]\n\t"
      "cmovcq %[r2], %[s2]\n\t"
      "cmovcq %[r3], %[s3]\n\t"
      : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3), [c] "+&r"(c),
        [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3)
      : [b0] "m"(b.v[0]), [b1] "m"(b.v[1]), [b2] "m"(b.v[2]), [b3] "m"(b.v[3]), [p0] "m"(kP.m[0]),
        [p1] "m"(kP.m[1]), [p2] "m"(kP.m[2]), [p3] "m"(kP.m[3])
      : "cc");
  return Fe{{s0, s1, s2, s3}};
}
ANONCODE_SM2P256_INLINE Fe fe_sub(const Fe& a, const Fe& b) {
  u64 r0 = a.v[0], r1 = a.v[1], r2 = a.v[2], r3 = a.v[3], m, t1, t3;
  __asm__(
      "subq %[b0], %[r0]\n\t"
      "sbbq %[b1], %[r1]\n\t"
      "sbbq %[b2], %[r2]\n\t"
      "sbbq %[b3], %[r3]\n\t"
      "sbbq %[m], %[m]\n\t" /* m = all ones iff a < b: then add p back */
      "movq %[p1], %[t1]\n\t"
      "andq %[m], %[t1]\n\t"
      "movq %[p3], %[t3]\n\t"
      "andq %[m], %[t3]\n\t"
      "addq %[m], %[r0]\n\t" /* p0 = p2 = 2^64 − 1, so p0 & m = p2 & m = m */
      "adcq %[t1], %[r1]\n\t"
      "adcq %[m], %[r2]\n\t"
      "adcq %[t3], %[r3]\n\t"
      : [r0] "+&r"(r0), [r1] "+&r"(r1), [r2] "+&r"(r2), [r3] "+&r"(r3), [m] "=&r"(m),
        [t1] "=&r"(t1), [t3] "=&r"(t3)
      : [b0] "m"(b.v[0]), [b1] "m"(b.v[1]), [b2] "m"(b.v[2]), [b3] "m"(b.v[3]), [p1] "m"(kP.m[1]),
        [p3] "m"(kP.m[3])
      : "cc");
  return Fe{{r0, r1, r2, r3}};
}
static_assert(kP.m[0] == ~u64{0} && kP.m[2] == ~u64{0});
#else
ANONCODE_SM2P256_INLINE Fe fe_add(const Fe& a, const Fe& b) {
  Fe r;
  add_mod<kP>(r.v, a.v, b.v);
  return r;
}
ANONCODE_SM2P256_INLINE Fe fe_sub(const Fe& a, const Fe& b) {
  Fe r;
  sub_mod<kP>(r.v, a.v, b.v);
  return r;
}
#endif
ANONCODE_SM2P256_INLINE Fe fe_neg(const Fe& a) {
  Fe r;
  neg_mod<kP>(r.v, a.v);
  return r;
}
ANONCODE_SM2P256_INLINE Fe fe_dbl(const Fe& a) {
  return fe_add(a, a);
}
// a/2 mod p: (a + (a odd ? p : 0)) >> 1, with the carry as the new top bit.
ANONCODE_SM2P256_INLINE Fe fe_half(const Fe& a) {
  const u64 odd = mask_from_bit(a.v[0]);
  u64 t[4], pm[4];
  for (int i = 0; i < 4; ++i) pm[i] = kP.m[i] & odd;
  const u64 carry = add4(t, a.v, pm);
  return Fe{{(t[0] >> 1) | (t[1] << 63), (t[1] >> 1) | (t[2] << 63), (t[2] >> 1) | (t[3] << 63),
             (t[3] >> 1) | (carry << 63)}};
}
ANONCODE_SM2P256_INLINE Fe fe_mul(const Fe& a, const Fe& b) {
  Fe r;
  mont_mul<kP>(r.v, a.v, b.v);
  return r;
}
ANONCODE_SM2P256_INLINE Fe fe_sqr(const Fe& a) {
  Fe r;
  mont_sqr<kP>(r.v, a.v);
  return r;
}
// a^(2^n).
inline Fe fe_sqr_n(Fe a, int n) {
  for (int i = 0; i < n; ++i) a = fe_sqr(a);
  return a;
}
// mask ? a : b.
ANONCODE_SM2P256_INLINE Fe fe_select(u64 mask, const Fe& a, const Fe& b) {
  Fe r;
  select4(r.v, mask, a.v, b.v);
  return r;
}
ANONCODE_SM2P256_INLINE u64 fe_is_zero(const Fe& a) {
  return is_zero4(a.v);
}
ANONCODE_SM2P256_INLINE u64 fe_eq(const Fe& a, const Fe& b) {
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

// a^(2^k − 1) for the k both addition chains below need.
struct FePowers {
  Fe x1, x2, x3, x6, x12, x15, x30, x31, x32;
  explicit FePowers(const Fe& a) : x1(a) {
    x2 = fe_mul(fe_sqr(x1), x1);
    x3 = fe_mul(fe_sqr(x2), x1);
    x6 = fe_mul(fe_sqr_n(x3, 3), x3);
    x12 = fe_mul(fe_sqr_n(x6, 6), x6);
    x15 = fe_mul(fe_sqr_n(x12, 3), x3);
    x30 = fe_mul(fe_sqr_n(x15, 15), x15);
    x31 = fe_mul(fe_sqr(x30), x1);
    x32 = fe_mul(fe_sqr(x31), x1);
  }
};

// a⁻¹ = a^(p−2) by a fixed addition chain (255 squarings, 14 multiplications); 0 maps to 0.
inline Fe fe_inv(const Fe& a) {
  // p − 2 = [31 ones] 0 [128 ones] [32 zeros] [32 ones] [30 ones] 0 1, most significant first.
  const FePowers x(a);
  Fe r = fe_sqr(x.x31);                                            // 31 ones, 0
  for (int i = 0; i < 4; ++i) r = fe_mul(fe_sqr_n(r, 32), x.x32);  // 128 ones
  r = fe_sqr_n(r, 32);                                             // 32 zeros
  r = fe_mul(fe_sqr_n(r, 32), x.x32);                              // 32 ones
  r = fe_mul(fe_sqr_n(r, 30), x.x30);                              // 30 ones
  r = fe_mul(fe_sqr_n(r, 2), x.x1);                                // 0 1
  return r;
}

// A candidate square root, a^((p+1)/4) (p ≡ 3 mod 4); the caller checks that it squares to a.
inline Fe fe_sqrt_candidate(const Fe& a) {
  // (p + 1)/4 = [31 ones] 0 [128 ones] [30 zeros] 0 1 [62 zeros], most significant first.
  const FePowers x(a);
  Fe r = fe_sqr(x.x31);                                            // 31 ones, 0
  for (int i = 0; i < 4; ++i) r = fe_mul(fe_sqr_n(r, 32), x.x32);  // 128 ones
  r = fe_mul(fe_sqr_n(r, 32), x.x1);                               // 30 zeros, 0 1
  return fe_sqr_n(r, 62);                                          // 62 zeros
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
