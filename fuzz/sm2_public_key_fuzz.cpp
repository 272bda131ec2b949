// SM2 public keys (crypto/sm2.h): Sm2PublicKey::from_bytes, which reads the platform's QR-signing
// keys a POS syncs, riders' wallet keys and the operator's trust root; and parse_trust_root
// (protocol/issuer_keyset.h), the same key as base64url text, as a client is handed it.
//
// Properties: no crash; an uncompressed key re-encodes to exactly the input; a compressed one to
// the same point (the same x, y of the parity asked); a compressed key is accepted exactly when
// the "sm2" group accepts the same 33 bytes as a point (one curve, two decoders).
#include "crypto/group.h"
#include "crypto/sm2.h"
#include "fuzz_util.h"
#include "protocol/issuer_keyset.h"

using namespace anoncode;
using namespace anoncode::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  auto key = Sm2PublicKey::from_bytes(in);
  if (key) {
    Bytes out = key->to_bytes();
    FUZZ_CHECK(out.size() == kSm2PublicKeySize && out[0] == 0x04);
    if (size == kSm2PublicKeySize) {
      FUZZ_CHECK(out == to_bytes(in));
    } else {
      FUZZ_CHECK(size == 33 && std::equal(in.begin() + 1, in.end(), out.begin() + 1));
      FUZZ_CHECK((out[64] & 1) == (in[0] & 1));
    }
    auto again = Sm2PublicKey::from_bytes(out);
    FUZZ_CHECK(again && again->to_bytes() == out);
  }
  if (size == 33 && (in[0] == 0x02 || in[0] == 0x03)) {
    FUZZ_CHECK(key.ok() == sm2().decode_point(in).ok());
  }

  if (auto root = protocol::parse_trust_root(fuzz::as_text(data, size))) {
    auto raw = from_base64url(to_base64url(root->to_bytes()));
    FUZZ_CHECK(raw && Sm2PublicKey::from_bytes(*raw).ok());
  }
  return 0;
}
