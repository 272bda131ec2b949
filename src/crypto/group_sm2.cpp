// The SM2 curve (GB/T 32918.5 recommended parameters) as a prime-order group on our own
// arithmetic (src/crypto/sm2p256/, which says why it is hand-written). Same wire format as the
// OpenSSL backend "sm2-openssl" (group_sm2_openssl.cpp), which is kept as the reference it is
// tested against byte for byte: points are SEC1 compressed (33 bytes, the identity 33 zero
// bytes), scalars 32-byte big-endian integers below n, reduce_wide reads 64 bytes big-endian,
// and hash_to_group is the same try-and-increment.
//
// Internal point form: Jacobian X, Y, Z (3 × 4 limbs, Montgomery form) in Point::v; all zero is
// the identity. Points that come from decoding, hashing or precompute() are affine (Z = 1).
//
// Fixed bases: the generator and every point passed to precompute() (H0…H3, G_J, issuer keys)
// get comb and wNAF tables; mul() and multi_mul_vartime() use them whenever their point argument
// is one of those exact representations.
#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "crypto/group.h"
#include "crypto/sm2p256/point.h"
#include "crypto/sm3.h"

namespace anoncode::crypto {
namespace {

using sm2p256::Aff;
using sm2p256::FixedBase;
using sm2p256::Jac;
using sm2p256::Sc;
using sm2p256::u64;

static_assert(sizeof(Jac) == Point::kStorage, "a Jacobian point fills Point::v exactly");

Jac load(const Point& p) {
  Jac j;
  std::memcpy(&j, p.v.data(), sizeof j);
  return j;
}

Point store(const Jac& j) {
  Point p;
  std::memcpy(p.v.data(), &j, sizeof j);
  return p;
}

// Scalars reach us canonical; anything else (only constructible through expose_secret_mut) is
// reduced rather than trusted.
Sc load_scalar(const Scalar& s) {
  u64 canonical;
  return sm2p256::sc_from_bytes(s.expose_secret().data(), canonical);
}

Scalar store_scalar(const Sc& s) {
  Scalar out;
  sm2p256::sc_to_bytes(out.expose_secret_mut().data(), s);
  return out;
}

template <typename T>
void wipe(T& t) {
  sodium_memzero(&t, sizeof t);
}

// The tabulated points, append-only: readers take no lock.
class FixedBases {
 public:
  static constexpr size_t kCapacity = 64;

  FixedBases() { publish(&sm2p256::generator_tables()); }

  // The tables for exactly this representation (affine, Z = 1), or null. Constant-time in p:
  // every entry is compared in full, and the result selected by mask. (Whether p is one of these
  // public points at all is what the caller then branches on.)
  const FixedBase* find(const Jac& p) const {
    const size_t n = count_.load(std::memory_order_acquire);
    const sm2p256::Fe one = sm2p256::fe_one();
    const u64 affine = sm2p256::fe_eq(p.Z, one);
    uintptr_t found = 0;
    for (size_t i = 0; i < n; ++i) {
      const FixedBase* t = entries_[i].load(std::memory_order_relaxed);
      const u64 m = affine & sm2p256::fe_eq(p.X, t->point.x) & sm2p256::fe_eq(p.Y, t->point.y);
      found |= reinterpret_cast<uintptr_t>(t) & m;
    }
    return reinterpret_cast<const FixedBase*>(found);
  }

  // Tabulates a (public) affine point; returns false when the table is full.
  bool add(const Aff& a) {
    std::lock_guard lock(mu_);
    if (find(sm2p256::jac_from_affine(a)) != nullptr) return true;
    const size_t n = count_.load(std::memory_order_relaxed);
    if (n == kCapacity) return false;
    owned_.push_back(sm2p256::make_fixed_base(a));
    publish(owned_.back().get());
    return true;
  }

 private:
  void publish(const FixedBase* t) {
    const size_t n = count_.load(std::memory_order_relaxed);
    entries_[n].store(t, std::memory_order_relaxed);
    count_.store(n + 1, std::memory_order_release);
  }

  std::array<std::atomic<const FixedBase*>, kCapacity> entries_{};
  std::atomic<size_t> count_{0};
  std::mutex mu_;
  std::vector<std::unique_ptr<FixedBase>> owned_;
};

class Sm2Group final : public Group {
 public:
  Sm2Group() : generator_(store(sm2p256::jac_from_affine(sm2p256::generator_affine()))) {}

  GroupId id() const override { return GroupId::kSm2; }
  std::string_view name() const override { return "sm2"; }
  size_t point_size() const override { return 33; }

  Scalar scalar_from_u64(uint64_t v) const override {
    Scalar s;
    for (int i = 0; i < 8; ++i) s.expose_secret_mut()[31 - i] = static_cast<uint8_t>(v >> (8 * i));
    return s;
  }
  Scalar reduce_wide(std::span<const uint8_t, 64> wide) const override {
    Sc s = sm2p256::sc_reduce_wide(wide.data());
    Scalar out = store_scalar(s);
    wipe(s);
    return out;
  }
  Result<Scalar> decode_scalar(ByteView bytes) const override {
    if (bytes.size() != 32) return make_error(ErrorCode::kMalformed, "scalar: wrong length");
    u64 canonical;
    Sc s = sm2p256::sc_from_bytes(bytes.data(), canonical);
    wipe(s);
    sm2p256::declassify(&canonical, sizeof canonical);  // the result says it anyway
    if (canonical == 0) return make_error(ErrorCode::kMalformed, "scalar: not canonical");
    Scalar out;
    std::memcpy(out.expose_secret_mut().data(), bytes.data(), 32);
    return out;
  }
  Scalar add(const Scalar& a, const Scalar& b) const override {
    return binop(a, b, sm2p256::sc_add);
  }
  Scalar sub(const Scalar& a, const Scalar& b) const override {
    return binop(a, b, sm2p256::sc_sub);
  }
  Scalar mul(const Scalar& a, const Scalar& b) const override {
    return binop(a, b, sm2p256::sc_mul);
  }
  Scalar neg(const Scalar& a) const override { return sub(Scalar{}, a); }
  Result<Scalar> invert(const Scalar& a) const override {
    Sc x = load_scalar(a);
    u64 zero = sm2p256::sc_is_zero(x);
    sm2p256::declassify(&zero, sizeof zero);  // the result says it anyway
    if (zero != 0) {
      wipe(x);
      return make_error(ErrorCode::kInvalidArgument, "scalar: zero has no inverse");
    }
    Sc r = sm2p256::sc_inv(x);
    Scalar out = store_scalar(r);
    wipe(x);
    wipe(r);
    return out;
  }

  Point identity() const override { return Point{}; }
  Point generator() const override { return generator_; }
  Point add(const Point& p, const Point& q) const override {
    return store(sm2p256::jac_add(load(p), load(q)));
  }
  Point sub(const Point& p, const Point& q) const override {
    return store(sm2p256::jac_add(load(p), sm2p256::jac_neg(load(q))));
  }
  Point neg(const Point& p) const override { return store(sm2p256::jac_neg(load(p))); }

  Point mul(const Scalar& k, const Point& p) const override {
    Sc s = load_scalar(k);
    const Jac P = load(p);
    const FixedBase* t = fixed_.find(P);
    Point out = store(t != nullptr ? sm2p256::mul_fixed(*t, s) : sm2p256::mul_var(s, P));
    wipe(s);
    return out;
  }
  Point mul_base(const Scalar& k) const override {
    Sc s = load_scalar(k);
    Point out = store(sm2p256::mul_fixed(sm2p256::generator_tables(), s));
    wipe(s);
    return out;
  }
  // Public scalars and points only.
  Point multi_mul_vartime(std::span<const Scalar> ks, std::span<const Point> ps) const override {
    const size_t n = std::min(ks.size(), ps.size());
    std::vector<Sc> scalars(n);
    std::vector<Jac> points(n);
    std::vector<const FixedBase*> tables(n);
    for (size_t i = 0; i < n; ++i) {
      scalars[i] = load_scalar(ks[i]);
      points[i] = load(ps[i]);
      tables[i] = fixed_.find(points[i]);
    }
    return store(sm2p256::msm_vartime(scalars, points, tables));
  }
  bool equal(const Point& p, const Point& q) const override {
    return sm2p256::jac_equal(load(p), load(q)) != 0;
  }
  bool is_identity(const Point& p) const override { return sm2p256::jac_is_identity(load(p)) != 0; }
  Bytes encode_point(const Point& p) const override {
    Bytes out(33);
    sm2p256::encode_compressed(out.data(), load(p));
    return out;
  }
  Result<Point> decode_point(ByteView bytes, bool allow_identity) const override {
    if (bytes.size() != 33) return make_error(ErrorCode::kMalformed, "point: wrong length");
    Jac j;
    if (!sm2p256::decode_compressed_vartime(j, bytes.data(), allow_identity)) {
      return make_error(ErrorCode::kMalformed, "point: not a canonical SM2 point");
    }
    return store(j);
  }
  // Try-and-increment exactly as group_sm2_openssl.cpp: x = H64(tag || m || i) mod p for
  // i = 0, 1, …, the first x on the curve, with the y whose parity is the low bit of the hash's
  // last byte.
  Point hash_to_group_vartime(std::string_view tag, ByteView message) const override {
    for (uint32_t i = 0; i < 256; ++i) {
      ByteWriter w;
      w.raw(as_bytes(tag)).raw(message).u8(static_cast<uint8_t>(i));
      auto wide = h64(w.bytes());
      Aff a;
      if (sm2p256::lift_x_vartime(a, sm2p256::fe_reduce_wide(wide.data()), wide[63] & 1)) {
        return store(sm2p256::jac_from_affine(a));
      }
    }
    throw std::runtime_error("sm2 group: hash_to_group found no point in 256 tries");
  }

  // Constant-time in the points except for which of them are the identity (left as they are).
  void normalize(std::span<Point> ps) const override {
    std::vector<Jac> finite;
    std::vector<size_t> where;
    for (size_t i = 0; i < ps.size(); ++i) {
      const Jac j = load(ps[i]);
      if (sm2p256::jac_is_identity(j) == 0) {
        finite.push_back(j);
        where.push_back(i);
      }
    }
    std::vector<Aff> affine(finite.size());
    sm2p256::batch_to_affine(affine, finite);
    for (size_t i = 0; i < where.size(); ++i)
      ps[where[i]] = store(sm2p256::jac_from_affine(affine[i]));
  }

  Point precompute(const Point& p) const override {
    Aff a;
    if (sm2p256::jac_to_affine(a, load(p)) != 0) return p;  // the identity: nothing to tabulate
    Point canonical = store(sm2p256::jac_from_affine(a));
    fixed_.add(a);  // when the table is full, the point simply stays variable
    return canonical;
  }

 private:
  template <typename F>
  Scalar binop(const Scalar& a, const Scalar& b, F f) const {
    Sc x = load_scalar(a), y = load_scalar(b);
    Sc r = f(x, y);
    Scalar out = store_scalar(r);
    wipe(x);
    wipe(y);
    wipe(r);
    return out;
  }

  Point generator_;
  mutable FixedBases fixed_;
};

}  // namespace

const Group& sm2() {
  static const Sm2Group group;
  return group;
}

}  // namespace anoncode::crypto
