// The credential's byte encodings, pinned: every serialized object (docs/PROTOCOL.md §6), built
// from seeded randomness on every group, must equal the bytes in tests/data/credential.vec, and
// decoding those bytes must give them back. The vectors were captured from the implementation
// before its codec was rewritten (issue #10), so any change to a byte on the wire fails here.
#include <gtest/gtest.h>

#include "crypto/credential.h"
#include "crypto/sm3.h"
#include "crypto/sm_test_util.h"
#include "crypto/test_util.h"

namespace anoncode::crypto {
namespace {

using CredentialCodecTest = PerGroup;
ANONCODE_PER_GROUP(CredentialCodecTest);

Bytes exposed(const SecretBytes& s) {
  return Bytes(s.expose_secret().begin(), s.expose_secret().end());
}

// Every object of the credential, named as in credential.vec, from one seeded run: an open, its
// issue, a plain show, and a refund that proves two wallet pseudonyms with the issuer's MAC proof.
std::vector<std::pair<std::string, Bytes>> encodings(const Group& g) {
  SeededRng rng("anoncode/credential-kat");
  IssuerKey key = IssuerKey::generate(g, rng);
  const IssuerPublicKey& pub = key.public_key();
  Issuer issuer(g);
  EXPECT_TRUE(issuer.add_key(key).ok());
  auto started = CredentialClient::begin_open(pub, sm3("kat/open"), rng);
  auto resp = issuer.issue(pub.kid(), started.request.Cn, rng);
  EXPECT_TRUE(resp.ok());
  auto cred = CredentialClient::finish_issue(started.pending, *resp, pub);
  EXPECT_TRUE(cred.ok());
  Nonce n1{}, n2{};
  rng.fill(n1);
  rng.fill(n2);
  auto shown = CredentialClient::show(*cred, pub, ShowOp::kRequestCode, n1, sm3("kat/show"), rng);
  EXPECT_TRUE(shown.ok());
  const std::vector<std::string> wallets{"AAAAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBBBB"};
  auto refund =
      CredentialClient::show(*cred, pub, ShowOp::kRefund, n2, sm3("kat/refund"), rng, wallets);
  EXPECT_TRUE(refund.ok());
  auto mac = issuer.prove_mac(refund->request, rng);
  EXPECT_TRUE(mac.ok());
  return {
      {"issuer_public_key", pub.encode()},
      {"issuer_key", exposed(key.encode_secret())},
      {"open_request", started.request.encode()},
      {"open_pending", exposed(started.pending.encode_secret())},
      {"issue_response", resp->encode()},
      {"credential", exposed(cred->encode_secret())},
      {"show_request", shown->request.encode()},
      {"show_pending", exposed(shown->pending.encode_secret())},
      {"refund_request", refund->request.encode()},
      {"refund_mac_proof", *mac},
  };
}

// Decodes `bytes` as a T and encodes it again.
template <typename T>
Result<Bytes> again(const Bytes& bytes) {
  ANONCODE_TRY(auto v, T::decode(bytes));
  return v.encode();
}
template <typename T>
Result<Bytes> again_secret(const Bytes& bytes) {
  ANONCODE_TRY(auto v, T::decode_secret(SecretBytes(bytes)));
  return exposed(v.encode_secret());
}

// Decodes `bytes` as the object `name` and encodes it again.
Result<Bytes> reencode(const std::string& name, const Bytes& bytes) {
  if (name == "issuer_public_key") return again<IssuerPublicKey>(bytes);
  if (name == "issuer_key") return again_secret<IssuerKey>(bytes);
  if (name == "open_request") return again<OpenRequest>(bytes);
  if (name == "issue_response") return again<IssueResponse>(bytes);
  if (name == "show_request" || name == "refund_request") return again<ShowRequest>(bytes);
  if (name == "open_pending" || name == "show_pending") return again_secret<PendingIssue>(bytes);
  if (name == "credential") return again_secret<Credential>(bytes);
  return bytes;  // the MAC proof is not an object of its own
}

TEST_P(CredentialCodecTest, EncodingsMatchTheKnownAnswers) {
  const auto records = testing::read_vec("credential.vec", "CREDENTIAL");
  const testing::VecRecord* rec = nullptr;
  for (const auto& r : records) {
    if (r.text("group") == g().name()) rec = &r;
  }
  ASSERT_NE(rec, nullptr) << "no vector for " << g().name();
  const auto objects = encodings(g());
  EXPECT_EQ(rec->fields.size(), objects.size() + 1);  // nothing in the file goes unchecked
  for (const auto& [name, bytes] : objects) {
    SCOPED_TRACE(name);
    const Bytes expected = rec->hex(name);
    EXPECT_EQ(to_hex(bytes), to_hex(expected));
    auto again = reencode(name, expected);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(to_hex(*again), to_hex(expected));
  }
}

// Where an object's elements are (docs/PROTOCOL.md §6): offset and kind — 'P' a point, '0' a
// point that may be the identity, 'S' a scalar.
struct Elements {
  bool from_others;  // a message (0x20–0x22) rather than a key or own state
  size_t header;     // bytes before the body: 3, or 5 for a show (op, count)
  std::vector<std::pair<size_t, char>> at;
};

Elements elements_of(const std::string& name, size_t p) {
  if (name == "issuer_public_key") return {false, 3, {{3, 'P'}}};
  if (name == "issuer_key") return {false, 3, {{3, 'S'}}};
  if (name == "open_request") return {true, 3, {{43, 'P'}, {43 + p, 'P'}}};
  if (name == "issue_response") return {true, 3, {{11, 'P'}, {11 + p, 'S'}, {43 + p, 'S'}}};
  if (name == "open_pending" || name == "show_pending" || name == "credential") {
    Elements e{false, 3, {{11, 'P'}}};
    const size_t scalars = name == "credential" ? 5 : 4;
    for (size_t i = 0; i < scalars; ++i) e.at.emplace_back(11 + p + 32 * i, 'S');
    return e;
  }
  // A show: A', Ā, D, s, R, Cn, then its pseudonyms (two in the refund).
  Elements e{true,
             5,
             {{77, 'P'},
              {77 + p, '0'},
              {77 + 2 * p, '0'},
              {77 + 3 * p, 'S'},
              {109 + 3 * p, 'S'},
              {141 + 3 * p, 'P'}}};
  if (name == "refund_request") {
    e.at.emplace_back(141 + 4 * p, 'P');
    e.at.emplace_back(141 + 5 * p, 'P');
  }
  return e;
}

// q in the group's scalar encoding: the smallest non-canonical scalar.
Bytes group_order(const Group& g) {
  return from_hex(g.id() == GroupId::kRistretto255
                      ? "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"
                      : "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123")
      .value();
}

void expect_error(const Result<Bytes>& r, ErrorCode code, std::string_view message) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, code);
  EXPECT_EQ(r.error().message, message);
}

// docs/PROTOCOL.md §6.1: the header and the length are structural (`malformed`); a bad element is
// the one opaque `verification_failed` in a message from others and `malformed` in a key or in
// our own state.
TEST_P(CredentialCodecTest, DecodersRejectEveryBadFieldWithTheDocumentedError) {
  const size_t p = g().point_size();
  const Bytes identity = g().encode_point(g().identity());
  const Bytes q = group_order(g());
  Bytes q_minus_1 = q;
  (g().id() == GroupId::kRistretto255 ? q_minus_1.front() : q_minus_1.back()) -= 1;
  for (const auto& [name, good] : encodings(g())) {
    if (name == "refund_mac_proof") continue;
    SCOPED_TRACE(name);
    const Elements e = elements_of(name, p);
    auto with = [&](size_t at, ByteView v) {
      Bytes b = good;
      std::copy(v.begin(), v.end(), b.begin() + static_cast<ptrdiff_t>(at));
      return reencode(name, b);
    };
    ASSERT_TRUE(reencode(name, good).ok());
    for (const auto& [at, kind] : e.at) {
      SCOPED_TRACE(at);
      const size_t len = kind == 'S' ? 32 : p;
      auto bad = [&](const Result<Bytes>& r) {
        if (e.from_others)
          return expect_error(r, ErrorCode::kVerificationFailed, "verification failed");
        expect_error(r, ErrorCode::kMalformed, kind == 'S' ? "bad scalar" : "bad group element");
      };
      bad(with(at, Bytes(len, 0xff)));  // not a point; a scalar far above q
      if (kind == 'S') {
        bad(with(at, q));
        EXPECT_TRUE(with(at, q_minus_1).ok());
      }
      if (kind == 'P') bad(with(at, identity));
      if (kind == '0') {
        EXPECT_TRUE(with(at, identity).ok());
      }
    }
    expect_error(with(0, Bytes{2}), ErrorCode::kMalformed, "unsupported version");
    expect_error(with(1, Bytes{0x23}), ErrorCode::kMalformed, "wrong object type");
    expect_error(with(2, Bytes{0x7f}), ErrorCode::kMalformed, "unknown group id");
    Bytes longer = good;
    longer.push_back(0);
    expect_error(reencode(name, longer), ErrorCode::kMalformed, "wrong length");
    expect_error(reencode(name, Bytes(good.begin(), good.end() - 1)), ErrorCode::kMalformed,
                 "wrong length");
    expect_error(reencode(name, Bytes(good.begin(), good.begin() + e.header + 1)),
                 ErrorCode::kMalformed, "wrong length");
    expect_error(reencode(name, Bytes(good.begin(), good.begin() + e.header - 1)),
                 ErrorCode::kMalformed, "truncated");
    if (e.header == 5) {
      for (uint8_t op : {0, 6}) {
        expect_error(with(3, Bytes{op}), ErrorCode::kMalformed, "unknown operation");
      }
      expect_error(with(4, Bytes{3}), ErrorCode::kMalformed, "too many pseudonyms");
      expect_error(with(4, Bytes{1}), ErrorCode::kMalformed, "wrong length");
    }
    if (name == "issuer_key") {
      expect_error(with(3, Bytes(32, 0)), ErrorCode::kMalformed, "issuer key: zero");
    }
  }
}

}  // namespace
}  // namespace anoncode::crypto
