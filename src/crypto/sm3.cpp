#include "crypto/sm3.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <stdexcept>

namespace anoncode::crypto {
namespace {

// Fetched once: an implicit EVP_sm3() lookup per call costs more than hashing a short message.
const EVP_MD* sm3_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SM3", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL has no SM3");
  return md;
}

}  // namespace

Sm3::Sm3() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex2(ctx_.get(), sm3_md(), nullptr) != 1) {
    throw std::runtime_error("SM3 init failed");
  }
}

Sm3& Sm3::update(ByteView data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) {
    throw std::runtime_error("SM3 update failed");
  }
  return *this;
}

Sm3Digest Sm3::final() {
  Sm3Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1 || len != out.size() ||
      EVP_DigestInit_ex2(ctx_.get(), sm3_md(), nullptr) != 1) {
    throw std::runtime_error("SM3 final failed");
  }
  return out;
}

Sm3Digest sm3(ByteView data) {
  Sm3Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, sm3_md(), nullptr) != 1) {
    throw std::runtime_error("SM3 failed");
  }
  return out;
}

Sm3Digest hmac_sm3(std::span<const uint8_t> key, ByteView message) {
  Sm3Digest out{};
  unsigned int len = 0;
  // HMAC() with a fetched EVP_MD; key may be empty (RFC 2104 allows it).
  static const uint8_t kEmpty = 0;
  if (HMAC(sm3_md(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
           message.data(), message.size(), out.data(), &len) == nullptr ||
      len != out.size()) {
    throw std::runtime_error("HMAC-SM3 failed");
  }
  return out;
}

Result<SecretBytes> pbkdf2_hmac_sm3(const SecretBytes& passphrase, ByteView salt,
                                    uint32_t iterations, size_t out_len) {
  if (iterations == 0 || out_len == 0 || out_len > 1024) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pbkdf2: iterations must be >= 1, length 1..1024");
  }
  SecretBytes out(out_len);
  auto pass = passphrase.expose_secret();
  if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(pass.data()), static_cast<int>(pass.size()),
                        salt.data(), static_cast<int>(salt.size()), static_cast<int>(iterations),
                        sm3_md(), static_cast<int>(out_len), out.expose_secret_mut().data()) != 1) {
    return make_error(ErrorCode::kInternal, "pbkdf2: OpenSSL failure");
  }
  return out;
}

std::array<uint8_t, 64> h64(ByteView message) {
  std::array<uint8_t, 64> out{};
  Sm3 h;
  const uint8_t zero = 0x00, one = 0x01;
  auto a = h.update(ByteView(&zero, 1)).update(message).final();
  auto b = h.update(ByteView(&one, 1)).update(message).final();
  std::copy(a.begin(), a.end(), out.begin());
  std::copy(b.begin(), b.end(), out.begin() + 32);
  return out;
}

}  // namespace anoncode::crypto
