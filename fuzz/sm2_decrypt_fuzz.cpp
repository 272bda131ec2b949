// SM2 decryption (crypto/sm2.h): sm2_decrypt reads a GM/T 0009 ciphertext (ASN.1: C1, C3, C2),
// as the app backend decrypts the personal data it stores and the console decrypts a traced
// cheater's identity. Input: the ciphertext, under a fixed key.
//
// Properties: no crash, no read past the input; a ciphertext that decrypts was made for this key
// (re-encrypting its plaintext decrypts to the same plaintext). The plaintext is never printed.
#include "crypto/sm2.h"
#include "fuzz_util.h"

using namespace anoncode;
using namespace anoncode::crypto;

namespace {

const Sm2PrivateKey& fixed_key() {
  static const Sm2PrivateKey key = [] {
    Bytes d = from_hex("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8").value();
    return Sm2PrivateKey::from_bytes(SecretBytes(d)).value();
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto plain = sm2_decrypt(fixed_key(), ByteView(data, size));
  if (plain && plain->size() > 0) {
    auto sealed = sm2_encrypt(fixed_key().public_key(), plain->expose_secret());
    FUZZ_CHECK(sealed);
    auto again = sm2_decrypt(fixed_key(), *sealed);
    FUZZ_CHECK(again && again->size() == plain->size() &&
               std::equal(again->expose_secret().begin(), again->expose_secret().end(),
                          plain->expose_secret().begin()));
  }
  return 0;
}
