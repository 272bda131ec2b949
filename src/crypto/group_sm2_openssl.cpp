// The SM2 curve (GB/T 32918.5 recommended parameters) as a prime-order group on OpenSSL's
// EC_GROUP, configuration name "sm2-openssl". Correct but slow: OpenSSL 3.0 has no fast path
// for this curve. It is kept as the reference the optimized backend "sm2" (group_sm2.cpp) is
// tested against.
//
// Internal point form: v[0] = 0 for the identity, else 0x04 || x || y (affine, 32-byte
// big-endian coordinates). Wire form: SEC1 compressed, 33 bytes; the identity is 33 zero bytes.
// Scalars are 32-byte big-endian integers mod n.
//
// Constant-time: single-point multiplication goes through OpenSSL's Montgomery ladder; scalar
// inversion uses Fermat with BN_mod_exp_mont_consttime. BN_mod_add/mul are not guaranteed
// constant-time; the optimized backend replaces them with fixed-limb arithmetic.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "crypto/group.h"
#include "crypto/sm3.h"

namespace anoncode::crypto {
namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
struct CtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using EcPointPtr = std::unique_ptr<EC_POINT, PointFree>;

void ensure(bool ok, const char* what) {
  if (!ok) {
    ERR_clear_error();
    throw std::runtime_error(std::string("sm2 group: ") + what);
  }
}

BN_CTX* bn_ctx() {
  thread_local std::unique_ptr<BN_CTX, CtxFree> ctx(BN_CTX_secure_new());
  return ctx.get();
}

BnPtr bn_new() {
  BnPtr b(BN_new());
  ensure(b != nullptr, "BN_new");
  return b;
}

BnPtr bn_from(const Scalar& s) {
  BnPtr b(BN_bin2bn(s.expose_secret().data(), 32, nullptr));
  ensure(b != nullptr, "BN_bin2bn");
  BN_set_flags(b.get(), BN_FLG_CONSTTIME);
  return b;
}

Scalar scalar_from(const BIGNUM* b) {
  Scalar s;
  ensure(BN_bn2binpad(b, s.expose_secret_mut().data(), 32) == 32, "BN_bn2binpad");
  return s;
}

class Sm2OpenSsl final : public Group {
 public:
  Sm2OpenSsl() : group_(EC_GROUP_new_by_curve_name(NID_sm2)), order_(bn_new()), p_(bn_new()) {
    ensure(group_ != nullptr, "no SM2 curve in OpenSSL");
    ensure(BN_copy(order_.get(), EC_GROUP_get0_order(group_)) != nullptr, "order");
    ensure(EC_GROUP_get_curve(group_, p_.get(), nullptr, nullptr, bn_ctx()) == 1, "curve");
    order_minus_2_ = bn_new();
    ensure(BN_sub(order_minus_2_.get(), order_.get(), BN_value_one()) == 1 &&
               BN_sub(order_minus_2_.get(), order_minus_2_.get(), BN_value_one()) == 1,
           "n-2");
    generator_ = from_ec(EC_GROUP_get0_generator(group_));
  }
  ~Sm2OpenSsl() override { EC_GROUP_free(group_); }

  GroupId id() const override { return GroupId::kSm2OpenSsl; }
  std::string_view name() const override { return "sm2-openssl"; }
  size_t point_size() const override { return 33; }

  Scalar scalar_from_u64(uint64_t v) const override {
    Scalar s;
    for (int i = 0; i < 8; ++i) s.expose_secret_mut()[31 - i] = static_cast<uint8_t>(v >> (8 * i));
    return s;
  }
  Scalar reduce_wide(std::span<const uint8_t, 64> wide) const override {
    BnPtr w(BN_bin2bn(wide.data(), 64, nullptr));
    ensure(w != nullptr, "BN_bin2bn");
    BnPtr r = bn_new();
    ensure(BN_nnmod(r.get(), w.get(), order_.get(), bn_ctx()) == 1, "BN_nnmod");
    return scalar_from(r.get());
  }
  Result<Scalar> decode_scalar(ByteView bytes) const override {
    if (bytes.size() != 32) return make_error(ErrorCode::kMalformed, "scalar: wrong length");
    BnPtr b(BN_bin2bn(bytes.data(), 32, nullptr));
    ensure(b != nullptr, "BN_bin2bn");
    if (BN_cmp(b.get(), order_.get()) >= 0) {
      return make_error(ErrorCode::kMalformed, "scalar: not canonical");
    }
    Scalar s;
    std::memcpy(s.expose_secret_mut().data(), bytes.data(), 32);
    return s;
  }
  Scalar add(const Scalar& a, const Scalar& b) const override {
    return binop(a, b, [&](BIGNUM* r, BIGNUM* x, BIGNUM* y) {
      return BN_mod_add(r, x, y, order_.get(), bn_ctx());
    });
  }
  Scalar sub(const Scalar& a, const Scalar& b) const override {
    return binop(a, b, [&](BIGNUM* r, BIGNUM* x, BIGNUM* y) {
      return BN_mod_sub(r, x, y, order_.get(), bn_ctx());
    });
  }
  Scalar mul(const Scalar& a, const Scalar& b) const override {
    return binop(a, b, [&](BIGNUM* r, BIGNUM* x, BIGNUM* y) {
      return BN_mod_mul(r, x, y, order_.get(), bn_ctx());
    });
  }
  Scalar neg(const Scalar& a) const override { return sub(Scalar{}, a); }
  Result<Scalar> invert(const Scalar& a) const override {
    if (a.ct_is_zero())
      return make_error(ErrorCode::kInvalidArgument, "scalar: zero has no inverse");
    BnPtr x = bn_from(a), r = bn_new();
    ensure(BN_mod_exp_mont_consttime(r.get(), x.get(), order_minus_2_.get(), order_.get(), bn_ctx(),
                                     nullptr) == 1,
           "inverse");
    return scalar_from(r.get());
  }

  Point identity() const override { return Point{}; }
  Point generator() const override { return generator_; }

  Point add(const Point& p, const Point& q) const override {
    EcPointPtr a = to_ec(p), b = to_ec(q), r = new_point();
    ensure(EC_POINT_add(group_, r.get(), a.get(), b.get(), bn_ctx()) == 1, "add");
    return from_ec(r.get());
  }
  Point sub(const Point& p, const Point& q) const override { return add(p, neg(q)); }
  Point neg(const Point& p) const override {
    EcPointPtr a = to_ec(p);
    ensure(EC_POINT_invert(group_, a.get(), bn_ctx()) == 1, "invert");
    return from_ec(a.get());
  }
  Point mul(const Scalar& k, const Point& p) const override {
    EcPointPtr a = to_ec(p), r = new_point();
    BnPtr kb = bn_from(k);
    ensure(EC_POINT_mul(group_, r.get(), nullptr, a.get(), kb.get(), bn_ctx()) == 1, "mul");
    return from_ec(r.get());
  }
  Point mul_base(const Scalar& k) const override {
    EcPointPtr r = new_point();
    BnPtr kb = bn_from(k);
    ensure(EC_POINT_mul(group_, r.get(), kb.get(), nullptr, nullptr, bn_ctx()) == 1, "mul_base");
    return from_ec(r.get());
  }
  // Public scalars only: OpenSSL's wNAF multi-exponentiation is variable-time.
  Point multi_mul_vartime(std::span<const Scalar> ks, std::span<const Point> ps) const override {
    size_t n = std::min(ks.size(), ps.size());
    std::vector<EcPointPtr> pts;
    std::vector<BnPtr> bns;
    std::vector<const EC_POINT*> pp;
    std::vector<const BIGNUM*> bp;
    for (size_t i = 0; i < n; ++i) {
      pts.push_back(to_ec(ps[i]));
      bns.push_back(bn_from(ks[i]));
      BN_set_flags(bns.back().get(), 0);
      pp.push_back(pts.back().get());
      bp.push_back(bns.back().get());
    }
    EcPointPtr r = new_point();
    // EC_POINTs_mul is deprecated in 3.0 but is OpenSSL's only multi-exponentiation; this
    // backend is the slow reference and is replaced by our own arithmetic, not by a newer API.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    ensure(EC_POINTs_mul(group_, r.get(), nullptr, n, pp.data(), bp.data(), bn_ctx()) == 1,
           "multi_mul");
#pragma GCC diagnostic pop
    return from_ec(r.get());
  }
  // Constant-time: the server's MAC check compares x·A' with a value the client chose, and a
  // timing difference there would be a partial Diffie–Hellman oracle on the issuer key.
  bool equal(const Point& p, const Point& q) const override {
    return sodium_memcmp(p.v.data(), q.v.data(), 65) == 0;  // the affine form is unique
  }
  bool is_identity(const Point& p) const override {
    return p.v[0] == 0;
  }
  Bytes encode_point(const Point& p) const override {
    Bytes out(33, 0);
    if (is_identity(p)) return out;
    out[0] = static_cast<uint8_t>(0x02 | (p.v[64] & 1));
    std::memcpy(out.data() + 1, p.v.data() + 1, 32);
    return out;
  }
  Result<Point> decode_point(ByteView bytes, bool allow_identity) const override {
    if (bytes.size() != 33) return make_error(ErrorCode::kMalformed, "point: wrong length");
    if (sodium_is_zero(bytes.data(), 33) == 1) {
      if (allow_identity) return identity();
      return make_error(ErrorCode::kMalformed, "point: identity not allowed");
    }
    if (bytes[0] != 0x02 && bytes[0] != 0x03) {
      return make_error(ErrorCode::kMalformed, "point: not a compressed SEC1 encoding");
    }
    BnPtr x(BN_bin2bn(bytes.data() + 1, 32, nullptr));
    ensure(x != nullptr, "BN_bin2bn");
    if (BN_cmp(x.get(), p_.get()) >= 0) {
      return make_error(ErrorCode::kMalformed, "point: x not canonical");
    }
    EcPointPtr r = new_point();
    if (EC_POINT_set_compressed_coordinates(group_, r.get(), x.get(), bytes[0] & 1, bn_ctx()) !=
        1) {
      ERR_clear_error();
      return make_error(ErrorCode::kMalformed, "point: not on the SM2 curve");
    }
    return from_ec(r.get());
  }
  // Try-and-increment: x = H64(tag || m || i) mod p for i = 0, 1, …, the first x on the curve,
  // with the y whose parity is the low bit of the hash's last byte. Cofactor 1: every point on
  // the curve is in the group.
  Point hash_to_group_vartime(std::string_view tag, ByteView message) const override {
    for (uint32_t i = 0; i < 256; ++i) {
      ByteWriter w;
      w.raw(as_bytes(tag)).raw(message).u8(static_cast<uint8_t>(i));
      auto wide = h64(w.bytes());
      BnPtr d(BN_bin2bn(wide.data(), 64, nullptr)), x = bn_new();
      ensure(d != nullptr && BN_nnmod(x.get(), d.get(), p_.get(), bn_ctx()) == 1, "h2g");
      EcPointPtr r = new_point();
      if (EC_POINT_set_compressed_coordinates(group_, r.get(), x.get(), wide[63] & 1, bn_ctx()) ==
          1) {
        return from_ec(r.get());
      }
      ERR_clear_error();
    }
    throw std::runtime_error("sm2 group: hash_to_group found no point in 256 tries");
  }

 private:
  template <typename F>
  Scalar binop(const Scalar& a, const Scalar& b, F f) const {
    BnPtr x = bn_from(a), y = bn_from(b), r = bn_new();
    ensure(f(r.get(), x.get(), y.get()) == 1, "scalar op");
    return scalar_from(r.get());
  }
  EcPointPtr new_point() const {
    EcPointPtr p(EC_POINT_new(group_));
    ensure(p != nullptr, "EC_POINT_new");
    return p;
  }
  EcPointPtr to_ec(const Point& p) const {
    EcPointPtr r = new_point();
    if (is_identity(p)) {
      ensure(EC_POINT_set_to_infinity(group_, r.get()) == 1, "infinity");
    } else {
      ensure(EC_POINT_oct2point(group_, r.get(), p.v.data(), 65, bn_ctx()) == 1, "oct2point");
    }
    return r;
  }
  Point from_ec(const EC_POINT* e) const {
    Point p;
    if (EC_POINT_is_at_infinity(group_, e) == 1) return p;
    ensure(EC_POINT_point2oct(group_, e, POINT_CONVERSION_UNCOMPRESSED, p.v.data(), 65, bn_ctx()) ==
               65,
           "point2oct");
    return p;
  }

  EC_GROUP* group_;
  BnPtr order_, p_, order_minus_2_;
  Point generator_;
};

}  // namespace

const Group& sm2_openssl() {
  static const Sm2OpenSsl group;
  return group;
}

}  // namespace anoncode::crypto
