// SM4 ciphertexts (crypto/sm4.h): Sm4Aead::open reads what the services stored sealed (personal
// data, terminal keys, wallet backups a rider's phone uploads) and sm4_cbc_decrypt a CBC
// ciphertext with PKCS#7 padding. Input: the ciphertext, under a fixed key (and, for the AEAD, a
// fixed associated data).
//
// Properties: no crash; every tampered or truncated input is refused by open; what opens was
// sealed by this key: sealing its plaintext again under the input's nonce gives the input back;
// what CBC-decrypts re-encrypts to the input.
#include "crypto/sm4.h"
#include "fuzz_util.h"

using namespace anoncode;
using namespace anoncode::crypto;

namespace {

constexpr std::string_view kAad = "fuzz/aad";

SecretBytes key_of(size_t size, uint8_t first) {
  SecretBytes k(size);
  for (size_t i = 0; i < size; ++i) k.expose_secret_mut()[i] = static_cast<uint8_t>(first + i);
  return k;
}

const Sm4Aead& aead() {
  static const Sm4Aead a = Sm4Aead::create(key_of(Sm4Aead::kMasterKeySize, 1)).value();
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  if (auto plain = aead().open(in, as_bytes(kAad))) {
    FUZZ_CHECK(size >= Sm4Aead::kOverhead);
    auto sealed = aead().seal_with_nonce(plain->expose_secret(), as_bytes(kAad), in.subspan(1, 16));
    FUZZ_CHECK(sealed && *sealed == to_bytes(in));
  }

  static const SecretBytes cbc_key = key_of(kSm4KeySize, 0x40);
  const Bytes iv(kSm4BlockSize, 0x24);
  if (auto plain = sm4_cbc_decrypt(cbc_key, iv, in)) {
    auto again = sm4_cbc_encrypt(cbc_key, iv, plain->expose_secret());
    FUZZ_CHECK(again && *again == to_bytes(in));
  }
  return 0;
}
