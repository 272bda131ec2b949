// Fiat–Shamir transcript over SM3 with domain-separated, length-prefixed labels.
//
// Bytes absorbed (all lengths u32 big-endian):
//   "anoncode/v1/transcript" || var(protocol) || { var(label) || var(data) }*
// A challenge is HashToScalar("anoncode/v1/challenge", absorbed || var(label)), and is itself
// absorbed afterwards so that a second challenge differs from the first.
#pragma once

#include <string_view>

#include "crypto/group.h"

namespace anoncode::crypto {

class Transcript {
 public:
  explicit Transcript(std::string_view protocol);
  Transcript& append(std::string_view label, ByteView data);
  Transcript& append_point(const Group& g, std::string_view label, const Point& p);
  // Only for public scalars (a revealed serial, a tag, a challenge).
  Transcript& append_public_scalar(const Group& g, std::string_view label, const Scalar& s);
  Scalar challenge(const Group& g, std::string_view label);

 private:
  ByteWriter absorbed_;
};

}  // namespace anoncode::crypto
