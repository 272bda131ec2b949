// Integers modulo the SM2 group order n (GB/T 32918.5), on four 64-bit limbs, in constant
// time. Scalars are kept in plain (not Montgomery) form and fully reduced; multiplication goes
// through Montgomery multiplication twice (a·b·R⁻¹, then ·R²·R⁻¹).
#pragma once

#include "crypto/sm2p256/limbs.h"

namespace anoncode::crypto::sm2p256 {

// Hidden: position-independent code then reaches it RIP-relative, which the assembly in
// mont_x86_64.h needs (no register to spare for a GOT address).
inline constexpr Modulus kN __attribute__((visibility("hidden"))) = detail::make_modulus(
    0x53BBF40939D54123, 0x7203DF6B21C6052B, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFEFFFFFFFF);

// A scalar mod n, plain form, fully reduced.
struct Sc {
  u64 v[4];
};

inline Sc sc_zero() {
  return Sc{{0, 0, 0, 0}};
}
inline Sc sc_from_u64(u64 x) {
  return Sc{{x, 0, 0, 0}};
}
inline Sc sc_add(const Sc& a, const Sc& b) {
  Sc r;
  add_mod<kN>(r.v, a.v, b.v);
  return r;
}
inline Sc sc_sub(const Sc& a, const Sc& b) {
  Sc r;
  sub_mod<kN>(r.v, a.v, b.v);
  return r;
}
inline Sc sc_neg(const Sc& a) {
  Sc r;
  neg_mod<kN>(r.v, a.v);
  return r;
}
inline Sc sc_mul(const Sc& a, const Sc& b) {
  Sc t, r;
  mont_mul<kN>(t.v, a.v, b.v);
  mont_mul<kN>(r.v, t.v, kN.r2);
  return r;
}
inline Sc sc_select(u64 mask, const Sc& a, const Sc& b) {
  Sc r;
  select4(r.v, mask, a.v, b.v);
  return r;
}
inline u64 sc_is_zero(const Sc& a) {
  return is_zero4(a.v);
}
inline u64 sc_eq(const Sc& a, const Sc& b) {
  return eq4(a.v, b.v);
}

// a⁻¹ = a^(n−2) (Fermat), constant-time; 0 maps to 0.
inline Sc sc_inv(const Sc& a) {
  static constexpr u64 e[4] = {0x53BBF40939D54121, 0x7203DF6B21C6052B, 0xFFFFFFFFFFFFFFFF,
                               0xFFFFFFFEFFFFFFFF};
  static constexpr u64 one[4] = {1, 0, 0, 0};
  u64 am[4], xm[4];
  Sc r;
  mont_mul<kN>(am, a.v, kN.r2);  // into Montgomery form
  mont_pow_public_exponent<kN>(xm, am, e);
  mont_mul<kN>(r.v, xm, one);  // and out
  return r;
}

// Any 256-bit value, reduced (2^256 < 2n, so one conditional subtraction suffices).
inline Sc sc_reduce256(const u64 a[4]) {
  Sc r;
  reduce_once<kN>(r.v, 0, a);
  return r;
}

// Big-endian bytes; `ok` is all ones iff the value was already canonical (< n). The result is
// reduced either way. Constant-time: the caller decides what a non-canonical input means.
inline Sc sc_from_bytes(const uint8_t in[32], u64& ok) {
  u64 a[4];
  limbs_from_be(a, in);
  ok = lt4(a, kN.m);
  return sc_reduce256(a);
}
inline void sc_to_bytes(uint8_t out[32], const Sc& a) {
  limbs_to_be(out, a.v);
}

// Reduces a 512-bit big-endian string mod n: hi·2^256 + lo.
inline Sc sc_reduce_wide(const uint8_t in[64]) {
  u64 hi[4], lo[4], t[4];
  limbs_from_be(hi, in);
  limbs_from_be(lo, in + 32);
  Sc h = sc_reduce256(hi), l = sc_reduce256(lo);
  // mont_mul(h, R² mod n) = h·R mod n = h·2^256 mod n.
  mont_mul<kN>(t, h.v, kN.r2);
  Sc hr;
  for (int i = 0; i < 4; ++i) hr.v[i] = t[i];
  return sc_add(hr, l);
}

}  // namespace anoncode::crypto::sm2p256
