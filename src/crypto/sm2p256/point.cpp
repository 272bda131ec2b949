#include "crypto/sm2p256/point.h"

#include <algorithm>
#include <vector>

#if defined(__clang__) && defined(ANONCODE_SM2P256_X86_64)
#include <cpuid.h>
#endif

namespace anoncode::crypto::sm2p256 {

namespace detail {
#ifdef ANONCODE_SM2P256_X86_64
bool g_use_adx = [] {
#if defined(__clang__)
  // clang (14) knows no "adx" feature name for __builtin_cpu_supports: read CPUID leaf 7.
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  return (b & bit_BMI2) != 0 && (b & bit_ADX) != 0;
#else
  __builtin_cpu_init();  // may run before libgcc's own constructor
  return __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx");
#endif
}();
#else
bool g_use_adx = false;
#endif
}  // namespace detail

namespace {

// GB/T 32918.5 recommended-curve parameters, big-endian.
constexpr uint8_t kB[32] = {0x28, 0xE9, 0xFA, 0x9E, 0x9D, 0x9F, 0x5E, 0x34, 0x4D, 0x5A, 0x9E,
                            0x4B, 0xCF, 0x65, 0x09, 0xA7, 0xF3, 0x97, 0x89, 0xF5, 0x15, 0xAB,
                            0x8F, 0x92, 0xDD, 0xBC, 0xBD, 0x41, 0x4D, 0x94, 0x0E, 0x93};
constexpr uint8_t kGx[32] = {0x32, 0xC4, 0xAE, 0x2C, 0x1F, 0x19, 0x81, 0x19, 0x5F, 0x99, 0x04,
                             0x46, 0x6A, 0x39, 0xC9, 0x94, 0x8F, 0xE3, 0x0B, 0xBF, 0xF2, 0x66,
                             0x0B, 0xE1, 0x71, 0x5A, 0x45, 0x89, 0x33, 0x4C, 0x74, 0xC7};
constexpr uint8_t kGy[32] = {0xBC, 0x37, 0x36, 0xA2, 0xF4, 0xF6, 0x77, 0x9C, 0x59, 0xBD, 0xCE,
                             0xE3, 0x6B, 0x69, 0x21, 0x53, 0xD0, 0xA9, 0x87, 0x7C, 0xC6, 0x2A,
                             0x47, 0x40, 0x02, 0xDF, 0x32, 0xE5, 0x21, 0x39, 0xF0, 0xA0};

Fe fe_const(const uint8_t be[32]) {
  u64 t[4];
  limbs_from_be(t, be);
  return fe_to_mont(t);
}

Jac jac_select(u64 mask, const Jac& a, const Jac& b) {
  return Jac{fe_select(mask, a.X, b.X), fe_select(mask, a.Y, b.Y), fe_select(mask, a.Z, b.Z)};
}

// x³ − 3x + b.
Fe curve_rhs(const Fe& x) {
  Fe x3 = fe_mul(fe_sqr(x), x);
  Fe three_x = fe_add(fe_dbl(x), x);
  return fe_add(fe_sub(x3, three_x), curve_b());
}

// add-2007-bl (11M + 5S). Also returns H = U2 − U1 and r = 2(S2 − S1): both are zero iff
// P = Q (the formula then yields Z3 = 0, which is wrong); H = 0 alone means P = −Q, for which
// Z3 = 0 is right. The result is meaningless when either input is the identity.
void add_core(Jac& out, Fe& h, Fe& r, const Jac& p, const Jac& q) {
  Fe z1z1 = fe_sqr(p.Z), z2z2 = fe_sqr(q.Z);
  Fe u1 = fe_mul(p.X, z2z2), u2 = fe_mul(q.X, z1z1);
  Fe s1 = fe_mul(fe_mul(p.Y, q.Z), z2z2), s2 = fe_mul(fe_mul(q.Y, p.Z), z1z1);
  h = fe_sub(u2, u1);
  Fe i = fe_sqr(fe_dbl(h));
  Fe j = fe_mul(h, i);
  r = fe_dbl(fe_sub(s2, s1));
  Fe v = fe_mul(u1, i);
  out.X = fe_sub(fe_sub(fe_sqr(r), j), fe_dbl(v));
  out.Y = fe_sub(fe_mul(r, fe_sub(v, out.X)), fe_dbl(fe_mul(s1, j)));
  out.Z = fe_mul(fe_sub(fe_sub(fe_sqr(fe_add(p.Z, q.Z)), z1z1), z2z2), h);
}

// madd-2007-bl (7M + 4S), Q affine; the same exceptional cases as add_core, and P must not be
// the identity.
void madd_core(Jac& out, Fe& h, Fe& r, const Jac& p, const Aff& q) {
  Fe z1z1 = fe_sqr(p.Z);
  Fe u2 = fe_mul(q.x, z1z1);
  Fe s2 = fe_mul(fe_mul(q.y, p.Z), z1z1);
  h = fe_sub(u2, p.X);
  Fe hh = fe_sqr(h);
  Fe i = fe_dbl(fe_dbl(hh));
  Fe j = fe_mul(h, i);
  r = fe_dbl(fe_sub(s2, p.Y));
  Fe v = fe_mul(p.X, i);
  out.X = fe_sub(fe_sub(fe_sqr(r), j), fe_dbl(v));
  out.Y = fe_sub(fe_mul(r, fe_sub(v, out.X)), fe_dbl(fe_mul(p.Y, j)));
  out.Z = fe_sub(fe_sub(fe_sqr(fe_add(p.Z, h)), z1z1), hh);
}

bool is_identity_vartime(const Jac& p) {
  return fe_is_zero(p.Z) != 0;
}

// Variable-time additions for public points only.
Jac add_vartime(const Jac& p, const Jac& q) {
  if (is_identity_vartime(p)) return q;
  if (is_identity_vartime(q)) return p;
  Jac s;
  Fe h, r;
  add_core(s, h, r, p, q);
  if (fe_is_zero(h) != 0) return fe_is_zero(r) != 0 ? jac_dbl(p) : jac_identity();
  return s;
}

Jac madd_vartime(const Jac& p, const Aff& q) {
  if (is_identity_vartime(p)) return jac_from_affine(q);
  Jac s;
  Fe h, r;
  madd_core(s, h, r, p, q);
  if (fe_is_zero(h) != 0) return fe_is_zero(r) != 0 ? jac_dbl(p) : jac_identity();
  return s;
}

// Bits [pos, pos + width) of a 256-bit scalar (zeros above bit 255), width ≤ 8. `pos` is public.
unsigned bits_at(const u64 k[4], int pos, int width) {
  const int limb = pos / 64, off = pos % 64;
  u64 w = limb < 4 ? k[limb] >> off : 0;
  if (off + width > 64 && limb + 1 < 4) w |= k[limb + 1] << (64 - off);
  return static_cast<unsigned>(w) & ((1u << width) - 1);
}

// Signed window digit i of width w (Booth recoding): bits [w·i − 1, w·i + w) read as
// d = window + carry-in − 2^w·top, so d ∈ [−2^(w−1), 2^(w−1)] and Σ d_i·2^(w·i) = k when the
// top bit of the last window is clear. Returns |d| and sets sign (1 if d < 0); constant-time.
u64 booth_digit(const u64 k[4], int i, int w, u64& sign) {
  const u64 b = i == 0 ? static_cast<u64>(bits_at(k, 0, w)) << 1 : bits_at(k, w * i - 1, w + 1);
  sign = b >> w;
  const u64 v = (b >> 1) + (b & 1);
  const u64 full = u64{1} << w;
  return v ^ ((v ^ (full - v)) & (0 - sign));
}

// k or n − k, whichever is below 2^255, and whether the result must be negated. With the scalar
// below 2^255 the additions in mul_fixed and mul_var never meet P = ±Q (see there).
Sc halve_range(const Sc& k, u64& negate) {
  negate = mask_from_bit(k.v[3] >> 63);
  return sc_select(negate, sc_neg(k), k);
}

// Constant-time table reads: every entry is touched, the wanted one kept by mask. Index 0 gives
// all zeros (for Jacobian entries: the identity).
Aff lookup_aff8(const Aff table[8], u64 index) {
  Aff r{fe_zero(), fe_zero()};
  for (u64 j = 0; j < 8; ++j) {
    const u64 m = mask_eq(index, j + 1);
    for (int l = 0; l < 4; ++l) {
      r.x.v[l] |= table[j].x.v[l] & m;
      r.y.v[l] |= table[j].y.v[l] & m;
    }
  }
  return r;
}

Jac lookup_jac16(const Jac table[16], u64 index) {
  Jac r{fe_zero(), fe_zero(), fe_zero()};
  for (u64 j = 0; j < 16; ++j) {
    const u64 m = mask_eq(index, j + 1);
    for (int l = 0; l < 4; ++l) {
      r.X.v[l] |= table[j].X.v[l] & m;
      r.Y.v[l] |= table[j].Y.v[l] & m;
      r.Z.v[l] |= table[j].Z.v[l] & m;
    }
  }
  return r;
}

// Width-w NAF of a public scalar: out[i] ∈ {0, ±1, ±3, …, ±(2^(w−1) − 1)}, Σ out[i]·2^i = k.
// Returns the number of digits (index of the top nonzero digit + 1). After libsecp256k1's
// secp256k1_ecmult_wnaf: a window opens only where the running value is odd, so its word is odd
// and a carry out of the top window is impossible with 257 digit positions for k < 2^256.
int wnaf_vartime(int out[257], const u64 k[4], int w) {
  std::fill(out, out + 257, 0);
  int carry = 0, bit = 0, last = -1;
  constexpr int kLen = 257;
  while (bit < kLen) {
    if (static_cast<int>(bits_at(k, bit, 1)) == carry) {
      ++bit;
      continue;
    }
    const int now = std::min(w, kLen - bit);
    int word = static_cast<int>(bits_at(k, bit, now)) + carry;
    carry = (word >> (w - 1)) & 1;
    word -= carry << w;
    out[bit] = word;
    last = bit;
    bit += now;
  }
  return last + 1;
}

Aff aff_neg(const Aff& a) {
  return Aff{a.x, fe_neg(a.y)};
}

}  // namespace

Jac jac_identity() {
  return Jac{fe_zero(), fe_zero(), fe_zero()};
}

Jac jac_from_affine(const Aff& a) {
  return Jac{a.x, a.y, fe_one()};
}

const Fe& curve_b() {
  static const Fe b = fe_const(kB);
  return b;
}

const Aff& generator_affine() {
  static const Aff g{fe_const(kGx), fe_const(kGy)};
  return g;
}

u64 jac_is_identity(const Jac& p) {
  return fe_is_zero(p.Z);
}

Jac jac_neg(const Jac& p) {
  return Jac{p.X, fe_neg(p.Y), p.Z};
}

// Doubling for a = −3 in the arrangement of OpenSSL's ecp_nistz256 point_double (4M + 4S and
// ten additions, subtractions and halvings, where dbl-2001-b needs 3M + 5S and sixteen):
//   α = 3(X − Z²)(X + Z²), Z3 = 2Y·Z, S = (2Y)² = 4Y², T = S·X = 4XY²,
//   X3 = α² − 2T, Y3 = α(T − X3) − S²/2.
Jac jac_dbl(const Jac& p) {
  const Fe zz = fe_sqr(p.Z);
  Fe alpha = fe_mul(fe_sub(p.X, zz), fe_add(p.X, zz));
  alpha = fe_add(fe_dbl(alpha), alpha);
  const Fe y2 = fe_dbl(p.Y);
  Jac r;
  r.Z = fe_mul(y2, p.Z);
  const Fe s = fe_sqr(y2);
  const Fe t = fe_mul(s, p.X);
  const Fe s2_half = fe_half(fe_sqr(s));
  r.X = fe_sub(fe_sqr(alpha), fe_dbl(t));
  r.Y = fe_sub(fe_mul(alpha, fe_sub(t, r.X)), s2_half);
  return r;
}

Jac jac_add(const Jac& p, const Jac& q) {
  Jac s;
  Fe h, r;
  add_core(s, h, r, p, q);
  const Jac d = jac_dbl(p);
  const u64 p_inf = jac_is_identity(p), q_inf = jac_is_identity(q);
  const u64 same = fe_is_zero(h) & fe_is_zero(r) & ~p_inf & ~q_inf;
  s = jac_select(same, d, s);
  s = jac_select(p_inf, q, s);
  s = jac_select(q_inf, p, s);
  return s;
}

u64 jac_equal(const Jac& p, const Jac& q) {
  Fe z1z1 = fe_sqr(p.Z), z2z2 = fe_sqr(q.Z);
  Fe u1 = fe_mul(p.X, z2z2), u2 = fe_mul(q.X, z1z1);
  Fe s1 = fe_mul(fe_mul(p.Y, q.Z), z2z2), s2 = fe_mul(fe_mul(q.Y, p.Z), z1z1);
  const u64 p_inf = jac_is_identity(p), q_inf = jac_is_identity(q);
  return (p_inf & q_inf) | (~p_inf & ~q_inf & fe_eq(u1, u2) & fe_eq(s1, s2));
}

u64 jac_to_affine(Aff& out, const Jac& p) {
  const Fe zi = fe_inv(p.Z);  // 0 for the identity, so out = (0, 0)
  const Fe zi2 = fe_sqr(zi);
  out.x = fe_mul(p.X, zi2);
  out.y = fe_mul(p.Y, fe_mul(zi2, zi));
  return jac_is_identity(p);
}

void batch_to_affine(std::span<Aff> out, std::span<const Jac> in) {
  const size_t n = in.size();
  if (n == 0) return;
  std::vector<Fe> prefix(n);
  prefix[0] = in[0].Z;
  for (size_t i = 1; i < n; ++i) prefix[i] = fe_mul(prefix[i - 1], in[i].Z);
  Fe inv = fe_inv(prefix[n - 1]);
  for (size_t i = n; i-- > 0;) {
    const Fe zi = i == 0 ? inv : fe_mul(inv, prefix[i - 1]);
    if (i > 0) inv = fe_mul(inv, in[i].Z);
    const Fe zi2 = fe_sqr(zi);
    out[i].x = fe_mul(in[i].X, zi2);
    out[i].y = fe_mul(in[i].Y, fe_mul(zi2, zi));
  }
}

u64 aff_on_curve(const Aff& a) {
  return fe_eq(fe_sqr(a.y), curve_rhs(a.x));
}

void encode_compressed(uint8_t out[33], const Jac& p) {
  Aff a;
  u64 inf;
  // Points that came from decoding or from tables have Z = 1 and need no inversion. The branch
  // reveals only where the point came from, not its value.
  if (fe_eq(p.Z, fe_one()) != 0) {
    a = Aff{p.X, p.Y};
    inf = 0;
  } else {
    inf = jac_to_affine(a, p);
  }
  uint8_t x[32];
  fe_to_bytes(x, a.x);
  const auto keep = static_cast<uint8_t>(~inf);
  out[0] = static_cast<uint8_t>((0x02 | fe_parity(a.y)) & keep);
  for (int i = 0; i < 32; ++i) out[1 + i] = x[i] & keep;
}

bool lift_x_vartime(Aff& out, const Fe& x, u64 y_parity) {
  const Fe rhs = curve_rhs(x);
  Fe y = fe_sqrt_candidate(rhs);
  if (fe_eq(fe_sqr(y), rhs) == 0) return false;
  if (fe_parity(y) != y_parity) y = fe_neg(y);
  if (fe_parity(y) != y_parity) return false;  // y = 0 has no odd twin (never on SM2)
  out = Aff{x, y};
  return true;
}

bool decode_compressed_vartime(Jac& out, const uint8_t in[33], bool allow_identity) {
  bool zero = true;
  for (int i = 0; i < 33; ++i) zero = zero && in[i] == 0;
  if (zero) {
    if (!allow_identity) return false;
    out = jac_identity();
    return true;
  }
  if (in[0] != 0x02 && in[0] != 0x03) return false;
  Fe x;
  if (!fe_from_bytes_vartime(x, in + 1)) return false;
  Aff a;
  if (!lift_x_vartime(a, x, in[0] & 1)) return false;
  out = jac_from_affine(a);
  return true;
}

std::unique_ptr<FixedBase> make_fixed_base(const Aff& p) {
  auto t = std::make_unique<FixedBase>();
  t->point = p;
  std::vector<Jac> pts(64 * 8 + 32);
  const Jac P = jac_from_affine(p);
  Jac base = P;  // 16^i·P
  for (int i = 0; i < 64; ++i) {
    Jac* row = &pts[static_cast<size_t>(i) * 8];
    row[0] = base;
    for (int j = 1; j < 8; ++j) row[j] = jac_add(row[j - 1], base);
    base = jac_dbl(row[7]);
  }
  Jac* odd = &pts[64 * 8];
  const Jac P2 = jac_dbl(P);
  odd[0] = P;
  for (int j = 1; j < 32; ++j) odd[j] = jac_add(odd[j - 1], P2);
  // Every entry is a multiple m·P with 0 < m < 2^255 < n: finite, so one inversion serves all.
  std::vector<Aff> aff(pts.size());
  batch_to_affine(aff, pts);
  for (int i = 0; i < 64; ++i) {
    for (int j = 0; j < 8; ++j) t->comb[i][j] = aff[static_cast<size_t>(i) * 8 + j];
  }
  for (int j = 0; j < 32; ++j) t->odd[j] = aff[64 * 8 + j];
  return t;
}

const FixedBase& generator_tables() {
  static const std::unique_ptr<FixedBase> t = make_fixed_base(generator_affine());
  return *t;
}

// Signed 4-bit comb: k' = Σ d_i·16^i with d_i ∈ [−8, 8] (k' < 2^255, so 64 digits suffice),
// k'·P = Σ d_i·(16^i·P), one table row per digit, no doublings.
//
// Why the incomplete mixed addition is safe here: before digit i the accumulator holds S·P with
// S = Σ_{j<i} d_j·16^j, |S| ≤ 8·(16^i − 1)/15 < 16^i, and it adds d·16^i·P with 16^i ≤ |d·16^i|
// ≤ 2^255. S ≡ ±d·16^i (mod n) would need |S ∓ d·16^i| to be a nonzero multiple of n, but it is
// below 9·2^252 < n. So the only special cases are S = 0 (accumulator at the identity) and d = 0,
// and both are handled by selection.
Jac mul_fixed(const FixedBase& t, const Sc& k_in) {
  u64 negate;
  const Sc k = halve_range(k_in, negate);
  Jac acc = jac_identity();
  for (int i = 0; i < 64; ++i) {
    u64 sign;
    const u64 mag = booth_digit(k.v, i, 4, sign);
    Aff e = lookup_aff8(t.comb[i], mag);
    e.y = fe_select(mask_from_bit(sign), fe_neg(e.y), e.y);
    Jac s;
    Fe h, r;
    madd_core(s, h, r, acc, e);
    s = jac_select(jac_is_identity(acc), jac_from_affine(e), s);
    acc = jac_select(mask_is_zero(mag), acc, s);
  }
  acc.Y = fe_select(negate, fe_neg(acc.Y), acc.Y);
  return acc;
}

// Signed 5-bit windows, most significant first: 5 doublings, then add d·P (d ∈ [−16, 16]) from
// a table of 1·P … 16·P read in constant time.
//
// Why the incomplete addition is safe here: before adding digit i the accumulator is m·P with
// m = 32·V, V ≥ 0 the value of the digits above i, and m ≤ k' + 32 < 2^255 + 32. It adds d·P
// with |d| ≤ 16. m ≡ ±d (mod n) with m, d ≠ 0 would need m = |d| (impossible: m ≥ 32) or
// m ≥ n − 16 (impossible: m < 2^255 + 32). So only the identity cases remain (m = 0, d = 0, or
// P itself the identity), handled by selection.
Jac mul_var(const Sc& k_in, const Jac& p) {
  u64 negate;
  const Sc k = halve_range(k_in, negate);
  Jac table[16];  // table[j] = (j + 1)·P
  table[0] = p;
  for (int m = 2; m <= 16; ++m) {
    if (m % 2 == 0) {
      table[m - 1] = jac_dbl(table[m / 2 - 1]);
    } else {
      // (m − 1)·P + P never doubles ((m − 1)·P = ±P would need m − 2 or m ≡ 0 mod n); only the
      // identity (P itself) needs the selection.
      Jac s;
      Fe h, r;
      add_core(s, h, r, table[m - 2], p);
      table[m - 1] = jac_select(jac_is_identity(p), p, s);
    }
  }
  Jac acc = jac_identity();
  for (int i = 51; i >= 0; --i) {
    if (i != 51) {
      for (int d = 0; d < 5; ++d) acc = jac_dbl(acc);
    }
    u64 sign;
    const u64 mag = booth_digit(k.v, i, 5, sign);
    Jac e = lookup_jac16(table, mag);
    e.Y = fe_select(mask_from_bit(sign), fe_neg(e.Y), e.Y);
    Jac s;
    Fe h, r;
    add_core(s, h, r, acc, e);
    s = jac_select(jac_is_identity(acc), e, s);
    acc = jac_select(jac_is_identity(e), acc, s);
  }
  acc.Y = fe_select(negate, fe_neg(acc.Y), acc.Y);
  return acc;
}

namespace {

// One term of a Straus chain: its width-w NAF and its odd multiples, affine or Jacobian.
struct StrausTerm {
  int naf[257];
  int len;
  const Aff* aff;
  const Jac* jac;
};

Jac straus_vartime(std::span<const StrausTerm> terms) {
  int top = 0;
  for (const StrausTerm& t : terms) top = std::max(top, t.len);
  Jac acc = jac_identity();
  for (int i = top - 1; i >= 0; --i) {
    if (!is_identity_vartime(acc)) acc = jac_dbl(acc);
    for (const StrausTerm& t : terms) {
      const int d = t.naf[i];
      if (d == 0) continue;
      const int j = (d > 0 ? d : -d) / 2;
      if (t.aff != nullptr) {
        acc = madd_vartime(acc, d > 0 ? t.aff[j] : aff_neg(t.aff[j]));
      } else {
        acc = add_vartime(acc, d > 0 ? t.jac[j] : jac_neg(t.jac[j]));
      }
    }
  }
  return acc;
}

void odd_multiples_jac(Jac out[], int count, const Jac& p) {
  out[0] = p;
  const Jac p2 = jac_dbl(p);
  for (int j = 1; j < count; ++j) out[j] = add_vartime(out[j - 1], p2);
}

}  // namespace

void odd_multiples_vartime(std::span<Aff> out, const Jac& p) {
  std::vector<Jac> jac(out.size());
  odd_multiples_jac(jac.data(), static_cast<int>(jac.size()), p);
  batch_to_affine(out, jac);  // multiples of a point of prime order: all finite
}

Jac msm_odd_vartime(std::span<const Sc> ks, std::span<const OddMultiples> points) {
  std::vector<StrausTerm> terms;
  terms.reserve(ks.size());
  for (size_t i = 0; i < std::min(ks.size(), points.size()); ++i) {
    StrausTerm& t = terms.emplace_back();
    t.len = wnaf_vartime(t.naf, ks[i].v, points[i].width);
    t.aff = points[i].odd;
    t.jac = nullptr;
  }
  return straus_vartime(terms);
}

Jac msm_vartime(std::span<const Sc> ks, std::span<const Jac> ps,
                std::span<const FixedBase* const> fixed) {
  constexpr int kVarWidth = 5, kVarOdd = 8;  // (2j+1)·P for j < 8
  const size_t n = std::min({ks.size(), ps.size(), fixed.size()});
  std::vector<size_t> vars, fixeds;
  for (size_t i = 0; i < n; ++i) {
    if (sc_is_zero(ks[i]) != 0 || is_identity_vartime(ps[i])) continue;
    (fixed[i] != nullptr ? fixeds : vars).push_back(i);
  }

  Jac acc = jac_identity();
  if (vars.empty()) {
    // Only tabulated points: the comb needs no doublings at all.
    for (size_t i : fixeds) {
      u64 negate;
      const Sc k = halve_range(ks[i], negate);
      for (int w = 0; w < 64; ++w) {
        u64 sign;
        const u64 mag = booth_digit(k.v, w, 4, sign);
        if (mag == 0) continue;
        const Aff& e = fixed[i]->comb[w][mag - 1];
        acc = madd_vartime(acc, ((sign != 0) != (negate != 0)) ? aff_neg(e) : e);
      }
    }
    return acc;
  }

  // Odd multiples of the variable points; with two or more of them, one shared inversion makes
  // them affine, and every later addition a cheaper mixed one.
  std::vector<Jac> jac(vars.size() * kVarOdd);
  for (size_t v = 0; v < vars.size(); ++v)
    odd_multiples_jac(&jac[v * kVarOdd], kVarOdd, ps[vars[v]]);
  std::vector<Aff> aff;
  if (vars.size() >= 2) {
    aff.resize(jac.size());
    batch_to_affine(aff, jac);
  }
  std::vector<StrausTerm> terms(vars.size() + fixeds.size());
  for (size_t v = 0; v < vars.size(); ++v) {
    StrausTerm& t = terms[v];
    t.len = wnaf_vartime(t.naf, ks[vars[v]].v, kVarWidth);
    t.aff = aff.empty() ? nullptr : &aff[v * kVarOdd];
    t.jac = aff.empty() ? &jac[v * kVarOdd] : nullptr;
  }
  for (size_t f = 0; f < fixeds.size(); ++f) {
    StrausTerm& t = terms[vars.size() + f];
    t.len = wnaf_vartime(t.naf, ks[fixeds[f]].v, 7);
    t.aff = fixed[fixeds[f]]->odd;
    t.jac = nullptr;
  }
  return straus_vartime(terms);
}

}  // namespace anoncode::crypto::sm2p256
