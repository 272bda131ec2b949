// SM2 (GB/T 32918) signatures and public-key encryption. Keys, encodings and encryption go
// through OpenSSL 3; signing and verification run on our own curve arithmetic (sm2_fast.h,
// src/crypto/sm2p256: 6–14× faster than OpenSSL 3.0's generic code for this curve, signing
// constant-time), with OpenSSL's versions kept callable as the reference they are tested
// against (sm2p256_test.cpp: each verifies the other's signatures).
//
// Signatures always use the distinguishing identifier "1234567812345678", set explicitly:
// OpenSSL 3.0 otherwise signs with an empty id and its signatures fail elsewhere (DESIGN §3.1).
// Signatures on the wire are fixed-length r || s (2 × 32 bytes, big-endian); DER conversion
// exists for interoperability with tools such as the openssl command line.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <mutex>
#include <string>

#include "common/bytes.h"
#include "common/secret.h"

namespace anoncode::crypto {

constexpr std::string_view kSm2UserId = "1234567812345678";
constexpr size_t kSm2SignatureSize = 64;   // r || s
constexpr size_t kSm2PublicKeySize = 65;   // 0x04 || x || y (SEC1 uncompressed)
constexpr size_t kSm2PrivateKeySize = 32;  // big-endian scalar d, 1 <= d < n-1

struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// The precomputed forms our own signature code works on (sm2_fast.h).
struct Sm2FastPublicKey;
struct Sm2FastPrivateKey;

class Sm2PublicKey {
 public:
  // Accepts SEC1 uncompressed (65 bytes) or compressed (33 bytes); rejects off-curve points and
  // the point at infinity as `malformed`.
  static Result<Sm2PublicKey> from_bytes(ByteView encoded);
  static Result<Sm2PublicKey> from_pem(std::string_view pem);  // SubjectPublicKeyInfo
  Bytes to_bytes() const;                                      // 65 bytes uncompressed
  std::string to_pem() const;
  // OpenSSL's form of the key, made on first use: importing a key into OpenSSL 3 builds a new
  // EC_GROUP each time, which cost a wallet request more than verifying its signature, and only
  // PEM export, encryption and the OpenSSL reference functions need it.
  EVP_PKEY* get() const;
  // Internal: the form sm2_verify works on.
  const Sm2FastPublicKey& fast() const { return *fast_; }

 private:
  friend class Sm2PrivateKey;
  struct Evp;  // the point and its lazily built EVP_PKEY
  Sm2PublicKey(std::shared_ptr<Evp> evp, std::shared_ptr<const Sm2FastPublicKey> fast)
      : evp_(std::move(evp)), fast_(std::move(fast)) {}
  // A validated uncompressed point.
  static Sm2PublicKey from_valid_point(Bytes point, std::shared_ptr<const Sm2FastPublicKey> fast);
  std::shared_ptr<Evp> evp_;
  std::shared_ptr<const Sm2FastPublicKey> fast_;
};

class Sm2PrivateKey {
 public:
  static Result<Sm2PrivateKey> generate();
  // 32-byte big-endian d; rejects 0 and values >= n-1 as `invalid_argument`.
  static Result<Sm2PrivateKey> from_bytes(const SecretBytes& d);
  static Result<Sm2PrivateKey> from_pem(const SecretBytes& pem);  // PKCS#8, unencrypted
  // The explicit export points (greppable): raw d and PKCS#8 PEM.
  SecretBytes export_secret() const;
  SecretBytes export_pem_secret() const;
  Sm2PublicKey public_key() const;
  EVP_PKEY* get() const { return key_.get(); }
  // Internal: the forms sm2_sign works on.
  const Sm2FastPrivateKey& fast() const { return *fast_; }
  const Sm2FastPublicKey& fast_public() const { return *fast_public_; }

 private:
  // Derives the precomputed forms from the EVP key.
  static Result<Sm2PrivateKey> wrap(EvpPkeyPtr k);
  explicit Sm2PrivateKey(EvpPkeyPtr k) : key_(std::move(k)) {}
  std::shared_ptr<EVP_PKEY> key_;
  std::shared_ptr<const Sm2FastPrivateKey> fast_;
  std::shared_ptr<const Sm2FastPublicKey> fast_public_;
  Bytes public_point_;  // 65 bytes uncompressed, so public_key() costs no OpenSSL import
};

// A signer has sign; a verifier has verify (STYLE.md, from Tink). Our own arithmetic; the nonce
// comes from the OS CSPRNG.
Result<Bytes> sm2_sign(const Sm2PrivateKey& key, ByteView message);
// Any failure (wrong length, r or s out of range, wrong key, tampered message) is `bad_signature`.
Status sm2_verify(const Sm2PublicKey& key, ByteView message, ByteView signature);

// The same through OpenSSL's EVP interface: the reference for tests and benchmarks.
Result<Bytes> sm2_sign_openssl(const Sm2PrivateKey& key, ByteView message);
Status sm2_verify_openssl(const Sm2PublicKey& key, ByteView message, ByteView signature);

// Tests only: signs with the given nonce k (32 bytes big-endian, 1 <= k < n), to reproduce the
// standard's example; a k outside that range, or one that needs a retry, is `invalid_argument`.
Result<Bytes> sm2_sign_with_nonce_for_test(const Sm2PrivateKey& key, ByteView message,
                                           const SecretBytes& k);

Result<Bytes> sm2_signature_to_der(ByteView signature);
Result<Bytes> sm2_signature_from_der(ByteView der);

// Public-key encryption (GM/T 0009 ASN.1 ciphertext, C1 || C3 || C2 as OpenSSL encodes it).
Result<Bytes> sm2_encrypt(const Sm2PublicKey& key, ByteView plaintext);
// Any failure is `verification_failed`.
Result<SecretBytes> sm2_decrypt(const Sm2PrivateKey& key, ByteView ciphertext);

}  // namespace anoncode::crypto
