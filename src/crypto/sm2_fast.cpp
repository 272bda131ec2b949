// SM2 signatures on src/crypto/sm2p256 (see sm2_fast.h). GB/T 32918.2 §6.1 (sign) and §7.1
// (verify), step by step; sm2p256_test.cpp checks every signature both ways against OpenSSL's.
#include "crypto/sm2_fast.h"

#include <sodium.h>

#include <stdexcept>

#include "crypto/sm2.h"

namespace anoncode::crypto {
namespace {

using namespace sm2p256;

template <typename T>
void wipe(T& t) {
  sodium_memzero(&t, sizeof t);
}

// ENTL || ID || a || b || xG || yG, the key-independent prefix of ZA.
Bytes za_prefix() {
  ByteWriter w;
  w.u16(static_cast<uint16_t>(kSm2UserId.size() * 8)).raw(as_bytes(kSm2UserId));
  uint8_t buf[32];
  const Fe three = fe_add(fe_dbl(fe_one()), fe_one());
  fe_to_bytes(buf, fe_neg(three));  // a = p − 3
  w.raw(ByteView(buf, 32));
  fe_to_bytes(buf, curve_b());
  w.raw(ByteView(buf, 32));
  fe_to_bytes(buf, generator_affine().x);
  w.raw(ByteView(buf, 32));
  fe_to_bytes(buf, generator_affine().y);
  w.raw(ByteView(buf, 32));
  return std::move(w).take();
}

// x mod n for a field element (x < p, and p > n).
Sc field_to_scalar(const Fe& x) {
  uint8_t b[32];
  fe_to_bytes(b, x);
  u64 canonical;
  return sc_from_bytes(b, canonical);
}

// e = SM3(ZA || M) as an integer mod n (A1–A2, B3–B4).
Sc message_scalar(const Sm2FastPublicKey& pub, ByteView message) {
  Sm3 h;
  Sm3Digest e = h.update(ByteView(pub.za)).update(message).final();
  u64 canonical;
  return sc_from_bytes(e.data(), canonical);
}

// Odd multiples of 2^128·G for width-7 wNAF (G's own are in generator_tables()).
const std::array<Aff, 32>& generator_high_odd() {
  static const std::array<Aff, 32> table = [] {
    Jac g = jac_from_affine(generator_affine());
    for (int i = 0; i < 128; ++i) g = jac_dbl(g);
    std::array<Aff, 32> t;
    odd_multiples_vartime(t, g);
    return t;
  }();
  return table;
}

const Sm2FastPublicKey::Tables& key_tables(const Sm2FastPublicKey& pub) {
  std::call_once(pub.tables_once, [&pub] {
    auto t = std::make_unique<Sm2FastPublicKey::Tables>();
    Jac p = jac_from_affine(pub.point);
    odd_multiples_vartime(std::span(t->data(), 16), p);
    for (int i = 0; i < 128; ++i) p = jac_dbl(p);
    odd_multiples_vartime(std::span(t->data() + 16, 16), p);
    pub.tables = std::move(t);
  });
  return *pub.tables;
}

// The low and high 128 bits of a scalar.
void split128(const Sc& k, Sc& lo, Sc& hi) {
  lo = Sc{{k.v[0], k.v[1], 0, 0}};
  hi = Sc{{k.v[2], k.v[3], 0, 0}};
}

// B7 without inverting Z: with x1 = X/Z² < p < 2n, (e + x1) mod n = r holds iff x1 = c or
// x1 = c + n (the latter only below p), where c = (r − e) mod n; each test is X = x·Z².
bool x_matches_vartime(const Jac& R, const Sc& r, const Sc& e) {
  if (fe_is_zero(R.Z) != 0) return false;  // the identity has no x
  const Fe zz = fe_sqr(R.Z);
  const Sc c = sc_sub(r, e);
  Fe x;
  uint8_t b[32];
  sc_to_bytes(b, c);
  if (!fe_from_bytes_vartime(x, b)) return false;  // c < n < p: never happens
  if (fe_eq(fe_mul(x, zz), R.X) != 0) return true;
  u64 cn[4];
  const u64 carry = add4(cn, c.v, kN.m);
  if (carry != 0 || lt4(cn, kP.m) == 0) return false;  // c + n ≥ p is no field element
  limbs_to_be(b, cn);
  return fe_from_bytes_vartime(x, b) && fe_eq(fe_mul(x, zz), R.X) != 0;
}

Sc random_nonce() {
  uint8_t wide[64];
  Sc k;
  do {
    randombytes_buf(wide, sizeof wide);  // the OS CSPRNG, as everywhere (DESIGN §3.1)
    k = sc_reduce_wide(wide);
  } while (sc_is_zero(k) != 0);  // probability 2^-256: no information in the loop count
  sodium_memzero(wide, sizeof wide);
  return k;
}

}  // namespace

Sm2FastPrivateKey::~Sm2FastPrivateKey() {
  wipe(d);
  wipe(inv_one_plus_d);
}

std::shared_ptr<const Sm2FastPublicKey> sm2_fast_public_key(ByteView uncompressed) {
  if (uncompressed.size() != kSm2PublicKeySize || uncompressed[0] != 0x04) {
    throw std::logic_error("sm2: public key is not an uncompressed point");
  }
  auto key = std::make_shared<Sm2FastPublicKey>();
  if (!fe_from_bytes_vartime(key->point.x, uncompressed.data() + 1) ||
      !fe_from_bytes_vartime(key->point.y, uncompressed.data() + 33) ||
      aff_on_curve(key->point) == 0) {
    throw std::logic_error("sm2: public key is not on the curve");
  }
  static const Bytes prefix = za_prefix();
  key->za = Sm3().update(prefix).update(uncompressed.subspan(1)).final();
  return key;
}

std::shared_ptr<const Sm2FastPrivateKey> sm2_fast_private_key(std::span<const uint8_t> d) {
  if (d.size() != kSm2PrivateKeySize) throw std::logic_error("sm2: private key is not 32 bytes");
  auto key = std::make_shared<Sm2FastPrivateKey>();
  u64 canonical;
  key->d = sc_from_bytes(d.data(), canonical);
  key->inv_one_plus_d = sc_inv(sc_add(key->d, sc_from_u64(1)));
  return key;
}

Result<Bytes> sm2_fast_sign(const Sm2FastPrivateKey& key, const Sm2FastPublicKey& pub,
                            ByteView message, const SecretBytes* fixed_nonce) {
  const Sc e = message_scalar(pub, message);
  Sc k;
  if (fixed_nonce != nullptr) {
    if (fixed_nonce->size() != 32) {
      return make_error(ErrorCode::kInvalidArgument, "sm2: nonce must be 32 bytes");
    }
    u64 canonical;
    k = sc_from_bytes(fixed_nonce->expose_secret().data(), canonical);
    u64 bad = ~canonical | sc_is_zero(k);
    declassify(&bad, sizeof bad);
    if (bad != 0) {
      wipe(k);
      return make_error(ErrorCode::kInvalidArgument, "sm2: nonce out of range");
    }
  }
  for (;;) {
    if (fixed_nonce == nullptr) k = random_nonce();  // A3
    // A4: (x1, y1) = k·G. A5: r = (e + x1) mod n. A6: s = (1 + d)⁻¹·(k − r·d) mod n.
    Aff kg;
    jac_to_affine(kg, mul_fixed(generator_tables(), k));
    const Sc r = sc_add(e, field_to_scalar(kg.x));
    const Sc s = sc_mul(key.inv_one_plus_d, sc_sub(k, sc_mul(r, key.d)));
    // Retry when r = 0, r + k = n or s = 0 (each has probability about 2^-256). Only the
    // decision is made public; r and s are public once returned.
    u64 retry = sc_is_zero(r) | sc_is_zero(sc_add(r, k)) | sc_is_zero(s);
    declassify(&retry, sizeof retry);
    wipe(kg);
    if (retry == 0) {
      wipe(k);
      Bytes sig(kSm2SignatureSize);
      sc_to_bytes(sig.data(), r);
      sc_to_bytes(sig.data() + 32, s);
      declassify(sig.data(), sig.size());
      return sig;
    }
    if (fixed_nonce != nullptr) {
      wipe(k);
      return make_error(ErrorCode::kInvalidArgument, "sm2: this nonce gives no signature");
    }
  }
}

bool sm2_fast_verify_vartime(const Sm2FastPublicKey& pub, ByteView message, ByteView signature) {
  if (signature.size() != kSm2SignatureSize) return false;
  // B1, B2: r, s in [1, n − 1].
  u64 r_ok, s_ok;
  const Sc r = sc_from_bytes(signature.data(), r_ok);
  const Sc s = sc_from_bytes(signature.data() + 32, s_ok);
  if (r_ok == 0 || s_ok == 0 || sc_is_zero(r) != 0 || sc_is_zero(s) != 0) return false;
  const Sc e = message_scalar(pub, message);  // B3, B4
  const Sc t = sc_add(r, s);                  // B5
  if (sc_is_zero(t) != 0) return false;
  // B6: (x1', y1') = s·G + t·P_A.
  Jac sum;
  if (pub.uses.fetch_add(1, std::memory_order_relaxed) == 0) {
    const Sc ks[2] = {s, t};
    const Jac ps[2] = {jac_from_affine(generator_affine()), jac_from_affine(pub.point)};
    const FixedBase* fixed[2] = {&generator_tables(), nullptr};
    sum = msm_vartime(ks, ps, fixed);
  } else {
    const auto& tables = key_tables(pub);
    Sc ks[4];
    split128(s, ks[0], ks[1]);
    split128(t, ks[2], ks[3]);
    const OddMultiples ps[4] = {{generator_tables().odd, 7},
                                {generator_high_odd().data(), 7},
                                {tables.data(), Sm2FastPublicKey::kTableWidth},
                                {tables.data() + 16, Sm2FastPublicKey::kTableWidth}};
    sum = msm_odd_vartime(ks, ps);
  }
  // B7: R = (e + x1') mod n must equal r.
  return x_matches_vartime(sum, r, e);
}

}  // namespace anoncode::crypto
