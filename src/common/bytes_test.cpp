#include "common/bytes.h"

#include <gtest/gtest.h>

#include <random>

#include "common/secret.h"

namespace anoncode {
namespace {

// Deterministic "random" data, so a failure reproduces.
Bytes pseudo_random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

void expect_malformed(const Result<Bytes>& r) {
  ASSERT_FALSE(r.ok()) << "decoded to " << to_hex(r.value());
  EXPECT_EQ(r.error().code, ErrorCode::kMalformed);
}

// --- hex -----------------------------------------------------------------------------------

TEST(Hex, RoundTripManyLengths) {
  for (size_t len = 0; len <= 130; ++len) {
    const Bytes data = pseudo_random(len, static_cast<uint32_t>(len));
    const std::string text = to_hex(data);
    ASSERT_EQ(text.size(), 2 * len);
    auto back = from_hex(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, data);
  }
}

TEST(Hex, KnownValues) {
  EXPECT_EQ(to_hex(Bytes{}), "");
  EXPECT_EQ(to_hex(Bytes{0x00, 0x01, 0xab, 0xff}), "0001abff");  // lower case
  EXPECT_EQ(from_hex("0001abff").value(), (Bytes{0x00, 0x01, 0xab, 0xff}));
  EXPECT_EQ(from_hex("0001ABFF").value(), (Bytes{0x00, 0x01, 0xab, 0xff}));
  EXPECT_TRUE(from_hex("").value().empty());
}

TEST(Hex, RejectsOddLengthAndBadCharacters) {
  for (std::string_view bad :
       {"0", "abc", "0g", "g0", "zz", " 00", "00 ", "0 0", "0x00", "00\n", "-1", "ab:cd"}) {
    SCOPED_TRACE(std::string(bad));
    expect_malformed(from_hex(bad));
  }
  expect_malformed(
      from_hex(std::string_view("00\0"
                                "0",
                                4)));
}

// --- base64url -------------------------------------------------------------------------------

TEST(Base64Url, RoundTripManyLengths) {
  for (size_t len = 0; len <= 130; ++len) {
    const Bytes data = pseudo_random(len, 1000 + static_cast<uint32_t>(len));
    const std::string text = to_base64url(data);
    EXPECT_EQ(text.size(), (len * 8 + 5) / 6);  // unpadded
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    auto back = from_base64url(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, data);
  }
}

TEST(Base64Url, Rfc4648VectorsUnpadded) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(to_base64url(as_bytes(plain)), encoded);
    EXPECT_EQ(from_base64url(encoded).value(), to_bytes(plain));
  }
  // The URL-safe alphabet: 62 is '-', 63 is '_'.
  EXPECT_EQ(to_base64url(Bytes{0xfb, 0xff}), "-_8");
  EXPECT_EQ(from_base64url("-_8").value(), (Bytes{0xfb, 0xff}));
}

TEST(Base64Url, RejectsPaddingOtherAlphabetAndBadLengths) {
  for (std::string_view bad :
       {"Zg==", "Zm8=", "Zg=", "+_8", "-/8", "Zm9v!", " Zg", "Zg ", "Zm9\nv", "Z", "Zm9vY"}) {
    SCOPED_TRACE(std::string(bad));
    expect_malformed(from_base64url(bad));
  }
}

// Found by fuzz/text_encoding_fuzz: libsodium 1.0.18's decoder reads every byte 0x80–0xff as '_'
// (63), so "D\xdc\xdc\xdcAH-_" decoded like "D___AH-_", and UTF-8 text such as "Ü" like "__".
TEST(Base64Url, RejectsBytesOutsideAscii) {
  expect_malformed(
      from_base64url("D\xdc\xdc\xdc"
                     "AH-_"));
  expect_malformed(from_base64url("\xc3\x9c"));  // "Ü" in UTF-8
  for (int c = 0x80; c <= 0xff; ++c) {
    SCOPED_TRACE(c);
    expect_malformed(from_base64url(std::string("AAA") + static_cast<char>(c)));
  }
  EXPECT_EQ(from_base64url("D___AH-_").value().size(), 6u);
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  // "f" is "Zg"; "Zh" decodes to the same byte with non-zero leftover bits.
  expect_malformed(from_base64url("Zh"));
  expect_malformed(from_base64url("Zm9"));  // "fo" is "Zm8"
}

// --- base32 ----------------------------------------------------------------------------------

TEST(Base32, Rfc4648VectorsUnpadded) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"},
  };
  for (const auto& [plain, encoded] : vectors) {
    SCOPED_TRACE(std::string(plain));
    EXPECT_EQ(to_base32(as_bytes(plain)), encoded);
    auto back = from_base32(encoded);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, to_bytes(plain));
  }
}

TEST(Base32, RoundTripManyLengths) {
  for (size_t len = 0; len <= 130; ++len) {
    const Bytes data = pseudo_random(len, 2000 + static_cast<uint32_t>(len));
    const std::string text = to_base32(data);
    EXPECT_EQ(text.size(), (len * 8 + 4) / 5);  // unpadded
    auto back = from_base32(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, data);
  }
}

TEST(Base32, RejectsBadCharactersAndPadding) {
  for (std::string_view bad : {"MY======", "MY=", "MZXW6===", "0A", "1A", "8A", "9A", "mzxw6",
                               "MZXw6", " MY", "MY ", "M-", "MZXW6YTB\n"}) {
    SCOPED_TRACE(std::string(bad));
    expect_malformed(from_base32(bad));
  }
}

TEST(Base32, RejectsNonCanonicalTrailingBitsAndLengths) {
  // "f" is "MY" (01100110 -> 01100 110|00); "MZ" sets a padding bit.
  expect_malformed(from_base32("MZ"));
  expect_malformed(from_base32("MZXR"));   // "fo" is "MZXQ"
  expect_malformed(from_base32("MZXW7"));  // "foo" is "MZXW6"
  // Lengths that no byte string encodes to (1, 3 or 6 characters mod 8).
  for (std::string_view bad : {"M", "MZX", "MZXW6Y", "MZXW6YTBO"}) {
    SCOPED_TRACE(std::string(bad));
    expect_malformed(from_base32(bad));
  }
}

// --- ByteWriter / ByteReader -----------------------------------------------------------------

Bytes sample_layout() {
  ByteWriter w;
  w.u8(0x01).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fULL);
  w.raw(Bytes{0xaa, 0xbb}).var(Bytes{0xcc, 0xdd, 0xee});
  return std::move(w).take();
}

TEST(ByteWriter, BigEndianLayout) {
  EXPECT_EQ(to_hex(sample_layout()),
            "01"
            "0203"
            "04050607"
            "08090a0b0c0d0e0f"
            "aabb"
            "00000003"
            "ccddee");
}

TEST(ByteReader, ReadsBackWhatWasWritten) {
  const Bytes data = sample_layout();
  ByteReader r(data);
  EXPECT_EQ(r.u8().value(), 0x01);
  EXPECT_EQ(r.u16().value(), 0x0203);
  EXPECT_EQ(r.u32().value(), 0x04050607u);
  EXPECT_EQ(r.u64().value(), 0x08090a0b0c0d0e0fULL);
  EXPECT_EQ(to_hex(r.raw(2).value()), "aabb");
  EXPECT_EQ(to_hex(r.var(16).value()), "ccddee");
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.finish().ok());
}

// Reads the sample layout; any failure is reported as the Status.
Status read_sample(ByteView data) {
  ByteReader r(data);
  ANONCODE_CHECK(r.u8());
  ANONCODE_CHECK(r.u16());
  ANONCODE_CHECK(r.u32());
  ANONCODE_CHECK(r.u64());
  ANONCODE_CHECK(r.raw(2));
  ANONCODE_CHECK(r.var(16));
  return r.finish();
}

TEST(ByteReader, EveryTruncationIsRejected) {
  const Bytes data = sample_layout();
  ASSERT_TRUE(read_sample(data).ok());
  for (size_t len = 0; len < data.size(); ++len) {
    SCOPED_TRACE("length " + std::to_string(len));
    const Status st = read_sample(ByteView(data).first(len));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kMalformed);
  }
}

TEST(ByteReader, TrailingBytesAreRejected) {
  Bytes data = sample_layout();
  data.push_back(0);
  const Status st = read_sample(data);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kMalformed);
}

TEST(ByteReader, VarFieldLimitAndLengthChecked) {
  ByteWriter w;
  w.var(Bytes(10, 0x11));
  const Bytes data = std::move(w).take();
  {
    ByteReader r(data);
    auto too_long = r.var(9);
    ASSERT_FALSE(too_long.ok());
    EXPECT_EQ(too_long.error().code, ErrorCode::kMalformed);
  }
  {
    ByteReader r(data);
    EXPECT_EQ(r.var(10).value().size(), 10u);
    EXPECT_TRUE(r.finish().ok());
  }
  // A length prefix that claims more than is there.
  const Bytes lying = from_hex("00000005aabb").value();
  ByteReader r(lying);
  EXPECT_FALSE(r.var(100).ok());
  // A huge length prefix does not wrap around.
  const Bytes huge = from_hex("ffffffff00").value();
  ByteReader h(huge);
  EXPECT_FALSE(h.var(std::numeric_limits<size_t>::max()).ok());
}

TEST(ByteReader, RawBeyondTheEndFails) {
  const Bytes data(4, 0);
  ByteReader r(data);
  EXPECT_FALSE(r.raw(5).ok());
  EXPECT_TRUE(r.raw(4).ok());
  EXPECT_FALSE(r.u8().ok());
  EXPECT_TRUE(r.raw(0).ok());
}

// --- SecretBytes -----------------------------------------------------------------------------

TEST(SecretBytes, EqualsComparesContentAndLength) {
  const SecretBytes a(Bytes{1, 2, 3});
  EXPECT_TRUE(a.equals(SecretBytes(Bytes{1, 2, 3})));
  EXPECT_FALSE(a.equals(SecretBytes(Bytes{1, 2, 4})));
  EXPECT_FALSE(a.equals(SecretBytes(Bytes{1, 2})));
  EXPECT_FALSE(a.equals(SecretBytes(Bytes{1, 2, 3, 0})));
  EXPECT_FALSE(a.equals(SecretBytes()));
  EXPECT_TRUE(SecretBytes().equals(SecretBytes()));
  EXPECT_TRUE(SecretBytes(0).equals(SecretBytes()));
}

TEST(SecretBytes, MoveTransfersAndEmptiesTheSource) {
  SecretBytes a(Bytes{9, 8, 7});
  SecretBytes b(std::move(a));
  EXPECT_TRUE(b.equals(SecretBytes(Bytes{9, 8, 7})));
  SecretBytes c(Bytes{1});
  c = std::move(b);
  EXPECT_TRUE(c.equals(SecretBytes(Bytes{9, 8, 7})));
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): the documented moved-from state
  c = std::move(c);        // self-move keeps the value
  EXPECT_EQ(c.size(), 3u);
}

TEST(SecretBytes, CopyIsIndependent) {
  SecretBytes a(Bytes{1, 2, 3});
  SecretBytes b = a;
  b.expose_secret_mut()[0] = 42;
  EXPECT_EQ(a.expose_secret()[0], 1);
  EXPECT_FALSE(a.equals(b));
}

TEST(SecretBytes, SizeAndResize) {
  SecretBytes s(5);
  EXPECT_EQ(s.size(), 5u);
  EXPECT_FALSE(s.empty());
  for (uint8_t b : s.expose_secret()) EXPECT_EQ(b, 0);
  s.resize(2);
  EXPECT_EQ(s.expose_secret().size(), 2u);
}

TEST(ScopedWipe, ZeroesOnScopeExit) {
  std::array<uint8_t, 16> buf;
  buf.fill(0xab);
  {
    ScopedWipe<std::array<uint8_t, 16>> wipe(buf);
    EXPECT_EQ(buf[0], 0xab);
  }
  for (uint8_t b : buf) EXPECT_EQ(b, 0);
}

}  // namespace
}  // namespace anoncode
