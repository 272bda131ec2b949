#include "crypto/sm2.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/wait.h>
#include <unistd.h>
#include "crypto/sm_test_util.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace anoncode::crypto {
namespace {

using namespace anoncode::crypto::testing;

// --- helpers -----------------------------------------------------------------------------------

// The order n of the SM2 recommended curve (GB/T 32918.5).
constexpr std::string_view kOrderHex =
    "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123";
constexpr std::string_view kOrderMinus1Hex =
    "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54122";
constexpr std::string_view kOrderMinus2Hex =
    "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54121";
// The field prime p and the generator G.
constexpr std::string_view kPrimeHex =
    "fffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffff";
constexpr std::string_view kGxHex =
    "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7";
constexpr std::string_view kGyHex =
    "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0";

Bytes hex(std::string_view h) {
  return from_hex(h).value();
}

Sm2PrivateKey new_key() {
  return Sm2PrivateKey::generate().value();
}

Sm2PrivateKey key_from_hex(std::string_view d) {
  return Sm2PrivateKey::from_bytes(SecretBytes(hex(d))).value();
}

// --- GB/T 32918 / GM/T 0003 examples ----------------------------------------------------------

TEST(Sm2Standard, PublicKeyDerivedFromD) {
  const auto vectors = read_vec("sm2.vec", "SM2-SIGN");
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm2.vec line " + std::to_string(v.line));
    auto key = Sm2PrivateKey::from_bytes(SecretBytes(v.hex("d")));
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_EQ(to_hex(key->public_key().to_bytes()), to_hex(v.hex("pub")));
    EXPECT_EQ(to_hex(key->export_secret().expose_secret()), to_hex(v.hex("d")));
  }
}

TEST(Sm2Standard, StandardSignatureVerifies) {
  const auto vectors = read_vec("sm2.vec", "SM2-SIGN");
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm2.vec line " + std::to_string(v.line));
    auto pub = Sm2PublicKey::from_bytes(v.hex("pub"));
    ASSERT_TRUE(pub.ok());
    const Bytes sig = concat(v.hex("r"), v.hex("s"));
    const Bytes msg = v.hex("msg");
    const Status ok = sm2_verify(*pub, msg, sig);
    EXPECT_TRUE(ok.ok()) << (ok.ok() ? "" : ok.error().message);
    // The same signature on another message, or with r and s swapped, does not verify.
    EXPECT_FALSE(sm2_verify(*pub, as_bytes("message digesT"), sig).ok());
    EXPECT_FALSE(sm2_verify(*pub, msg, concat(v.hex("s"), v.hex("r"))).ok());
    // And our own signatures with the standard key verify too.
    const auto key = Sm2PrivateKey::from_bytes(SecretBytes(v.hex("d"))).value();
    EXPECT_TRUE(sm2_verify(*pub, msg, sm2_sign(key, msg).value()).ok());
  }
}

TEST(Sm2Standard, StandardCiphertextDecrypts) {
  const auto vectors = read_vec("sm2.vec", "SM2-DECRYPT");
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    SCOPED_TRACE("sm2.vec line " + std::to_string(v.line));
    const auto key = Sm2PrivateKey::from_bytes(SecretBytes(v.hex("d"))).value();
    auto pt = sm2_decrypt(key, v.hex("ct"));
    ASSERT_TRUE(pt.ok()) << pt.error().message;
    EXPECT_EQ(to_hex(pt->expose_secret()), to_hex(v.hex("msg")));
  }
}

// --- signatures --------------------------------------------------------------------------------

TEST(Sm2Sign, RoundTrip) {
  const Sm2PrivateKey key = new_key();
  const Sm2PublicKey pub = key.public_key();
  for (size_t len : {0u, 1u, 32u, 1000u}) {
    SCOPED_TRACE("message length " + std::to_string(len));
    const Bytes msg = random_bytes(len);
    auto sig = sm2_sign(key, msg);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_EQ(sig->size(), kSm2SignatureSize);
    const Status st = sm2_verify(pub, msg, *sig);
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  }
}

TEST(Sm2Sign, SignaturesAreRandomized) {
  const Sm2PrivateKey key = new_key();
  const Bytes msg = to_bytes(std::string_view("same message"));
  EXPECT_NE(sm2_sign(key, msg).value(), sm2_sign(key, msg).value());
}

TEST(Sm2Sign, EveryTamperedMessageByteRejected) {
  const Sm2PrivateKey key = new_key();
  const Sm2PublicKey pub = key.public_key();
  const Bytes msg = random_bytes(24);
  const Bytes sig = sm2_sign(key, msg).value();
  for (size_t i = 0; i < msg.size(); ++i) {
    SCOPED_TRACE("position " + std::to_string(i));
    Bytes tampered = msg;
    tampered[i] ^= 0x01;
    expect_error(sm2_verify(pub, tampered, sig), ErrorCode::kBadSignature);
  }
  expect_error(sm2_verify(pub, ByteView(msg).first(msg.size() - 1), sig), ErrorCode::kBadSignature);
  expect_error(sm2_verify(pub, concat(msg, Bytes{0}), sig), ErrorCode::kBadSignature);
}

TEST(Sm2Sign, EveryTamperedSignatureByteRejected) {
  const Sm2PrivateKey key = new_key();
  const Sm2PublicKey pub = key.public_key();
  const Bytes msg = random_bytes(24);
  const Bytes sig = sm2_sign(key, msg).value();
  for (size_t i = 0; i < sig.size(); ++i) {
    SCOPED_TRACE("position " + std::to_string(i));
    Bytes tampered = sig;
    tampered[i] ^= 0x01;
    expect_error(sm2_verify(pub, msg, tampered), ErrorCode::kBadSignature);
  }
}

TEST(Sm2Sign, WrongKeyRejected) {
  const Sm2PrivateKey key = new_key();
  const Bytes msg = random_bytes(24);
  const Bytes sig = sm2_sign(key, msg).value();
  expect_error(sm2_verify(new_key().public_key(), msg, sig), ErrorCode::kBadSignature);
  EXPECT_TRUE(sm2_verify(key.public_key(), msg, sig).ok());
}

TEST(Sm2Sign, WrongLengthSignatureRejected) {
  const Sm2PrivateKey key = new_key();
  const Sm2PublicKey pub = key.public_key();
  const Bytes msg = random_bytes(8);
  const Bytes sig = sm2_sign(key, msg).value();
  expect_error(sm2_verify(pub, msg, Bytes{}), ErrorCode::kBadSignature);
  expect_error(sm2_verify(pub, msg, ByteView(sig).first(63)), ErrorCode::kBadSignature);
  expect_error(sm2_verify(pub, msg, concat(sig, Bytes{0})), ErrorCode::kBadSignature);
  expect_error(sm2_verify(pub, msg, concat(Bytes{0}, sig)), ErrorCode::kBadSignature);
  // The DER form is not accepted where r || s is expected.
  expect_error(sm2_verify(pub, msg, sm2_signature_to_der(sig).value()), ErrorCode::kBadSignature);
}

TEST(Sm2Sign, OutOfRangeRAndSRejected) {
  const Sm2PrivateKey key = new_key();
  const Sm2PublicKey pub = key.public_key();
  const Bytes msg = random_bytes(8);
  const Bytes sig = sm2_sign(key, msg).value();
  const Bytes r(sig.begin(), sig.begin() + 32);
  const Bytes s(sig.begin() + 32, sig.end());
  const Bytes zero(32, 0);
  const Bytes n = hex(kOrderHex);
  const Bytes n_plus_1 = hex("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54124");
  const Bytes all_ones(32, 0xff);
  for (const Bytes& bad : {zero, n, n_plus_1, all_ones}) {
    SCOPED_TRACE("value " + to_hex(bad));
    expect_error(sm2_verify(pub, msg, concat(bad, s)), ErrorCode::kBadSignature);
    expect_error(sm2_verify(pub, msg, concat(r, bad)), ErrorCode::kBadSignature);
  }
  EXPECT_TRUE(sm2_verify(pub, msg, sig).ok());
}

// --- DER ---------------------------------------------------------------------------------------

TEST(Sm2Der, RoundTrip) {
  const Sm2PrivateKey key = new_key();
  for (int i = 0; i < 8; ++i) {
    const Bytes sig = sm2_sign(key, random_bytes(10)).value();
    auto der = sm2_signature_to_der(sig);
    ASSERT_TRUE(der.ok());
    EXPECT_EQ((*der)[0], 0x30);  // SEQUENCE
    EXPECT_LE(der->size(), 72u);
    auto back = sm2_signature_from_der(*der);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(to_hex(*back), to_hex(sig));
  }
}

TEST(Sm2Der, SmallIntegersArePaddedBack) {
  Bytes raw(64, 0);
  raw[31] = 1;
  raw[63] = 0x80;
  auto der = sm2_signature_to_der(raw);
  ASSERT_TRUE(der.ok());
  // SEQUENCE { INTEGER 1, INTEGER 0x0080 } — DER needs a leading zero for the top bit.
  EXPECT_EQ(to_hex(*der),
            "3007020101020200"
            "80");
  auto back = sm2_signature_from_der(*der);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(to_hex(*back), to_hex(raw));
}

TEST(Sm2Der, RejectsMalformedDer) {
  const Bytes sig = sm2_sign(new_key(), random_bytes(10)).value();
  const Bytes der = sm2_signature_to_der(sig).value();
  expect_error(sm2_signature_from_der(Bytes{}), ErrorCode::kMalformed);
  expect_error(sm2_signature_from_der(ByteView(der).first(der.size() - 1)), ErrorCode::kMalformed);
  expect_error(sm2_signature_from_der(concat(der, Bytes{0})), ErrorCode::kMalformed);
  expect_error(sm2_signature_from_der(random_bytes(70)), ErrorCode::kMalformed);
  // Non-minimal integer encoding (a needless leading zero) is BER, not DER.
  expect_error(sm2_signature_from_der(hex("30080202000102020001")), ErrorCode::kMalformed);
  // Long-form length where the short form fits.
  expect_error(sm2_signature_from_der(hex("3081060201010201"
                                          "01")),
               ErrorCode::kMalformed);
  // An integer wider than 32 bytes.
  expect_error(sm2_signature_from_der(hex("3026022101" + std::string(64, '0') + "020101")),
               ErrorCode::kMalformed);
  // A negative integer.
  expect_error(sm2_signature_from_der(hex("3006020181020101")), ErrorCode::kMalformed);
  // to_der wants exactly 64 bytes.
  expect_error(sm2_signature_to_der(ByteView(sig).first(63)), ErrorCode::kMalformed);
  expect_error(sm2_signature_to_der(concat(sig, Bytes{1})), ErrorCode::kMalformed);
}

// --- keys --------------------------------------------------------------------------------------

TEST(Sm2Keys, PublicBytesRoundTrip) {
  const Sm2PublicKey pub = new_key().public_key();
  const Bytes encoded = pub.to_bytes();
  ASSERT_EQ(encoded.size(), kSm2PublicKeySize);
  EXPECT_EQ(encoded[0], 0x04);
  auto back = Sm2PublicKey::from_bytes(encoded);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(to_hex(back->to_bytes()), to_hex(encoded));
}

TEST(Sm2Keys, CompressedPublicKeyAccepted) {
  const Sm2PrivateKey key = new_key();
  const Bytes full = key.public_key().to_bytes();
  Bytes compressed(full.begin(), full.begin() + 33);
  compressed[0] = (full[64] & 1) ? 0x03 : 0x02;
  auto pub = Sm2PublicKey::from_bytes(compressed);
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(to_hex(pub->to_bytes()), to_hex(full));
  const Bytes msg = to_bytes(std::string_view("compressed"));
  EXPECT_TRUE(sm2_verify(*pub, msg, sm2_sign(key, msg).value()).ok());
  // The other parity is the negated point: a valid key, but not this one.
  compressed[0] ^= 0x01;
  auto negated = Sm2PublicKey::from_bytes(compressed);
  ASSERT_TRUE(negated.ok());
  EXPECT_NE(to_hex(negated->to_bytes()), to_hex(full));
}

TEST(Sm2Keys, BadPublicKeyEncodingsRejected) {
  const Bytes good = new_key().public_key().to_bytes();
  const Bytes g = concat(concat(Bytes{0x04}, hex(kGxHex)), hex(kGyHex));
  ASSERT_TRUE(Sm2PublicKey::from_bytes(g).ok());  // the generator itself is a valid point
  Bytes off_curve = g;
  off_curve[64] ^= 0x01;  // (Gx, Gy ^ 1) is not on the curve
  Bytes off_curve2 = good;
  off_curve2[10] ^= 0x40;
  Bytes x_too_big = concat(concat(Bytes{0x04}, hex(kPrimeHex)), hex(kGyHex));  // x = p
  Bytes wrong_prefix = good;
  wrong_prefix[0] = 0x05;
  Bytes hybrid = good;
  hybrid[0] = 0x06;                      // X9.62 hybrid form: not accepted
  Bytes compressed_off_curve(33, 0xff);  // x = 2^256 - 1 > p
  compressed_off_curve[0] = 0x02;
  const std::vector<Bytes> bad = {
      Bytes{},
      Bytes{0x00},  // the SEC1 point at infinity
      Bytes(65, 0x00),
      concat(Bytes{0x04}, Bytes(64, 0x00)),  // (0, 0)
      off_curve,
      off_curve2,
      x_too_big,
      wrong_prefix,
      hybrid,
      compressed_off_curve,
      to_bytes(ByteView(good).first(64)),
      concat(good, Bytes{0}),
      to_bytes(ByteView(good).subspan(1)),  // raw x || y without the prefix
      to_bytes(ByteView(good).first(32)),
      to_bytes(ByteView(good).first(34)),
  };
  for (const Bytes& b : bad) {
    SCOPED_TRACE("encoding " + to_hex(b));
    expect_error(Sm2PublicKey::from_bytes(b), ErrorCode::kMalformed);
  }
}

TEST(Sm2Keys, PublicPemRoundTrip) {
  const Sm2PrivateKey key = new_key();
  const std::string pem = key.public_key().to_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  auto back = Sm2PublicKey::from_pem(pem);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(to_hex(back->to_bytes()), to_hex(key.public_key().to_bytes()));
  const Bytes msg = to_bytes(std::string_view("pem"));
  EXPECT_TRUE(sm2_verify(*back, msg, sm2_sign(key, msg).value()).ok());
}

TEST(Sm2Keys, PrivateBytesRoundTrip) {
  const Sm2PrivateKey key = new_key();
  const SecretBytes d = key.export_secret();
  ASSERT_EQ(d.size(), kSm2PrivateKeySize);
  auto back = Sm2PrivateKey::from_bytes(d);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->export_secret().equals(d));
  EXPECT_EQ(to_hex(back->public_key().to_bytes()), to_hex(key.public_key().to_bytes()));
  // A signature by the re-imported key verifies under the original public key.
  const Bytes msg = to_bytes(std::string_view("reimported"));
  EXPECT_TRUE(sm2_verify(key.public_key(), msg, sm2_sign(*back, msg).value()).ok());
}

TEST(Sm2Keys, PrivatePemRoundTrip) {
  const Sm2PrivateKey key = new_key();
  const SecretBytes pem = key.export_pem_secret();
  const std::string text(pem.expose_secret().begin(), pem.expose_secret().end());
  EXPECT_EQ(text.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8, unencrypted
  auto back = Sm2PrivateKey::from_pem(pem);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->export_secret().equals(key.export_secret()));
}

TEST(Sm2Keys, PrivateScalarRange) {
  // d must be in [1, n-2].
  for (std::string_view bad : {std::string_view("00000000000000000000000000000000"
                                                "00000000000000000000000000000000"),
                               kOrderMinus1Hex, kOrderHex,
                               std::string_view("ffffffffffffffffffffffffffffffff"
                                                "ffffffffffffffffffffffffffffffff")}) {
    SCOPED_TRACE(std::string(bad));
    expect_error(Sm2PrivateKey::from_bytes(SecretBytes(hex(bad))), ErrorCode::kInvalidArgument);
  }
  for (std::string_view good : {std::string_view("00000000000000000000000000000000"
                                                 "00000000000000000000000000000001"),
                                kOrderMinus2Hex}) {
    SCOPED_TRACE(std::string(good));
    auto key = Sm2PrivateKey::from_bytes(SecretBytes(hex(good)));
    ASSERT_TRUE(key.ok());
    const Bytes msg = to_bytes(std::string_view("edge"));
    EXPECT_TRUE(sm2_verify(key->public_key(), msg, sm2_sign(*key, msg).value()).ok());
  }
  // d = 1 gives the generator.
  EXPECT_EQ(to_hex(key_from_hex("0000000000000000000000000000000000000000000000000000000000000001")
                       .public_key()
                       .to_bytes()),
            "04" + std::string(kGxHex) + std::string(kGyHex));
  for (size_t n : {0u, 31u, 33u}) {
    expect_error(Sm2PrivateKey::from_bytes(SecretBytes(Bytes(n, 1))), ErrorCode::kInvalidArgument);
  }
}

TEST(Sm2Keys, ErrorMessagesCarryNoSecret) {
  const SecretBytes d(hex(kOrderMinus1Hex));
  auto r = Sm2PrivateKey::from_bytes(d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("fffffffe"), std::string::npos);
  EXPECT_EQ(r.error().message.find("FFFFFFFE"), std::string::npos);
}

TEST(Sm2Keys, BadPemRejected) {
  expect_error(Sm2PublicKey::from_pem(""), ErrorCode::kMalformed);
  expect_error(
      Sm2PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
      ErrorCode::kMalformed);
  expect_error(Sm2PrivateKey::from_pem(SecretBytes()), ErrorCode::kMalformed);
  expect_error(Sm2PublicKey::from_pem(std::string(100 * 1024, 'A')), ErrorCode::kMalformed);
  const Sm2PrivateKey key = new_key();
  // A public PEM is not a private key, and vice versa.
  const std::string pub_pem = key.public_key().to_pem();
  expect_error(Sm2PrivateKey::from_pem(SecretBytes(as_bytes(pub_pem))), ErrorCode::kMalformed);
  const SecretBytes priv_pem = key.export_pem_secret();
  const std::string priv_text(priv_pem.expose_secret().begin(), priv_pem.expose_secret().end());
  expect_error(Sm2PublicKey::from_pem(priv_text), ErrorCode::kMalformed);
}

// PEM of a key on another curve, to check that only SM2 is accepted.
struct ForeignPem {
  std::string pub;
  std::string priv;
};
ForeignPem p256_pem() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw std::runtime_error("no P-256");
  auto write = [&](bool priv) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (priv) {
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_bio_PUBKEY(bio.get(), key.get());
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
  };
  return {write(false), write(true)};
}

TEST(Sm2Keys, OtherCurvesRejected) {
  const ForeignPem p256 = p256_pem();
  expect_error(Sm2PublicKey::from_pem(p256.pub), ErrorCode::kMalformed);
  expect_error(Sm2PrivateKey::from_pem(SecretBytes(as_bytes(p256.priv))), ErrorCode::kMalformed);
}

TEST(Sm2Keys, EncryptedPemRejectedWithoutPrompting) {
  const Sm2PrivateKey key = new_key();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  static char kPass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_128_cbc(), nullptr, 0,
                                          nullptr, kPass),
            1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  const std::string pem(data, static_cast<size_t>(len));
  ASSERT_NE(pem.find("ENCRYPTED"), std::string::npos);
  expect_error(Sm2PrivateKey::from_pem(SecretBytes(as_bytes(pem))), ErrorCode::kMalformed);
}

TEST(Sm2Keys, GeneratedKeysDiffer) {
  EXPECT_FALSE(new_key().export_secret().equals(new_key().export_secret()));
}

// --- encryption --------------------------------------------------------------------------------

TEST(Sm2Encrypt, RoundTrip) {
  const Sm2PrivateKey key = new_key();
  for (size_t len : {1u, 19u, 32u, 33u, 500u}) {
    SCOPED_TRACE("length " + std::to_string(len));
    const Bytes pt = random_bytes(len);
    auto ct = sm2_encrypt(key.public_key(), pt);
    ASSERT_TRUE(ct.ok()) << ct.error().message;
    EXPECT_EQ((*ct)[0], 0x30);  // ASN.1 SEQUENCE (GM/T 0009)
    auto back = sm2_decrypt(key, *ct);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(to_hex(back->expose_secret()), to_hex(pt));
  }
}

TEST(Sm2Encrypt, EmptyPlaintextRejected) {
  expect_error(sm2_encrypt(new_key().public_key(), Bytes{}), ErrorCode::kInvalidArgument);
}

TEST(Sm2Encrypt, EncryptionIsRandomized) {
  const Sm2PrivateKey key = new_key();
  const Bytes pt = random_bytes(16);
  EXPECT_NE(sm2_encrypt(key.public_key(), pt).value(), sm2_encrypt(key.public_key(), pt).value());
}

TEST(Sm2Encrypt, TamperedCiphertextFails) {
  const Sm2PrivateKey key = new_key();
  const Bytes ct = sm2_encrypt(key.public_key(), random_bytes(20)).value();
  for (size_t i = 0; i < ct.size(); ++i) {
    SCOPED_TRACE("position " + std::to_string(i));
    Bytes tampered = ct;
    tampered[i] ^= 0x01;
    expect_error(sm2_decrypt(key, tampered), ErrorCode::kVerificationFailed);
  }
  for (size_t len : {0u, 1u, 50u}) {
    expect_error(sm2_decrypt(key, ByteView(ct).first(len)), ErrorCode::kVerificationFailed);
  }
  expect_error(sm2_decrypt(key, ByteView(ct).first(ct.size() - 1)), ErrorCode::kVerificationFailed);
  expect_error(sm2_decrypt(key, random_bytes(120)), ErrorCode::kVerificationFailed);
}

TEST(Sm2Encrypt, WrongKeyFails) {
  const Sm2PrivateKey key = new_key();
  const Bytes ct = sm2_encrypt(key.public_key(), random_bytes(20)).value();
  expect_error(sm2_decrypt(new_key(), ct), ErrorCode::kVerificationFailed);
}

// --- interoperability with the openssl command line --------------------------------------------

constexpr const char* kOpenssl = "/usr/bin/openssl";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sm2_cli_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_file(const std::string& path, ByteView data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs the openssl CLI with its output discarded and returns its exit status.
int run_openssl(const std::string& args) {
  const std::string cmd = std::string(kOpenssl) + " " + args + " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class Sm2Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kOpenssl, X_OK) != 0) GTEST_SKIP() << "no " << kOpenssl;
  }
  TempDir dir_;
};

TEST_F(Sm2Cli, CliVerifiesOurSignature) {
  const Sm2PrivateKey key = new_key();
  const std::string pub = dir_.file("pub.pem"), msg = dir_.file("msg"), sig = dir_.file("sig.der");
  const std::string pem = key.public_key().to_pem();
  write_file(pub, as_bytes(pem));
  const Bytes message = to_bytes(std::string_view("ride 2024-05-01 line 3, 2 yuan"));
  write_file(msg, message);
  write_file(sig, sm2_signature_to_der(sm2_sign(key, message).value()).value());

  const std::string verify = "pkeyutl -verify -pubin -inkey " + pub + " -rawin -in " + msg +
                             " -sigfile " + sig + " -digest sm3";
  EXPECT_EQ(run_openssl(verify + " -pkeyopt distid:1234567812345678"), 0);
  // The CLI check is real: another id, or another message, fails.
  EXPECT_NE(run_openssl(verify + " -pkeyopt distid:1234567812345679"), 0);
  write_file(msg, to_bytes(std::string_view("ride 2024-05-01 line 3, 9 yuan")));
  EXPECT_NE(run_openssl(verify + " -pkeyopt distid:1234567812345678"), 0);
}

TEST_F(Sm2Cli, WeVerifyCliSignature) {
  const Sm2PrivateKey key = new_key();
  const std::string priv = dir_.file("key.pem"), msg = dir_.file("msg"), sig = dir_.file("sig.der");
  write_file(priv, key.export_pem_secret().expose_secret());
  const Bytes message = to_bytes(std::string_view("terminal batch 17"));
  write_file(msg, message);

  ASSERT_EQ(run_openssl("pkeyutl -sign -inkey " + priv + " -rawin -in " + msg + " -out " + sig +
                        " -digest sm3 -pkeyopt distid:1234567812345678"),
            0);
  auto raw = sm2_signature_from_der(read_file(sig));
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  const Status st = sm2_verify(key.public_key(), message, *raw);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  expect_error(sm2_verify(key.public_key(), as_bytes("terminal batch 18"), *raw),
               ErrorCode::kBadSignature);
}

TEST_F(Sm2Cli, SignatureWithEmptyIdDoesNotVerify) {
  // Proves the id is part of what we verify: the same key and message signed with an empty
  // distinguishing identifier (OpenSSL 3.0's default) must be rejected.
  const Sm2PrivateKey key = new_key();
  const std::string priv = dir_.file("key.pem"), msg = dir_.file("msg"), sig = dir_.file("sig.der");
  write_file(priv, key.export_pem_secret().expose_secret());
  const Bytes message = to_bytes(std::string_view("terminal batch 17"));
  write_file(msg, message);
  ASSERT_EQ(run_openssl("pkeyutl -sign -inkey " + priv + " -rawin -in " + msg + " -out " + sig +
                        " -digest sm3 -pkeyopt distid:"),
            0);
  auto raw = sm2_signature_from_der(read_file(sig));
  ASSERT_TRUE(raw.ok());
  expect_error(sm2_verify(key.public_key(), message, *raw), ErrorCode::kBadSignature);
  // Signed without any -pkeyopt at all (the CLI's default id): also rejected.
  ASSERT_EQ(run_openssl("pkeyutl -sign -inkey " + priv + " -rawin -in " + msg + " -out " + sig +
                        " -digest sm3"),
            0);
  auto raw_default = sm2_signature_from_der(read_file(sig));
  ASSERT_TRUE(raw_default.ok());
  expect_error(sm2_verify(key.public_key(), message, *raw_default), ErrorCode::kBadSignature);
}

TEST_F(Sm2Cli, CliKeysAndCiphertextsInteroperate) {
  const std::string priv = dir_.file("key.pem"), pub = dir_.file("pub.pem");
  const std::string msg = dir_.file("msg"), ct = dir_.file("ct.der");
  ASSERT_EQ(run_openssl("genpkey -algorithm SM2 -out " + priv), 0);
  ASSERT_EQ(run_openssl("pkey -in " + priv + " -pubout -out " + pub), 0);
  const Bytes priv_pem = read_file(priv);
  auto key = Sm2PrivateKey::from_pem(SecretBytes(priv_pem));
  ASSERT_TRUE(key.ok()) << key.error().message;
  const Bytes pub_pem = read_file(pub);
  auto pub_key = Sm2PublicKey::from_pem(std::string(pub_pem.begin(), pub_pem.end()));
  ASSERT_TRUE(pub_key.ok()) << pub_key.error().message;
  EXPECT_EQ(to_hex(pub_key->to_bytes()), to_hex(key->public_key().to_bytes()));

  // The CLI encrypts to the key; we decrypt (same GM/T 0009 ASN.1 ciphertext format).
  const Bytes secret = to_bytes(std::string_view("id card 110101199003074512"));
  write_file(msg, secret);
  ASSERT_EQ(run_openssl("pkeyutl -encrypt -pubin -inkey " + pub + " -in " + msg + " -out " + ct),
            0);
  auto pt = sm2_decrypt(*key, read_file(ct));
  ASSERT_TRUE(pt.ok()) << pt.error().message;
  EXPECT_EQ(to_hex(pt->expose_secret()), to_hex(secret));

  // We encrypt; the CLI decrypts.
  const std::string ct2 = dir_.file("ct2.der"), out = dir_.file("out");
  write_file(ct2, sm2_encrypt(*pub_key, secret).value());
  ASSERT_EQ(run_openssl("pkeyutl -decrypt -inkey " + priv + " -in " + ct2 + " -out " + out), 0);
  EXPECT_EQ(to_hex(read_file(out)), to_hex(secret));
}

}  // namespace
}  // namespace anoncode::crypto
