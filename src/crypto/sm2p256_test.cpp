// Differential tests of our SM2-curve arithmetic (src/crypto/sm2p256/) against OpenSSL: field
// and scalar operations against BIGNUM, the "sm2" group against "sm2-openssl" byte for byte
// (multiplications, sums, encodings, rejections, hashing to the group), and SM2 signatures made
// by each implementation verified by the other, plus the GB/T 32918 example. Field and scalar
// tests run on both Montgomery backends (portable and MULX/ADX), the group tests mostly on the
// one the CPU selects and once more on the portable one.
#include <gtest/gtest.h>
#include <openssl/bn.h>

#include <array>
#include <random>
#include <vector>

#include "crypto/credential.h"
#include "crypto/group.h"
#include "crypto/sm2.h"
#include "crypto/sm2_fast.h"
#include "crypto/sm2p256/point.h"
#include "crypto/sm_test_util.h"

namespace anoncode::crypto {
namespace {

using namespace sm2p256;
using B32 = std::array<uint8_t, 32>;

// --- BIGNUM reference -----------------------------------------------------------------------

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

BN_CTX* ctx() {
  thread_local std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)> c(BN_CTX_new(), BN_CTX_free);
  return c.get();
}
Bn bn(const uint8_t* be, size_t len = 32) {
  return Bn(BN_bin2bn(be, static_cast<int>(len), nullptr));
}
Bn bn_hex(const char* h) {
  BIGNUM* b = nullptr;
  BN_hex2bn(&b, h);
  return Bn(b);
}
B32 b32(const BIGNUM* b) {
  B32 out{};
  BN_bn2binpad(b, out.data(), 32);
  return out;
}
Bn new_bn() {
  return Bn(BN_new());
}

const BIGNUM* P() {
  static Bn p = bn_hex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF");
  return p.get();
}
const BIGNUM* N() {
  static Bn n = bn_hex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");
  return n.get();
}

// Edge values below m: 0, 1, 2, 3, m − 1, m − 2, m − 3, (m ± 1)/2, powers of two, and values
// with long runs of ones and zeros (the limb boundaries of the special form of p).
std::vector<B32> edges(const BIGNUM* m) {
  std::vector<Bn> v;
  for (const char* h :
       {"0", "1", "2", "3", "FFFFFFFFFFFFFFFF", "10000000000000000", "FFFFFFFF00000000",
        "100000000", "8000000000000000000000000000000000000000000000000000000000000000",
        "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        "FFFFFFFF000000000000000000000000000000000000000000000000",
        "100000000000000000000000000000000000000000000000000000000",
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        "1000000000000000000000000000000000000000000000000",
        "8888888888888888888888888888888888888888888888888888888888888888",
        "7777777777777777777777777777777777777777777777777777777777777777"}) {
    v.push_back(bn_hex(h));
  }
  for (int d = 1; d <= 3; ++d) {
    Bn x(BN_dup(m));
    BN_sub_word(x.get(), static_cast<BN_ULONG>(d));
    v.push_back(std::move(x));
  }
  Bn half(BN_dup(m));
  BN_rshift1(half.get(), half.get());
  Bn half1(BN_dup(half.get()));
  BN_add_word(half1.get(), 1);
  v.push_back(std::move(half));
  v.push_back(std::move(half1));
  std::vector<B32> out;
  for (auto& x : v) {
    BN_nnmod(x.get(), x.get(), m, ctx());
    out.push_back(b32(x.get()));
  }
  return out;
}

B32 random_below(std::mt19937_64& rng, const BIGNUM* m) {
  for (;;) {
    B32 b;
    for (size_t i = 0; i < 32; i += 8) {
      const uint64_t w = rng();
      for (int j = 0; j < 8; ++j) b[i + j] = static_cast<uint8_t>(w >> (8 * j));
    }
    if (BN_cmp(bn(b.data()).get(), m) < 0) return b;
  }
}

// --- the two Montgomery backends ----------------------------------------------------------------

bool cpu_has_adx() {
  return __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx");
}

class Backend : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    saved_ = detail::g_use_adx;
    if (GetParam() && !cpu_has_adx()) GTEST_SKIP() << "this CPU has no BMI2/ADX";
    detail::g_use_adx = GetParam();
  }
  void TearDown() override { detail::g_use_adx = saved_; }
  bool saved_ = false;
};

std::string backend_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "mulx_adx" : "portable";
}

using FieldDifferential = Backend;
INSTANTIATE_TEST_SUITE_P(Backends, FieldDifferential, ::testing::Bool(), backend_name);
using ScalarDifferential = Backend;
INSTANTIATE_TEST_SUITE_P(Backends, ScalarDifferential, ::testing::Bool(), backend_name);
using GroupOnBackend = Backend;
INSTANTIATE_TEST_SUITE_P(Backends, GroupOnBackend, ::testing::Bool(), backend_name);

Fe fe(const B32& b) {
  Fe f;
  if (!fe_from_bytes_vartime(f, b.data())) ADD_FAILURE() << "not a field element";
  return f;
}
B32 bytes(const Fe& f) {
  B32 out;
  fe_to_bytes(out.data(), f);
  return out;
}
Sc sc(const B32& b) {
  u64 ok;
  Sc s = sc_from_bytes(b.data(), ok);
  EXPECT_NE(ok, 0u);
  return s;
}
B32 bytes(const Sc& s) {
  B32 out;
  sc_to_bytes(out.data(), s);
  return out;
}

// --- field ------------------------------------------------------------------------------------

TEST_P(FieldDifferential, ArithmeticMatchesBignum) {
  std::mt19937_64 rng(0x5eed0001);
  const std::vector<B32> edge = edges(P());
  std::vector<std::pair<B32, B32>> cases;
  for (const auto& a : edge) {
    for (const auto& b : edge) cases.emplace_back(a, b);
  }
  for (int i = 0; i < 40000; ++i)
    cases.emplace_back(random_below(rng, P()), random_below(rng, P()));
  Bn r = new_bn();
  size_t ops = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [a, b] = cases[i];
    const Fe fa = fe(a), fb = fe(b);
    Bn ba = bn(a.data()), bb = bn(b.data());
    BN_mod_add(r.get(), ba.get(), bb.get(), P(), ctx());
    ASSERT_EQ(bytes(fe_add(fa, fb)), b32(r.get())) << i;
    BN_mod_sub(r.get(), ba.get(), bb.get(), P(), ctx());
    ASSERT_EQ(bytes(fe_sub(fa, fb)), b32(r.get())) << i;
    BN_mod_mul(r.get(), ba.get(), bb.get(), P(), ctx());
    ASSERT_EQ(bytes(fe_mul(fa, fb)), b32(r.get())) << i;
    BN_mod_sqr(r.get(), ba.get(), P(), ctx());
    ASSERT_EQ(bytes(fe_sqr(fa)), b32(r.get())) << i;
    BN_mod_sub(r.get(), BN_value_one(), BN_value_one(), P(), ctx());
    BN_mod_sub(r.get(), r.get(), ba.get(), P(), ctx());
    ASSERT_EQ(bytes(fe_neg(fa)), b32(r.get())) << i;
    ASSERT_EQ(fe_eq(fa, fb) != 0, a == b);
    ASSERT_EQ(fe_is_zero(fa) != 0, BN_is_zero(ba.get()) == 1);
    ops += 5;
    if (i % 40 == 0) {  // inversion and square roots: fewer, they are 300 multiplications each
      if (BN_is_zero(ba.get())) {
        ASSERT_EQ(bytes(fe_inv(fa)), B32{});
      } else {
        BN_mod_inverse(r.get(), ba.get(), P(), ctx());
        ASSERT_EQ(bytes(fe_inv(fa)), b32(r.get())) << i;
      }
      const Fe sq = fe_sqr(fa);
      ASSERT_EQ(bytes(fe_sqr(fe_sqrt_candidate(sq))), bytes(sq)) << i;
      const bool square = BN_kronecker(ba.get(), P(), ctx()) >= 0;
      ASSERT_EQ(fe_eq(fe_sqr(fe_sqrt_candidate(fa)), fa) != 0, square) << i;
      ops += 3;
    }
  }
  RecordProperty("field_ops", static_cast<int>(ops));
  EXPECT_GT(ops, 200000u);
}

TEST_P(FieldDifferential, DecodingAndWideReduction) {
  // x < p only.
  const Bn p_plus_1 = [] {
    Bn x(BN_dup(P()));
    BN_add_word(x.get(), 1);
    return x;
  }();
  Fe f;
  for (const BIGNUM* bad : std::initializer_list<const BIGNUM*>{P(), p_plus_1.get()}) {
    const B32 b = b32(bad);
    EXPECT_FALSE(fe_from_bytes_vartime(f, b.data()));
  }
  B32 ones;
  ones.fill(0xff);
  EXPECT_FALSE(fe_from_bytes_vartime(f, ones.data()));
  for (const auto& e : edges(P())) EXPECT_EQ(bytes(fe(e)), e);
  std::mt19937_64 rng(0x5eed0002);
  Bn r = new_bn();
  for (int i = 0; i < 5000; ++i) {
    uint8_t wide[64];
    for (auto& x : wide) x = static_cast<uint8_t>(rng());
    if (i < 4) std::fill(wide, wide + 64, static_cast<uint8_t>(i == 0 ? 0 : 0xff));
    BN_nnmod(r.get(), bn(wide, 64).get(), P(), ctx());
    ASSERT_EQ(bytes(fe_reduce_wide(wide)), b32(r.get())) << i;
  }
}

// --- scalars ----------------------------------------------------------------------------------

TEST_P(ScalarDifferential, ArithmeticMatchesBignum) {
  std::mt19937_64 rng(0x5eed0003);
  const std::vector<B32> edge = edges(N());
  std::vector<std::pair<B32, B32>> cases;
  for (const auto& a : edge) {
    for (const auto& b : edge) cases.emplace_back(a, b);
  }
  for (int i = 0; i < 40000; ++i)
    cases.emplace_back(random_below(rng, N()), random_below(rng, N()));
  Bn r = new_bn();
  size_t ops = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [a, b] = cases[i];
    const Sc sa = sc(a), sb = sc(b);
    Bn ba = bn(a.data()), bb = bn(b.data());
    BN_mod_add(r.get(), ba.get(), bb.get(), N(), ctx());
    ASSERT_EQ(bytes(sc_add(sa, sb)), b32(r.get())) << i;
    BN_mod_sub(r.get(), ba.get(), bb.get(), N(), ctx());
    ASSERT_EQ(bytes(sc_sub(sa, sb)), b32(r.get())) << i;
    BN_mod_mul(r.get(), ba.get(), bb.get(), N(), ctx());
    ASSERT_EQ(bytes(sc_mul(sa, sb)), b32(r.get())) << i;
    BN_mod_sub(r.get(), BN_value_one(), BN_value_one(), N(), ctx());
    BN_mod_sub(r.get(), r.get(), ba.get(), N(), ctx());
    ASSERT_EQ(bytes(sc_neg(sa)), b32(r.get())) << i;
    ops += 4;
    if (i % 40 == 0) {
      if (BN_is_zero(ba.get())) {
        ASSERT_EQ(bytes(sc_inv(sa)), B32{});
      } else {
        BN_mod_inverse(r.get(), ba.get(), N(), ctx());
        ASSERT_EQ(bytes(sc_inv(sa)), b32(r.get())) << i;
      }
      ops += 1;
    }
  }
  RecordProperty("scalar_ops", static_cast<int>(ops));
  EXPECT_GT(ops, 150000u);
}

TEST_P(ScalarDifferential, DecodingAndWideReduction) {
  std::mt19937_64 rng(0x5eed0004);
  Bn r = new_bn();
  // Canonical iff below n; the value is reduced either way.
  std::vector<B32> inputs;
  for (const char* h : {"FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
                        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122",
                        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54124",
                        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "0"}) {
    inputs.push_back(b32(bn_hex(h).get()));
  }
  for (int i = 0; i < 5000; ++i) {
    B32 b;
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    inputs.push_back(b);
  }
  for (const auto& in : inputs) {
    u64 ok;
    const Sc s = sc_from_bytes(in.data(), ok);
    Bn v = bn(in.data());
    EXPECT_EQ(ok != 0, BN_cmp(v.get(), N()) < 0);
    BN_nnmod(r.get(), v.get(), N(), ctx());
    ASSERT_EQ(bytes(s), b32(r.get()));
  }
  for (int i = 0; i < 5000; ++i) {
    uint8_t wide[64];
    for (auto& x : wide) x = static_cast<uint8_t>(rng());
    if (i < 2) std::fill(wide, wide + 64, static_cast<uint8_t>(i == 0 ? 0 : 0xff));
    BN_nnmod(r.get(), bn(wide, 64).get(), N(), ctx());
    ASSERT_EQ(bytes(sc_reduce_wide(wide)), b32(r.get())) << i;
  }
}

// --- the group against the OpenSSL backend ----------------------------------------------------

const Group& fast() {
  return sm2();
}
const Group& ref() {
  return sm2_openssl();
}

// A scalar of both groups from 32 canonical bytes (the encodings are the same).
Scalar scalar(const B32& b) {
  return fast().decode_scalar(b).value();
}

// The same point in both groups, through its encoding.
Point to_ref(const Point& p) {
  return ref().decode_point(fast().encode_point(p), true).value();
}

void expect_same(const Point& ours, const Point& theirs, const std::string& what) {
  EXPECT_EQ(to_hex(fast().encode_point(ours)), to_hex(ref().encode_point(theirs))) << what;
}

// Scalars that stress the windows: edges, n − 2j (where a careless last addition would have to
// double), runs of ones and zeros at window boundaries, values around 2^255.
std::vector<B32> edge_scalars() {
  std::vector<B32> out = edges(N());
  for (int j = 1; j <= 40; ++j) {
    Bn x(BN_dup(N()));
    BN_sub_word(x.get(), static_cast<BN_ULONG>(2 * j));
    out.push_back(b32(x.get()));
    Bn y(BN_dup(N()));
    BN_sub_word(y.get(), static_cast<BN_ULONG>(2 * j + 1));
    out.push_back(b32(y.get()));
  }
  for (int bit : {0, 1, 4, 5, 63, 64, 127, 128, 191, 192, 223, 224, 250, 251, 252, 253, 254, 255}) {
    Bn x = new_bn();
    BN_set_bit(x.get(), bit);
    out.push_back(b32(x.get()));
    BN_sub_word(x.get(), 1);
    out.push_back(b32(x.get()));
    BN_add_word(x.get(), 2);
    BN_nnmod(x.get(), x.get(), N(), ctx());
    out.push_back(b32(x.get()));
  }
  for (const char* h : {"F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0",
                        "0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F",
                        "8421084210842108421084210842108421084210842108421084210842108421",
                        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF00000000000000000000000000000000",
                        "7FFFFFFF800000007FFFFFFF800000007FFFFFFF800000007FFFFFFF80000000"}) {
    Bn x = bn_hex(h);
    BN_nnmod(x.get(), x.get(), N(), ctx());
    out.push_back(b32(x.get()));
  }
  return out;
}

TEST(Sm2GroupDifferential, NamesIdsAndGenerator) {
  EXPECT_EQ(fast().name(), "sm2");
  EXPECT_EQ(ref().name(), "sm2-openssl");
  EXPECT_EQ(fast().id(), GroupId::kSm2);
  EXPECT_EQ(ref().id(), GroupId::kSm2OpenSsl);
  expect_same(fast().generator(), ref().generator(), "G");
  expect_same(fast().identity(), ref().identity(), "identity");
}

TEST(Sm2GroupDifferential, ScalarOperationsMatch) {
  std::mt19937_64 rng(0x5eed0005);
  for (int i = 0; i < 3000; ++i) {
    const B32 a = random_below(rng, N()), b = random_below(rng, N());
    const Scalar fa = scalar(a), fb = scalar(b);
    const Scalar ra = ref().decode_scalar(a).value(), rb = ref().decode_scalar(b).value();
    EXPECT_EQ(fast().encode_scalar(fast().add(fa, fb)), ref().encode_scalar(ref().add(ra, rb)));
    EXPECT_EQ(fast().encode_scalar(fast().sub(fa, fb)), ref().encode_scalar(ref().sub(ra, rb)));
    EXPECT_EQ(fast().encode_scalar(fast().mul(fa, fb)), ref().encode_scalar(ref().mul(ra, rb)));
    EXPECT_EQ(fast().encode_scalar(fast().neg(fa)), ref().encode_scalar(ref().neg(ra)));
    if (i % 10 == 0 && !fa.ct_is_zero()) {
      EXPECT_EQ(fast().encode_scalar(fast().invert(fa).value()),
                ref().encode_scalar(ref().invert(ra).value()));
    }
    std::array<uint8_t, 64> wide;
    for (auto& x : wide) x = static_cast<uint8_t>(rng());
    EXPECT_EQ(fast().encode_scalar(fast().reduce_wide(wide)),
              ref().encode_scalar(ref().reduce_wide(wide)));
  }
  EXPECT_EQ(fast().invert(Scalar{}).error().code, ErrorCode::kInvalidArgument);
  for (uint64_t v : {0ull, 1ull, 255ull, 256ull, 0xffffffffffffffffull}) {
    EXPECT_EQ(fast().encode_scalar(fast().scalar_from_u64(v)),
              ref().encode_scalar(ref().scalar_from_u64(v)));
  }
}

// k·G (comb), k·Q (windows), k·H (comb of a precomputed point) against OpenSSL, for the edge
// scalars and random ones.
TEST_P(GroupOnBackend, MultiplicationsMatch) {
  std::mt19937_64 rng(GetParam() ? 0x5eed0006 : 0x5eed0007);
  const Point H = Generators::of(fast()).H0;  // precomputed by the credential layer
  const Point H_ref = to_ref(H);
  const Point Q = fast().add(fast().mul_base(scalar(random_below(rng, N()))), H);  // Jacobian
  const Point Q_ref = to_ref(Q);
  std::vector<B32> ks = edge_scalars();
  const int random_count = GetParam() ? 300 : 100;
  for (int i = 0; i < random_count; ++i) ks.push_back(random_below(rng, N()));
  for (const auto& kb : ks) {
    const std::string what = "k = " + to_hex(kb);
    const Scalar k = scalar(kb), k_ref = ref().decode_scalar(kb).value();
    const Point base_ref = ref().mul_base(k_ref);
    expect_same(fast().mul_base(k), base_ref, "k·G " + what);
    expect_same(fast().mul(k, fast().generator()), base_ref, "k·G by mul " + what);
    expect_same(fast().mul(k, Q), ref().mul(k_ref, Q_ref), "k·Q " + what);
    expect_same(fast().mul(k, H), ref().mul(k_ref, H_ref), "k·H0 " + what);
    const std::array<Scalar, 1> one_k{k};
    const std::array<Point, 1> one_q{Q};
    expect_same(fast().multi_mul_vartime(one_k, one_q), ref().mul(k_ref, Q_ref),
                "vartime k·Q " + what);
    const std::array<Point, 1> one_h{H};
    expect_same(fast().multi_mul_vartime(one_k, one_h), ref().mul(k_ref, H_ref),
                "vartime k·H0 " + what);
  }
  // The identity as the point.
  for (const auto& kb : edges(N())) {
    EXPECT_TRUE(fast().is_identity(fast().mul(scalar(kb), fast().identity())));
  }
}

TEST_P(GroupOnBackend, AdditionsDoublingsAndIdentityMatch) {
  std::mt19937_64 rng(GetParam() ? 0x5eed0008 : 0x5eed0009);
  const Point O = fast().identity();
  Point a = fast().mul_base(scalar(random_below(rng, N())));
  Point b = fast().mul_base(scalar(random_below(rng, N())));
  Point a_ref = to_ref(a), b_ref = to_ref(b);
  const int steps = GetParam() ? 4000 : 1000;
  for (int i = 0; i < steps; ++i) {
    // A walk through Jacobian representations: a ← a + b, b ← 2b, with the special cases mixed
    // in: P + P, P + (−P), P − P, P + O, O + P, O + O.
    switch (i % 8) {
      case 0:
        expect_same(fast().add(a, a), ref().add(a_ref, a_ref), "P + P");
        break;
      case 1:
        EXPECT_TRUE(fast().is_identity(fast().add(a, fast().neg(a))));
        EXPECT_TRUE(fast().is_identity(fast().sub(a, a)));
        expect_same(fast().add(a, fast().neg(a)), ref().identity(), "P + (−P)");
        break;
      case 2:
        expect_same(fast().add(a, O), a_ref, "P + O");
        expect_same(fast().add(O, a), a_ref, "O + P");
        expect_same(fast().add(O, O), ref().identity(), "O + O");
        expect_same(fast().sub(O, a), ref().neg(a_ref), "O − P");
        break;
      case 3: {
        // P + Q where Q is the same point in another representation (Z = 1).
        const Point a_affine = fast().decode_point(fast().encode_point(a)).value();
        expect_same(fast().add(a, a_affine), ref().add(a_ref, a_ref), "P + P'");
        EXPECT_TRUE(fast().equal(a, a_affine));
        EXPECT_TRUE(fast().is_identity(fast().sub(a, a_affine)));
        break;
      }
      default:
        break;
    }
    a = fast().add(a, b);
    a_ref = ref().add(a_ref, b_ref);
    b = fast().add(b, b);
    b_ref = ref().add(b_ref, b_ref);
    expect_same(a, a_ref, "walk a " + std::to_string(i));
    expect_same(b, b_ref, "walk b " + std::to_string(i));
    EXPECT_EQ(fast().equal(a, b), ref().equal(a_ref, b_ref));
    if (HasFailure()) return;
  }
  // An identity with leftover X, Y (from P + (−P)) is still the identity everywhere.
  const Point junk_identity = fast().add(a, fast().neg(a));
  EXPECT_TRUE(fast().equal(junk_identity, O));
  EXPECT_TRUE(fast().equal(O, junk_identity));
  EXPECT_FALSE(fast().equal(junk_identity, a));
  EXPECT_EQ(fast().encode_point(junk_identity), Bytes(33, 0));
  expect_same(fast().add(junk_identity, a), a_ref, "O' + P");
  expect_same(fast().mul(scalar(random_below(rng, N())), junk_identity), ref().identity(), "k·O'");
}

// Sums with fixed and variable points, repeated points, zero scalars, the identity, and terms
// that cancel (so that intermediate sums pass through the identity and through P + P).
TEST_P(GroupOnBackend, MultiScalarMultiplicationMatches) {
  std::mt19937_64 rng(GetParam() ? 0x5eed000a : 0x5eed000b);
  const auto& gen = Generators::of(fast());
  std::vector<Point> pool = {gen.B, gen.H0, gen.H1, gen.H2, gen.H3, gen.GJ, fast().identity()};
  for (int i = 0; i < 4; ++i) {
    pool.push_back(fast().add(fast().mul_base(scalar(random_below(rng, N()))), gen.H1));
  }
  std::vector<Point> pool_ref;
  for (const auto& p : pool) pool_ref.push_back(to_ref(p));
  const std::vector<B32> edge = edge_scalars();
  const int rounds = GetParam() ? 400 : 100;
  for (int round = 0; round < rounds; ++round) {
    const size_t n = 1 + rng() % 7;
    std::vector<Scalar> ks, ks_ref;
    std::vector<Point> ps, ps_ref;
    for (size_t i = 0; i < n; ++i) {
      const size_t which = rng() % pool.size();
      B32 kb;
      switch (rng() % 4) {
        case 0:
          kb = edge[rng() % edge.size()];
          break;
        case 1:
          kb = B32{};
          kb[31] = static_cast<uint8_t>(rng() % 4);
          break;
        default:
          kb = random_below(rng, N());
      }
      ks.push_back(scalar(kb));
      ks_ref.push_back(ref().decode_scalar(kb).value());
      ps.push_back(pool[which]);
      ps_ref.push_back(pool_ref[which]);
      if (rng() % 4 == 0) {  // cancel this term later in the sum
        ks.push_back(fast().neg(ks.back()));
        ks_ref.push_back(ref().neg(ks_ref.back()));
        ps.push_back(pool[which]);
        ps_ref.push_back(pool_ref[which]);
      }
    }
    expect_same(fast().multi_mul_vartime(ks, ps), ref().multi_mul_vartime(ks_ref, ps_ref),
                "round " + std::to_string(round));
    if (HasFailure()) return;
  }
  EXPECT_TRUE(fast().is_identity(fast().multi_mul_vartime({}, {})));
}

TEST(Sm2GroupDifferential, EncodingsAndRejectionsMatch) {
  std::mt19937_64 rng(0x5eed000c);
  int accepted = 0;
  for (int i = 0; i < 6000; ++i) {
    Bytes enc(33);
    for (auto& x : enc) x = static_cast<uint8_t>(rng());
    if (i % 10 != 0) enc[0] = static_cast<uint8_t>(0x02 | (rng() & 1));
    for (bool allow_identity : {false, true}) {
      auto ours = fast().decode_point(enc, allow_identity);
      auto theirs = ref().decode_point(enc, allow_identity);
      ASSERT_EQ(ours.ok(), theirs.ok()) << to_hex(enc);
      if (ours.ok()) {
        ++accepted;
        EXPECT_EQ(fast().encode_point(*ours), enc);
        expect_same(*ours, *theirs, to_hex(enc));
      } else {
        EXPECT_EQ(ours.error().code, ErrorCode::kMalformed);
      }
    }
  }
  EXPECT_GT(accepted, 4000);  // about half of all x are on the curve
  // Specific rejections: wrong prefixes, x = p, x = p + 1, x = 2^256 − 1, wrong lengths.
  const Bytes gen = fast().encode_point(fast().generator());
  for (uint8_t prefix : {0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0x12, 0x82, 0xff}) {
    Bytes bad = gen;
    bad[0] = prefix;
    EXPECT_FALSE(fast().decode_point(bad).ok());
    EXPECT_FALSE(ref().decode_point(bad).ok());
  }
  for (const char* x : {"FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
                        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000000010000000000000000",
                        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"}) {
    for (uint8_t prefix : {0x02, 0x03}) {
      Bytes bad = from_hex(std::string(x).substr(0, 64)).value();
      bad.insert(bad.begin(), prefix);
      EXPECT_FALSE(fast().decode_point(bad).ok()) << to_hex(bad);
      EXPECT_FALSE(ref().decode_point(bad).ok()) << to_hex(bad);
    }
  }
  // x = 0 and small x: both agree, whichever way.
  for (uint8_t x = 0; x < 64; ++x) {
    for (uint8_t prefix : {0x02, 0x03}) {
      Bytes enc(33, 0);
      enc[0] = prefix;
      enc[32] = x;
      EXPECT_EQ(fast().decode_point(enc).ok(), ref().decode_point(enc).ok()) << to_hex(enc);
    }
  }
  const Bytes zero(33, 0);
  EXPECT_FALSE(fast().decode_point(zero).ok());
  EXPECT_TRUE(fast().is_identity(fast().decode_point(zero, true).value()));
  EXPECT_FALSE(fast().decode_point(Bytes(32, 2)).ok());
  EXPECT_FALSE(fast().decode_point(testing::concat(gen, Bytes{0})).ok());
  EXPECT_FALSE(fast().decode_point(Bytes{}).ok());
  // Our encodings decode on OpenSSL's side and back, for computed (Jacobian) points.
  for (int i = 0; i < 300; ++i) {
    const Point p = fast().mul_base(scalar(random_below(rng, N())));
    const Bytes enc = fast().encode_point(p);
    const Point theirs = ref().decode_point(enc).value();
    EXPECT_EQ(ref().encode_point(theirs), enc);
    EXPECT_TRUE(fast().equal(fast().decode_point(ref().encode_point(theirs)).value(), p));
  }
}

TEST(Sm2GroupDifferential, HashToGroupMatches) {
  for (int i = 0; i < 300; ++i) {
    const std::string m = "message " + std::to_string(i);
    expect_same(fast().hash_to_group_vartime("anoncode/v1/test", as_bytes(m)),
                ref().hash_to_group_vartime("anoncode/v1/test", as_bytes(m)), m);
  }
  const auto& g1 = Generators::of(fast());
  const auto& g2 = Generators::of(ref());
  for (auto [a, b] : {std::pair{g1.H0, g2.H0},
                      {g1.H1, g2.H1},
                      {g1.H2, g2.H2},
                      {g1.H3, g2.H3},
                      {g1.GJ, g2.GJ},
                      {g1.B, g2.B}}) {
    expect_same(a, b, "generator");
  }
}

TEST(Sm2GroupDifferential, PrecomputeIsTransparent) {
  std::mt19937_64 rng(0x5eed000d);
  const Point P = fast().add(fast().mul_base(scalar(random_below(rng, N()))), fast().generator());
  const Point P_ref = to_ref(P);
  const Point T = fast().precompute(P);  // now tabulated
  EXPECT_TRUE(fast().equal(T, P));
  EXPECT_EQ(fast().encode_point(T), fast().encode_point(P));
  for (int i = 0; i < 50; ++i) {
    const B32 kb = random_below(rng, N());
    const Scalar k = scalar(kb);
    const Point expect = ref().mul(ref().decode_scalar(kb).value(), P_ref);
    expect_same(fast().mul(k, T), expect, "fixed");
    expect_same(fast().mul(k, P), expect, "variable");
  }
  EXPECT_TRUE(fast().is_identity(fast().precompute(fast().identity())));
}

// --- signatures -------------------------------------------------------------------------------

constexpr char kStandardNonce[] =
    "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21";

TEST(Sm2FastSignature, StandardExampleReproducedAndVerified) {
  // GB/T 32918.5-2017 Annex A with its nonce k (as OpenSSL's test/sm2_internal_test.c uses it).
  const auto vectors = testing::read_vec("sm2.vec", "SM2-SIGN");
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    const auto key = Sm2PrivateKey::from_bytes(SecretBytes(v.hex("d"))).value();
    const auto pub = Sm2PublicKey::from_bytes(v.hex("pub")).value();
    const Bytes sig = testing::concat(v.hex("r"), v.hex("s"));
    EXPECT_TRUE(sm2_verify(pub, v.hex("msg"), sig).ok());
    EXPECT_TRUE(sm2_verify_openssl(pub, v.hex("msg"), sig).ok());
    auto ours = sm2_sign_with_nonce_for_test(key, v.hex("msg"),
                                             SecretBytes(from_hex(kStandardNonce).value()));
    ASSERT_TRUE(ours.ok());
    EXPECT_EQ(to_hex(*ours), to_hex(sig));
    // The public key, derived with our comb, in compressed form.
    const Bytes pub_bytes = v.hex("pub");
    Bytes compressed(pub_bytes.begin(), pub_bytes.begin() + 33);
    compressed[0] = static_cast<uint8_t>(0x02 | (pub_bytes[64] & 1));
    const Scalar d = fast().decode_scalar(v.hex("d")).value();
    EXPECT_EQ(to_hex(fast().encode_point(fast().mul_base(d))), to_hex(compressed));
  }
}

TEST(Sm2FastSignature, FixedNonceRange) {
  const auto key = Sm2PrivateKey::generate().value();
  const Bytes msg = to_bytes("m");
  EXPECT_FALSE(sm2_sign_with_nonce_for_test(key, msg, SecretBytes(Bytes(32, 0))).ok());
  EXPECT_FALSE(
      sm2_sign_with_nonce_for_test(
          key, msg,
          SecretBytes(from_hex("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d"
                               "54123")
                          .value()))
          .ok());
  EXPECT_FALSE(sm2_sign_with_nonce_for_test(key, msg, SecretBytes(Bytes(31, 1))).ok());
  Bytes one(32, 0);
  one[31] = 1;
  auto sig = sm2_sign_with_nonce_for_test(key, msg, SecretBytes(one));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(sm2_verify_openssl(key.public_key(), msg, *sig).ok());
}

TEST(Sm2FastSignature, EachVerifiesTheOther) {
  std::mt19937_64 rng(0x5eed000e);
  for (int i = 0; i < 150; ++i) {
    SCOPED_TRACE(i);
    const auto key = Sm2PrivateKey::generate().value();
    const auto pub = key.public_key();
    Bytes msg(rng() % 200);
    for (auto& x : msg) x = static_cast<uint8_t>(rng());
    const Bytes ours = sm2_sign(key, msg).value();
    const Bytes theirs = sm2_sign_openssl(key, msg).value();
    EXPECT_TRUE(sm2_verify_openssl(pub, msg, ours).ok());
    EXPECT_TRUE(sm2_verify(pub, msg, ours).ok());
    EXPECT_TRUE(sm2_verify(pub, msg, theirs).ok());
    // Tampering is caught by both.
    Bytes bad_sig = ours;
    bad_sig[rng() % 64] ^= static_cast<uint8_t>(1u << (rng() % 8));
    EXPECT_FALSE(sm2_verify(pub, msg, bad_sig).ok());
    EXPECT_FALSE(sm2_verify_openssl(pub, msg, bad_sig).ok());
    Bytes bad_msg = msg;
    bad_msg.push_back(0);
    EXPECT_FALSE(sm2_verify(pub, bad_msg, theirs).ok());
    EXPECT_FALSE(sm2_verify_openssl(pub, bad_msg, ours).ok());
    if (HasFailure()) return;
  }
}

TEST(Sm2FastSignature, PortableBackendSignsAndVerifiesToo) {
  const bool saved = detail::g_use_adx;
  detail::g_use_adx = false;
  const auto key = Sm2PrivateKey::generate().value();
  const Bytes msg = to_bytes("portable");
  const Bytes sig = sm2_sign(key, msg).value();
  EXPECT_TRUE(sm2_verify(key.public_key(), msg, sig).ok());
  detail::g_use_adx = saved;
  EXPECT_TRUE(sm2_verify_openssl(key.public_key(), msg, sig).ok());
}

}  // namespace
}  // namespace anoncode::crypto
