// SM4 (GB/T 32907) over OpenSSL 3: the raw block (for known-answer tests), CBC with PKCS#7
// padding, CTR, and authenticated encryption as SM4-CTR + HMAC-SM3, encrypt-then-MAC with keys
// derived separately from one master key (DESIGN §3.1; OpenSSL 3.0 has no SM4-GCM).
#pragma once

#include "common/bytes.h"
#include "common/secret.h"

namespace anoncode::crypto {

constexpr size_t kSm4KeySize = 16;
constexpr size_t kSm4BlockSize = 16;

// One block, no mode (ECB of exactly 16 bytes): for the standard's known-answer tests.
Result<Bytes> sm4_encrypt_block(const SecretBytes& key, ByteView block);
Result<Bytes> sm4_decrypt_block(const SecretBytes& key, ByteView block);

// CBC with PKCS#7 padding; iv is 16 bytes. Decrypt rejects bad padding as `verification_failed`.
Result<Bytes> sm4_cbc_encrypt(const SecretBytes& key, ByteView iv, ByteView plaintext);
Result<SecretBytes> sm4_cbc_decrypt(const SecretBytes& key, ByteView iv, ByteView ciphertext);

// CTR with a 16-byte initial counter block (big-endian increment of the whole block).
// Encryption and decryption are the same operation.
Result<Bytes> sm4_ctr(const SecretBytes& key, ByteView iv, ByteView data);

// Authenticated encryption, SM4-CTR + HMAC-SM3, encrypt-then-MAC.
//   enc_key = HMAC-SM3(master, "anoncode/v1/aead/enc")[0..16)
//   mac_key = HMAC-SM3(master, "anoncode/v1/aead/mac")
//   sealed  = 0x01 (version) || nonce (16, random) || ciphertext || tag (32)
//   tag     = HMAC-SM3(mac_key, 0x01 || nonce || u64be(len(aad)) || aad || ciphertext)
// Any failure to open (truncated, wrong key, tampered byte, wrong aad) is one opaque
// `verification_failed`.
class Sm4Aead {
 public:
  static constexpr size_t kOverhead = 1 + 16 + 32;
  static constexpr size_t kMasterKeySize = 32;
  // master_key: exactly 32 bytes (HMAC zero-pads keys, so one length keeps keys distinct).
  static Result<Sm4Aead> create(const SecretBytes& master_key);

  Result<Bytes> seal(ByteView plaintext, ByteView aad) const;
  // Deterministic variant for tests: the caller supplies the 16-byte nonce.
  Result<Bytes> seal_with_nonce(ByteView plaintext, ByteView aad, ByteView nonce) const;
  Result<SecretBytes> open(ByteView sealed, ByteView aad) const;

 private:
  Sm4Aead(SecretBytes enc, SecretBytes mac) : enc_key_(std::move(enc)), mac_key_(std::move(mac)) {}
  SecretBytes enc_key_;
  SecretBytes mac_key_;
};

}  // namespace anoncode::crypto
