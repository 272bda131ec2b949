// SM2 decryption (crypto/sm2.h): sm2_decrypt reads a GM/T 0009 ciphertext (ASN.1: C1, C3, C2),
// as the app backend decrypts the personal data it stores and the console decrypts a traced
// cheater's identity. Input: the ciphertext, under a fixed key.
//
// Properties: no crash, no read past the input; a ciphertext that decrypts was made for this key
// (re-encrypting its plaintext decrypts to the same plaintext). The plaintext is never printed.
#include "crypto/sm2.h"
#include "fixed_keys.h"
#include "fuzz_util.h"

using namespace anoncode;
using namespace anoncode::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto plain = sm2_decrypt(fuzz::fixed_sm2_key(), ByteView(data, size));
  if (plain && plain->size() > 0) {
    auto sealed = sm2_encrypt(fuzz::fixed_sm2_key().public_key(), plain->expose_secret());
    FUZZ_CHECK(sealed);
    auto again = sm2_decrypt(fuzz::fixed_sm2_key(), *sealed);
    FUZZ_CHECK(again && again->size() == plain->size() &&
               std::equal(again->expose_secret().begin(), again->expose_secret().end(),
                          plain->expose_secret().begin()));
  }
  return 0;
}
