// ristretto255 through libsodium's public API (crypto_core_ristretto255_*,
// crypto_scalarmult_ristretto255*). Points are kept as their canonical 32-byte encoding because
// that is the only form the API takes; every operation decodes and re-encodes, which is why an
// addition costs about a quarter of a multiplication here.
#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "crypto/group.h"
#include "crypto/sm3.h"

namespace anoncode::crypto {
namespace {

constexpr size_t kEnc = crypto_core_ristretto255_BYTES;  // 32

const uint8_t* enc(const Point& p) {
  return p.v.data();
}
uint8_t* enc(Point& p) {
  return p.v.data();
}
const uint8_t* raw(const Scalar& s) {
  return s.expose_secret().data();
}
uint8_t* raw(Scalar& s) {
  return s.expose_secret_mut().data();
}

class Ristretto255 final : public Group {
 public:
  Ristretto255() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    Scalar one = scalar_from_u64(1);
    if (crypto_scalarmult_ristretto255_base(enc(generator_), raw(one)) != 0) {
      throw std::runtime_error("ristretto255: generator");
    }
  }

  GroupId id() const override { return GroupId::kRistretto255; }
  std::string_view name() const override { return "ristretto255"; }
  size_t point_size() const override { return kEnc; }

  Scalar scalar_from_u64(uint64_t v) const override {
    Scalar s;
    for (int i = 0; i < 8; ++i) s.expose_secret_mut()[i] = static_cast<uint8_t>(v >> (8 * i));
    return s;
  }
  Scalar reduce_wide(std::span<const uint8_t, 64> wide) const override {
    Scalar s;
    crypto_core_ristretto255_scalar_reduce(raw(s), wide.data());
    return s;
  }
  Result<Scalar> decode_scalar(ByteView bytes) const override {
    if (bytes.size() != 32) return make_error(ErrorCode::kMalformed, "scalar: wrong length");
    // Canonical iff reducing the value (zero-extended to 64 bytes) leaves it unchanged.
    std::array<uint8_t, 64> wide{};
    std::memcpy(wide.data(), bytes.data(), 32);
    Scalar s;
    crypto_core_ristretto255_scalar_reduce(raw(s), wide.data());
    sodium_memzero(wide.data(), wide.size());
    if (sodium_memcmp(raw(s), bytes.data(), 32) != 0) {
      return make_error(ErrorCode::kMalformed, "scalar: not canonical");
    }
    return s;
  }
  Scalar add(const Scalar& a, const Scalar& b) const override {
    Scalar r;
    crypto_core_ristretto255_scalar_add(raw(r), raw(a), raw(b));
    return r;
  }
  Scalar sub(const Scalar& a, const Scalar& b) const override {
    Scalar r;
    crypto_core_ristretto255_scalar_sub(raw(r), raw(a), raw(b));
    return r;
  }
  Scalar mul(const Scalar& a, const Scalar& b) const override {
    Scalar r;
    crypto_core_ristretto255_scalar_mul(raw(r), raw(a), raw(b));
    return r;
  }
  Scalar neg(const Scalar& a) const override {
    Scalar r;
    crypto_core_ristretto255_scalar_negate(raw(r), raw(a));
    return r;
  }
  Result<Scalar> invert(const Scalar& a) const override {
    Scalar r;
    if (crypto_core_ristretto255_scalar_invert(raw(r), raw(a)) != 0) {
      return make_error(ErrorCode::kInvalidArgument, "scalar: zero has no inverse");
    }
    return r;
  }

  Point identity() const override { return Point{}; }  // all-zero encoding
  Point generator() const override { return generator_; }

  Point add(const Point& p, const Point& q) const override {
    Point r;
    check(crypto_core_ristretto255_add(enc(r), enc(p), enc(q)));
    return r;
  }
  Point sub(const Point& p, const Point& q) const override {
    Point r;
    check(crypto_core_ristretto255_sub(enc(r), enc(p), enc(q)));
    return r;
  }
  Point neg(const Point& p) const override { return sub(identity(), p); }

  // libsodium returns -1 when the product is the identity (and writes the all-zero encoding);
  // inputs are always valid encodings here, so -1 can only mean that.
  Point mul(const Scalar& k, const Point& p) const override {
    if (is_generator(p)) return mul_base(k);
    Point r;
    if (crypto_scalarmult_ristretto255(enc(r), raw(k), enc(p)) != 0) r = identity();
    return r;
  }
  Point mul_base(const Scalar& k) const override {
    Point r;
    if (crypto_scalarmult_ristretto255_base(enc(r), raw(k)) != 0) r = identity();
    return r;
  }
  bool equal(const Point& p, const Point& q) const override {
    return sodium_memcmp(enc(p), enc(q), kEnc) == 0;
  }
  bool is_identity(const Point& p) const override { return sodium_is_zero(enc(p), kEnc) == 1; }
  Bytes encode_point(const Point& p) const override { return Bytes(enc(p), enc(p) + kEnc); }
  Result<Point> decode_point(ByteView bytes, bool allow_identity) const override {
    if (bytes.size() != kEnc) return make_error(ErrorCode::kMalformed, "point: wrong length");
    // libsodium 1.0.18 ignores the top bit (it checks s < p on the low 255 bits only), so every
    // point had a second encoding, and 00…80 decoded to the identity without being all zero:
    // equal() and is_identity() compare bytes, so such a point escaped both. RFC 9496 reads all
    // 256 bits: the top bit set is s >= p.
    if ((bytes[kEnc - 1] & 0x80) != 0) {
      return make_error(ErrorCode::kMalformed, "point: not a canonical ristretto255 encoding");
    }
    Point p;
    std::memcpy(enc(p), bytes.data(), kEnc);
    if (is_identity(p)) {
      if (allow_identity) return p;
      return make_error(ErrorCode::kMalformed, "point: identity not allowed");
    }
    if (crypto_core_ristretto255_is_valid_point(enc(p)) != 1) {
      return make_error(ErrorCode::kMalformed, "point: not a canonical ristretto255 encoding");
    }
    return p;
  }
  Point hash_to_group_vartime(std::string_view tag, ByteView message) const override {
    ByteWriter w;
    w.raw(as_bytes(tag)).raw(message);
    auto wide = h64(w.bytes());
    Point p;
    crypto_core_ristretto255_from_hash(enc(p), wide.data());
    return p;
  }

 private:
  bool is_generator(const Point& p) const {
    return std::memcmp(enc(p), enc(generator_), kEnc) == 0;
  }
  static void check(int rc) {
    // Inputs come only from decode_point or from this class, so a failure is a bug.
    if (rc != 0) throw std::logic_error("ristretto255: invalid point reached an operation");
  }
  Point generator_;
};

}  // namespace

const Group& ristretto255() {
  static const Ristretto255 group;
  return group;
}

}  // namespace anoncode::crypto
