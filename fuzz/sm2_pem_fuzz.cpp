// SM2 keys as PEM (crypto/sm2.h): Sm2PublicKey::from_pem (SubjectPublicKeyInfo) and
// Sm2PrivateKey::from_pem (unencrypted PKCS#8), which read the data directory's platform and root
// keys and a wallet's key in the SDK's state file — files a person may have edited or swapped.
//
// Properties: no crash; a key that decodes survives to_pem / export_pem_secret and back as the
// same key. Nothing of a private key is printed.
#include "crypto/sm2.h"
#include "fuzz_util.h"

using namespace anoncode;
using namespace anoncode::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  if (auto pub = Sm2PublicKey::from_pem(text)) {
    auto again = Sm2PublicKey::from_pem(pub->to_pem());
    FUZZ_CHECK(again && again->to_bytes() == pub->to_bytes());
  }
  if (auto key = Sm2PrivateKey::from_pem(SecretBytes(ByteView(data, size)))) {
    auto again = Sm2PrivateKey::from_pem(key->export_pem_secret());
    FUZZ_CHECK(again && again->public_key().to_bytes() == key->public_key().to_bytes());
    const SecretBytes d1 = key->export_secret();
    const SecretBytes d2 = again->export_secret();
    FUZZ_CHECK(d1.size() == d2.size() &&
               std::equal(d1.expose_secret().begin(), d1.expose_secret().end(),
                          d2.expose_secret().begin()));
  }
  return 0;
}
