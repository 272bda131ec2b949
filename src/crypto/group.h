// Prime-order groups for the zero-knowledge layer (DESIGN §3.1), behind one interface chosen in
// the configuration: ristretto255 (libsodium, the default) and the SM2 curve, twice: "sm2" on our
// own arithmetic (src/crypto/sm2p256/, fast, constant-time) and "sm2-openssl" on OpenSSL's
// EC_GROUP (correct but slow; kept as the reference "sm2" is tested against).
//
// Scalars and points are plain values with fixed-size storage, so proofs can hold them in
// vectors without allocation; what the bytes mean is up to the group that made them. Every
// function that is safe only on public data ends in `_vartime`.
#pragma once

#include <sodium.h>

#include <array>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace anoncode::crypto {

// The wire identifier of a group; the first bytes of every serialized object name it.
enum class GroupId : uint8_t {
  kRistretto255 = 1,
  kSm2OpenSsl = 2,
  kSm2 = 3,  // the same curve and encodings as kSm2OpenSsl, on our own arithmetic
};

// A scalar mod q in the group's canonical 32-byte encoding (ristretto255: little-endian;
// SM2: big-endian). Possibly secret: wiped on destruction, no operator<<, and raw bytes only
// through `expose_secret()`.
class Scalar {
 public:
  Scalar() { v_.fill(0); }
  Scalar(const Scalar&) = default;
  Scalar& operator=(const Scalar&) = default;
  ~Scalar() { sodium_memzero(v_.data(), v_.size()); }

  std::span<const uint8_t, 32> expose_secret() const { return v_; }
  std::span<uint8_t, 32> expose_secret_mut() { return v_; }
  // Constant-time equality.
  bool ct_equal(const Scalar& o) const { return sodium_memcmp(v_.data(), o.v_.data(), 32) == 0; }
  bool ct_is_zero() const { return sodium_is_zero(v_.data(), v_.size()) == 1; }

 private:
  std::array<uint8_t, 32> v_;
};

// A group element; public by nature. Only the group that made it can interpret it.
struct Point {
  static constexpr size_t kStorage = 96;
  std::array<uint8_t, kStorage> v{};
};

// Randomness as a parameter (STYLE.md): the OS CSPRNG in production, a seeded stream in tests.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(std::span<uint8_t> out) = 0;
};

// The operating system's CSPRNG (libsodium randombytes_buf).
class OsRng final : public Rng {
 public:
  void fill(std::span<uint8_t> out) override { randombytes_buf(out.data(), out.size()); }
  static OsRng& instance();
};

// A deterministic stream for tests only: SM3(seed || counter) blocks. Never use for keys.
class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::string_view seed);
  void fill(std::span<uint8_t> out) override;

 private:
  Bytes seed_;
  uint64_t counter_ = 0;
};

class Group {
 public:
  virtual ~Group() = default;
  virtual GroupId id() const = 0;
  virtual std::string_view name() const = 0;
  static constexpr size_t kScalarSize = 32;
  virtual size_t point_size() const = 0;  // encoded size

  // --- scalars (constant-time unless named _vartime) ---
  virtual Scalar scalar_from_u64(uint64_t v) const = 0;
  // Uniform in [0, q): 64 random bytes reduced mod q.
  Scalar random_scalar(Rng& rng) const;
  // Uniform in [1, q).
  Scalar random_nonzero_scalar(Rng& rng) const;
  // Reduces a 64-byte string mod q (ristretto255 reads it little-endian, SM2 big-endian).
  virtual Scalar reduce_wide(std::span<const uint8_t, 64> wide) const = 0;
  // Canonical 32 bytes, value < q; anything else is `malformed`.
  virtual Result<Scalar> decode_scalar(ByteView bytes) const = 0;
  std::array<uint8_t, 32> encode_scalar(const Scalar& s) const;
  virtual Scalar add(const Scalar& a, const Scalar& b) const = 0;
  virtual Scalar sub(const Scalar& a, const Scalar& b) const = 0;
  virtual Scalar mul(const Scalar& a, const Scalar& b) const = 0;
  virtual Scalar neg(const Scalar& a) const = 0;
  // The inverse of a nonzero scalar; zero is `invalid_argument`.
  virtual Result<Scalar> invert(const Scalar& a) const = 0;

  // --- points ---
  virtual Point identity() const = 0;
  virtual Point generator() const = 0;
  virtual Point add(const Point& p, const Point& q) const = 0;
  virtual Point sub(const Point& p, const Point& q) const = 0;
  virtual Point neg(const Point& p) const = 0;
  // Constant-time in the scalar: for secret scalars.
  virtual Point mul(const Scalar& k, const Point& p) const = 0;
  // k·generator, constant-time, using the group's fixed-base tables.
  virtual Point mul_base(const Scalar& k) const = 0;
  // Σ k_i·P_i where every k_i is public (verification). Default: one mul at a time.
  virtual Point multi_mul_vartime(std::span<const Scalar> ks, std::span<const Point> ps) const;
  // Constant-time (it compares points derived from secret keys with values clients chose).
  virtual bool equal(const Point& p, const Point& q) const = 0;
  virtual bool is_identity(const Point& p) const = 0;
  virtual Bytes encode_point(const Point& p) const = 0;
  // Canonical encodings only; off-curve and non-canonical are `malformed`; the identity is
  // accepted only when allow_identity is set.
  virtual Result<Point> decode_point(ByteView bytes, bool allow_identity = false) const = 0;

  // Declares that `p` (public: a generator, an issuer key) will be multiplied often, so the
  // group may build tables for it; mul() and multi_mul_vartime() then use them whenever they
  // are given the returned representation of the point (equal to p). Thread-safe; the default
  // keeps no tables and returns p.
  virtual Point precompute(const Point& p) const { return p; }
  // Rewrites points, in place, into the form the group encodes fastest; they stay equal. The
  // SM2 backend makes them affine with one shared inversion, so a caller about to encode several
  // computed points (a transcript, a response) pays one inversion instead of one each. Default:
  // nothing.
  virtual void normalize(std::span<Point> ps) const { (void)ps; }

  // HashToScalar(tag, m) = H64(tag || m) mod q (wide reduction, DESIGN §3.1).
  Scalar hash_to_scalar(std::string_view tag, ByteView message) const;
  // HashToGroup(tag, m): ristretto255 from-hash of H64(tag || m); try-and-increment on SM2.
  // Its input is public (generator names), so it need not be constant-time.
  virtual Point hash_to_group_vartime(std::string_view tag, ByteView message) const = 0;
};

// The groups, by wire id or by configuration name ("ristretto255", "sm2", "sm2-openssl").
const Group& ristretto255();
const Group& sm2();
const Group& sm2_openssl();
Result<const Group*> group_by_id(uint8_t id);
Result<const Group*> group_by_name(std::string_view name);
std::vector<const Group*> all_groups();

}  // namespace anoncode::crypto
