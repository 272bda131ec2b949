// Group element and scalar decoding (crypto/group.h): every point and scalar of every credential
// message goes through decode_point / decode_scalar of its group — ristretto255 (libsodium), the
// SM2 curve on our own arithmetic ("sm2", sm2p256) and on OpenSSL ("sm2-openssl").
//
// Properties: no crash; what decodes re-encodes to exactly the input (canonical encodings only);
// the identity is accepted only when asked for; and "sm2" and "sm2-openssl", which implement one
// encoding of one curve, accept the same inputs and decode them to equal values.
#include "crypto/group.h"
#include "fuzz_util.h"

using namespace anoncode;
using namespace anoncode::crypto;

namespace {

struct Decoded {
  bool point = false, point_or_identity = false, scalar = false;
  Bytes point_encoding, scalar_encoding;
};

Decoded decode_all(const Group& g, ByteView in) {
  Decoded d;
  if (auto p = g.decode_point(in)) {
    d.point = true;
    FUZZ_CHECK(!g.is_identity(*p));
    d.point_encoding = g.encode_point(*p);
    FUZZ_CHECK(d.point_encoding == to_bytes(in));
    // A decoded point is a group element: adding it to itself and back gives it again.
    FUZZ_CHECK(g.equal(g.sub(g.add(*p, *p), *p), *p));
  }
  if (auto p = g.decode_point(in, true)) {
    d.point_or_identity = true;
    FUZZ_CHECK(g.encode_point(*p) == to_bytes(in));
  }
  FUZZ_CHECK(!d.point || d.point_or_identity);
  if (auto s = g.decode_scalar(in)) {
    d.scalar = true;
    auto e = g.encode_scalar(*s);
    d.scalar_encoding.assign(e.begin(), e.end());
    FUZZ_CHECK(d.scalar_encoding == to_bytes(in));
  }
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  decode_all(ristretto255(), in);
  Decoded ours = decode_all(sm2(), in);
  Decoded reference = decode_all(sm2_openssl(), in);
  FUZZ_CHECK(ours.point == reference.point);
  FUZZ_CHECK(ours.point_or_identity == reference.point_or_identity);
  FUZZ_CHECK(ours.scalar == reference.scalar);
  FUZZ_CHECK(ours.point_encoding == reference.point_encoding);
  return 0;
}
