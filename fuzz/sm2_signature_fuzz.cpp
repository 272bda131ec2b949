// SM2 signatures (crypto/sm2.h): sm2_verify reads the r‖s a QR payload, an issuer key set or a
// wallet's show carries — on our own arithmetic (sm2p256) — and sm2_signature_from_der reads the
// DER form the openssl tool writes. Input: 64 bytes of signature, then the message.
//
// Properties: no crash; our verifier and OpenSSL's agree on every signature, under a fixed key
// both on its first use (no tables yet) and after (tables built); a DER signature that decodes
// re-encodes to exactly the input (strict DER), and a decoded r‖s converts back.
#include "crypto/sm2.h"
#include "fixed_keys.h"
#include "fuzz_util.h"

using namespace anoncode;
using namespace anoncode::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);

  if (auto raw = sm2_signature_from_der(in)) {
    FUZZ_CHECK(raw->size() == kSm2SignatureSize);
    auto der = sm2_signature_to_der(*raw);
    FUZZ_CHECK(der && *der == to_bytes(in));
  }

  ByteView signature = in.first(std::min(size, kSm2SignatureSize));
  ByteView message = in.subspan(signature.size());
  const Sm2PublicKey warm = fuzz::fixed_sm2_key().public_key();
  const bool ours = sm2_verify(warm, message, signature).ok();
  const bool openssl = sm2_verify_openssl(warm, message, signature).ok();
  FUZZ_CHECK(ours == openssl);
  // A key used for the first time verifies on another path (no tables yet).
  auto cold = Sm2PublicKey::from_bytes(warm.to_bytes());
  FUZZ_CHECK(cold && sm2_verify(*cold, message, signature).ok() == ours);
  if (signature.size() == kSm2SignatureSize) {
    auto der = sm2_signature_to_der(signature);
    if (der) {
      auto back = sm2_signature_from_der(*der);
      FUZZ_CHECK(back && *back == to_bytes(signature));
    }
  }
  return 0;
}
