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

// Decodes `bytes` as the object `name` and encodes it again.
Result<Bytes> reencode(const std::string& name, const Bytes& bytes) {
  if (name == "issuer_public_key") {
    ANONCODE_TRY(auto v, IssuerPublicKey::decode(bytes));
    return v.encode();
  }
  if (name == "issuer_key") {
    ANONCODE_TRY(auto v, IssuerKey::decode_secret(SecretBytes(bytes)));
    return exposed(v.encode_secret());
  }
  if (name == "open_request") {
    ANONCODE_TRY(auto v, OpenRequest::decode(bytes));
    return v.encode();
  }
  if (name == "issue_response") {
    ANONCODE_TRY(auto v, IssueResponse::decode(bytes));
    return v.encode();
  }
  if (name == "credential") {
    ANONCODE_TRY(auto v, Credential::decode_secret(SecretBytes(bytes)));
    return exposed(v.encode_secret());
  }
  if (name == "show_request" || name == "refund_request") {
    ANONCODE_TRY(auto v, ShowRequest::decode(bytes));
    return v.encode();
  }
  if (name == "open_pending" || name == "show_pending") {
    ANONCODE_TRY(auto v, PendingIssue::decode_secret(SecretBytes(bytes)));
    return exposed(v.encode_secret());
  }
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

}  // namespace
}  // namespace anoncode::crypto
