// SM3 (GB/T 32905) and what is built on it: HMAC-SM3, PBKDF2-HMAC-SM3, and the 64-byte wide
// hash H64 that feeds hash-to-scalar and hash-to-group (DESIGN §3.1). All over OpenSSL 3.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <memory>

#include "common/bytes.h"
#include "common/secret.h"

namespace anoncode::crypto {

using Sm3Digest = std::array<uint8_t, 32>;
constexpr size_t kSm3Size = 32;

// Incremental SM3.
class Sm3 {
 public:
  Sm3();
  Sm3& update(ByteView data);
  Sm3& update(std::string_view data) { return update(as_bytes(data)); }
  Sm3Digest final();  // resets the context afterwards, so the object can be reused

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

Sm3Digest sm3(ByteView data);
inline Sm3Digest sm3(std::string_view data) {
  return sm3(as_bytes(data));
}

// HMAC-SM3 (RFC 2104 with SM3). The key is secret; the tag is not.
Sm3Digest hmac_sm3(std::span<const uint8_t> key, ByteView message);
inline Sm3Digest hmac_sm3(const SecretBytes& key, ByteView message) {
  return hmac_sm3(key.expose_secret(), message);
}

// PBKDF2 (RFC 8018) with HMAC-SM3. `iterations` must be >= 1 and out_len in 1..1024.
Result<SecretBytes> pbkdf2_hmac_sm3(const SecretBytes& passphrase, ByteView salt,
                                    uint32_t iterations, size_t out_len);

// H64(m) = SM3(0x00 || m) || SM3(0x01 || m)  (DESIGN §3.1).
std::array<uint8_t, 64> h64(ByteView message);

}  // namespace anoncode::crypto
