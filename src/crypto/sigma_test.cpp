#include "crypto/sigma.h"

#include <gtest/gtest.h>

#include "crypto/test_util.h"

namespace anoncode::crypto {
namespace {

using SigmaTest = PerGroup;
ANONCODE_PER_GROUP(SigmaTest);

// A DLEQ statement with a subtracted term: X = x·B, Y = x·H − y·K.
struct Fixture {
  const Group& g;
  Statement st;
  Point B, H, K, X, Y;
  Scalar x, y;
  explicit Fixture(const Group& grp, Rng& rng) : g(grp), st(grp, "anoncode/v1/test/sigma") {
    st.add("X", {{"x", "B"}});
    st.add("Y", {{"x", "H"}, {"y", "-K"}});
    B = g.generator();
    H = g.hash_to_group_vartime("anoncode/v1/test", as_bytes("H"));
    K = g.hash_to_group_vartime("anoncode/v1/test", as_bytes("K"));
    x = g.random_scalar(rng);
    y = g.random_scalar(rng);
    X = g.mul(x, B);
    Y = g.sub(g.mul(x, H), g.mul(y, K));
  }
  std::vector<Point> points() const {
    return st.points({{"X", X}, {"B", B}, {"Y", Y}, {"H", H}, {"K", K}});
  }
};

TEST_P(SigmaTest, HonestProofVerifiesAndRoundTrips) {
  SeededRng rng("sigma");
  Fixture f(g(), rng);
  EXPECT_EQ(f.st.var_count(), 2u);
  EXPECT_EQ(f.st.point_count(), 5u);
  Transcript tp("ctx");
  auto proof =
      SigmaProof::prove(f.st, f.points(), f.st.witness({{"x", &f.x}, {"y", &f.y}}), tp, rng);
  Transcript tv("ctx");
  EXPECT_TRUE(proof.verify(f.st, f.points(), tv));
  Bytes enc = proof.encode(g());
  EXPECT_EQ(enc.size(), f.st.proof_size());
  auto back = SigmaProof::decode(f.st, enc);
  ASSERT_TRUE(back.ok());
  Transcript tv2("ctx");
  EXPECT_TRUE(back->verify(f.st, f.points(), tv2));
}

TEST_P(SigmaTest, WrongWitnessWrongInstanceOrContextFails) {
  SeededRng rng("sigma-bad");
  Fixture f(g(), rng);
  Scalar wrong = g().add(f.y, g().scalar_from_u64(1));
  Transcript tp("ctx");
  auto bad =
      SigmaProof::prove(f.st, f.points(), f.st.witness({{"x", &f.x}, {"y", &wrong}}), tp, rng);
  Transcript tv("ctx");
  EXPECT_FALSE(bad.verify(f.st, f.points(), tv));

  Transcript tp2("ctx");
  auto good =
      SigmaProof::prove(f.st, f.points(), f.st.witness({{"x", &f.x}, {"y", &f.y}}), tp2, rng);
  Transcript other_ctx("other");
  EXPECT_FALSE(good.verify(f.st, f.points(), other_ctx));
  Fixture other(g(), rng);  // same statement, different instance
  Transcript tv3("ctx");
  EXPECT_FALSE(good.verify(f.st, other.points(), tv3));
}

TEST_P(SigmaTest, EveryTamperedByteFails) {
  SeededRng rng("sigma-tamper");
  Fixture f(g(), rng);
  Transcript tp("ctx");
  Bytes enc = SigmaProof::prove(f.st, f.points(), f.st.witness({{"x", &f.x}, {"y", &f.y}}), tp, rng)
                  .encode(g());
  for (size_t i = 0; i < enc.size(); ++i) {
    Bytes t = enc;
    t[i] ^= 0x01;
    auto p = SigmaProof::decode(f.st, t);
    if (!p) continue;  // a non-canonical scalar is rejected at decode
    Transcript tv("ctx");
    EXPECT_FALSE(p->verify(f.st, f.points(), tv)) << "byte " << i;
  }
  EXPECT_FALSE(SigmaProof::decode(f.st, Bytes(enc.begin(), enc.end() - 1)).ok());
  Bytes longer = enc;
  longer.push_back(0);
  EXPECT_FALSE(SigmaProof::decode(f.st, longer).ok());
}

TEST_P(SigmaTest, StatementMisuseIsABug) {
  SeededRng rng("sigma-misuse");
  Fixture f(g(), rng);
  EXPECT_THROW(f.st.points({{"X", f.X}}), std::logic_error);
  EXPECT_THROW(f.st.witness({{"x", &f.x}, {"z", &f.y}}), std::logic_error);
}

TEST(Transcript, ChallengesDependOnEveryInputAndOnOrder) {
  const Group& g = ristretto255();
  auto c = [&](std::string_view proto, std::string_view l1, std::string_view d1,
               std::string_view l2, std::string_view d2) {
    Transcript t(proto);
    t.append(l1, as_bytes(d1)).append(l2, as_bytes(d2));
    return t.challenge(g, "c");
  };
  Scalar base = c("p", "a", "1", "b", "2");
  EXPECT_TRUE(base.ct_equal(c("p", "a", "1", "b", "2")));
  EXPECT_FALSE(base.ct_equal(c("q", "a", "1", "b", "2")));
  EXPECT_FALSE(base.ct_equal(c("p", "b", "2", "a", "1")));
  EXPECT_FALSE(base.ct_equal(c("p", "a", "12", "b", "")));  // length prefixes keep fields apart
  EXPECT_FALSE(base.ct_equal(c("p", "a", "1", "b", "3")));
  Transcript t("p");
  Scalar first = t.challenge(g, "c");
  EXPECT_FALSE(first.ct_equal(t.challenge(g, "c")));
}

}  // namespace
}  // namespace anoncode::crypto
