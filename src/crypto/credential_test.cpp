// The credential as DESIGN §3.3 describes it, on every group: honest flows, then every attack
// this layer must stop, each rejected with the one opaque `verification_failed`.
#include "crypto/credential.h"

#include <gtest/gtest.h>

#include <set>

#include "crypto/sm3.h"
#include "crypto/test_util.h"

namespace anoncode::crypto {
namespace {

ContextHash ctx_of(std::string_view s) {
  return sm3(s);
}

struct Rider {
  Credential cred;
  Point J;
};

class CredentialTest : public PerGroup {
 protected:
  void SetUp() override {
    key_ = std::make_unique<IssuerKey>(IssuerKey::generate(g(), rng_));
    issuer_ = std::make_unique<Issuer>(g());
    ASSERT_TRUE(issuer_->add_key(*key_).ok());
  }
  const IssuerPublicKey& pub() const { return key_->public_key(); }

  Rider open_rider(std::string_view user) {
    auto started = CredentialClient::begin_open(pub(), ctx_of(user), rng_);
    // Through the wire encoding, as a server sees it.
    auto req = OpenRequest::decode(started.request.encode());
    EXPECT_TRUE(req.ok());
    auto J = issuer_->verify_open(*req, ctx_of(user));
    EXPECT_TRUE(J.ok());
    auto resp = issuer_->issue(req->kid, req->Cn, rng_);
    EXPECT_TRUE(resp.ok());
    auto resp_wire = IssueResponse::decode(resp->encode());
    EXPECT_TRUE(resp_wire.ok());
    auto cred = CredentialClient::finish_issue(started.pending, *resp_wire, pub());
    EXPECT_TRUE(cred.ok());
    return Rider{*cred, *J};
  }

  CredentialClient::Shown show(const Credential& c, ShowOp op, const Nonce& n,
                               std::string_view ctx) {
    auto shown = CredentialClient::show(c, pub(), op, n, ctx_of(ctx), rng_);
    EXPECT_TRUE(shown.ok());
    return *shown;
  }

  Result<VerifiedShow> verify(const ShowRequest& req, std::string_view ctx,
                              const Point* J = nullptr) {
    return issuer_->verify_show(req, ctx_of(ctx), J, nonces_, now_);
  }

  // Shows `c`, verifies it, and returns the replacement credential.
  Credential show_and_renew(const Credential& c, ShowOp op = ShowOp::kRequestCode) {
    Nonce n = nonces_.issue(now_);
    auto shown = show(c, op, n, "wallet");
    auto v = verify(shown.request, "wallet");
    EXPECT_TRUE(v.ok());
    auto resp = issuer_->issue(v->kid, v->Cn, rng_);
    EXPECT_TRUE(resp.ok());
    auto next = CredentialClient::finish_issue(shown.pending, *resp, pub());
    EXPECT_TRUE(next.ok());
    return *next;
  }

  static void expect_opaque(const Status& s) {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kVerificationFailed);
    EXPECT_EQ(s.error().message, "verification failed");
  }
  template <typename T>
  static void expect_opaque(const Result<T>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kVerificationFailed);
    EXPECT_EQ(r.error().message, "verification failed");
  }

  SeededRng rng_{"credential-test"};
  std::unique_ptr<IssuerKey> key_;
  std::unique_ptr<Issuer> issuer_;
  MemoryNonceBook nonces_{60, rng_};
  int64_t now_ = 1'700'000'000;
};
ANONCODE_PER_GROUP(CredentialTest);

TEST_P(CredentialTest, OpenShowAndRenewAlongAChain) {
  Rider alice = open_rider("alice");
  EXPECT_TRUE(g().equal(alice.J, alice.cred.identity_commitment()));
  Credential c = alice.cred;
  std::set<Bytes> serials;
  for (int i = 0; i < 3; ++i) {
    auto s = g().encode_scalar(c.serial());
    EXPECT_TRUE(serials.insert(Bytes(s.begin(), s.end())).second);
    c = show_and_renew(c);
    // The renewed credential carries the same rider secret.
    EXPECT_TRUE(g().equal(c.identity_commitment(), alice.J));
  }
}

TEST_P(CredentialTest, EveryOperationVerifiesAndRefundProvesTheIdentity) {
  Rider r = open_rider("bob");
  for (ShowOp op : {ShowOp::kRecharge, ShowOp::kRequestCode, ShowOp::kQuery, ShowOp::kClose}) {
    r.cred = show_and_renew(r.cred, op);
  }
  Nonce n = nonces_.issue(now_);
  auto shown = show(r.cred, ShowOp::kRefund, n, "refund");
  EXPECT_TRUE(issuer_->verify_show_proof(shown.request, ctx_of("refund"), &r.J).ok());
  Rider other = open_rider("mallory");
  expect_opaque(issuer_->verify_show_proof(shown.request, ctx_of("refund"), &other.J));
  expect_opaque(issuer_->verify_show_proof(shown.request, ctx_of("refund"), nullptr));
  EXPECT_TRUE(verify(shown.request, "refund", &r.J).ok());
}

TEST_P(CredentialTest, SerializedStateRoundTrips) {
  Rider r = open_rider("carol");
  auto c2 = Credential::decode_secret(r.cred.encode_secret());
  ASSERT_TRUE(c2.ok());
  EXPECT_TRUE(c2->encode_secret().equals(r.cred.encode_secret()));
  auto k2 = IssuerKey::decode_secret(key_->encode_secret());
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(k2->kid(), key_->kid());
  auto p2 = IssuerPublicKey::decode(pub().encode());
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->kid(), pub().kid());
  EXPECT_EQ(pub().encode().size(), 3 + g().point_size());
  // A renewed credential from a decoded one still works.
  show_and_renew(*c2);
}

// DESIGN §3.6 rule 3: a show proves P_B = sk·G_B for the wallets it acts on, under the same sk.
TEST_P(CredentialTest, WalletPseudonymsAreProvenAndBoundToTheirWallets) {
  Rider r = open_rider("erin");
  const std::vector<std::string> one{"WALLETAAAAAAAAAAAAAAAAAA"};
  const std::vector<std::string> two{"WALLETAAAAAAAAAAAAAAAAAA", "WALLETBBBBBBBBBBBBBBBBBB"};
  Nonce n = nonces_.issue(now_);
  auto shown = CredentialClient::show(r.cred, pub(), ShowOp::kRecharge, n, ctx_of("w"), rng_, two);
  ASSERT_TRUE(shown.ok());
  ASSERT_EQ(shown->request.pseudonyms.size(), 2u);
  auto decoded = ShowRequest::decode(shown->request.encode());
  ASSERT_TRUE(decoded.ok());
  auto v = issuer_->verify_show_proof(*decoded, ctx_of("w"), nullptr, two);
  ASSERT_TRUE(v.ok());
  // P_B is the same for every show of one chain on one wallet, and differs across wallets.
  EXPECT_FALSE(g().equal(v->pseudonyms[0], v->pseudonyms[1]));
  auto again =
      CredentialClient::show(r.cred, pub(), ShowOp::kRequestCode, n, ctx_of("w"), rng_, one);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(g().equal(again->request.pseudonyms[0], shown->request.pseudonyms[0]));
  // Verified against other wallets, fewer wallets, or with a pseudonym swapped: refused.
  const std::vector<std::string> swapped{two[1], two[0]};
  expect_opaque(issuer_->verify_show_proof(*decoded, ctx_of("w"), nullptr, swapped));
  expect_opaque(issuer_->verify_show_proof(*decoded, ctx_of("w"), nullptr, one));
  ShowRequest forged = *decoded;
  forged.pseudonyms[0] = g().mul_base(g().scalar_from_u64(5));
  expect_opaque(issuer_->verify_show_proof(forged, ctx_of("w"), nullptr, two));
  // Another rider's credential proves another pseudonym for the same wallet.
  Rider other = open_rider("fred");
  auto theirs =
      CredentialClient::show(other.cred, pub(), ShowOp::kRequestCode, n, ctx_of("w"), rng_, one);
  ASSERT_TRUE(theirs.ok());
  EXPECT_FALSE(g().equal(theirs->request.pseudonyms[0], shown->request.pseudonyms[0]));
  // More than two wallets is not a show.
  const std::vector<std::string> three{"A", "B", "C"};
  EXPECT_FALSE(
      CredentialClient::show(r.cred, pub(), ShowOp::kRecharge, n, ctx_of("w"), rng_, three).ok());
}

TEST_P(CredentialTest, EveryTamperedShowElementIsRejected) {
  Rider r = open_rider("dave");
  Nonce n = nonces_.issue(now_);
  const ShowRequest good = show(r.cred, ShowOp::kRequestCode, n, "wallet").request;
  Point other_point = g().mul_base(g().scalar_from_u64(7));
  Scalar one = g().scalar_from_u64(1);
  std::vector<std::pair<std::string, std::function<void(ShowRequest&)>>> tampers = {
      {"A'", [&](ShowRequest& q) { q.A_prime = g().add(q.A_prime, other_point); }},
      {"Abar", [&](ShowRequest& q) { q.A_bar = g().add(q.A_bar, other_point); }},
      {"D", [&](ShowRequest& q) { q.D = g().add(q.D, other_point); }},
      {"s", [&](ShowRequest& q) { q.s = g().add(q.s, one); }},
      {"R", [&](ShowRequest& q) { q.R = g().add(q.R, one); }},
      {"Cn", [&](ShowRequest& q) { q.Cn = g().add(q.Cn, other_point); }},
      {"nonce", [&](ShowRequest& q) { q.nonce[0] ^= 1; }},
      {"ctx", [&](ShowRequest& q) { q.ctx[0] ^= 1; }},
      {"op", [&](ShowRequest& q) { q.op = ShowOp::kQuery; }},
      {"kid", [&](ShowRequest& q) { q.kid[0] ^= 1; }},
      {"A'=identity",
       [&](ShowRequest& q) {
         q.A_prime = g().identity();
         q.A_bar = g().identity();
       }},
  };
  for (const auto& [name, tamper] : tampers) {
    ShowRequest q = good;
    tamper(q);
    SCOPED_TRACE(name);
    expect_opaque(
        issuer_->verify_show_proof(q, name == "ctx" ? ctx_of("x") : ctx_of("wallet"), nullptr));
  }
  // Every byte of the proof, and every byte of the whole encoding.
  Bytes enc = good.encode();
  for (size_t i = 0; i < enc.size(); ++i) {
    Bytes t = enc;
    t[i] ^= 0x01;
    auto q = ShowRequest::decode(t);
    if (!q) {
      // Only the header (version, type, group, op, pseudonym count) is structural; the body
      // fails opaquely.
      if (i >= 5) expect_opaque(q);
      continue;
    }
    auto v = issuer_->verify_show_proof(*q, ctx_of("wallet"), nullptr);
    ASSERT_FALSE(v.ok()) << "byte " << i;
    EXPECT_EQ(v.error().code, ErrorCode::kVerificationFailed);
  }
  // Untouched, it still verifies (so the rejections above are the tampering's doing).
  EXPECT_TRUE(verify(good, "wallet").ok());
}

TEST_P(CredentialTest, EachBrokenRelationIsRejected) {
  Rider r = open_rider("erin");
  for (int relation = 1; relation <= 4; ++relation) {
    SCOPED_TRACE(relation);
    Nonce n = nonces_.issue(now_);
    auto shown = CredentialClient::show_breaking_relation_for_test(
        r.cred, pub(), ShowOp::kRequestCode, n, ctx_of("wallet"), rng_, relation);
    ASSERT_TRUE(shown.ok());
    expect_opaque(verify(shown->request, "wallet"));
  }
}

TEST_P(CredentialTest, WrongIssuerKeyIsRejected) {
  Rider r = open_rider("frank");
  IssuerKey other = IssuerKey::generate(g(), rng_);
  // A verifier that does not hold the credential's key.
  Issuer stranger(g());
  ASSERT_TRUE(stranger.add_key(other).ok());
  Nonce n = nonces_.issue(now_);
  ShowRequest req = show(r.cred, ShowOp::kRequestCode, n, "wallet").request;
  expect_opaque(stranger.verify_show_proof(req, ctx_of("wallet"), nullptr));
  // A request that names another active key than the one that issued it.
  ASSERT_TRUE(issuer_->add_key(other).ok());
  req.kid = other.kid();
  expect_opaque(issuer_->verify_show_proof(req, ctx_of("wallet"), nullptr));
  // A client refuses a credential issued under another key than the one it asked for.
  auto started = CredentialClient::begin_open(pub(), ctx_of("frank2"), rng_);
  auto resp = issuer_->issue(other.kid(), started.request.Cn, rng_);
  ASSERT_TRUE(resp.ok());
  expect_opaque(CredentialClient::finish_issue(started.pending, *resp, pub()));
  resp->kid = pub().kid();
  expect_opaque(CredentialClient::finish_issue(started.pending, *resp, pub()));
}

TEST_P(CredentialTest, TamperedIssueResponseIsRejectedByTheClient) {
  auto started = CredentialClient::begin_open(pub(), ctx_of("gina"), rng_);
  auto resp = issuer_->issue(pub().kid(), started.request.Cn, rng_);
  ASSERT_TRUE(resp.ok());
  Scalar one = g().scalar_from_u64(1);
  for (int field = 0; field < 3; ++field) {
    IssueResponse t = *resp;
    if (field == 0) t.A = g().add(t.A, g().generator());
    if (field == 1) t.e = g().add(t.e, one);
    if (field == 2) t.r2 = g().add(t.r2, one);
    expect_opaque(CredentialClient::finish_issue(started.pending, t, pub()));
  }
  Bytes enc = resp->encode();
  for (size_t i = 3; i < enc.size(); ++i) {
    Bytes t = enc;
    t[i] ^= 0x80;
    auto d = IssueResponse::decode(t);
    if (!d) continue;
    EXPECT_FALSE(CredentialClient::finish_issue(started.pending, *d, pub()).ok()) << "byte " << i;
  }
  EXPECT_TRUE(CredentialClient::finish_issue(started.pending, *resp, pub()).ok());
}

TEST_P(CredentialTest, OpenIsBoundToItsContextAndItsJ) {
  auto started = CredentialClient::begin_open(pub(), ctx_of("henry"), rng_);
  expect_opaque(issuer_->verify_open(started.request, ctx_of("somebody-else")));
  OpenRequest t = started.request;
  t.J = g().add(t.J, g().generator());
  expect_opaque(issuer_->verify_open(t, ctx_of("henry")));
  t = started.request;
  t.Cn = g().add(t.Cn, g().generator());
  expect_opaque(issuer_->verify_open(t, ctx_of("henry")));
  EXPECT_TRUE(issuer_->verify_open(started.request, ctx_of("henry")).ok());
}

TEST_P(CredentialTest, StaleOrReusedNonceIsRejected) {
  Rider r = open_rider("ivy");
  Nonce n = nonces_.issue(now_);
  ShowRequest req = show(r.cred, ShowOp::kRequestCode, n, "wallet").request;
  now_ += 61;  // the nonce lives 60 s
  expect_opaque(verify(req, "wallet"));
  now_ -= 61;
  // A nonce the server never issued.
  Nonce made_up{};
  made_up[5] = 1;
  expect_opaque(verify(show(r.cred, ShowOp::kRequestCode, made_up, "wallet").request, "wallet"));
  // Used once, then again.
  Nonce n2 = nonces_.issue(now_);
  ShowRequest req2 = show(r.cred, ShowOp::kRequestCode, n2, "wallet").request;
  EXPECT_TRUE(verify(req2, "wallet").ok());
  expect_opaque(verify(req2, "wallet"));
}

TEST_P(CredentialTest, ACloneIsTracedToItsOwnerAndNobodyElse) {
  Rider alice = open_rider("alice");
  Rider bob = open_rider("bob");
  bob.cred = show_and_renew(bob.cred);  // innocent activity

  // Alice's wallet is copied to a second phone; both copies show the same credential.
  Nonce n1 = nonces_.issue(now_), n2 = nonces_.issue(now_);
  auto v1 = verify(show(alice.cred, ShowOp::kRequestCode, n1, "wallet").request, "wallet");
  auto v2 = verify(show(alice.cred, ShowOp::kRecharge, n2, "wallet").request, "wallet");
  ASSERT_TRUE(v1.ok());
  ASSERT_TRUE(v2.ok());
  ASSERT_TRUE(v1->s.ct_equal(v2->s));  // the registry sees the same SN twice
  auto traced = trace_double_show(g(), v1->R, v1->C, v2->R, v2->C);
  ASSERT_TRUE(traced.ok());
  EXPECT_TRUE(g().equal(traced->J, alice.J));
  EXPECT_FALSE(g().equal(traced->J, bob.J));

  // One show reveals nothing of the kind: Bob's show paired with Alice's gives nobody.
  Nonce n3 = nonces_.issue(now_);
  auto vb = verify(show(bob.cred, ShowOp::kRequestCode, n3, "wallet").request, "wallet");
  ASSERT_TRUE(vb.ok());
  auto wrong = trace_double_show(g(), v1->R, v1->C, vb->R, vb->C);
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(g().equal(wrong->J, alice.J));
  EXPECT_FALSE(g().equal(wrong->J, bob.J));
  // The same request twice (same nonce and op) is a replay, not a clone.
  EXPECT_EQ(trace_double_show(g(), v1->R, v1->C, v1->R, v1->C).error().code,
            ErrorCode::kInvalidArgument);
}

// DESIGN §3.6 rule 7: the issuer's DLEQ proof of Ā = x·A' lets anyone holding W check a show —
// the same checks as verify_show_proof, with the proof in place of x.
TEST_P(CredentialTest, TheIssuersMacProofLetsAnyoneCheckAShow) {
  Rider r = open_rider("mia");
  const std::vector<std::string> scopes{"WALLETAAAAAAAAAAAAAAAAAA"};
  Nonce n1 = nonces_.issue(now_), n2 = nonces_.issue(now_);
  auto shown = CredentialClient::show(r.cred, pub(), ShowOp::kRequestCode, n1, ctx_of("wallet"),
                                      rng_, scopes);
  ASSERT_TRUE(shown.ok());
  // Through the wire encoding, as a third party gets it.
  auto req = ShowRequest::decode(shown->request.encode());
  ASSERT_TRUE(req.ok());
  auto proof = issuer_->prove_mac(*req, rng_);
  ASSERT_TRUE(proof.ok()) << proof.error().message;
  auto v = verify_show_public(pub(), *req, nullptr, scopes, *proof);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v->s.ct_equal(r.cred.serial()));
  auto by_issuer = issuer_->verify_show_proof(*req, ctx_of("wallet"), nullptr, scopes);
  ASSERT_TRUE(by_issuer.ok());
  EXPECT_TRUE(v->C.ct_equal(by_issuer->C));
  // A refund, checked against the J it proves.
  auto refund = CredentialClient::show(r.cred, pub(), ShowOp::kRefund, n2, ctx_of("refund"), rng_);
  ASSERT_TRUE(refund.ok());
  auto refund_proof = issuer_->prove_mac(refund->request, rng_);
  ASSERT_TRUE(refund_proof.ok());
  EXPECT_TRUE(verify_show_public(pub(), refund->request, &r.J, {}, *refund_proof).ok());
  expect_opaque(verify_show_public(pub(), refund->request, nullptr, {}, *refund_proof));

  // A tampered show: any changed element, and the ctx or the scopes it is checked with.
  ShowRequest tampered = *req;
  tampered.s = g().add(tampered.s, g().scalar_from_u64(1));
  expect_opaque(verify_show_public(pub(), tampered, nullptr, scopes, *proof));
  tampered = *req;
  tampered.ctx[0] ^= 1;
  expect_opaque(verify_show_public(pub(), tampered, nullptr, scopes, *proof));
  const std::vector<std::string> other_scopes{"OTHERWALLETAAAAAAAAAAAAA"};
  expect_opaque(verify_show_public(pub(), *req, nullptr, other_scopes, *proof));
  expect_opaque(verify_show_public(pub(), *req, nullptr, {}, *proof));
  Bytes flipped = req->encode();
  flipped[flipped.size() / 2] ^= 1;
  if (auto f = ShowRequest::decode(flipped); f.ok()) {
    expect_opaque(verify_show_public(pub(), *f, nullptr, scopes, *proof));
  }
  // A proof made for another show (the refund) is no proof for this one.
  expect_opaque(verify_show_public(pub(), *req, nullptr, scopes, *refund_proof));
  Bytes bad_proof = *proof;
  bad_proof[5] ^= 1;
  expect_opaque(verify_show_public(pub(), *req, nullptr, scopes, bad_proof));
  expect_opaque(verify_show_public(pub(), *req, nullptr, scopes, Bytes(proof->size() - 1)));

  // A proof under another key: that issuer cannot attest a MAC it did not make, a proof by it
  // does not verify under this key, and this key's proof does not verify under that one.
  IssuerKey other_key = IssuerKey::generate(g(), rng_);
  Issuer other(g());
  ASSERT_TRUE(other.add_key(other_key).ok());
  EXPECT_EQ(other.prove_mac(*req, rng_).error().code, ErrorCode::kUnknownKey);
  ShowRequest renamed = *req;
  renamed.kid = other_key.kid();
  expect_opaque(other.prove_mac(renamed, rng_));
  expect_opaque(verify_show_public(other_key.public_key(), *req, nullptr, scopes, *proof));
  expect_opaque(verify_show_public(other_key.public_key(), renamed, nullptr, scopes, *proof));

  // A forged Ā: a credential MACed under another key x' but naming this key's kid makes a show
  // whose proof holds (the proof never involves x) and whose Ā = x'·A' ≠ x·A'. The issuer will
  // not attest it, and no proof at hand makes it pass.
  auto started = CredentialClient::begin_open(other_key.public_key(), ctx_of("forger"), rng_);
  auto resp = other.issue(other_key.kid(), started.request.Cn, rng_);
  ASSERT_TRUE(resp.ok());
  auto foreign = CredentialClient::finish_issue(started.pending, *resp, other_key.public_key());
  ASSERT_TRUE(foreign.ok());
  SecretBytes secret = foreign->encode_secret();
  Bytes raw(secret.expose_secret().begin(), secret.expose_secret().end());
  std::copy(pub().kid().begin(), pub().kid().end(), raw.begin() + 3);
  auto relabelled = Credential::decode_secret(SecretBytes(raw));
  ASSERT_TRUE(relabelled.ok());
  Nonce n3 = nonces_.issue(now_);
  auto forged = CredentialClient::show(*relabelled, pub(), ShowOp::kRequestCode, n3,
                                       ctx_of("wallet"), rng_, scopes);
  ASSERT_TRUE(forged.ok());
  expect_opaque(issuer_->verify_show_proof(forged->request, ctx_of("wallet"), nullptr, scopes));
  expect_opaque(issuer_->prove_mac(forged->request, rng_));
  expect_opaque(verify_show_public(pub(), forged->request, nullptr, scopes, *proof));
  // A DLEQ by the forger, who knows x': true under its own key W' = x'·B and kid, it does not
  // verify under W.
  ShowRequest self_labelled = forged->request;
  self_labelled.kid = other_key.kid();
  auto forger_proof = other.prove_mac(self_labelled, rng_);
  ASSERT_TRUE(forger_proof.ok());  // true for x', under its own kid
  expect_opaque(verify_show_public(pub(), forged->request, nullptr, scopes, *forger_proof));
}

// The elements a show puts on the wire, each as its encoding.
std::vector<Bytes> elements(const Group& g, const ShowRequest& q) {
  std::vector<Bytes> out{g.encode_point(q.A_prime), g.encode_point(q.A_bar), g.encode_point(q.D),
                         g.encode_point(q.Cn)};
  for (const Scalar* s : {&q.s, &q.R}) {
    auto b = g.encode_scalar(*s);
    out.emplace_back(b.begin(), b.end());
  }
  for (size_t i = 0; i + 32 <= q.proof.size(); i += 32)
    out.emplace_back(q.proof.begin() + i, q.proof.begin() + i + 32);
  return out;
}

TEST_P(CredentialTest, ShowsAreUnlinkable) {
  Rider r = open_rider("jack");
  Nonce n1 = nonces_.issue(now_);
  auto first = show(r.cred, ShowOp::kRequestCode, n1, "wallet");
  auto v = verify(first.request, "wallet");
  ASSERT_TRUE(v.ok());
  auto next =
      CredentialClient::finish_issue(first.pending, *issuer_->issue(v->kid, v->Cn, rng_), pub());
  ASSERT_TRUE(next.ok());
  Nonce n2 = nonces_.issue(now_);
  auto second = show(*next, ShowOp::kRequestCode, n2, "wallet");
  // Two consecutive shows of one rider share no encoded element.
  auto a = elements(g(), first.request), b = elements(g(), second.request);
  for (const auto& x : a) {
    for (const auto& y : b) EXPECT_NE(x, y);
  }
  // Showing the very same credential twice shares exactly one element: the serial.
  Nonce n3 = nonces_.issue(now_);
  auto again = show(r.cred, ShowOp::kRequestCode, n3, "wallet");
  auto c = elements(g(), again.request);
  int shared = 0;
  for (const auto& x : a) {
    for (const auto& y : c) shared += x == y;
  }
  EXPECT_EQ(shared, 1);
}

TEST_P(CredentialTest, DeterministicWithPinnedRandomness) {
  auto run = [&] {
    SeededRng rng("pinned");
    IssuerKey key = IssuerKey::generate(g(), rng);
    auto started = CredentialClient::begin_open(key.public_key(), ctx_of("k"), rng);
    return started.request.encode();
  };
  EXPECT_EQ(run(), run());
}

TEST_P(CredentialTest, DecodersRejectRandomAndTruncatedBytes) {
  Rider r = open_rider("kate");
  Nonce n = nonces_.issue(now_);
  auto shown = show(r.cred, ShowOp::kRefund, n, "wallet");
  auto open = CredentialClient::begin_open(pub(), ctx_of("kate2"), rng_);
  auto resp = issuer_->issue(pub().kid(), open.request.Cn, rng_);
  ASSERT_TRUE(resp.ok());
  std::vector<Bytes> valid = {shown.request.encode(), open.request.encode(), resp->encode(),
                              pub().encode()};
  auto decode_any = [](size_t which, ByteView b) -> bool {
    switch (which) {
      case 0:
        return ShowRequest::decode(b).ok();
      case 1:
        return OpenRequest::decode(b).ok();
      case 2:
        return IssueResponse::decode(b).ok();
      default:
        return IssuerPublicKey::decode(b).ok();
    }
  };
  for (size_t w = 0; w < valid.size(); ++w) {
    ASSERT_TRUE(decode_any(w, valid[w]));
    for (size_t len = 0; len < valid[w].size(); ++len) {
      EXPECT_FALSE(decode_any(w, ByteView(valid[w]).first(len))) << "type " << w << " len " << len;
    }
    Bytes longer = valid[w];
    longer.push_back(0);
    EXPECT_FALSE(decode_any(w, longer));
    // A valid header with a random body may decode (random points are often valid), but it
    // never verifies.
    for (int i = 0; i < 200; ++i) {
      Bytes junk(valid[w].size());
      rng_.fill(junk);
      std::copy_n(valid[w].begin(), w == 0 ? 4 : 3, junk.begin());
      bool verified = false;
      if (auto q = ShowRequest::decode(junk); w == 0 && q) {
        verified = issuer_->verify_show_proof(*q, q->ctx, &r.J).ok();
      } else if (auto o = OpenRequest::decode(junk); w == 1 && o) {
        verified = issuer_->verify_open(*o, o->ctx).ok();
      } else if (auto p = IssueResponse::decode(junk); w == 2 && p) {
        verified = CredentialClient::finish_issue(open.pending, *p, pub()).ok();
      }
      EXPECT_FALSE(verified) << "type " << w;
    }
  }
  // Secret state: truncated or with trailing bytes is malformed.
  SecretBytes cred = r.cred.encode_secret();
  SecretBytes cut(cred.expose_secret().first(cred.size() - 1));
  EXPECT_EQ(Credential::decode_secret(cut).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(Credential::decode_secret(SecretBytes()).error().code, ErrorCode::kMalformed);
}

}  // namespace
}  // namespace anoncode::crypto
