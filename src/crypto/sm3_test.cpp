#include "crypto/sm3.h"

#include <gtest/gtest.h>
#include <openssl/rand.h>
#include "crypto/sm_test_util.h"

#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace anoncode::crypto {
namespace {

using namespace anoncode::crypto::testing;

Bytes digest_bytes(const Sm3Digest& d) {
  return Bytes(d.begin(), d.end());
}

// --- SM3 -------------------------------------------------------------------------------------

TEST(Sm3, KnownAnswersFromVecFile) {
  const auto vectors = read_vec("sm3.vec", "SM3");
  ASSERT_GE(vectors.size(), 2u);  // at least the two GB/T 32905 examples
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm3.vec line " + std::to_string(v.line));
    const Bytes msg = v.hex("msg");
    EXPECT_EQ(to_hex(sm3(msg)), to_hex(v.hex("md")));
    // Byte by byte through the incremental interface.
    Sm3 h;
    for (uint8_t b : msg) h.update(ByteView(&b, 1));
    EXPECT_EQ(to_hex(h.final()), to_hex(v.hex("md")));
  }
}

TEST(Sm3, StandardExamplesAsText) {
  // The GB/T 32905 examples spelled out, independent of the data file.
  EXPECT_EQ(to_hex(sm3(std::string_view("abc"))),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  std::string abcd16;
  for (int i = 0; i < 16; ++i) abcd16 += "abcd";
  EXPECT_EQ(to_hex(sm3(std::string_view(abcd16))),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

TEST(Sm3, IncrementalEqualsOneShot) {
  for (size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 127u, 128u, 1000u}) {
    const Bytes data = random_bytes(len);
    const Sm3Digest expected = sm3(data);
    for (size_t split = 0; split <= len; split += (len / 7) + 1) {
      SCOPED_TRACE("len " + std::to_string(len) + " split " + std::to_string(split));
      Sm3 h;
      h.update(ByteView(data).first(split)).update(ByteView(data).subspan(split));
      EXPECT_EQ(h.final(), expected);
    }
  }
}

TEST(Sm3, FinalResetsForReuse) {
  Sm3 h;
  h.update(std::string_view("first message"));
  const Sm3Digest first = h.final();
  EXPECT_EQ(first, sm3(std::string_view("first message")));
  // After final() the object starts over; nothing of the first message remains.
  h.update(std::string_view("abc"));
  EXPECT_EQ(to_hex(h.final()), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  EXPECT_EQ(h.final(), sm3(ByteView{}));
}

TEST(Sm3, DistinctInputsGiveDistinctDigests) {
  EXPECT_NE(sm3(std::string_view("abc")), sm3(std::string_view("abd")));
  EXPECT_NE(sm3(std::string_view("")), sm3(std::string_view(std::string(1, '\0'))));
}

// --- HMAC-SM3 --------------------------------------------------------------------------------

TEST(HmacSm3, KnownAnswersFromVecFile) {
  const auto vectors = read_vec("sm3.vec", "HMAC-SM3");
  ASSERT_GE(vectors.size(), 4u);
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm3.vec line " + std::to_string(v.line));
    const Bytes key = v.hex("key");
    EXPECT_EQ(to_hex(hmac_sm3(key, v.hex("msg"))), to_hex(v.hex("mac")));
    EXPECT_EQ(to_hex(hmac_sm3(SecretBytes(key), v.hex("msg"))), to_hex(v.hex("mac")));
  }
}

// RFC 2104 spelled out with our own SM3: H((K' ^ opad) || H((K' ^ ipad) || m)), where K' is the
// key zero-padded to the 64-byte block, or its digest if longer than a block.
Sm3Digest reference_hmac(ByteView key, ByteView msg) {
  Bytes k(64, 0);
  if (key.size() > 64) {
    const Sm3Digest hk = sm3(key);
    std::copy(hk.begin(), hk.end(), k.begin());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  Bytes ipad(64), opad(64);
  for (size_t i = 0; i < 64; ++i) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  const Sm3Digest inner = sm3(concat(ipad, msg));
  return sm3(concat(opad, digest_bytes(inner)));
}

TEST(HmacSm3, MatchesRfc2104Definition) {
  for (size_t key_len : {0u, 1u, 16u, 32u, 63u, 64u, 65u, 100u}) {
    SCOPED_TRACE("key length " + std::to_string(key_len));
    const Bytes key = random_bytes(key_len);
    const Bytes msg = random_bytes(77);
    EXPECT_EQ(hmac_sm3(key, msg), reference_hmac(key, msg));
  }
}

TEST(HmacSm3, KeyAndMessageBothMatter) {
  const Bytes key = random_bytes(32);
  const Bytes msg = to_bytes(std::string_view("message"));
  Bytes other_key = key;
  other_key[0] ^= 1;
  EXPECT_NE(hmac_sm3(key, msg), hmac_sm3(other_key, msg));
  EXPECT_NE(hmac_sm3(key, msg), hmac_sm3(key, to_bytes(std::string_view("messagf"))));
  EXPECT_NE(hmac_sm3(key, msg), sm3(msg));
}

// --- PBKDF2-HMAC-SM3 -------------------------------------------------------------------------

TEST(Pbkdf2HmacSm3, KnownAnswersFromVecFile) {
  const auto vectors = read_vec("sm3.vec", "PBKDF2-HMAC-SM3");
  ASSERT_GE(vectors.size(), 3u);
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm3.vec line " + std::to_string(v.line));
    const Bytes expected = v.hex("out");
    auto out = pbkdf2_hmac_sm3(SecretBytes(v.hex("pass")), v.hex("salt"),
                               static_cast<uint32_t>(std::stoul(v.text("iter"))), expected.size());
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(to_hex(out->expose_secret()), to_hex(expected));
  }
}

// RFC 8018 §5.2 spelled out with our own HMAC-SM3: T_i = U_1 ^ ... ^ U_c,
// U_1 = PRF(P, S || INT(i)), U_j = PRF(P, U_{j-1}).
Bytes reference_pbkdf2(ByteView pass, ByteView salt, uint32_t iterations, size_t out_len) {
  Bytes out;
  for (uint32_t i = 1; out.size() < out_len; ++i) {
    ByteWriter w;
    w.raw(salt).u32(i);
    Sm3Digest u = hmac_sm3(pass, w.bytes());
    Sm3Digest t = u;
    for (uint32_t j = 1; j < iterations; ++j) {
      u = hmac_sm3(pass, digest_bytes(u));
      for (size_t k = 0; k < t.size(); ++k) t[k] ^= u[k];
    }
    out.insert(out.end(), t.begin(), t.end());
  }
  out.resize(out_len);
  return out;
}

TEST(Pbkdf2HmacSm3, MatchesRfc8018Definition) {
  const Bytes pass = to_bytes(std::string_view("correct horse battery staple"));
  const Bytes salt = random_bytes(16);
  for (uint32_t iterations : {1u, 2u, 3u, 17u}) {
    for (size_t len : {1u, 16u, 32u, 33u, 70u}) {
      SCOPED_TRACE("iterations " + std::to_string(iterations) + " length " + std::to_string(len));
      auto out = pbkdf2_hmac_sm3(SecretBytes(pass), salt, iterations, len);
      ASSERT_TRUE(out.ok());
      EXPECT_EQ(to_hex(out->expose_secret()),
                to_hex(reference_pbkdf2(pass, salt, iterations, len)));
    }
  }
}

TEST(Pbkdf2HmacSm3, RejectsZeroIterationsAndBadLengths) {
  const SecretBytes pass(to_bytes(std::string_view("pw")));
  const Bytes salt = random_bytes(16);
  auto zero_iter = pbkdf2_hmac_sm3(pass, salt, 0, 32);
  ASSERT_FALSE(zero_iter.ok());
  EXPECT_EQ(zero_iter.error().code, ErrorCode::kInvalidArgument);
  auto zero_len = pbkdf2_hmac_sm3(pass, salt, 1, 0);
  ASSERT_FALSE(zero_len.ok());
  EXPECT_EQ(zero_len.error().code, ErrorCode::kInvalidArgument);
  auto too_long = pbkdf2_hmac_sm3(pass, salt, 1, 1025);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::kInvalidArgument);
  auto longest = pbkdf2_hmac_sm3(pass, salt, 1, 1024);
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->size(), 1024u);
}

TEST(Pbkdf2HmacSm3, SaltAndIterationsMatter) {
  const SecretBytes pass(to_bytes(std::string_view("pw")));
  const Bytes salt_a = to_bytes(std::string_view("salt-a"));
  const Bytes salt_b = to_bytes(std::string_view("salt-b"));
  auto a1 = pbkdf2_hmac_sm3(pass, salt_a, 10, 32);
  auto b1 = pbkdf2_hmac_sm3(pass, salt_b, 10, 32);
  auto a2 = pbkdf2_hmac_sm3(pass, salt_a, 11, 32);
  ASSERT_TRUE(a1.ok() && b1.ok() && a2.ok());
  EXPECT_FALSE(a1->equals(*b1));
  EXPECT_FALSE(a1->equals(*a2));
}

// --- H64 -------------------------------------------------------------------------------------

TEST(H64, MatchesDefinition) {
  // H64(m) = SM3(0x00 || m) || SM3(0x01 || m)  (DESIGN §3.1)
  for (size_t len : {0u, 1u, 31u, 64u, 200u}) {
    SCOPED_TRACE("length " + std::to_string(len));
    const Bytes m = random_bytes(len);
    const Bytes zero{0x00}, one{0x01};
    const Bytes expected =
        concat(digest_bytes(sm3(concat(zero, m))), digest_bytes(sm3(concat(one, m))));
    const auto out = h64(m);
    EXPECT_EQ(to_hex(out), to_hex(expected));
    EXPECT_NE(to_hex(ByteView(out).first(32)), to_hex(ByteView(out).last(32)));
  }
}

TEST(H64, KnownAnswerForAbc) {
  // Both halves computed independently with SM3 over 0x00||"abc" and 0x01||"abc".
  const auto out = h64(as_bytes("abc"));
  EXPECT_EQ(to_hex(ByteView(out).first(32)), to_hex(sm3(from_hex("00616263").value())));
  EXPECT_EQ(to_hex(ByteView(out).last(32)), to_hex(sm3(from_hex("01616263").value())));
  EXPECT_NE(to_hex(ByteView(out).first(32)), to_hex(sm3(std::string_view("abc"))));
}

}  // namespace
}  // namespace anoncode::crypto
