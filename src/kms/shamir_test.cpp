// Key components: Shamir over GF(2^8) (shamir.h) and the custodian's text (component.h).
#include <gtest/gtest.h>

#include <string>

#include "kms/component.h"
#include "kms/shamir.h"

namespace anoncode::kms {
namespace {

SecretBytes secret_of(std::string_view s) {
  return SecretBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

bool same(const SecretBytes& a, const SecretBytes& b) {
  return a.size() == b.size() &&
         std::equal(a.expose_secret().begin(), a.expose_secret().end(), b.expose_secret().begin());
}

std::string text_of(const SecretBytes& s) {
  return std::string(reinterpret_cast<const char*>(s.expose_secret().data()), s.size());
}

ByteView view(const std::string& s) {
  return as_bytes(s);
}

TEST(Gf256, MultipliesAsFips197Says) {
  // FIPS-197 §4.2: {57} • {83} = {c1}, {57} • {13} = {fe}; {53} and {ca} are inverses (§4.2.1).
  EXPECT_EQ(gf256_mul(0x57, 0x83), 0xc1);
  EXPECT_EQ(gf256_mul(0x57, 0x13), 0xfe);
  EXPECT_EQ(gf256_mul(0x53, 0xca), 0x01);
  EXPECT_EQ(gf256_inv(0x53), 0xca);
  EXPECT_EQ(gf256_inv(0), 0);
  for (int a = 1; a < 256; ++a) {
    const auto x = static_cast<uint8_t>(a);
    ASSERT_EQ(gf256_mul(x, gf256_inv(x)), 1) << a;
    ASSERT_EQ(gf256_mul(x, 1), x);
    ASSERT_EQ(gf256_mul(x, 0), 0);
  }
}

TEST(Shamir, AnyKOfNRebuildTheSecretAndFewerAreRefused) {
  crypto::SeededRng rng("shamir");
  const SecretBytes key = secret_of("0123456789abcdef0123456789abcdef");
  auto shares = split(key, 3, 5, rng);
  ASSERT_TRUE(shares.ok()) << shares.error().message;
  ASSERT_EQ(shares->size(), 5u);
  int subsets = 0;
  for (size_t a = 0; a < 5; ++a) {
    for (size_t b = a + 1; b < 5; ++b) {
      for (size_t c = b + 1; c < 5; ++c) {
        auto got = combine({(*shares)[c], (*shares)[a], (*shares)[b]});  // any order
        ASSERT_TRUE(got.ok()) << got.error().message;
        EXPECT_TRUE(same(*got, key));
        ++subsets;
      }
    }
  }
  EXPECT_EQ(subsets, 10);
  // All five: the first three rebuild it, the other two are checked against them.
  auto all = combine(*shares);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(same(*all, key));
  // A damaged fourth component is named, not ignored.
  std::vector<Share> damaged = *shares;
  damaged[3].y.expose_secret_mut()[5] ^= 1;
  auto named = combine(damaged);
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error().message,
            "components: component 4 does not fit the others (a wrong or damaged component)");
  // Two of three needed: refused, saying how many are needed.
  auto two = combine({(*shares)[0], (*shares)[3]});
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(two.error().message, "components: 3 of 5 are needed, 2 given");
  // A custodian who lowers k on two shares to rebuild alone gets an unrelated key.
  Share s0 = (*shares)[0], s3 = (*shares)[3];
  s0.threshold = s3.threshold = 2;
  auto forged = combine({s0, s3});
  ASSERT_TRUE(forged.ok());
  EXPECT_FALSE(same(*forged, key));
}

TEST(Shamir, FewerThanKSharesSayNothingAboutTheSecret) {
  // For k = 2, one share (x, y) fits every secret: for each candidate s there is exactly one
  // line through (0, s) and (x, y). So the split of s and of s' can give the same share; with a
  // seeded generator, count how often share 1 of a one-byte secret takes each value over many
  // splits — it spreads over the byte's values whatever the secret.
  crypto::SeededRng rng("uniform");
  for (uint8_t secret : {uint8_t{0}, uint8_t{0xff}}) {
    std::array<int, 256> seen{};
    const SecretBytes s(std::span<const uint8_t>(&secret, 1));
    for (int i = 0; i < 256 * 64; ++i) {
      auto shares = split(s, 2, 2, rng);
      ASSERT_TRUE(shares.ok());
      ++seen[(*shares)[0].y.expose_secret()[0]];
    }
    for (int v = 0; v < 256; ++v) {
      EXPECT_GT(seen[static_cast<size_t>(v)], 20) << "value " << v << " for secret " << int(secret);
      EXPECT_LT(seen[static_cast<size_t>(v)], 120)
          << "value " << v << " for secret " << int(secret);
    }
  }
}

TEST(Shamir, OneOfOneAndTheLimits) {
  crypto::SeededRng rng("limits");
  const SecretBytes key = secret_of("k");
  auto one = split(key, 1, 1, rng);
  ASSERT_TRUE(one.ok());
  auto back = combine(*one);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(same(*back, key));
  auto wide = split(key, 200, 255, rng);
  ASSERT_TRUE(wide.ok());
  std::vector<Share> last(wide->end() - 200, wide->end());
  auto rebuilt = combine(last);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_TRUE(same(*rebuilt, key));
  for (auto [k, n] : {std::pair{0, 3}, std::pair{4, 3}, std::pair{2, 256}, std::pair{-1, 1}}) {
    auto bad = split(key, k, n, rng);
    ASSERT_FALSE(bad.ok()) << k << " of " << n;
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(split(SecretBytes(), 2, 3, rng).ok());
}

TEST(Shamir, SharesOfAnotherSplitOrRepeatedAreRefused) {
  crypto::SeededRng rng("mix");
  const SecretBytes key = secret_of("sixteen byte key");
  auto a = split(key, 2, 3, rng), b = split(key, 2, 4, rng);
  ASSERT_TRUE(a.ok() && b.ok());
  auto mixed = combine({(*a)[0], (*b)[1]});
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().message, "components: they come from different splits");
  auto twice = combine({(*a)[1], (*a)[1]});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message, "components: component 2 was given twice");
  Share zero = (*a)[0];
  zero.x = 0;
  EXPECT_FALSE(combine({zero, (*a)[1]}).ok());
  EXPECT_FALSE(combine({}).ok());
}

TEST(Component, RoundTripsAndCatchesATypingError) {
  crypto::SeededRng rng("component");
  const SecretBytes key = secret_of("0123456789abcdef0123456789abcdef");
  const CheckValue kcv{0xab, 0xcd, 0xef};
  auto parts = make_components("root-1", kcv, key, 2, 3, rng);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  std::vector<std::string> texts;
  for (const auto& p : *parts) {
    auto t = encode_component(p);
    ASSERT_TRUE(t.ok()) << t.error().message;
    texts.push_back(text_of(*t));
  }
  EXPECT_EQ(texts[1].rfind("kc1.root-1.abcdef.2.3.2.", 0), 0u) << texts[1];
  EXPECT_EQ(texts[1].size(), std::string("kc1.root-1.abcdef.2.3.2.").size() + 64 + 1 + 8);
  // Typed back in uppercase, with a newline: the same component.
  std::string typed = texts[2];
  for (auto& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  typed.replace(0, 3, "kc1");
  typed.replace(4, 6, "root-1");
  auto back = decode_component(view("  " + typed + "\n"));
  ASSERT_TRUE(back.ok()) << back.error().message;
  auto first = decode_component(view(texts[0]));
  ASSERT_TRUE(first.ok());
  auto rebuilt = rebuild({*first, *back});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message;
  EXPECT_EQ(rebuilt->key_id, "root-1");
  EXPECT_EQ(rebuilt->kcv, kcv);
  EXPECT_TRUE(same(rebuilt->key, key));
  // One share digit mistyped: the check digits say so.
  std::string typo = texts[0];
  const size_t at = std::string("kc1.root-1.abcdef.2.3.1.").size() + 5;
  typo[at] = typo[at] == '0' ? '1' : '0';
  auto refused = decode_component(view(typo));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kMalformed);
  EXPECT_EQ(refused.error().message,
            "component: the check digits do not match; a character was mistyped");
  // Nothing of the secret in any message.
  EXPECT_EQ(refused.error().message.find(texts[0].substr(at - 5, 10)), std::string::npos);
}

TEST(Component, MalformedTextIsRefusedWithAClearMessage) {
  const std::vector<std::string> bad = {
      "",
      "kc1",
      "kc2.root.abcdef.2.3.1.00.00000000",
      "kc1..abcdef.2.3.1.00.00000000",
      "kc1.ro ot.abcdef.2.3.1.00.00000000",
      "kc1.root.abcde.2.3.1.00.00000000",
      "kc1.root.abcdef.0.3.1.00.00000000",
      "kc1.root.abcdef.02.3.1.00.00000000",
      "kc1.root.abcdef.4.3.1.00.00000000",
      "kc1.root.abcdef.2.3.4.00.00000000",
      "kc1.root.abcdef.2.256.1.00.00000000",
      "kc1.root.abcdef.2.3.1..00000000",
      "kc1.root.abcdef.2.3.1.0.00000000",
      "kc1.root.abcdef.2.3.1.zz.00000000",
      "kc1.root.abcdef.2.3.1.00.0000000",
      "kc1.root.abcdef.2.3.1.00.00000000.",
      "kc1.root.abcdef.2.3.1.00.00000000",  // well-formed, wrong check digits
      "kc1." + std::string(33, 'a') + ".abcdef.2.3.1.00.00000000",
      "kc1.root.abcdef.2.3.1." + std::string(130, '0') + ".00000000",
  };
  for (const auto& s : bad) {
    auto r = decode_component(view(s));
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error().code, ErrorCode::kMalformed) << s;
    EXPECT_EQ(r.error().message.rfind("component: ", 0), 0u) << r.error().message;
  }
  crypto::SeededRng rng("ids");
  const CheckValue kcv{};
  EXPECT_FALSE(make_components("bad id", kcv, secret_of("k"), 1, 1, rng).ok());
  EXPECT_FALSE(make_components("k", kcv, SecretBytes(65), 1, 1, rng).ok());
  // Components of two different keys do not combine.
  auto a = make_components("a", kcv, secret_of("k1"), 2, 2, rng);
  auto b = make_components("b", kcv, secret_of("k2"), 2, 2, rng);
  ASSERT_TRUE(a.ok() && b.ok());
  auto mixed = rebuild({(*a)[0], (*b)[1]});
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().message, "components: they belong to different keys");
}

}  // namespace
}  // namespace anoncode::kms
