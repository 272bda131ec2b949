// Byte strings and their text encodings: hex, base64url (no padding, DESIGN §5 "bytes
// base64url") and base32 (RFC 4648 alphabet, no padding; wallet accounts B, DESIGN §3.4),
// and a reader/writer pair for fixed-layout binary objects.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace anoncode {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline Bytes to_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
inline Bytes to_bytes(ByteView v) {
  return Bytes(v.begin(), v.end());
}

std::string to_hex(ByteView data);
Result<Bytes> from_hex(std::string_view hex);

std::string to_base64url(ByteView data);
// Accepts only the unpadded URL-safe alphabet; anything else is `malformed`.
Result<Bytes> from_base64url(std::string_view text);

std::string to_base32(ByteView data);
Result<Bytes> from_base32(std::string_view text);

// Appends big-endian integers and raw bytes; the building block of every wire format.
class ByteWriter {
 public:
  ByteWriter& u8(uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  ByteWriter& u16(uint16_t v) { return be(v, 2); }
  ByteWriter& u32(uint32_t v) { return be(v, 4); }
  ByteWriter& u64(uint64_t v) { return be(v, 8); }
  ByteWriter& raw(ByteView v) {
    out_.insert(out_.end(), v.begin(), v.end());
    return *this;
  }
  // A length-prefixed (u32) field, for transcripts and variable data.
  ByteWriter& var(ByteView v) {
    u32(static_cast<uint32_t>(v.size()));
    return raw(v);
  }
  const Bytes& bytes() const& { return out_; }
  Bytes&& take() && { return std::move(out_); }

 private:
  ByteWriter& be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes out_;
};

// Reads a fixed layout; every read is bounds-checked and `finish()` rejects trailing bytes.
class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}
  Result<uint8_t> u8();
  Result<uint16_t> u16();
  Result<uint32_t> u32();
  Result<uint64_t> u64();
  Result<ByteView> raw(size_t n);
  Result<ByteView> var(size_t max_len);
  size_t remaining() const { return in_.size() - pos_; }
  Status finish() const;

 private:
  Result<uint64_t> be(int n);
  ByteView in_;
  size_t pos_ = 0;
};

}  // namespace anoncode
