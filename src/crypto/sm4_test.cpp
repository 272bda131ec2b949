#include "crypto/sm4.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include "crypto/sm_test_util.h"

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "crypto/sm3.h"

namespace anoncode::crypto {
namespace {

using namespace anoncode::crypto::testing;

SecretBytes random_key() {
  return SecretBytes(random_bytes(kSm4KeySize));
}

Bytes secret_bytes(const SecretBytes& s) {
  return to_bytes(s.expose_secret());
}

// --- block cipher ----------------------------------------------------------------------------

TEST(Sm4, StandardExampleFromVecFile) {
  const auto vectors = read_vec("sm4.vec", "SM4-ECB");
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm4.vec line " + std::to_string(v.line));
    const SecretBytes key(v.hex("key"));
    auto ct = sm4_encrypt_block(key, v.hex("pt"));
    ASSERT_TRUE(ct.ok()) << ct.error().message;
    EXPECT_EQ(to_hex(*ct), to_hex(v.hex("ct")));
    auto pt = sm4_decrypt_block(key, *ct);
    ASSERT_TRUE(pt.ok());
    EXPECT_EQ(to_hex(*pt), to_hex(v.hex("pt")));
  }
}

TEST(Sm4, StandardExampleSpelledOut) {
  // GB/T 32907 Appendix A example 1, independent of the data file.
  const SecretBytes key(from_hex("0123456789abcdeffedcba9876543210").value());
  auto ct = sm4_encrypt_block(key, from_hex("0123456789abcdeffedcba9876543210").value());
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(to_hex(*ct), "681edf34d206965e86b3e94f536e4246");
}

TEST(Sm4, BlockRejectsWrongSizes) {
  const SecretBytes key = random_key();
  for (size_t n : {0u, 1u, 15u, 17u, 32u}) {
    SCOPED_TRACE("block size " + std::to_string(n));
    expect_error(sm4_encrypt_block(key, Bytes(n, 0)), ErrorCode::kInvalidArgument);
    expect_error(sm4_decrypt_block(key, Bytes(n, 0)), ErrorCode::kInvalidArgument);
  }
  for (size_t n : {0u, 15u, 17u, 24u, 32u}) {
    SCOPED_TRACE("key size " + std::to_string(n));
    const SecretBytes bad_key(Bytes(n, 1));
    expect_error(sm4_encrypt_block(bad_key, Bytes(16, 0)), ErrorCode::kInvalidArgument);
    expect_error(sm4_decrypt_block(bad_key, Bytes(16, 0)), ErrorCode::kInvalidArgument);
  }
}

// --- CBC ---------------------------------------------------------------------------------------

TEST(Sm4Cbc, VectorsFromVecFile) {
  const auto vectors = read_vec("sm4.vec", "SM4-CBC");
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm4.vec line " + std::to_string(v.line));
    const SecretBytes key(v.hex("key"));
    const Bytes expected = v.hex("ct");
    auto ct = sm4_cbc_encrypt(key, v.hex("iv"), v.hex("pt"));
    ASSERT_TRUE(ct.ok());
    // The plaintext is block-aligned, so PKCS#7 appends exactly one whole padding block.
    ASSERT_EQ(ct->size(), expected.size() + kSm4BlockSize);
    EXPECT_EQ(to_hex(ByteView(*ct).first(expected.size())), to_hex(expected));
    auto pt = sm4_cbc_decrypt(key, v.hex("iv"), *ct);
    ASSERT_TRUE(pt.ok());
    EXPECT_EQ(to_hex(pt->expose_secret()), to_hex(v.hex("pt")));
  }
}

TEST(Sm4Cbc, RoundTripEveryLength) {
  const SecretBytes key = random_key();
  const Bytes iv = random_bytes(16);
  for (size_t len = 0; len <= 70; ++len) {
    SCOPED_TRACE("length " + std::to_string(len));
    const Bytes pt = random_bytes(len);
    auto ct = sm4_cbc_encrypt(key, iv, pt);
    ASSERT_TRUE(ct.ok());
    EXPECT_EQ(ct->size(), (len / 16 + 1) * 16);
    auto back = sm4_cbc_decrypt(key, iv, *ct);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(to_hex(back->expose_secret()), to_hex(pt));
  }
}

TEST(Sm4Cbc, IvMatters) {
  const SecretBytes key = random_key();
  const Bytes pt = random_bytes(20);
  Bytes iv = random_bytes(16);
  auto a = sm4_cbc_encrypt(key, iv, pt);
  iv[15] ^= 1;
  auto b = sm4_cbc_encrypt(key, iv, pt);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

// One CBC block whose plaintext we choose exactly (no padding added): C = E(P ^ IV).
Bytes cbc_single_block(const SecretBytes& key, ByteView iv, ByteView plaintext_block) {
  Bytes x(16);
  for (size_t i = 0; i < 16; ++i) x[i] = plaintext_block[i] ^ iv[i];
  return sm4_encrypt_block(key, x).value();
}

TEST(Sm4Cbc, PaddingErrors) {
  const SecretBytes key = random_key();
  const Bytes iv = random_bytes(16);
  auto block_ending = [](std::initializer_list<uint8_t> tail) {
    Bytes b(16, 'A');
    std::copy(tail.begin(), tail.end(), b.end() - static_cast<long>(tail.size()));
    return b;
  };
  // Valid: one byte of padding.
  auto ok = sm4_cbc_decrypt(key, iv, cbc_single_block(key, iv, block_ending({0x01})));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 15u);
  // Valid: a whole block of padding.
  auto full = sm4_cbc_decrypt(key, iv, cbc_single_block(key, iv, Bytes(16, 0x10)));
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->size(), 0u);
  // Invalid paddings: zero, longer than a block, inconsistent bytes.
  for (const Bytes& bad : {block_ending({0x00}), block_ending({0x11}), block_ending({0xff}),
                           block_ending({0x03, 0x02}), block_ending({0x01, 0x02, 0x03}),
                           block_ending({0x05, 0x04, 0x04, 0x04})}) {
    SCOPED_TRACE("plaintext block " + to_hex(bad));
    expect_error(sm4_cbc_decrypt(key, iv, cbc_single_block(key, iv, bad)),
                 ErrorCode::kVerificationFailed);
  }
  // Not a whole, non-zero number of blocks.
  const Bytes good = sm4_cbc_encrypt(key, iv, random_bytes(20)).value();
  expect_error(sm4_cbc_decrypt(key, iv, Bytes{}), ErrorCode::kVerificationFailed);
  expect_error(sm4_cbc_decrypt(key, iv, ByteView(good).first(good.size() - 1)),
               ErrorCode::kVerificationFailed);
  expect_error(sm4_cbc_decrypt(key, iv, ByteView(good).first(15)), ErrorCode::kVerificationFailed);
}

TEST(Sm4Cbc, RejectsWrongKeyAndIvLengths) {
  const SecretBytes key = random_key();
  const Bytes iv = random_bytes(16);
  const Bytes ct = sm4_cbc_encrypt(key, iv, random_bytes(5)).value();
  for (size_t n : {0u, 15u, 17u, 32u}) {
    SCOPED_TRACE("length " + std::to_string(n));
    const SecretBytes bad_key(Bytes(n, 7));
    expect_error(sm4_cbc_encrypt(bad_key, iv, Bytes(5)), ErrorCode::kInvalidArgument);
    expect_error(sm4_cbc_decrypt(bad_key, iv, ct), ErrorCode::kInvalidArgument);
    expect_error(sm4_cbc_encrypt(key, Bytes(n, 7), Bytes(5)), ErrorCode::kInvalidArgument);
    expect_error(sm4_cbc_decrypt(key, Bytes(n, 7), ct), ErrorCode::kInvalidArgument);
  }
}

// --- CTR ---------------------------------------------------------------------------------------

TEST(Sm4Ctr, VectorsFromVecFile) {
  const auto vectors = read_vec("sm4.vec", "SM4-CTR");
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm4.vec line " + std::to_string(v.line));
    const SecretBytes key(v.hex("key"));
    auto ct = sm4_ctr(key, v.hex("iv"), v.hex("pt"));
    ASSERT_TRUE(ct.ok());
    EXPECT_EQ(to_hex(*ct), to_hex(v.hex("ct")));
    auto pt = sm4_ctr(key, v.hex("iv"), *ct);
    ASSERT_TRUE(pt.ok());
    EXPECT_EQ(to_hex(*pt), to_hex(v.hex("pt")));
  }
}

void increment_be(Bytes& counter) {
  for (size_t i = counter.size(); i-- > 0;) {
    if (++counter[i] != 0) break;
  }
}

// CTR computed from the block cipher: keystream block i = E(iv + i), big-endian over all 16 bytes.
Bytes reference_ctr(const SecretBytes& key, ByteView iv, ByteView data) {
  Bytes counter(iv.begin(), iv.end());
  Bytes out(data.begin(), data.end());
  for (size_t off = 0; off < out.size(); off += 16) {
    const Bytes ks = sm4_encrypt_block(key, counter).value();
    for (size_t i = off; i < std::min(off + 16, out.size()); ++i) out[i] ^= ks[i - off];
    increment_be(counter);
  }
  return out;
}

TEST(Sm4Ctr, EqualsXorWithBlockCipherKeystream) {
  const SecretBytes key = random_key();
  const std::vector<Bytes> ivs = {
      random_bytes(16),
      from_hex("00000000000000000000000000000000").value(),
      from_hex("000000000000000000000000fffffffe").value(),  // carry out of the low 32 bits
      from_hex("0000000000000000fffffffffffffffe").value(),  // carry out of the low 64 bits
      from_hex("fffffffffffffffffffffffffffffffe").value(),  // wraps around to zero
  };
  for (const Bytes& iv : ivs) {
    for (size_t len : {0u, 1u, 15u, 16u, 17u, 64u, 100u}) {
      SCOPED_TRACE("iv " + to_hex(iv) + " length " + std::to_string(len));
      const Bytes data = random_bytes(len);
      auto ct = sm4_ctr(key, iv, data);
      ASSERT_TRUE(ct.ok());
      EXPECT_EQ(to_hex(*ct), to_hex(reference_ctr(key, iv, data)));
    }
  }
}

TEST(Sm4Ctr, RejectsWrongKeyAndIvLengths) {
  const SecretBytes key = random_key();
  for (size_t n : {0u, 8u, 12u, 15u, 17u, 32u}) {
    SCOPED_TRACE("length " + std::to_string(n));
    expect_error(sm4_ctr(SecretBytes(Bytes(n, 3)), random_bytes(16), Bytes(4)),
                 ErrorCode::kInvalidArgument);
    expect_error(sm4_ctr(key, Bytes(n, 3), Bytes(4)), ErrorCode::kInvalidArgument);
  }
}

// --- AEAD --------------------------------------------------------------------------------------

SecretBytes random_master_key() {
  return SecretBytes(random_bytes(Sm4Aead::kMasterKeySize));
}

Sm4Aead make_aead(const SecretBytes& master) {
  auto aead = Sm4Aead::create(master);
  if (!aead.ok()) throw std::runtime_error(aead.error().message);
  return std::move(aead).value();
}

TEST(Sm4Aead, RoundTrip) {
  const Sm4Aead aead = make_aead(random_master_key());
  for (size_t len : {0u, 1u, 16u, 33u, 1000u}) {
    SCOPED_TRACE("length " + std::to_string(len));
    const Bytes pt = random_bytes(len);
    const Bytes aad = to_bytes(std::string_view("anoncode/v1/test aad"));
    auto sealed = aead.seal(pt, aad);
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(sealed->size(), len + Sm4Aead::kOverhead);
    EXPECT_EQ((*sealed)[0], 0x01);  // version byte
    auto opened = aead.open(*sealed, aad);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(to_hex(opened->expose_secret()), to_hex(pt));
  }
}

TEST(Sm4Aead, MatchesDocumentedConstruction) {
  // Rebuild the sealed bytes from sm4.h's description with the primitives alone.
  const SecretBytes master(
      from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").value());
  const Bytes nonce = from_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").value();
  const Bytes pt = to_bytes(std::string_view("personal data: 13800138000"));
  const Bytes aad = to_bytes(std::string_view("rider 42"));

  const Sm3Digest enc_full = hmac_sm3(master, as_bytes("anoncode/v1/aead/enc"));
  const SecretBytes enc_key(ByteView(enc_full).first(16));
  const Sm3Digest mac_full = hmac_sm3(master, as_bytes("anoncode/v1/aead/mac"));
  const Bytes ciphertext = sm4_ctr(enc_key, nonce, pt).value();
  ByteWriter mac_input;
  mac_input.u8(0x01).raw(nonce).u64(aad.size()).raw(aad).raw(ciphertext);
  const Sm3Digest tag = hmac_sm3(ByteView(mac_full), mac_input.bytes());
  ByteWriter expected;
  expected.u8(0x01).raw(nonce).raw(ciphertext).raw(tag);

  const Sm4Aead aead = make_aead(master);
  auto sealed = aead.seal_with_nonce(pt, aad, nonce);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(to_hex(*sealed), to_hex(expected.bytes()));
  // Deterministic given the nonce.
  EXPECT_EQ(*sealed, aead.seal_with_nonce(pt, aad, nonce).value());
}

TEST(Sm4Aead, EveryFlippedByteFailsToOpen) {
  const Sm4Aead aead = make_aead(random_master_key());
  const Bytes aad = to_bytes(std::string_view("aad"));
  const Bytes sealed = aead.seal(random_bytes(40), aad).value();
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      SCOPED_TRACE("position " + std::to_string(i) + " mask " + std::to_string(mask));
      Bytes tampered = sealed;
      tampered[i] ^= mask;
      expect_error(aead.open(tampered, aad), ErrorCode::kVerificationFailed);
    }
  }
}

TEST(Sm4Aead, EveryTruncationAndExtensionFailsToOpen) {
  const Sm4Aead aead = make_aead(random_master_key());
  const Bytes sealed = aead.seal(random_bytes(40), {}).value();
  for (size_t len = 0; len < sealed.size(); ++len) {
    SCOPED_TRACE("length " + std::to_string(len));
    expect_error(aead.open(ByteView(sealed).first(len), {}), ErrorCode::kVerificationFailed);
    // Dropping bytes from the front instead.
    expect_error(aead.open(ByteView(sealed).last(len), {}), ErrorCode::kVerificationFailed);
  }
  Bytes longer = sealed;
  longer.push_back(0);
  expect_error(aead.open(longer, {}), ErrorCode::kVerificationFailed);
}

TEST(Sm4Aead, WrongAadFails) {
  const Sm4Aead aead = make_aead(random_master_key());
  const Bytes sealed = aead.seal(random_bytes(10), as_bytes("ticket 1")).value();
  expect_error(aead.open(sealed, as_bytes("ticket 2")), ErrorCode::kVerificationFailed);
  expect_error(aead.open(sealed, {}), ErrorCode::kVerificationFailed);
  expect_error(aead.open(sealed, as_bytes("ticket 1 ")), ErrorCode::kVerificationFailed);
  EXPECT_TRUE(aead.open(sealed, as_bytes("ticket 1")).ok());
}

TEST(Sm4Aead, WrongKeyFails) {
  const SecretBytes master = random_master_key();
  const Bytes sealed = make_aead(master).seal(random_bytes(10), {}).value();
  Bytes other = secret_bytes(master);
  other[0] ^= 1;
  expect_error(make_aead(SecretBytes(other)).open(sealed, {}), ErrorCode::kVerificationFailed);
  // A prefix of the key, zero-padded, is not accepted as a key at all (HMAC would zero-pad it
  // to the same block): only 32-byte master keys exist.
  Bytes prefix = secret_bytes(master);
  prefix.resize(16);
  expect_error(Sm4Aead::create(SecretBytes(prefix)), ErrorCode::kInvalidArgument);
}

TEST(Sm4Aead, EmptyPlaintextIsAuthenticated) {
  const Sm4Aead aead = make_aead(random_master_key());
  auto sealed = aead.seal({}, as_bytes("only aad"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), Sm4Aead::kOverhead);
  auto opened = aead.open(*sealed, as_bytes("only aad"));
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
  expect_error(aead.open(*sealed, as_bytes("other aad")), ErrorCode::kVerificationFailed);
}

TEST(Sm4Aead, TwoSealsOfTheSamePlaintextDiffer) {
  const Sm4Aead aead = make_aead(random_master_key());
  const Bytes pt = random_bytes(32);
  const Bytes a = aead.seal(pt, {}).value();
  const Bytes b = aead.seal(pt, {}).value();
  EXPECT_NE(a, b);
  EXPECT_NE(to_hex(ByteView(a).subspan(1, 16)), to_hex(ByteView(b).subspan(1, 16)));  // nonces
  EXPECT_TRUE(aead.open(a, {}).ok());
  EXPECT_TRUE(aead.open(b, {}).ok());
}

TEST(Sm4Aead, RejectsWrongMasterKeyLengthAndBadNonce) {
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 31u, 33u, 64u}) {
    SCOPED_TRACE("master key length " + std::to_string(n));
    expect_error(Sm4Aead::create(SecretBytes(Bytes(n, 9))), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(Sm4Aead::create(SecretBytes(Bytes(32, 9))).ok());
  const Sm4Aead aead = make_aead(random_master_key());
  for (size_t n : {0u, 12u, 15u, 17u}) {
    SCOPED_TRACE("nonce length " + std::to_string(n));
    expect_error(aead.seal_with_nonce(Bytes(3), {}, Bytes(n)), ErrorCode::kInvalidArgument);
  }
}

TEST(Sm4Aead, ErrorMessageIsOpaque) {
  // Every failure reads the same, so a caller cannot learn which check failed.
  const Sm4Aead aead = make_aead(random_master_key());
  Bytes sealed = aead.seal(random_bytes(8), {}).value();
  const std::string truncated = aead.open(ByteView(sealed).first(3), {}).error().message;
  const std::string wrong_aad = aead.open(sealed, as_bytes("x")).error().message;
  sealed[0] = 0x02;
  const std::string wrong_version = aead.open(sealed, {}).error().message;
  EXPECT_EQ(truncated, wrong_aad);
  EXPECT_EQ(truncated, wrong_version);
}

}  // namespace
}  // namespace anoncode::crypto
