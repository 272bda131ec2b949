// The credential's wire codec (docs/PROTOCOL.md §6). Every object is a header — version 0x01,
// its type, its group id, and for a show its op and pseudonym count — then fixed-size fields. An
// object's layout is declared once, as a `Layout<T>` (credential_codec.cpp):
//
//   template <typename Io, typename M>
//   static void fields(Io& io, M& m) {
//     io.fixed(m.kid).point(m.A).scalar(m.e).scalar(m.r2).bytes(m.proof, proof_size);
//   }
//
// and the same declaration is run by the Writer (encode), the Sizer (the exact length a decoder
// demands) and the Reader (decode), so they cannot disagree. Decoding untrusted bytes gives the
// object or an error: short input, trailing bytes, a wrong version, type or group, a point not in
// the group and a scalar ≥ q are all rejected (the errors are those of PROTOCOL.md §6.1).
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "crypto/credential.h"

namespace anoncode::crypto::codec {

constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderSize = 3;  // version, type, group id

enum class Type : uint8_t {
  kIssuerPublicKey = 0x10,
  kIssuerKey = 0x11,
  kOpenRequest = 0x20,
  kIssueResponse = 0x21,
  kShowRequest = 0x22,
  kPendingIssue = 0x30,
  kCredential = 0x31,
};

// Who wrote the bytes decides what a bad point or scalar is: in a message from others the one
// opaque `verification_failed` (it must not say which element was bad), in a key or in our own
// state `malformed`.
enum class Origin { kOthers, kOwn };

// Writes the 3-byte header, then the fields. Encoding never fails.
class Writer {
 public:
  Writer(const Group& g, Type type);
  template <size_t N>
  Writer& fixed(const std::array<uint8_t, N>& v) {
    out_.raw(v);
    return *this;
  }
  Writer& point(const Point& p);
  Writer& point_or_identity(const Point& p) { return point(p); }
  Writer& scalar(const Scalar& s);  // the encoding's temporary copy is wiped
  Writer& points(std::span<const Point> ps);
  Writer& bytes(ByteView b, size_t len);  // b as it is; `len` is for the reader
  Writer& op(ShowOp op);
  Writer& count(std::span<const Point> list);  // a list's length, one byte
  Bytes take() && { return std::move(out_).take(); }

 private:
  const Group& g_;
  ByteWriter out_;
};

// Adds up the size of the fields: what the reader demands before it reads any of them.
class Sizer {
 public:
  explicit Sizer(size_t point_size) : point_size_(point_size) {}
  template <size_t N>
  Sizer& fixed(const std::array<uint8_t, N>&) {
    return add(N);
  }
  Sizer& point(const Point&) { return add(point_size_); }
  Sizer& point_or_identity(const Point&) { return add(point_size_); }
  Sizer& scalar(const Scalar&) { return add(Group::kScalarSize); }
  Sizer& points(std::span<const Point> ps) { return add(ps.size() * point_size_); }
  Sizer& bytes(ByteView, size_t len) { return add(len); }
  Sizer& op(ShowOp) { return add(1); }
  Sizer& count(std::span<const Point>) { return add(1); }
  size_t total() const { return total_; }

 private:
  Sizer& add(size_t n) {
    total_ += n;
    return *this;
  }
  size_t point_size_;
  size_t total_ = 0;
};

// Reads the fields in order. The first failure sticks: later fields are left alone, and
// status() reports it.
class Reader {
 public:
  Reader(const Group& g, ByteView in, Origin origin) : g_(g), in_(in), origin_(origin) {}
  template <size_t N>
  Reader& fixed(std::array<uint8_t, N>& out) {
    if (auto b = take(N)) std::copy(b->begin(), b->end(), out.begin());
    return *this;
  }
  Reader& point(Point& out) { return element(out, false); }
  Reader& point_or_identity(Point& out) { return element(out, true); }
  Reader& scalar(Scalar& out);
  Reader& points(std::vector<Point>& out);  // out.size() points, sized by count()
  Reader& bytes(Bytes& out, size_t len);
  Reader& op(ShowOp& out);                  // a valid ShowOp, else `malformed`
  Reader& count(std::vector<Point>& list);  // at most kMaxPseudonyms, else `malformed`
  size_t remaining() const { return in_.remaining(); }
  const Status& status() const { return status_; }
  Status finish() const { return in_.finish(); }

 private:
  std::optional<ByteView> take(size_t n);
  Reader& element(Point& out, bool allow_identity);
  void fail(Error e);
  // A bad element: opaque in a message from others.
  void bad_element(const char* what);

  const Group& g_;
  ByteReader in_;
  Origin origin_;
  Status status_;
};

// Layout<T>: an object's type byte (kType), origin (kOrigin), whether it is a secret (kSecret),
// its group member (kGroup), its header fields after the group id (an optional `header`, run
// like `fields`) and its fields. Specialized in credential_codec.cpp for each object.
template <typename T>
struct Layout;

// The generic core. Callers use encode or encode_secret, decode or decode_secret: a layout's
// kSecret picks which, so a secret state never leaves the codec as plain Bytes.
template <typename T>
Bytes encode_bytes(const T& m) {
  using L = Layout<T>;
  Writer w(*(m.*L::kGroup), L::kType);
  if constexpr (requires { L::header(w, m); }) L::header(w, m);
  L::fields(w, m);
  return std::move(w).take();
}

template <typename T>
requires(!Layout<T>::kSecret) Bytes encode(const T& m) {
  return encode_bytes(m);
}

// Secrets leave the codec only as SecretBytes; the writer's buffer is wiped.
template <typename T>
requires(Layout<T>::kSecret) SecretBytes encode_secret(const T& m) {
  Bytes b = encode_bytes(m);
  SecretBytes s(b);
  sodium_memzero(b.data(), b.size());
  return s;
}

Status check_version_and_type(ByteView bytes, Type type);

template <typename T>
Result<T> decode_bytes(ByteView bytes) {
  using L = Layout<T>;
  T m{};
  Sizer header(0);
  if constexpr (requires { L::header(header, m); }) L::header(header, m);
  if (bytes.size() < kHeaderSize + header.total()) {
    return make_error(ErrorCode::kMalformed, "truncated");
  }
  // The header's checks keep the order they have always had; only the message of a header with
  // two faults depends on it, the code is `malformed` either way. A message from others is read
  // for its group (and a show for its op and count) before its version and type, since its length
  // depends on them; a key or a state checks its version and type first.
  if constexpr (L::kOrigin == Origin::kOwn) ANONCODE_CHECK(check_version_and_type(bytes, L::kType));
  ANONCODE_TRY(m.*L::kGroup, group_by_id(bytes[2]));
  const Group& g = *(m.*L::kGroup);
  Reader r(g, bytes.subspan(kHeaderSize), L::kOrigin);
  if constexpr (requires { L::header(r, m); }) L::header(r, m);
  ANONCODE_CHECK(r.status());
  if constexpr (L::kOrigin == Origin::kOthers) {
    ANONCODE_CHECK(check_version_and_type(bytes, L::kType));
  }
  Sizer body(g.point_size());
  L::fields(body, m);
  if (r.remaining() != body.total()) return make_error(ErrorCode::kMalformed, "wrong length");
  L::fields(r, m);
  ANONCODE_CHECK(r.status());
  ANONCODE_CHECK(r.finish());
  return m;
}

template <typename T>
requires(!Layout<T>::kSecret) Result<T> decode(ByteView bytes) {
  return decode_bytes<T>(bytes);
}

template <typename T>
requires(Layout<T>::kSecret) Result<T> decode_secret(const SecretBytes& bytes) {
  return decode_bytes<T>(bytes.expose_secret());
}

}  // namespace anoncode::crypto::codec
