// Constant-time check of the SM2-curve code (ctgrind, after Adam Langley): run under valgrind's
// memcheck with secret scalars, keys, nonces and points marked "undefined", so that every
// conditional branch and every memory address computed from them is reported as an error
// (ctest runs it with --error-exitcode=1). Outputs are marked "defined" where they become public,
// before they are compared. Both Montgomery backends are checked (valgrind executes MULX/ADX
// even though its CPUID hides them, so the test switches the backend itself).
//
//   sm2p256_ct_test                 the checks; exit 0 when every result is right
//   sm2p256_ct_test --leak-branch   a deliberate branch on a secret bit (valgrind must object)
//   sm2p256_ct_test --leak-index    a deliberate table read at a secret index (likewise)
//
// Without valgrind the program only runs the code and checks the results.
#include <valgrind/memcheck.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "crypto/credential.h"
#include "crypto/group.h"
#include "crypto/sm2_fast.h"
#include "crypto/sm2p256/point.h"

namespace anoncode::crypto {
namespace {

using namespace sm2p256;

template <typename T>
void secret(const T& t) {
  classify(&t, sizeof t);
}
template <typename T>
void reveal(const T& t) {
  declassify(&t, sizeof t);
}
void secret(const Scalar& s) {
  classify(s.expose_secret().data(), 32);
}

int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what);
    ++failures;
  }
}

bool same_point(const Jac& a, const Jac& b) {
  reveal(a);
  reveal(b);
  uint8_t ea[33], eb[33];
  encode_compressed(ea, a);
  encode_compressed(eb, b);
  return std::memcmp(ea, eb, 33) == 0;
}

Sc scalar_of(const char* tag) {
  uint8_t wide[64] = {};
  std::memcpy(wide, tag, std::strlen(tag) < 64 ? std::strlen(tag) : 64);
  wide[0] ^= 0x5a;
  wide[63] = 0xa5;
  return sc_reduce_wide(wide);
}

void check_arithmetic() {
  const Jac G = jac_from_affine(generator_affine());
  const Sc k_public = scalar_of("k"), m_public = scalar_of("m");
  const Jac P = mul_fixed(generator_tables(), m_public);  // a public point, Jacobian form

  // Variable-base multiplication with a secret scalar, then also with a secret point.
  Sc k = k_public;
  secret(k);
  const Jac kP = mul_var(k, P);
  const Jac expect_kP = mul_fixed(generator_tables(), sc_mul(k_public, m_public));
  check(same_point(kP, expect_kP), "mul_var(secret k, P)");
  Jac P_secret = P;
  secret(P_secret);
  const Jac kPs = mul_var(k, P_secret);
  check(same_point(kPs, expect_kP), "mul_var(secret k, secret P)");

  // Edge scalars through the same code: 0, 1, n − 1, and one above 2^255 (negation path).
  for (u64 small : {0ull, 1ull, 2ull}) {
    Sc e = sc_from_u64(small);
    Sc e_neg = sc_neg(e);
    secret(e);
    secret(e_neg);
    const Jac a = mul_var(e, G), b = mul_fixed(generator_tables(), e);
    const Jac c = mul_var(e_neg, G), d = mul_fixed(generator_tables(), e_neg);
    check(same_point(a, b), "mul_var vs mul_fixed, small scalar");
    check(same_point(c, d), "mul_var vs mul_fixed, n − small");
    check(same_point(jac_add(a, c), jac_identity()), "k·G + (n − k)·G");
  }

  // Fixed-base multiplication (comb) with a secret scalar, for G and for another table.
  const Jac kG = mul_fixed(generator_tables(), k);
  check(same_point(kG, mul_var(k_public, G)), "mul_fixed(G, secret k)");
  Aff h;
  jac_to_affine(h, P);
  const auto table = make_fixed_base(h);
  check(same_point(mul_fixed(*table, k), expect_kP), "mul_fixed(P, secret k)");

  // Point operations on secret points: complete addition, doubling, equality, affine form.
  const Jac sum = jac_add(kP, kPs);
  check(same_point(sum, jac_dbl(expect_kP)), "jac_add(secret P, secret P) doubles");
  const Jac diff = jac_add(kP, jac_neg(kPs));
  check(same_point(diff, jac_identity()), "jac_add(secret P, −P)");
  u64 eq = jac_equal(kP, kPs);
  reveal(eq);
  check(eq != 0, "jac_equal(secret, secret)");
  Aff a;
  jac_to_affine(a, kP);
  u64 on_curve = aff_on_curve(a);
  reveal(on_curve);
  check(on_curve != 0, "jac_to_affine(secret point)");

  // Scalar arithmetic and the constant-time inverse.
  Sc inv = sc_inv(k);
  Sc one = sc_mul(inv, k);
  reveal(one);
  check(sc_eq(one, sc_from_u64(1)) != 0, "sc_inv(secret k)");
  Sc t = sc_sub(sc_add(k, k), sc_neg(k));
  reveal(t);
  check(sc_eq(t, sc_mul(k_public, sc_from_u64(3))) != 0, "sc_add/sub/neg");
  uint8_t bytes[32];
  sc_to_bytes(bytes, k);
  u64 canonical;
  Sc back = sc_from_bytes(bytes, canonical);
  reveal(back);
  reveal(canonical);
  check(canonical != 0 && sc_eq(back, k_public) != 0, "sc_to_bytes/sc_from_bytes");
  uint8_t wide[64] = {1, 2, 3};
  secret(wide);
  Sc reduced = sc_reduce_wide(wide);
  reveal(reduced);
  Fe x = fe_inv(a.x);
  reveal(x);
}

void check_group() {
  const Group& g = sm2();
  const auto& gen = Generators::of(g);
  Scalar k = g.hash_to_scalar("anoncode/ct", as_bytes("k"));
  const Scalar k_public = k;
  const Point Q = g.add(g.mul_base(g.scalar_from_u64(7)), gen.H1);  // a public, untabulated point
  secret(k);
  // mul with a secret scalar: tabulated point (comb), untabulated point (windows), generator.
  Point a = g.mul(k, gen.H0), b = g.mul(k, Q), c = g.mul_base(k);
  reveal(a);
  reveal(b);
  reveal(c);
  check(g.equal(a, g.multi_mul_vartime(std::array{k_public}, std::array{gen.H0})),
        "Group::mul(H0)");
  check(g.equal(b, g.multi_mul_vartime(std::array{k_public}, std::array{Q})), "Group::mul(Q)");
  check(g.equal(c, g.multi_mul_vartime(std::array{k_public}, std::array{gen.B})), "mul_base");
  // Scalar operations and inversion through the interface.
  Scalar inv = g.invert(k).value();
  Scalar one = g.mul(inv, k);
  Scalar sum = g.sub(g.add(k, one), g.neg(k));
  reveal(one);
  reveal(sum);
  check(g.encode_scalar(one) == g.encode_scalar(g.scalar_from_u64(1)), "Group::invert");
  // Point sums and comparison on secret points.
  Point s = g.mul(k, Q);
  Point t = g.add(s, s);
  bool equal = g.equal(t, g.mul(g.add(k, k), Q));
  reveal(equal);
  check(equal, "Group::add/equal on secret points");
  (void)sum;
}

void check_signing() {
  // d, (1 + d)⁻¹ and the nonce k secret; the signature is public once made.
  const uint8_t d[32] = {0x39, 0x45, 0x20, 0x8f, 0x7b, 0x21, 0x44, 0xb1, 0x3f, 0x36, 0xe3,
                         0x8a, 0xc6, 0xd3, 0x9f, 0x95, 0x88, 0x93, 0x93, 0x69, 0x28, 0x60,
                         0xb5, 0x1a, 0x42, 0xfb, 0x81, 0xef, 0x4d, 0xf7, 0xc5, 0xb8};
  const auto key = sm2_fast_private_key(d);
  const Jac pub = mul_fixed(generator_tables(), key->d);
  Aff pa;
  jac_to_affine(pa, pub);
  uint8_t enc[65] = {0x04};
  fe_to_bytes(enc + 1, pa.x);
  fe_to_bytes(enc + 33, pa.y);
  const auto pub_key = sm2_fast_public_key(ByteView(enc, 65));
  const Bytes msg = to_bytes("message digest");
  SecretBytes nonce(Bytes(32, 0x42));
  const Bytes expect = sm2_fast_sign(*key, *pub_key, msg, &nonce).value();
  secret(key->d);
  secret(key->inv_one_plus_d);
  classify(nonce.expose_secret().data(), 32);
  const Bytes sig = sm2_fast_sign(*key, *pub_key, msg, &nonce).value();
  check(sig == expect, "sm2_fast_sign(secret d, secret k)");
  check(sm2_fast_verify_vartime(*pub_key, msg, sig), "signature verifies");
  // The random-nonce path (its k is not marked: the fixed-nonce run above is the check).
  const Bytes sig2 = sm2_fast_sign(*key, *pub_key, msg).value();
  check(sm2_fast_verify_vartime(*pub_key, msg, sig2), "random-nonce signature verifies");
}

// The deliberate leaks that prove the check can fail.
int leak_branch() {
  Sc k = scalar_of("leak");
  secret(k);
  volatile int sink = 0;
  if (k.v[0] & 1) sink = 1;  // a branch on a secret bit
  return sink;
}

int leak_index() {
  static const Aff* table = generator_tables().odd;
  Sc k = scalar_of("leak");
  secret(k);
  const Aff& e = table[k.v[0] & 31];  // a memory address from a secret
  volatile u64 sink = e.x.v[0];
  return static_cast<int>(sink & 1);
}

}  // namespace
}  // namespace anoncode::crypto

int main(int argc, char** argv) {
  using namespace anoncode::crypto;
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "--leak-branch") return leak_branch() * 0;  // valgrind's exit code decides
  if (mode == "--leak-index") return leak_index() * 0;
  if (!mode.empty()) {
    std::fprintf(stderr, "usage: %s [--leak-branch|--leak-index]\n", argv[0]);
    return 2;
  }
  if (RUNNING_ON_VALGRIND == 0) {
    std::fprintf(stderr, "note: not under valgrind; running the code without the checks\n");
  }
  // Valgrind runs MULX/ADX code although its CPUID hides them; natively, only where present.
  const bool can_adx =
      RUNNING_ON_VALGRIND != 0 || (__builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx"));
  for (bool adx : {false, true}) {
    if (adx && !can_adx) continue;
    sm2p256::detail::g_use_adx = adx;
    std::fprintf(stderr, "backend: %s\n", adx ? "mulx/adx" : "portable");
    check_arithmetic();
    check_group();
    check_signing();
  }
  std::fprintf(stderr, failures == 0 ? "ok\n" : "%d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
