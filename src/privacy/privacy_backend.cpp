// seed 000 §2.2 open, §2.3–2.4 / §2.11–2.12 shows, §2.7 violation tracing
#include "privacy/privacy_backend.h"

#include "common/counters.h"

#include "crypto/sm3.h"
#include "privacy/privacy_store.h"
#include "protocol/evidence.h"

namespace anoncode::privacy {

using crypto::IssueResponse;
using crypto::OpenRequest;
using crypto::ShowRequest;
using storage::Tx;

namespace {

// Nonces past their retry window are kept an hour more for the record, then swept.
constexpr int64_t kNonceRetentionMs = 3'600'000;

Error verification_failed() {
  return make_error(ErrorCode::kVerificationFailed, "verification failed");
}

Bytes scalar_bytes(const crypto::Group& g, const crypto::Scalar& s) {
  auto a = g.encode_scalar(s);
  return Bytes(a.begin(), a.end());
}

std::string random_id(crypto::Rng& rng) {
  Bytes b(12);
  rng.fill(b);
  return to_hex(b);
}

}  // namespace

PrivacyBackend::PrivacyBackend(storage::Db& db, const crypto::Group& group,
                               std::vector<crypto::IssuerKey> keys, crypto::Rng& rng)
    : db_(db), group_(group), issuer_(group), rng_(rng) {
  if (keys.empty()) throw std::invalid_argument("privacy backend: no issuer key");
  for (auto& k : keys) {
    pubs_.push_back(k.public_key());
    if (auto s = issuer_.add_key(std::move(k)); !s.ok()) {
      throw std::invalid_argument("privacy backend: " + s.error().message);
    }
  }
}

const crypto::IssuerPublicKey& PrivacyBackend::issuing_key() const {
  return pubs_.front();
}
std::vector<crypto::IssuerPublicKey> PrivacyBackend::public_keys() const {
  return pubs_;
}

// DESIGN §3.6 rule 2: one credential chain per rider. The first open of a user registers J and
// records the request and its issue response; the identical request again gets that response
// (a lost reply); any other open of the user is `already_opened` — a second J would be a second,
// untraceable chain.
Result<Bytes> PrivacyBackend::open(std::string_view user_id, ByteView open_request,
                                   int64_t now_ms) {
  if (user_id.empty() || user_id.size() > 64) {
    return make_error(ErrorCode::kInvalidArgument, "user_id must be 1 to 64 characters");
  }
  ANONCODE_TRY(OpenRequest req, OpenRequest::decode(open_request));
  const crypto::Sm3Digest digest = crypto::sm3(open_request);
  const Bytes request_hash(digest.begin(), digest.end());
  // The answer already recorded for this user, if any: the stored response to the identical
  // request, `already_opened` to anything else.
  auto recorded = [&](Tx& tx) -> Result<std::optional<Bytes>> {
    ANONCODE_TRY(auto row, store::load_open(tx, user_id));
    if (!row) return std::optional<Bytes>();
    if (!row->open_request_hash || !row->issue_response ||
        *row->open_request_hash != request_hash) {
      return make_error(ErrorCode::kAlreadyOpened,
                        "this user has already opened an anonymous code");
    }
    return std::optional<Bytes>(*row->issue_response);
  };
  std::optional<Bytes> answer;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(answer, recorded(tx));
    return {};
  }));
  if (answer) return *answer;

  ANONCODE_TRY(crypto::Point J, issuer_.verify_open(req, protocol::open_context_hash(user_id)));
  const Bytes j = group_.encode_point(J);
  ANONCODE_TRY(IssueResponse resp, issuer_.issue(req.kid, req.Cn, rng_));
  const Bytes response = resp.encode();
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(answer, recorded(tx));  // a concurrent copy of this request may have won
    if (answer) return {};
    ANONCODE_TRY(bool retired, store::identity_retired(tx, j));
    if (retired) return make_error(ErrorCode::kConflict, "identity commitment already registered");
    auto inserted = store::insert_identity(tx, user_id, j, now_ms, request_hash, response);
    if (!inserted.ok() && storage::is_unique_violation(inserted.error())) {
      return make_error(ErrorCode::kConflict, "identity commitment already registered");
    }
    if (!inserted.ok()) return inserted.error();
    answer = response;
    return {};
  }));
  return *answer;
}

Status PrivacyBackend::retire_identity(std::string_view user_id, std::string_view by,
                                       std::string_view reason, int64_t now_ms,
                                       const std::function<Status(Tx&)>& in_same_transaction) {
  if (reason.empty() || reason.size() > 200) {
    return make_error(ErrorCode::kInvalidArgument, "a reason of 1 to 200 characters is required");
  }
  return db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto identity, store::load_identity(tx, user_id));
    if (!identity) return make_error(ErrorCode::kNotFound, "this user has no open anonymous code");
    ANONCODE_CHECK(store::retire_identity(tx, *identity, user_id, now_ms, by, reason));
    ANONCODE_CHECK(store::delete_identity(tx, user_id));
    if (in_same_transaction) ANONCODE_CHECK(in_same_transaction(tx));
    return {};
  });
}

crypto::Nonce PrivacyBackend::fresh_nonce() {
  crypto::Nonce n{};
  rng_.fill(n);
  return n;
}

// Records an issued nonce in the caller's transaction, and sweeps the long expired ones with one
// nonce in 32 (a statement, a round trip on PostgreSQL, fewer per request; an expired nonce kept
// a little longer is refused all the same).
Status PrivacyBackend::issue_nonce(Tx& tx, const crypto::Nonce& n, int64_t now_ms) {
  if (n[0] < 8) ANONCODE_CHECK(store::sweep_nonces(tx, now_ms - kNonceRetentionMs));
  return store::insert_nonce(tx, Bytes(n.begin(), n.end()), now_ms + kNonceRetryWindowMs);
}

Result<crypto::Nonce> PrivacyBackend::new_nonce(int64_t now_ms) {
  const crypto::Nonce n = fresh_nonce();
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status { return issue_nonce(tx, n, now_ms); }));
  return n;
}

Result<Bytes> PrivacyBackend::identity_of(std::string_view user_id) {
  std::optional<Bytes> j;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto identity, store::load_identity(tx, user_id));
    j = identity ? std::optional<Bytes>(identity->j) : std::nullopt;
    return {};
  }));
  if (!j) return make_error(ErrorCode::kNotFound, "no such user");
  return *j;
}

Result<ShowOutcome> PrivacyBackend::show(ByteView show_request, const protocol::ShowContext& ctx,
                                         int64_t now_ms,
                                         const std::optional<std::string>& refund_user_id,
                                         const WithShow& also_in_tx) {
  ANONCODE_TRY(ShowRequest req, ShowRequest::decode(show_request));
  if (req.op != ctx.op) return verification_failed();
  std::optional<crypto::Point> J;
  if (refund_user_id) {
    ANONCODE_TRY(Bytes jb, identity_of(*refund_user_id));
    ANONCODE_TRY(J, group_.decode_point(jb));
  }
  // The proof first, outside any transaction: it needs no state and is the expensive part.
  ANONCODE_TRY(crypto::VerifiedShow v,
               issuer_.verify_show_proof(req, ctx.hash(), J ? &*J : nullptr, ctx.scopes));
  const Bytes sn = scalar_bytes(group_, v.s), tag = scalar_bytes(group_, v.R),
              challenge = scalar_bytes(group_, v.C);
  const Bytes nonce(req.nonce.begin(), req.nonce.end());
  const crypto::Sm3Digest digest = crypto::sm3(show_request);
  const Bytes request_hash(digest.begin(), digest.end());
  // What the show was verified against, kept with it for the evidence of a later clone.
  const protocol::ShowRecord record{
      ctx.op,       ctx.scopes,    J ? std::optional<Bytes>(group_.encode_point(*J)) : std::nullopt,
      ctx.wallet_b, ctx.accountid, ctx.amount};
  const std::string record_text = record.to_json().dump();
  // The next credential and the next nonce, before the transaction, so the database's write lock
  // (SQLite has one) is not held while they are computed. A replay or a clone wastes them.
  ANONCODE_TRY(IssueResponse fresh_response, issuer_.issue(v.kid, v.Cn, rng_));
  const crypto::Nonce next_nonce = fresh_nonce();

  ShowOutcome out;
  std::optional<Error> refusal;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out = ShowOutcome{};
    refusal.reset();
    ANONCODE_TRY(auto seen, store::load_show(tx, sn));
    if (seen) {
      if (seen->request_hash == request_hash) {  // a retry of the accepted request
        out.issue_response = seen->issue_response;
        out.replayed = true;
        ANONCODE_CHECK(issue_nonce(tx, next_nonce, now_ms));
        out.next_nonce = next_nonce;
        if (also_in_tx) ANONCODE_CHECK(also_in_tx(tx, out.issue_response));
        return {};
      }
      // The same serial shown again: a clone. Trace it, record it, refuse the operation. This
      // transaction commits (the violation must be kept); the refusal is returned afterwards.
      refusal = make_error(ErrorCode::kSnReused, "this credential was already used");
      ANONCODE_TRY(crypto::Scalar r_old, group_.decode_scalar(seen->r));
      ANONCODE_TRY(crypto::Scalar c_old, group_.decode_scalar(seen->c));
      auto traced = crypto::trace_double_show(group_, v.R, v.C, r_old, c_old);
      std::optional<std::string> user;
      if (traced) {
        // A retired J keeps its user id (DESIGN §3.6 rule 2): a clone of an old chain is traced.
        ANONCODE_TRY(user, store::user_of_identity(tx, group_.encode_point(traced->J)));
      }
      ANONCODE_CHECK(store::use_nonce_if_unused(tx, nonce, now_ms));
      ANONCODE_CHECK(store::mark_show_repeated(tx, sn));
      std::string detail = "first show on wallet " + seen->b.value_or("") +
                           (traced ? "" : "; equal challenges, not traceable");
      // DESIGN §3.6 rule 7: the evidence, in this transaction, or why there is none.
      std::optional<std::string> evidence;
      if (traced) {
        auto built = clone_evidence(*seen, show_request, req, record, now_ms, traced->J, v.s);
        if (built) {
          evidence = built->dump();
        } else {
          detail += "; no evidence: " + built.error().message;
        }
      }
      ANONCODE_CHECK(store::insert_clone_violation(
          tx, {random_id(rng_), user, sn, ctx.wallet_b, ctx.accountid, now_ms, detail, evidence}));
      return {};
    }
    // A first show: its nonce must be one we issued, that no other serial consumed, within its
    // retry window (DESIGN §3.6 rule 1: a resent show whose first copy was lost on the way is
    // accepted long after the nonce's normal 60 s).
    ANONCODE_TRY(auto n, store::load_nonce(tx, nonce));
    if (!n || n->used || n->expires_at < now_ms) {
      refusal = verification_failed();
      return {};
    }
    ANONCODE_CHECK(store::use_nonce(tx, nonce, now_ms));
    out.issue_response = fresh_response.encode();
    ANONCODE_CHECK(issue_nonce(tx, next_nonce, now_ms));
    out.next_nonce = next_nonce;
    ANONCODE_CHECK(store::insert_show(
        tx, {sn, ctx.wallet_b, protocol::certification_type(ctx.op), ctx.accountid, now_ms, tag,
             challenge, Bytes(v.kid.begin(), v.kid.end()), nonce, request_hash, out.issue_response,
             to_bytes(show_request), record_text}));
    if (also_in_tx) ANONCODE_CHECK(also_in_tx(tx, out.issue_response));
    return {};
  }));
  if (refusal) {
    if (refusal->code == ErrorCode::kSnReused) counters::add(counters::Event::kCloneTraced);
    return *refusal;
  }
  for (const auto& p : v.pseudonyms) out.pseudonyms.push_back(group_.encode_point(p));
  counters::add(out.replayed ? counters::Event::kShowReplayed : counters::Event::kShowVerified);
  return out;
}

// The evidence of a clone: the first show as the registry kept it (`seen`) and this one, each with
// a fresh DLEQ proof of its MAC. An error says why there is none: a first show recorded before
// migration 0007, or one under a key this issuer no longer holds.
Result<nlohmann::json> PrivacyBackend::clone_evidence(const store::RecordedShow& seen,
                                                      ByteView show_request, const ShowRequest& req,
                                                      const protocol::ShowRecord& record,
                                                      int64_t now_ms, const crypto::Point& J,
                                                      const crypto::Scalar& serial) {
  if (!seen.show_request || !seen.show_context) {
    return make_error(ErrorCode::kNotFound, "the first show was recorded before migration 0007");
  }
  protocol::EvidenceShow first{*seen.show_request, {}, {}, seen.usage_date};
  auto first_context = nlohmann::json::parse(*seen.show_context, nullptr, false);
  ANONCODE_TRY(first.record, protocol::ShowRecord::from_json(first_context));
  ANONCODE_TRY(ShowRequest first_req, ShowRequest::decode(first.request));
  auto first_proof = issuer_.prove_mac(first_req, rng_);
  if (!first_proof) {
    return make_error(first_proof.error().code, "the issuer cannot prove the first show's MAC (" +
                                                    first_proof.error().message + ")");
  }
  first.mac_proof = std::move(*first_proof);
  protocol::EvidenceShow second{to_bytes(show_request), record, {}, now_ms};
  ANONCODE_TRY(second.mac_proof, issuer_.prove_mac(req, rng_));
  return protocol::make_evidence(group_, serial, J, first, second);
}

Result<protocol::SignedKeySet> PrivacyBackend::latest_keyset() {
  std::optional<protocol::SignedKeySet> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out.reset();
    ANONCODE_TRY(out, store::latest_keyset(tx));
    return {};
  }));
  if (!out) return make_error(ErrorCode::kNotFound, "no issuer key set was published yet");
  return *out;
}

Result<std::vector<protocol::SignedKeySet>> PrivacyBackend::keysets() {
  std::vector<protocol::SignedKeySet> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out.clear();
    ANONCODE_TRY(out, store::keysets(tx));
    return {};
  }));
  return out;
}

Result<protocol::SignedKeySet> PrivacyBackend::publish_keyset(const crypto::Sm2PrivateKey& root,
                                                              int64_t now_ms, int64_t validity_ms) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::optional<protocol::IssuerKeySet> latest;
    auto current = latest_keyset();
    if (current.ok()) {
      ANONCODE_TRY(protocol::IssuerKeySet parsed, protocol::IssuerKeySet::parse(current->body));
      latest = std::move(parsed);
    } else if (current.error().code != ErrorCode::kNotFound) {
      return current.error();
    }
    protocol::IssuerKeySet next;
    next.sequence = latest ? latest->sequence + 1 : 1;
    next.group = std::string(group_.name());
    next.issuing_kid = to_hex(issuing_key().kid());
    next.published_at = now_ms;
    for (const auto& pub : pubs_) {
      protocol::IssuerKeyEntry e{to_hex(pub.kid()), pub.encode(), now_ms, now_ms + validity_ms};
      if (latest) {
        for (const auto& old : latest->keys) {
          if (old.kid == e.kid && old.public_key == e.public_key) {
            e.valid_from = old.valid_from;
            e.valid_until = old.valid_until;
          }
        }
      }
      next.keys.push_back(std::move(e));
    }
    if (latest && latest->issuing_kid == next.issuing_kid && latest->group == next.group &&
        latest->keys.size() == next.keys.size()) {
      bool same = true;
      for (size_t i = 0; i < next.keys.size(); ++i) {
        same = same && latest->keys[i].kid == next.keys[i].kid &&
               latest->keys[i].valid_from == next.keys[i].valid_from;
      }
      if (same) return *current;
    }
    ANONCODE_TRY(protocol::SignedKeySet signed_set, protocol::sign_keyset(next, root));
    auto inserted = db_.transact([&](Tx& tx) -> Status {
      return store::insert_keyset(tx, next.sequence, signed_set, now_ms);
    });
    if (inserted.ok()) return signed_set;
    if (!storage::is_unique_violation(inserted.error())) return inserted.error();
    // Another node published this sequence first: compare again with its set.
  }
  return make_error(ErrorCode::kUnavailable, "the issuer key set is being published; retry");
}

Result<std::vector<Violation>> PrivacyBackend::violations() {
  std::vector<Violation> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out.clear();
    ANONCODE_TRY(out, store::violations(tx));
    return {};
  }));
  return out;
}

Result<Violation> PrivacyBackend::violation(std::string_view id) {
  std::optional<Violation> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out.reset();
    ANONCODE_TRY(out, store::load_violation(tx, id));
    return {};
  }));
  if (!out) return make_error(ErrorCode::kNotFound, "no violation with that id");
  return *out;
}

Result<std::vector<crypto::IssuerPublicKey>> PrivacyBackend::published_keys() {
  ANONCODE_TRY(auto published, keysets());
  std::vector<protocol::IssuerKeySet> sets;
  for (const auto& s : published) {
    ANONCODE_TRY(protocol::IssuerKeySet set, protocol::IssuerKeySet::parse(s.body));
    sets.push_back(std::move(set));
  }
  return protocol::issuer_keys_of(sets);
}

}  // namespace anoncode::privacy
