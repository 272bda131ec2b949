// Points on the SM2 curve y² = x³ − 3x + b over F_p (GB/T 32918.5 recommended parameters),
// a group of prime order n (cofactor 1).
//
// Why this is hand-written: OpenSSL 3.0 has no fast path for this curve on x86-64 (a scalar
// multiplication costs ~270 µs there), no Debian package provides one, and these
// multiplications are the bulk of what the platform spends on cryptography (DESIGN §3.3 cost
// model). The code is small, constant-time by construction, and differentially tested against
// OpenSSL (sm2p256_test.cpp) and checked with valgrind (sm2p256_ct_test.cpp).
//
// Representation: Jacobian coordinates (X : Y : Z) ↔ (X/Z², Y/Z³), Montgomery-form field
// elements; Z = 0 is the identity (whatever X and Y hold). Affine points (for tables) are never
// the identity.
//
// Constant-time unless the name ends in _vartime: no branch and no memory index depends on a
// scalar or on coordinates. The formulas are the standard ones for a = −3 (dbl-2001-b,
// add-2007-bl, madd-2007-bl from the Explicit-Formulas Database); their exceptional cases are
// handled as each function says.
#pragma once

#include <memory>
#include <span>

#include "crypto/sm2p256/field.h"
#include "crypto/sm2p256/scalar.h"

namespace anoncode::crypto::sm2p256 {

struct Jac {
  Fe X, Y, Z;
};
struct Aff {
  Fe x, y;
};

Jac jac_identity();
Jac jac_from_affine(const Aff& a);
const Aff& generator_affine();
// b of y² = x³ − 3x + b, Montgomery form.
const Fe& curve_b();

u64 jac_is_identity(const Jac& p);  // mask
Jac jac_neg(const Jac& p);
// 2P; complete (the identity doubles to the identity; there is no point of order 2).
Jac jac_dbl(const Jac& p);
// P + Q, complete: handles the identity on either side, P = Q and P = −Q, in constant time.
Jac jac_add(const Jac& p, const Jac& q);
// P == Q as group elements, in constant time (mask).
u64 jac_equal(const Jac& p, const Jac& q);
// Affine coordinates (one constant-time inversion); the returned mask is all ones iff p is the
// identity, in which case `out` is (0, 0).
u64 jac_to_affine(Aff& out, const Jac& p);
// Several at once with one inversion (Montgomery's trick). Every input must be finite; vartime
// only in the count.
void batch_to_affine(std::span<Aff> out, std::span<const Jac> in);
// Is (x, y) on the curve? (mask)
u64 aff_on_curve(const Aff& a);

// SEC1 compressed encoding, 33 bytes; the identity is 33 zero bytes (our wire convention).
void encode_compressed(uint8_t out[33], const Jac& p);
// Decodes what encode_compressed produces and rejects everything else: wrong prefix, x ≥ p,
// x with no point, the zero string unless allow_identity. Input is public: variable time.
bool decode_compressed_vartime(Jac& out, const uint8_t in[33], bool allow_identity);
// The point with this x and this y parity, if there is one (hash to group; public input).
bool lift_x_vartime(Aff& out, const Fe& x, u64 y_parity);

// Tables for a point that is multiplied often (a generator, an issuer key): a signed 4-bit
// comb, comb[i][j] = (j+1)·16^i·P, for constant-time fixed-base multiplication without
// doublings; and the odd multiples (2j+1)·P for width-7 wNAF in variable-time sums.
struct FixedBase {
  Aff point;
  Aff comb[64][8];
  Aff odd[32];
};
std::unique_ptr<FixedBase> make_fixed_base(const Aff& p);
// The tables of the standard generator G, built on first use.
const FixedBase& generator_tables();

// k·P for the point of `t`, constant-time in k (64 mixed additions, no doublings).
Jac mul_fixed(const FixedBase& t, const Sc& k);
// k·P, constant-time in k and P (signed 5-bit windows, 255 doublings, 52 additions).
Jac mul_var(const Sc& k, const Jac& p);

// Σ k_i·P_i for public scalars and points (verification): Straus with wNAF, the odd-multiple
// tables for points that have `fixed[i]` (non-null), and the comb when every point has them.
// Sizes must match.
Jac msm_vartime(std::span<const Sc> ks, std::span<const Jac> ps,
                std::span<const FixedBase* const> fixed);

// A public point given by its odd multiples: odd[j] = (2j+1)·P for j < 2^(width−2).
struct OddMultiples {
  const Aff* odd;
  int width;
};
// Fills out[j] = (2j+1)·P for j < out.size(); P finite and public.
void odd_multiples_vartime(std::span<Aff> out, const Jac& p);
// Σ k_i·P_i over precomputed odd multiples (public scalars and points): one Straus chain as long
// as the longest scalar, so 128-bit scalars need only 128 doublings.
Jac msm_odd_vartime(std::span<const Sc> ks, std::span<const OddMultiples> points);

}  // namespace anoncode::crypto::sm2p256
