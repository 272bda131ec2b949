// The fixed SM2 key of the signature, decryption, QR payload and key set targets, and of
// make_corpus, which signs and encrypts their seeds with it. A test key, public here, nobody's.
#pragma once

#include "crypto/sm2.h"

namespace anoncode::fuzz {

inline const crypto::Sm2PrivateKey& fixed_sm2_key() {
  static const crypto::Sm2PrivateKey key = [] {
    Bytes d = from_hex("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8").value();
    return crypto::Sm2PrivateKey::from_bytes(SecretBytes(d)).value();
  }();
  return key;
}

}  // namespace anoncode::fuzz
