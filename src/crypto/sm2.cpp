#include "crypto/sm2.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cstring>
#include <stdexcept>

#include "crypto/sm2_fast.h"

namespace anoncode::crypto {
namespace {

constexpr size_t kScalarSize = 32;
constexpr size_t kCompressedSize = 33;
// A key PEM is a few hundred bytes; the bound also keeps the length a valid positive int for
// BIO_new_mem_buf (which would otherwise read a negative length as "up to the NUL").
constexpr size_t kMaxPemSize = 64 * 1024;

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct BnCtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }  // clears the secure part
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxFree>;
using PointPtr = std::unique_ptr<EC_POINT, PointFree>;
using SigPtr = std::unique_ptr<ECDSA_SIG, SigFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;

// Every expected failure goes through here: OpenSSL's error queue is per thread and would
// otherwise leak stale errors into unrelated later calls. Messages never carry key material.
Error ossl_error(ErrorCode code, std::string message) {
  ERR_clear_error();
  return make_error(code, std::move(message));
}

const EC_GROUP* sm2_group() {
  static const EC_GROUP* group = [] {
    EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_sm2);
    if (g == nullptr) throw std::runtime_error("OpenSSL has no SM2 curve");
    return g;
  }();
  return group;
}

const BIGNUM* sm2_order() {
  return EC_GROUP_get0_order(sm2_group());
}

// A password callback that refuses: an encrypted PEM must fail, never prompt on a terminal.
int no_password(char*, int, int, void*) {
  return -1;
}

Result<Bytes> point_to_bytes(const EC_POINT* point, BN_CTX* ctx) {
  Bytes out(kSm2PublicKeySize);
  if (EC_POINT_point2oct(sm2_group(), point, POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(),
                         ctx) != out.size()) {
    return ossl_error(ErrorCode::kInternal, "sm2: cannot encode point");
  }
  return out;
}

// SEC1 (33 or 65 bytes) -> validated uncompressed encoding. Rejects anything that is not a
// finite point on the SM2 curve.
Result<Bytes> canonical_point(ByteView encoded) {
  const bool uncompressed = encoded.size() == kSm2PublicKeySize && encoded[0] == 0x04;
  const bool compressed =
      encoded.size() == kCompressedSize && (encoded[0] == 0x02 || encoded[0] == 0x03);
  if (!uncompressed && !compressed) {
    return make_error(ErrorCode::kMalformed, "sm2: public key must be a 33- or 65-byte SEC1 point");
  }
  BnCtxPtr ctx(BN_CTX_new());
  PointPtr point(EC_POINT_new(sm2_group()));
  if (!ctx || !point ||
      EC_POINT_oct2point(sm2_group(), point.get(), encoded.data(), encoded.size(), ctx.get()) !=
          1 ||
      EC_POINT_is_at_infinity(sm2_group(), point.get()) == 1 ||
      EC_POINT_is_on_curve(sm2_group(), point.get(), ctx.get()) != 1) {
    return ossl_error(ErrorCode::kMalformed, "sm2: public key is not a point on the curve");
  }
  return point_to_bytes(point.get(), ctx.get());
}

// Builds an EVP_PKEY of type "SM2" (so EVP signs with SM2, not ECDSA) from a validated
// uncompressed point and, for a private key, the scalar d.
Result<EvpPkeyPtr> build_pkey(ByteView pub, const BIGNUM* priv) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, SN_sm2, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(),
                                       pub.size()) != 1 ||
      (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)) {
    return ossl_error(ErrorCode::kInternal, "sm2: cannot build key parameters");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "SM2", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, priv != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return ossl_error(ErrorCode::kInternal, "sm2: cannot import key");
  }
  return EvpPkeyPtr(raw);
}

Result<Bytes> encode_public(const EVP_PKEY* key) {
  BIGNUM* x_raw = nullptr;
  BIGNUM* y_raw = nullptr;
  const int gx = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x_raw);
  const int gy = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y_raw);
  BnPtr x(x_raw), y(y_raw);
  Bytes out(kSm2PublicKeySize);
  out[0] = 0x04;
  if (gx != 1 || gy != 1 || BN_bn2binpad(x.get(), out.data() + 1, kScalarSize) < 0 ||
      BN_bn2binpad(y.get(), out.data() + 1 + kScalarSize, kScalarSize) < 0) {
    return ossl_error(ErrorCode::kInternal, "sm2: cannot read public key");
  }
  return out;
}

// Only keys on the SM2 curve are accepted from PEM, whatever OpenSSL called their type.
bool is_sm2_curve(const EVP_PKEY* key) {
  char name[64] = {};
  size_t len = 0;
  return EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) ==
             1 &&
         std::string_view(name, len) == SN_sm2;
}

Result<Bytes> der_to_raw(ByteView der) {
  const uint8_t* p = der.data();
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    return ossl_error(ErrorCode::kMalformed, "sm2: signature is not DER");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  // Strict DER only: re-encoding must give back the input bytes.
  unsigned char* reencoded = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &reencoded);
  const bool canonical = len > 0 && static_cast<size_t>(len) == der.size() &&
                         std::memcmp(reencoded, der.data(), der.size()) == 0;
  OPENSSL_free(reencoded);
  Bytes out(kSm2SignatureSize);
  if (!canonical || BN_is_negative(r) || BN_is_negative(s) ||
      BN_bn2binpad(r, out.data(), kScalarSize) < 0 ||
      BN_bn2binpad(s, out.data() + kScalarSize, kScalarSize) < 0) {
    return ossl_error(ErrorCode::kMalformed, "sm2: signature is not canonical DER of two scalars");
  }
  return out;
}

}  // namespace

// --- public key ---------------------------------------------------------------------------

struct Sm2PublicKey::Evp {
  explicit Evp(Bytes p) : point(std::move(p)) {}
  const Bytes point;  // validated, uncompressed
  std::once_flag once;
  EvpPkeyPtr key;
};

Sm2PublicKey Sm2PublicKey::from_valid_point(Bytes point,
                                            std::shared_ptr<const Sm2FastPublicKey> fast) {
  return Sm2PublicKey(std::make_shared<Evp>(std::move(point)), std::move(fast));
}

Result<Sm2PublicKey> Sm2PublicKey::from_bytes(ByteView encoded) {
  ANONCODE_TRY(Bytes point, canonical_point(encoded));
  auto fast = sm2_fast_public_key(point);
  return from_valid_point(std::move(point), std::move(fast));
}

EVP_PKEY* Sm2PublicKey::get() const {
  std::call_once(evp_->once, [this] {
    auto key = build_pkey(evp_->point, nullptr);
    if (!key.ok()) throw std::logic_error("sm2: OpenSSL refused a validated public key");
    evp_->key = std::move(key).value();
  });
  return evp_->key.get();
}

Result<Sm2PublicKey> Sm2PublicKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxPemSize) return make_error(ErrorCode::kMalformed, "sm2: PEM too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr decoded(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, no_password, nullptr) : nullptr);
  if (!decoded || !is_sm2_curve(decoded.get())) {
    return ossl_error(ErrorCode::kMalformed, "sm2: not an SM2 SubjectPublicKeyInfo PEM");
  }
  auto point = encode_public(decoded.get());
  ERR_clear_error();  // decoders may leave notes on the queue even on success
  if (!point.ok()) return make_error(ErrorCode::kMalformed, "sm2: not an SM2 public key");
  // Re-import through from_bytes: one validation path, and always an "SM2" key type.
  return from_bytes(*point);
}

Bytes Sm2PublicKey::to_bytes() const {
  return evp_->point;
}

std::string Sm2PublicKey::to_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  char* data = nullptr;
  long len = 0;
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), get()) != 1 ||
      (len = BIO_get_mem_data(bio.get(), &data)) <= 0) {
    ERR_clear_error();
    throw std::logic_error("sm2: cannot encode public key as PEM");
  }
  return std::string(data, static_cast<size_t>(len));
}

// --- private key --------------------------------------------------------------------------

Result<Sm2PrivateKey> Sm2PrivateKey::wrap(EvpPkeyPtr k) {
  Sm2PrivateKey key(std::move(k));
  const SecretBytes d = key.export_secret();
  ANONCODE_TRY(Bytes pub, encode_public(key.key_.get()));
  key.fast_ = sm2_fast_private_key(d.expose_secret());
  key.fast_public_ = sm2_fast_public_key(pub);
  key.public_point_ = std::move(pub);
  return key;
}

Result<Sm2PrivateKey> Sm2PrivateKey::generate() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "SM2"));
  if (!key) return ossl_error(ErrorCode::kInternal, "sm2: key generation failed");
  return wrap(std::move(key));
}

Result<Sm2PrivateKey> Sm2PrivateKey::from_bytes(const SecretBytes& d) {
  if (d.size() != kSm2PrivateKeySize) {
    return make_error(ErrorCode::kInvalidArgument, "sm2: private key must be 32 bytes");
  }
  // Secure BN: OSSL_PARAM_BLD copies it into the clear-on-free part of the parameter array.
  BnPtr scalar(BN_secure_new());
  BnPtr n_minus_1(BN_dup(sm2_order()));
  BnCtxPtr ctx(BN_CTX_secure_new());
  PointPtr pub(EC_POINT_new(sm2_group()));
  if (!scalar || !n_minus_1 || !ctx || !pub ||
      BN_bin2bn(d.expose_secret().data(), static_cast<int>(d.size()), scalar.get()) == nullptr ||
      BN_sub_word(n_minus_1.get(), 1) != 1) {
    return ossl_error(ErrorCode::kInternal, "sm2: out of memory");
  }
  BN_set_flags(scalar.get(), BN_FLG_CONSTTIME);
  // GB/T 32918.1 §6.1: d in [1, n-2], so that (1 + d) is invertible when signing.
  if (BN_is_zero(scalar.get()) || BN_cmp(scalar.get(), n_minus_1.get()) >= 0) {
    return make_error(ErrorCode::kInvalidArgument, "sm2: private key out of range");
  }
  if (EC_POINT_mul(sm2_group(), pub.get(), scalar.get(), nullptr, nullptr, ctx.get()) != 1) {
    return ossl_error(ErrorCode::kInternal, "sm2: cannot derive public key");
  }
  ANONCODE_TRY(Bytes pub_bytes, point_to_bytes(pub.get(), ctx.get()));
  ANONCODE_TRY(EvpPkeyPtr key, build_pkey(pub_bytes, scalar.get()));
  return wrap(std::move(key));
}

Result<Sm2PrivateKey> Sm2PrivateKey::from_pem(const SecretBytes& pem) {
  auto text = pem.expose_secret();
  if (text.size() > kMaxPemSize) return make_error(ErrorCode::kMalformed, "sm2: PEM too large");
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  EvpPkeyPtr decoded(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr)
                         : nullptr);
  if (!decoded || !is_sm2_curve(decoded.get())) {
    return ossl_error(ErrorCode::kMalformed, "sm2: not an unencrypted SM2 PKCS#8 PEM");
  }
  BIGNUM* d_raw = nullptr;
  const int got = EVP_PKEY_get_bn_param(decoded.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d_raw);
  BnPtr d(d_raw);
  SecretBytes d_bytes(kSm2PrivateKeySize);
  if (got != 1 || BN_bn2binpad(d.get(), d_bytes.expose_secret_mut().data(),
                               static_cast<int>(kSm2PrivateKeySize)) < 0) {
    return ossl_error(ErrorCode::kMalformed, "sm2: PEM holds no valid private scalar");
  }
  ERR_clear_error();
  // Re-import through from_bytes: range check, derived public key, "SM2" key type.
  return from_bytes(d_bytes);
}

SecretBytes Sm2PrivateKey::export_secret() const {
  BIGNUM* d_raw = nullptr;
  const int got = EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d_raw);
  BnPtr d(d_raw);
  SecretBytes out(kSm2PrivateKeySize);
  if (got != 1 || BN_bn2binpad(d.get(), out.expose_secret_mut().data(),
                               static_cast<int>(kSm2PrivateKeySize)) < 0) {
    ERR_clear_error();
    throw std::logic_error("sm2: private key without a scalar");
  }
  return out;
}

SecretBytes Sm2PrivateKey::export_pem_secret() const {
  BioPtr bio(BIO_new(BIO_s_secmem()));  // cleared when freed
  char* data = nullptr;
  long len = 0;
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      (len = BIO_get_mem_data(bio.get(), &data)) <= 0) {
    ERR_clear_error();
    throw std::logic_error("sm2: cannot encode private key as PEM");
  }
  return SecretBytes(ByteView(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len)));
}

Sm2PublicKey Sm2PrivateKey::public_key() const {
  // d·G, derived and checked once when the key was made (wrap).
  return Sm2PublicKey::from_valid_point(public_point_, fast_public_);
}

// --- signatures ---------------------------------------------------------------------------

Result<Bytes> sm2_sign(const Sm2PrivateKey& key, ByteView message) {
  return sm2_fast_sign(key.fast(), key.fast_public(), message);
}

Status sm2_verify(const Sm2PublicKey& key, ByteView message, ByteView signature) {
  if (!sm2_fast_verify_vartime(key.fast(), message, signature)) {
    return make_error(ErrorCode::kBadSignature, "sm2: bad signature");
  }
  return {};
}

Result<Bytes> sm2_sign_with_nonce_for_test(const Sm2PrivateKey& key, ByteView message,
                                           const SecretBytes& k) {
  return sm2_fast_sign(key.fast(), key.fast_public(), message, &k);
}

Result<Bytes> sm2_sign_openssl(const Sm2PrivateKey& key, ByteView message) {
  MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  uint8_t der[80];               // DER of two 32-byte integers is at most 72 bytes
  size_t der_len = sizeof der;
  // The id must be set explicitly: OpenSSL 3.0 defaults to an empty one (DESIGN §3.1).
  if (!md ||
      EVP_DigestSignInit_ex(md.get(), &pctx, "SM3", nullptr, nullptr, key.get(), nullptr) != 1 ||
      EVP_PKEY_CTX_set1_id(pctx, kSm2UserId.data(), static_cast<int>(kSm2UserId.size())) <= 0 ||
      EVP_DigestSignUpdate(md.get(), message.data(), message.size()) != 1 ||
      EVP_DigestSignFinal(md.get(), der, &der_len) != 1) {
    return ossl_error(ErrorCode::kInternal, "sm2: signing failed");
  }
  return der_to_raw(ByteView(der, der_len));
}

Status sm2_verify_openssl(const Sm2PublicKey& key, ByteView message, ByteView signature) {
  auto bad = [] { return ossl_error(ErrorCode::kBadSignature, "sm2: bad signature"); };
  if (signature.size() != kSm2SignatureSize) return bad();
  BnPtr r(BN_bin2bn(signature.data(), kScalarSize, nullptr));
  BnPtr s(BN_bin2bn(signature.data() + kScalarSize, kScalarSize, nullptr));
  // GB/T 32918.2 §7.1 B1, B2: r, s in [1, n-1].
  if (!r || !s || BN_is_zero(r.get()) || BN_is_zero(s.get()) || BN_cmp(r.get(), sm2_order()) >= 0 ||
      BN_cmp(s.get(), sm2_order()) >= 0) {
    return bad();
  }
  auto der = sm2_signature_to_der(signature);
  if (!der.ok()) return bad();
  MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  if (!md ||
      EVP_DigestVerifyInit_ex(md.get(), &pctx, "SM3", nullptr, nullptr, key.get(), nullptr) != 1 ||
      EVP_PKEY_CTX_set1_id(pctx, kSm2UserId.data(), static_cast<int>(kSm2UserId.size())) <= 0 ||
      EVP_DigestVerifyUpdate(md.get(), message.data(), message.size()) != 1 ||
      EVP_DigestVerifyFinal(md.get(), der->data(), der->size()) != 1) {
    return bad();
  }
  return {};
}

Result<Bytes> sm2_signature_to_der(ByteView signature) {
  if (signature.size() != kSm2SignatureSize) {
    return make_error(ErrorCode::kMalformed, "sm2: signature must be 64 bytes r || s");
  }
  SigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(signature.data(), kScalarSize, nullptr);
  BIGNUM* s = BN_bin2bn(signature.data() + kScalarSize, kScalarSize, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return ossl_error(ErrorCode::kInternal, "sm2: out of memory");
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return ossl_error(ErrorCode::kInternal, "sm2: cannot encode signature");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Result<Bytes> sm2_signature_from_der(ByteView der) {
  return der_to_raw(der);
}

// --- encryption ---------------------------------------------------------------------------

Result<Bytes> sm2_encrypt(const Sm2PublicKey& key, ByteView plaintext) {
  // GB/T 32918.4 derives a mask as long as the message; an empty one has nothing to hide it
  // with (and OpenSSL 3.0 fails on it), so say so instead of reporting an internal error.
  if (plaintext.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "sm2: cannot encrypt an empty message");
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plaintext.data(), plaintext.size()) != 1) {
    return ossl_error(ErrorCode::kInternal, "sm2: encryption failed");
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, plaintext.data(), plaintext.size()) != 1) {
    return ossl_error(ErrorCode::kInternal, "sm2: encryption failed");
  }
  out.resize(len);
  return out;
}

Result<SecretBytes> sm2_decrypt(const Sm2PrivateKey& key, ByteView ciphertext) {
  auto fail = [] { return ossl_error(ErrorCode::kVerificationFailed, "sm2: decryption failed"); };
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_decrypt(ctx.get(), nullptr, &len, ciphertext.data(), ciphertext.size()) != 1) {
    return fail();
  }
  SecretBytes out(len);
  if (EVP_PKEY_decrypt(ctx.get(), out.expose_secret_mut().data(), &len, ciphertext.data(),
                       ciphertext.size()) != 1) {
    return fail();
  }
  out.resize(len);
  return out;
}

}  // namespace anoncode::crypto
