#include "crypto/transcript.h"

namespace anoncode::crypto {

Transcript::Transcript(std::string_view protocol) {
  absorbed_.raw(as_bytes("anoncode/v1/transcript")).var(as_bytes(protocol));
}

Transcript& Transcript::append(std::string_view label, ByteView data) {
  absorbed_.var(as_bytes(label)).var(data);
  return *this;
}

Transcript& Transcript::append_point(const Group& g, std::string_view label, const Point& p) {
  return append(label, g.encode_point(p));
}

Transcript& Transcript::append_public_scalar(const Group& g, std::string_view label,
                                             const Scalar& s) {
  auto bytes = g.encode_scalar(s);
  return append(label, bytes);
}

Scalar Transcript::challenge(const Group& g, std::string_view label) {
  ByteWriter w;
  w.raw(absorbed_.bytes()).var(as_bytes(label));
  Scalar c = g.hash_to_scalar("anoncode/v1/challenge", w.bytes());
  append_public_scalar(g, label, c);
  return c;
}

}  // namespace anoncode::crypto
