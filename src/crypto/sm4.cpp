#include "crypto/sm4.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include "crypto/sm3.h"

namespace anoncode::crypto {
namespace {

constexpr uint8_t kAeadVersion = 0x01;
constexpr size_t kAeadNonceSize = 16;
constexpr size_t kAeadTagSize = kSm3Size;
constexpr std::string_view kAeadEncLabel = "anoncode/v1/aead/enc";
constexpr std::string_view kAeadMacLabel = "anoncode/v1/aead/mac";

// Fetched once: an implicit lookup per call costs more than encrypting a short message.
const EVP_CIPHER* fetch_cipher(const char* name) {
  EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, name, nullptr);
  if (c == nullptr) throw std::runtime_error(std::string("OpenSSL has no ") + name);
  return c;
}
const EVP_CIPHER* sm4_ecb() {
  static const EVP_CIPHER* c = fetch_cipher("SM4-ECB");
  return c;
}
const EVP_CIPHER* sm4_cbc() {
  static const EVP_CIPHER* c = fetch_cipher("SM4-CBC");
  return c;
}
const EVP_CIPHER* sm4_ctr_cipher() {
  static const EVP_CIPHER* c = fetch_cipher("SM4-CTR");
  return c;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }  // cleanses the schedule
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

Status check_key_iv(const SecretBytes& key, ByteView iv, bool needs_iv) {
  if (key.size() != kSm4KeySize) {
    return make_error(ErrorCode::kInvalidArgument, "sm4: key must be 16 bytes");
  }
  if (needs_iv && iv.size() != kSm4BlockSize) {
    return make_error(ErrorCode::kInvalidArgument, "sm4: iv must be 16 bytes");
  }
  return {};
}

// Runs one cipher over `in` into `out` (which has room for in.size() + one block) and returns
// the number of bytes written. On failure the OpenSSL error queue is cleared and `on_failure`
// is returned, so nothing leaks into later calls.
Result<size_t> run_cipher(const EVP_CIPHER* cipher, const SecretBytes& key, const uint8_t* iv,
                          bool encrypt, bool padding, ByteView in, std::span<uint8_t> out,
                          ErrorCode on_failure) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len1 = 0;
  int len2 = 0;
  const bool ok =
      ctx &&
      in.size() <= static_cast<size_t>(std::numeric_limits<int>::max()) - 2 * kSm4BlockSize &&
      out.size() >= in.size() + kSm4BlockSize &&
      EVP_CipherInit_ex2(ctx.get(), cipher, key.expose_secret().data(), iv, encrypt ? 1 : 0,
                         nullptr) == 1 &&
      EVP_CIPHER_CTX_set_padding(ctx.get(), padding ? 1 : 0) == 1 &&
      EVP_CipherUpdate(ctx.get(), out.data(), &len1, in.data(), static_cast<int>(in.size())) == 1 &&
      EVP_CipherFinal_ex(ctx.get(), out.data() + len1, &len2) == 1;
  if (!ok) {
    ERR_clear_error();
    return make_error(on_failure, on_failure == ErrorCode::kVerificationFailed
                                      ? "sm4: decryption failed"
                                      : "sm4: cipher operation failed");
  }
  return static_cast<size_t>(len1) + static_cast<size_t>(len2);
}

// CTR into a caller-chosen buffer (public Bytes or zeroizing SecretBytes).
template <typename Buffer>
Result<Buffer> ctr_into(const SecretBytes& key, ByteView iv, ByteView data) {
  ANONCODE_CHECK(check_key_iv(key, iv, true));
  Buffer out(data.size() + kSm4BlockSize);
  std::span<uint8_t> dst;
  if constexpr (std::is_same_v<Buffer, SecretBytes>) {
    dst = out.expose_secret_mut();
  } else {
    dst = out;
  }
  ANONCODE_TRY(size_t n, run_cipher(sm4_ctr_cipher(), key, iv.data(), true, false, data, dst,
                                    ErrorCode::kInternal));
  out.resize(n);
  return out;
}

Result<Bytes> one_block(const SecretBytes& key, ByteView block, bool encrypt) {
  ANONCODE_CHECK(check_key_iv(key, {}, false));
  if (block.size() != kSm4BlockSize) {
    return make_error(ErrorCode::kInvalidArgument, "sm4: a block is 16 bytes");
  }
  Bytes out(2 * kSm4BlockSize);
  ANONCODE_TRY(size_t n, run_cipher(sm4_ecb(), key, nullptr, encrypt, false, block, out,
                                    ErrorCode::kInternal));
  out.resize(n);
  return out;
}

// The MAC input: version || nonce || u64be(len(aad)) || aad || ciphertext (see sm4.h).
Sm3Digest aead_tag(const SecretBytes& mac_key, ByteView nonce, ByteView aad, ByteView ciphertext) {
  ByteWriter w;
  w.u8(kAeadVersion).raw(nonce).u64(aad.size()).raw(aad).raw(ciphertext);
  return hmac_sm3(mac_key, w.bytes());
}

}  // namespace

Result<Bytes> sm4_encrypt_block(const SecretBytes& key, ByteView block) {
  return one_block(key, block, true);
}

Result<Bytes> sm4_decrypt_block(const SecretBytes& key, ByteView block) {
  return one_block(key, block, false);
}

Result<Bytes> sm4_cbc_encrypt(const SecretBytes& key, ByteView iv, ByteView plaintext) {
  ANONCODE_CHECK(check_key_iv(key, iv, true));
  Bytes out(plaintext.size() + kSm4BlockSize);
  ANONCODE_TRY(size_t n, run_cipher(sm4_cbc(), key, iv.data(), true, true, plaintext, out,
                                    ErrorCode::kInternal));
  out.resize(n);
  return out;
}

Result<SecretBytes> sm4_cbc_decrypt(const SecretBytes& key, ByteView iv, ByteView ciphertext) {
  ANONCODE_CHECK(check_key_iv(key, iv, true));
  // A padded ciphertext is a non-zero whole number of blocks; anything else cannot decrypt.
  if (ciphertext.empty() || ciphertext.size() % kSm4BlockSize != 0) {
    return make_error(ErrorCode::kVerificationFailed, "sm4: decryption failed");
  }
  SecretBytes out(ciphertext.size() + kSm4BlockSize);
  ANONCODE_TRY(size_t n, run_cipher(sm4_cbc(), key, iv.data(), false, true, ciphertext,
                                    out.expose_secret_mut(), ErrorCode::kVerificationFailed));
  out.resize(n);
  return out;
}

Result<Bytes> sm4_ctr(const SecretBytes& key, ByteView iv, ByteView data) {
  return ctr_into<Bytes>(key, iv, data);
}

Result<Sm4Aead> Sm4Aead::create(const SecretBytes& master_key) {
  // Exactly one length: HMAC zero-pads keys to its 64-byte block, so K and K || 0x00… would
  // otherwise derive the same subkeys.
  if (master_key.size() != kMasterKeySize) {
    return make_error(ErrorCode::kInvalidArgument, "sm4 aead: master key must be 32 bytes");
  }
  Sm3Digest enc = hmac_sm3(master_key, as_bytes(kAeadEncLabel));
  Sm3Digest mac = hmac_sm3(master_key, as_bytes(kAeadMacLabel));
  SecretBytes enc_key(ByteView(enc.data(), kSm4KeySize));
  SecretBytes mac_key(ByteView(mac.data(), mac.size()));
  OPENSSL_cleanse(enc.data(), enc.size());
  OPENSSL_cleanse(mac.data(), mac.size());
  return Sm4Aead(std::move(enc_key), std::move(mac_key));
}

Result<Bytes> Sm4Aead::seal(ByteView plaintext, ByteView aad) const {
  uint8_t nonce[kAeadNonceSize];
  if (RAND_bytes(nonce, sizeof nonce) != 1) {
    ERR_clear_error();
    return make_error(ErrorCode::kInternal, "sm4 aead: no randomness");
  }
  return seal_with_nonce(plaintext, aad, ByteView(nonce, sizeof nonce));
}

Result<Bytes> Sm4Aead::seal_with_nonce(ByteView plaintext, ByteView aad, ByteView nonce) const {
  if (nonce.size() != kAeadNonceSize) {
    return make_error(ErrorCode::kInvalidArgument, "sm4 aead: nonce must be 16 bytes");
  }
  ANONCODE_TRY(Bytes ciphertext, ctr_into<Bytes>(enc_key_, nonce, plaintext));
  const Sm3Digest tag = aead_tag(mac_key_, nonce, aad, ciphertext);
  ByteWriter w;
  w.u8(kAeadVersion).raw(nonce).raw(ciphertext).raw(tag);
  return std::move(w).take();
}

Result<SecretBytes> Sm4Aead::open(ByteView sealed, ByteView aad) const {
  // One opaque error for every failure (STYLE.md): never say which check failed.
  auto fail = [] { return make_error(ErrorCode::kVerificationFailed, "sm4 aead: cannot open"); };
  if (sealed.size() < kOverhead || sealed[0] != kAeadVersion) return fail();
  const ByteView nonce = sealed.subspan(1, kAeadNonceSize);
  const ByteView ciphertext = sealed.subspan(1 + kAeadNonceSize, sealed.size() - kOverhead);
  const ByteView tag = sealed.subspan(sealed.size() - kAeadTagSize);
  const Sm3Digest expected = aead_tag(mac_key_, nonce, aad, ciphertext);
  if (CRYPTO_memcmp(expected.data(), tag.data(), kAeadTagSize) != 0) return fail();
  auto plaintext = ctr_into<SecretBytes>(enc_key_, nonce, ciphertext);
  if (!plaintext.ok()) return fail();
  return std::move(plaintext).value();
}

}  // namespace anoncode::crypto
