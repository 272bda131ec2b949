#include "crypto/group.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"

namespace anoncode::crypto {
namespace {

using GroupTest = PerGroup;
ANONCODE_PER_GROUP(GroupTest);

// The group order q, canonical encoding: ristretto255 little-endian, SM2 big-endian.
Bytes order_bytes(const Group& g) {
  if (g.id() == GroupId::kRistretto255) {
    return from_hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010").value();
  }
  return from_hex("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123").value();
}

TEST_P(GroupTest, ScalarEncodingIsCanonical) {
  Bytes q = order_bytes(g());
  EXPECT_EQ(g().decode_scalar(q).error().code, ErrorCode::kMalformed);
  // q − 1 = −1 decodes, and is what neg(1) encodes to.
  Scalar minus_one = g().neg(g().scalar_from_u64(1));
  auto enc = g().encode_scalar(minus_one);
  Bytes q_minus_1 = q;
  size_t low = g().id() == GroupId::kRistretto255 ? 0 : 31;
  q_minus_1[low] -= 1;
  EXPECT_EQ(Bytes(enc.begin(), enc.end()), q_minus_1);
  EXPECT_TRUE(g().decode_scalar(q_minus_1).ok());
  EXPECT_EQ(g().decode_scalar(Bytes(32, 0xff)).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(g().decode_scalar(Bytes(31, 0)).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(g().decode_scalar(Bytes(33, 0)).error().code, ErrorCode::kMalformed);
}

TEST_P(GroupTest, ScalarArithmetic) {
  SeededRng rng("scalar-arith");
  for (int i = 0; i < 20; ++i) {
    Scalar a = g().random_scalar(rng), b = g().random_scalar(rng), c = g().random_scalar(rng);
    EXPECT_TRUE(g().mul(a, g().add(b, c)).ct_equal(g().add(g().mul(a, b), g().mul(a, c))));
    EXPECT_TRUE(g().sub(g().add(a, b), b).ct_equal(a));
    EXPECT_TRUE(g().add(a, g().neg(a)).ct_is_zero());
    Scalar inv = g().invert(a).value();
    EXPECT_TRUE(g().mul(a, inv).ct_equal(g().scalar_from_u64(1)));
    auto round = g().decode_scalar(g().encode_scalar(a));
    ASSERT_TRUE(round.ok());
    EXPECT_TRUE(round->ct_equal(a));
  }
  EXPECT_EQ(g().invert(Scalar{}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(
      g().mul(g().scalar_from_u64(6), g().scalar_from_u64(7)).ct_equal(g().scalar_from_u64(42)));
}

TEST_P(GroupTest, PointArithmetic) {
  SeededRng rng("point-arith");
  Point G = g().generator();
  EXPECT_FALSE(g().is_identity(G));
  for (int i = 0; i < 5; ++i) {
    Scalar a = g().random_scalar(rng), b = g().random_scalar(rng);
    Point P = g().mul_base(a);
    EXPECT_TRUE(g().equal(P, g().mul(a, G)));
    // (a+b)·G = a·G + b·G; a·(b·G) = (ab)·G
    EXPECT_TRUE(g().equal(g().mul_base(g().add(a, b)), g().add(P, g().mul_base(b))));
    EXPECT_TRUE(g().equal(g().mul(a, g().mul_base(b)), g().mul_base(g().mul(a, b))));
    EXPECT_TRUE(g().is_identity(g().add(P, g().neg(P))));
    EXPECT_TRUE(g().is_identity(g().sub(P, P)));
    EXPECT_TRUE(g().equal(g().add(P, g().identity()), P));
    EXPECT_TRUE(g().equal(g().add(P, P), g().mul(g().scalar_from_u64(2), P)));
    EXPECT_TRUE(g().is_identity(g().mul(Scalar{}, P)));
    EXPECT_TRUE(g().equal(g().mul(g().neg(a), G), g().neg(P)));
    // Multi-scalar multiplication agrees with the sum of products.
    Point Q = g().mul_base(b);
    std::vector<Scalar> ks{a, b, g().neg(a)};
    std::vector<Point> ps{Q, P, G};
    Point expect = g().add(g().add(g().mul(a, Q), g().mul(b, P)), g().mul(g().neg(a), G));
    EXPECT_TRUE(g().equal(g().multi_mul_vartime(ks, ps), expect));
  }
  // q·P is the identity: (q − 1)·P + P.
  Point P = g().mul_base(g().scalar_from_u64(12345));
  EXPECT_TRUE(g().is_identity(g().add(g().mul(g().neg(g().scalar_from_u64(1)), P), P)));
}

TEST_P(GroupTest, PointEncoding) {
  SeededRng rng("point-enc");
  for (int i = 0; i < 10; ++i) {
    Point P = g().mul_base(g().random_nonzero_scalar(rng));
    Bytes enc = g().encode_point(P);
    ASSERT_EQ(enc.size(), g().point_size());
    auto back = g().decode_point(enc);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(g().equal(*back, P));
  }
  Bytes id = g().encode_point(g().identity());
  EXPECT_EQ(g().decode_point(id).error().code, ErrorCode::kMalformed);
  ASSERT_TRUE(g().decode_point(id, true).ok());
  EXPECT_TRUE(g().is_identity(g().decode_point(id, true).value()));
  EXPECT_FALSE(g().decode_point(Bytes(g().point_size() - 1, 1)).ok());
  EXPECT_FALSE(g().decode_point(Bytes(g().point_size() + 1, 1)).ok());
  EXPECT_FALSE(g().decode_point(Bytes(g().point_size(), 0xff)).ok());
}

TEST_P(GroupTest, RejectsNonCanonicalAndOffCurvePoints) {
  Bytes gen = g().encode_point(g().generator());
  if (g().id() == GroupId::kRistretto255) {
    // Negative field elements (low bit set) and values >= p are not canonical ristretto.
    Bytes neg = gen;
    neg[0] |= 1;
    EXPECT_FALSE(g().decode_point(neg).ok());
    Bytes p = from_hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f").value();
    EXPECT_FALSE(g().decode_point(p).ok());
    // Found by fuzz/group_fuzz: libsodium 1.0.18 ignores the top bit, so each point had a second
    // encoding (decoded as a different Point: equal() compares bytes), and 00…80 was the identity
    // passing is_identity() — an A' that is the identity would have escaped the show's check.
    Bytes high = gen;
    high[31] |= 0x80;
    EXPECT_FALSE(g().decode_point(high).ok());
    EXPECT_FALSE(g().decode_point(high, true).ok());
    Bytes zero_high(32, 0);
    zero_high[31] = 0x80;
    EXPECT_FALSE(g().decode_point(zero_high).ok());
    EXPECT_FALSE(g().decode_point(zero_high, true).ok());
    Bytes found =
        from_hex("fa48447b25cfcb073200000000000000000000eb6d33df1ff638cffb70df28e3").value();
    EXPECT_FALSE(g().decode_point(found).ok());
    found[31] &= 0x7f;
    EXPECT_TRUE(g().decode_point(found).ok());
  } else {
    // Bad prefix, x = p, and an x with no point on the curve.
    Bytes bad = gen;
    bad[0] = 0x04;
    EXPECT_FALSE(g().decode_point(bad).ok());
    Bytes xp =
        from_hex("02fffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffff").value();
    EXPECT_FALSE(g().decode_point(xp).ok());
    int off_curve = 0;
    for (uint8_t x = 1; x < 40; ++x) {
      Bytes enc(33, 0);
      enc[0] = 0x02;
      enc[32] = x;
      if (!g().decode_point(enc).ok()) ++off_curve;
    }
    EXPECT_GT(off_curve, 5);  // about half of all x have no point
  }
}

TEST_P(GroupTest, DecodersSurviveRandomAndTruncatedInput) {
  SeededRng rng("fuzz");
  int accepted = 0;
  for (size_t len = 0; len < 70; ++len) {
    for (int i = 0; i < 20; ++i) {
      Bytes b(len);
      rng.fill(b);
      if (g().decode_point(b).ok()) ++accepted;
      (void)g().decode_scalar(b);
    }
  }
  // Only right-length inputs can be accepted, and not all of them.
  EXPECT_LT(accepted, 20);
}

TEST_P(GroupTest, HashToScalarAndGroupAreDeterministicAndSeparated) {
  Scalar a = g().hash_to_scalar("anoncode/v1/test", as_bytes("m"));
  EXPECT_TRUE(a.ct_equal(g().hash_to_scalar("anoncode/v1/test", as_bytes("m"))));
  EXPECT_FALSE(a.ct_equal(g().hash_to_scalar("anoncode/v1/test2", as_bytes("m"))));
  EXPECT_FALSE(a.ct_equal(g().hash_to_scalar("anoncode/v1/test", as_bytes("n"))));
  Point H = g().hash_to_group_vartime("anoncode/v1/gen", as_bytes("H0"));
  EXPECT_FALSE(g().is_identity(H));
  EXPECT_TRUE(g().equal(H, g().hash_to_group_vartime("anoncode/v1/gen", as_bytes("H0"))));
  EXPECT_FALSE(g().equal(H, g().hash_to_group_vartime("anoncode/v1/gen", as_bytes("H1"))));
  EXPECT_TRUE(g().decode_point(g().encode_point(H)).ok());
}

TEST(Sm2Group, GeneratorIsTheStandardOne) {
  // GB/T 32918.5 base point G, x coordinate (y is even), on both SM2 backends.
  for (const Group* g : {&sm2(), &sm2_openssl()}) {
    EXPECT_EQ(to_hex(g->encode_point(g->generator())),
              "0232c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7")
        << g->name();
  }
}

TEST(Ristretto255, GeneratorIsTheStandardOne) {
  // RFC 9496 §A.1: the encoding of the generator B.
  EXPECT_EQ(to_hex(ristretto255().encode_point(ristretto255().generator())),
            "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76");
}

TEST(Groups, LookupByNameAndId) {
  EXPECT_EQ(group_by_name("ristretto255").value(), &ristretto255());
  EXPECT_EQ(group_by_name("sm2").value(), &sm2());
  EXPECT_EQ(group_by_name("sm2-openssl").value(), &sm2_openssl());
  EXPECT_EQ(group_by_name("p256").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(group_by_id(1).value(), &ristretto255());
  EXPECT_EQ(group_by_id(2).value(), &sm2_openssl());
  EXPECT_EQ(group_by_id(3).value(), &sm2());
  EXPECT_EQ(group_by_id(9).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(all_groups().size(), 3u);
}

TEST(SeededRng, IsReproducibleAndSeedDependent) {
  SeededRng a("x"), b("x"), c("y");
  Bytes ba(100), bb(100), bc(100);
  a.fill(ba);
  b.fill(bb);
  c.fill(bc);
  EXPECT_EQ(ba, bb);
  EXPECT_NE(ba, bc);
}

}  // namespace
}  // namespace anoncode::crypto
