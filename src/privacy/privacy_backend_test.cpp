// The privacy backend as a rider and an attacker meet it, on SQLite and on PostgreSQL. Each test
// reads as steps (STYLE.md, after GNU Taler), including the attacks.
#include "privacy/privacy_backend.h"
#include "crypto/test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "crypto/sm2.h"

#include "storage/test_databases.h"

namespace anoncode::privacy {
namespace {

using crypto::Credential;
using crypto::CredentialClient;
using crypto::ShowOp;

class PrivacyBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ANONCODE_REQUIRE_BACKEND(GetParam());
    auto db = storage::Db::open(storage::testing::fresh_database_url(GetParam()));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    std::vector<crypto::IssuerKey> keys;
    keys.push_back(crypto::IssuerKey::generate(g(), rng_));
    backend_ = std::make_unique<PrivacyBackend>(*db_, g(), std::move(keys), rng_);
  }
  const crypto::Group& g() const { return crypto::service_test_group(); }
  const crypto::IssuerPublicKey& pub() const { return backend_->issuing_key(); }

  Credential open(const std::string& user) {
    auto started = CredentialClient::begin_open(pub(), protocol::open_context_hash(user), rng_);
    auto resp = backend_->open(user, started.request.encode(), now_);
    EXPECT_TRUE(resp.ok()) << resp.error().message;
    auto cred = CredentialClient::finish_issue(started.pending,
                                               *crypto::IssueResponse::decode(*resp), pub());
    EXPECT_TRUE(cred.ok());
    return *cred;
  }

  static protocol::ShowContext wallet_ctx(ShowOp op = ShowOp::kRequestCode,
                                          std::string b = "WALLETAAAAAAAAAAAAAAAAAA") {
    return protocol::ShowContext{op, std::move(b), "1234567890123456789", 0, "", {}};
  }

  // A show request for `cred` under a fresh nonce, and the client's pending state.
  CredentialClient::Shown make_show(const Credential& cred, const protocol::ShowContext& ctx) {
    auto nonce = backend_->new_nonce(now_);
    EXPECT_TRUE(nonce.ok());
    auto shown = CredentialClient::show(cred, pub(), ctx.op, *nonce, ctx.hash(), rng_, ctx.scopes);
    EXPECT_TRUE(shown.ok());
    return *shown;
  }

  Credential renew(const CredentialClient::Shown& shown, const ShowOutcome& out) {
    auto resp = crypto::IssueResponse::decode(out.issue_response);
    EXPECT_TRUE(resp.ok());
    auto next = CredentialClient::finish_issue(shown.pending, *resp, pub());
    EXPECT_TRUE(next.ok());
    return *next;
  }

  crypto::SeededRng rng_{"privacy-backend-test"};
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<PrivacyBackend> backend_;
  int64_t now_ = 1'764'000'000'000;
};

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyBackendTest,
                         ::testing::ValuesIn(storage::testing::test_backends()),
                         [](const auto& info) { return info.param; });

TEST_P(PrivacyBackendTest, OpenThenShowAlongTheCredentialChain) {
  Credential c = open("alice");
  for (ShowOp op : {ShowOp::kRecharge, ShowOp::kRequestCode, ShowOp::kQuery}) {
    auto shown = make_show(c, wallet_ctx(op));
    auto out = backend_->show(shown.request.encode(), wallet_ctx(op), now_);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_FALSE(out->replayed);
    c = renew(shown, *out);
  }
  EXPECT_TRUE(backend_->violations()->empty());
}

TEST_P(PrivacyBackendTest, ARetriedRequestGetsTheStoredResponseAndIsNotAClone) {
  Credential c = open("alice");
  auto shown = make_show(c, wallet_ctx());
  Bytes request = shown.request.encode();
  auto first = backend_->show(request, wallet_ctx(), now_);
  ASSERT_TRUE(first.ok());
  // The reply is lost; the SDK sends the very same request again, even after the nonce expired.
  auto again = backend_->show(request, wallet_ctx(), now_ + 120'000);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->issue_response, first->issue_response);
  EXPECT_TRUE(backend_->violations()->empty());
  renew(shown, *again);  // the stored response is a valid credential for the rider
}

TEST_P(PrivacyBackendTest, AClonedWalletIsTracedToItsOwnerAndNobodyElse) {
  Credential alice = open("alice");
  Credential bob = open("bob");
  auto b1 = make_show(bob, wallet_ctx(ShowOp::kRequestCode, "BOBWALLETAAAAAAAAAAAAAAA"));
  ASSERT_TRUE(backend_
                  ->show(b1.request.encode(),
                         wallet_ctx(ShowOp::kRequestCode, "BOBWALLETAAAAAAAAAAAAAAA"), now_)
                  .ok());

  // Alice's phone is copied; the original and the copy both show the same credential.
  auto original = make_show(alice, wallet_ctx());
  ASSERT_TRUE(backend_->show(original.request.encode(), wallet_ctx(), now_).ok());
  auto copy = make_show(alice, wallet_ctx(ShowOp::kRecharge));
  auto refused = backend_->show(copy.request.encode(), wallet_ctx(ShowOp::kRecharge), now_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kSnReused);

  auto v = backend_->violations();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].kind, "clone");
  ASSERT_TRUE((*v)[0].user_id.has_value());
  EXPECT_EQ(*(*v)[0].user_id, "alice");
  EXPECT_EQ((*v)[0].wallet_b, "WALLETAAAAAAAAAAAAAAAAAA");

  // DESIGN §3.6 rule 7: the violation carries evidence that public keys alone check, and that
  // traces to alice's J.
  ASSERT_TRUE((*v)[0].evidence.has_value());
  auto checked =
      protocol::verify_evidence(nlohmann::json::parse(*(*v)[0].evidence), backend_->public_keys());
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(checked->j, *backend_->identity_of("alice"));
  EXPECT_EQ(protocol::evidence_status((*v)[0].evidence, backend_->public_keys()), "verified");
}

// DESIGN §3.6 rule 7: both shows as they came — here a refund proving the user's J and a recharge
// proving two wallet pseudonyms — with the issuer's proof of each MAC, checked against the
// published, root-signed key set; any change to the evidence makes it fail.
TEST_P(PrivacyBackendTest, TheEvidenceOfACloneIsCheckedWithThePublishedKeysAlone) {
  Credential c = open("olga");
  protocol::ShowContext refund{ShowOp::kRefund,
                               "WALLETAAAAAAAAAAAAAAAAAA",
                               "1234567890123456789",
                               500,
                               "",
                               {"WALLETAAAAAAAAAAAAAAAAAA"}};
  protocol::ShowContext recharge{ShowOp::kRecharge,
                                 "WALLETBBBBBBBBBBBBBBBBBB",
                                 "9876543210987654321",
                                 1500,
                                 "",
                                 {"WALLETAAAAAAAAAAAAAAAAAA", "WALLETBBBBBBBBBBBBBBBBBB"}};
  auto original = make_show(c, refund);
  ASSERT_TRUE(backend_->show(original.request.encode(), refund, now_, "olga").ok());
  auto copy = make_show(c, recharge);
  EXPECT_EQ(backend_->show(copy.request.encode(), recharge, now_ + 1000).error().code,
            ErrorCode::kSnReused);
  auto v = backend_->violations();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  auto stored = backend_->violation((*v)[0].id);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->evidence.has_value());
  const nlohmann::json evidence = nlohmann::json::parse(*stored->evidence);
  EXPECT_EQ(evidence["version"], 1);
  EXPECT_EQ(evidence["shows"][0]["request"], to_hex(original.request.encode()));
  EXPECT_EQ(evidence["shows"][0]["context"]["amount"], 500);
  EXPECT_EQ(evidence["shows"][1]["context"]["wallet"], "WALLETBBBBBBBBBBBBBBBBBB");

  // The keys as a client gets them: the published key set, signed by the root.
  auto root = *crypto::Sm2PrivateKey::generate();
  auto published = backend_->publish_keyset(root, now_, 365LL * 86'400'000);
  ASSERT_TRUE(published.ok());
  auto set = protocol::verify_keyset(*published, root.public_key(), 1, now_);
  ASSERT_TRUE(set.ok());
  auto keys = protocol::issuer_keys_of(std::span(&*set, 1));
  ASSERT_TRUE(keys.ok());
  auto from_backend = backend_->published_keys();
  ASSERT_TRUE(from_backend.ok());
  ASSERT_EQ(from_backend->size(), 1u);
  auto checked = protocol::verify_evidence(evidence, *keys);
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(checked->j, *backend_->identity_of("olga"));
  EXPECT_EQ(protocol::evidence_status(stored->evidence, *from_backend), "verified");

  auto expect_fails = [&](const nlohmann::json& bad, ErrorCode code, const char* what) {
    auto r = protocol::verify_evidence(bad, *keys);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, code) << what << ": " << r.error().message;
    EXPECT_EQ(protocol::evidence_status(bad.dump(), *keys), "invalid") << what;
  };
  // A flipped byte in either show, anywhere in its request.
  for (size_t show : {0, 1}) {
    const Bytes request = *from_hex(evidence["shows"][show]["request"].get<std::string>());
    for (size_t at : {size_t{40}, request.size() / 2, request.size() - 1}) {
      nlohmann::json bad = evidence;
      Bytes flipped = request;
      flipped[at] ^= 1;
      bad["shows"][show]["request"] = to_hex(flipped);
      expect_fails(bad, ErrorCode::kVerificationFailed, "a flipped byte");
    }
  }
  {
    nlohmann::json bad = evidence;  // the proofs swapped
    std::swap(bad["shows"][0]["mac_proof"], bad["shows"][1]["mac_proof"]);
    expect_fails(bad, ErrorCode::kVerificationFailed, "swapped proofs");
  }
  {
    nlohmann::json bad = evidence;  // the J claimed is another rider's
    bad["j"] = to_hex(*backend_->identity_of("olga")).replace(0, 2, "00");
    expect_fails(bad, ErrorCode::kVerificationFailed, "another J");
    open("pavel");
    bad["j"] = to_hex(*backend_->identity_of("pavel"));
    expect_fails(bad, ErrorCode::kVerificationFailed, "pavel's J");
  }
  {
    nlohmann::json bad = evidence;  // the refund checked against nobody's J, or the scopes changed
    bad["shows"][0]["context"]["identity"] = nullptr;
    expect_fails(bad, ErrorCode::kVerificationFailed, "no identity");
    bad = evidence;
    bad["shows"][1]["context"]["scopes"] = {"WALLETBBBBBBBBBBBBBBBBBB", "WALLETAAAAAAAAAAAAAAAAAA"};
    expect_fails(bad, ErrorCode::kVerificationFailed, "scopes reordered");
  }
  {
    nlohmann::json bad = evidence;  // one show twice is a replay, not a clone
    bad["shows"][1] = bad["shows"][0];
    expect_fails(bad, ErrorCode::kVerificationFailed, "the same show twice");
  }
  expect_fails(nlohmann::json{{"version", 2}}, ErrorCode::kMalformed, "unknown version");
  // Keys that are not the issuer's.
  std::vector<crypto::IssuerPublicKey> none;
  EXPECT_EQ(protocol::verify_evidence(evidence, none).error().code, ErrorCode::kUnknownKey);
}

// A clone of a show recorded before migration 0007 (no bytes kept) is traced all the same; its
// violation has no evidence.
TEST_P(PrivacyBackendTest, AFirstShowRecordedWithoutItsBytesLeavesNoEvidence) {
  Credential c = open("quinn");
  auto first = make_show(c, wallet_ctx());
  ASSERT_TRUE(backend_->show(first.request.encode(), wallet_ctx(), now_).ok());
  ASSERT_TRUE(db_->transact([](storage::Tx& tx) -> Status {
                   ANONCODE_CHECK(
                       tx.exec("UPDATE certification_transactions SET "
                               "show_request = NULL, show_context = NULL"));
                   return {};
                 })
                  .ok());
  auto second = make_show(c, wallet_ctx());
  EXPECT_EQ(backend_->show(second.request.encode(), wallet_ctx(), now_).error().code,
            ErrorCode::kSnReused);
  auto v = backend_->violations();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].user_id.value_or("?"), "quinn");
  EXPECT_FALSE((*v)[0].evidence.has_value());
  EXPECT_EQ(protocol::evidence_status((*v)[0].evidence, backend_->public_keys()), "absent");
}

// DESIGN §3.6 rule 1: a show whose first copy was lost on the way is resent with its nonce when
// the rider is online again — hours later — and accepted as a first show.
TEST_P(PrivacyBackendTest, LostRequestIsAcceptedLateWithinTheRetryWindow) {
  Credential c = open("lena");
  auto late = make_show(c, wallet_ctx());
  auto r = backend_->show(late.request.encode(), wallet_ctx(), now_ + 6 * 86'400'000LL);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->replayed);
  // Its nonce is spent now: the same nonce under another show is refused.
  auto again = backend_->show(late.request.encode(), wallet_ctx(), now_ + 6 * 86'400'000LL + 1);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
}

// The next nonce travels with the answer (docs/PROTOCOL.md "Nonces"): it is issued in the show's
// transaction, serves exactly one later show, and a replay of the show gets one of its own.
TEST_P(PrivacyBackendTest, TheNextNonceComesWithTheShowAndServesOneShow) {
  Credential c = open("dora");
  auto first = make_show(c, wallet_ctx());
  auto out1 = backend_->show(first.request.encode(), wallet_ctx(), now_);
  ASSERT_TRUE(out1.ok()) << out1.error().message;
  ASSERT_TRUE(out1->next_nonce.has_value());
  c = renew(first, *out1);

  auto next = CredentialClient::show(c, pub(), ShowOp::kRequestCode, *out1->next_nonce,
                                     wallet_ctx().hash(), rng_);
  ASSERT_TRUE(next.ok());
  auto out2 = backend_->show(next->request.encode(), wallet_ctx(), now_ + 1000);
  ASSERT_TRUE(out2.ok()) << out2.error().message;
  EXPECT_FALSE(out2->replayed);
  ASSERT_TRUE(out2->next_nonce.has_value());
  EXPECT_NE(*out2->next_nonce, *out1->next_nonce);
  c = renew(*next, *out2);

  // The same nonce again, under the next credential: refused, nothing recorded.
  auto reused = CredentialClient::show(c, pub(), ShowOp::kRequestCode, *out1->next_nonce,
                                       wallet_ctx().hash(), rng_);
  auto out3 = backend_->show(reused->request.encode(), wallet_ctx(), now_ + 2000);
  ASSERT_FALSE(out3.ok());
  EXPECT_EQ(out3.error().code, ErrorCode::kVerificationFailed);
  EXPECT_FALSE(out3.error().message.empty());

  // A retried show is answered from the record, with a fresh nonce of its own.
  auto again = backend_->show(next->request.encode(), wallet_ctx(), now_ + 3000);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->replayed);
  ASSERT_TRUE(again->next_nonce.has_value());
  EXPECT_NE(*again->next_nonce, *out2->next_nonce);
  // The credential still shows once, under the replay's nonce.
  auto last = CredentialClient::show(c, pub(), ShowOp::kRequestCode, *again->next_nonce,
                                     wallet_ctx().hash(), rng_);
  auto out4 = backend_->show(last->request.encode(), wallet_ctx(), now_ + 4000);
  ASSERT_TRUE(out4.ok()) << out4.error().message;
  EXPECT_FALSE(out4->replayed);
  EXPECT_TRUE(backend_->violations()->empty());
}

TEST_P(PrivacyBackendTest, BadNoncesAreRefusedAndChangeNothing) {
  Credential c = open("carol");
  // A nonce the backend never issued.
  crypto::Nonce made_up{};
  made_up[0] = 7;
  auto forged =
      CredentialClient::show(c, pub(), ShowOp::kRequestCode, made_up, wallet_ctx().hash(), rng_);
  auto r1 = backend_->show(forged->request.encode(), wallet_ctx(), now_);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, ErrorCode::kVerificationFailed);
  // One past its retry window.
  auto stale = make_show(c, wallet_ctx());
  auto r2 = backend_->show(stale.request.encode(), wallet_ctx(), now_ + kNonceRetryWindowMs + 1);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, ErrorCode::kVerificationFailed);
  // Nothing was recorded: the credential still shows once, as a first show.
  auto good = make_show(c, wallet_ctx());
  auto r3 = backend_->show(good.request.encode(), wallet_ctx(), now_);
  ASSERT_TRUE(r3.ok()) << r3.error().message;
  EXPECT_FALSE(r3->replayed);
  EXPECT_TRUE(backend_->violations()->empty());
}

TEST_P(PrivacyBackendTest, TamperedTruncatedOrMisboundShowsAreRefused) {
  Credential c = open("dave");
  auto shown = make_show(c, wallet_ctx());
  Bytes request = shown.request.encode();
  Bytes tampered = request;
  tampered[request.size() / 2] ^= 1;
  EXPECT_FALSE(backend_->show(tampered, wallet_ctx(), now_).ok());
  EXPECT_EQ(
      backend_->show(ByteView(request).first(request.size() - 1), wallet_ctx(), now_).error().code,
      ErrorCode::kMalformed);
  EXPECT_EQ(backend_->show(Bytes{}, wallet_ctx(), now_).error().code, ErrorCode::kMalformed);
  // Bound to another wallet, or presented as another operation.
  EXPECT_EQ(
      backend_->show(request, wallet_ctx(ShowOp::kRequestCode, "OTHERWALLETAAAAAAAAAAAAA"), now_)
          .error()
          .code,
      ErrorCode::kVerificationFailed);
  EXPECT_EQ(backend_->show(request, wallet_ctx(ShowOp::kQuery), now_).error().code,
            ErrorCode::kVerificationFailed);
  // None of that burnt the nonce or the serial: the genuine request still goes through.
  auto out = backend_->show(request, wallet_ctx(), now_);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_FALSE(out->replayed);
}

// DESIGN §3.6 rule 2: one credential chain per rider.
TEST_P(PrivacyBackendTest, OpenIsAnsweredOncePerUser) {
  auto first = CredentialClient::begin_open(pub(), protocol::open_context_hash("erin"), rng_);
  auto answer = backend_->open("erin", first.request.encode(), now_);
  ASSERT_TRUE(answer.ok());
  // A retried open (lost reply) gets the identical answer, not a second credential.
  auto again = backend_->open("erin", first.request.encode(), now_ + 5000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *answer);
  // Any other open of the user — a fresh commitment, even with the same J — is refused.
  auto second = CredentialClient::begin_open(pub(), protocol::open_context_hash("erin"), rng_);
  EXPECT_EQ(backend_->open("erin", second.request.encode(), now_).error().code,
            ErrorCode::kAlreadyOpened);
  // An open request made for one user cannot be used for another.
  EXPECT_EQ(backend_->open("frank", second.request.encode(), now_).error().code,
            ErrorCode::kVerificationFailed);
  EXPECT_EQ(backend_->open("", first.request.encode(), now_).error().code,
            ErrorCode::kInvalidArgument);
}

// A re-open after a phone was lost without a backup retires the old J; a clone of the old chain
// is still traced to the user, and the new chain is the only one the user can open.
TEST_P(PrivacyBackendTest, RetiredIdentityIsStillTracedAndReopenWorksOnce) {
  Credential old_chain = open("ivan");
  EXPECT_EQ(backend_->retire_identity("nobody", "officer", "lost phone", now_).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(backend_->retire_identity("ivan", "officer", "", now_).error().code,
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(backend_->retire_identity("ivan", "officer", "lost phone", now_).ok());
  Credential new_chain = open("ivan");
  auto third = CredentialClient::begin_open(pub(), protocol::open_context_hash("ivan"), rng_);
  EXPECT_EQ(backend_->open("ivan", third.request.encode(), now_).error().code,
            ErrorCode::kAlreadyOpened);
  // The old chain's credential shown twice: traced to ivan all the same.
  auto a = make_show(old_chain, wallet_ctx());
  auto b = make_show(old_chain, wallet_ctx());
  ASSERT_TRUE(backend_->show(a.request.encode(), wallet_ctx(), now_).ok());
  EXPECT_EQ(backend_->show(b.request.encode(), wallet_ctx(), now_).error().code,
            ErrorCode::kSnReused);
  auto v = backend_->violations();
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  ASSERT_TRUE((*v)[0].user_id.has_value());
  EXPECT_EQ(*(*v)[0].user_id, "ivan");
  // The new chain works.
  auto n = make_show(new_chain, wallet_ctx());
  EXPECT_TRUE(backend_->show(n.request.encode(), wallet_ctx(), now_).ok());
}

TEST_P(PrivacyBackendTest, ARefundProvesTheNamedUsersIdentity) {
  Credential c = open("grace");
  open("heidi");
  protocol::ShowContext refund{
      ShowOp::kRefund, "WALLETAAAAAAAAAAAAAAAAAA", "1234567890123456789", 500, "", {}};
  auto as_heidi = make_show(c, refund);
  EXPECT_EQ(backend_->show(as_heidi.request.encode(), refund, now_, "heidi").error().code,
            ErrorCode::kVerificationFailed);
  EXPECT_EQ(backend_->show(as_heidi.request.encode(), refund, now_, "nobody").error().code,
            ErrorCode::kNotFound);
  auto out = backend_->show(as_heidi.request.encode(), refund, now_, "grace");
  ASSERT_TRUE(out.ok()) << out.error().message;
}

TEST_P(PrivacyBackendTest, SixteenParallelShowsOfOneCredentialExactlyOneWins) {
  Credential alice = open("alice");
  std::vector<Bytes> requests;
  for (int i = 0; i < 16; ++i) requests.push_back(make_show(alice, wallet_ctx()).request.encode());
  std::atomic<int> ok{0}, reused{0}, other{0};
  std::vector<std::thread> threads;
  for (const auto& req : requests) {
    threads.emplace_back([&, req] {
      auto r = backend_->show(req, wallet_ctx(), now_);
      if (r.ok()) {
        ++ok;
      } else if (r.error().code == ErrorCode::kSnReused) {
        ++reused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(reused.load(), 15);
  EXPECT_EQ(other.load(), 0);
  auto v = backend_->violations();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size(), 15u);
  for (const auto& x : *v) EXPECT_EQ(x.user_id.value_or("?"), "alice");
}

TEST_P(PrivacyBackendTest, SixteenCopiesOfOneRequestAllGetTheSameResponse) {
  Credential c = open("ivan");
  Bytes req = make_show(c, wallet_ctx()).request.encode();
  std::vector<Bytes> responses(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      auto r = backend_->show(req, wallet_ctx(), now_);
      if (r.ok()) responses[i] = r->issue_response;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : responses) EXPECT_EQ(r, responses[0]);
  EXPECT_FALSE(responses[0].empty());
  EXPECT_TRUE(backend_->violations()->empty());
}

}  // namespace
}  // namespace anoncode::privacy
