// The server side of the credential (docs/PROTOCOL.md §5): issuer keys, nonces, verifying opens
// and shows, issuing, the MAC proof a third party checks shows with, and tracing a clone.
#include "crypto/credential_internal.h"

namespace anoncode::crypto {

using detail::Statements;
using detail::verification_failed;

// ---------------------------------------------------------------- issuer keys

// W is a fixed base too: clients multiply it in every issue-proof check.
IssuerPublicKey::IssuerPublicKey(const Group& g, Point W)
    : group_(&g), W_(g.precompute(W)), kid_(detail::key_id_of(g, W)) {}

IssuerKey IssuerKey::generate(const Group& g, Rng& rng) {
  Scalar x = g.random_nonzero_scalar(rng);
  return IssuerKey(x, IssuerPublicKey(g, g.mul_base(x)));
}

// ---------------------------------------------------------------- nonces

Nonce MemoryNonceBook::issue(int64_t now_unix) {
  Nonce n{};
  rng_.fill(n);
  std::lock_guard lock(mu_);
  // Forget expired nonces as we go, so the book stays small.
  std::erase_if(expiry_, [&](const auto& kv) { return kv.second < now_unix; });
  expiry_[n] = now_unix + lifetime_;
  return n;
}

Status MemoryNonceBook::consume(const Nonce& nonce, int64_t now_unix) {
  std::lock_guard lock(mu_);
  auto it = expiry_.find(nonce);
  if (it == expiry_.end())
    return make_error(ErrorCode::kVerificationFailed, "unknown or used nonce");
  bool expired = it->second < now_unix;
  expiry_.erase(it);
  if (expired) return make_error(ErrorCode::kExpired, "nonce expired");
  return {};
}

// ---------------------------------------------------------------- issuer

Status Issuer::add_key(IssuerKey key) {
  if (&key.public_key().group() != &group_) {
    return make_error(ErrorCode::kInvalidArgument, "issuer key is for another group");
  }
  if (find(key.kid()) != nullptr)
    return make_error(ErrorCode::kConflict, "issuer key id already present");
  keys_.push_back(std::move(key));
  return {};
}

const IssuerKey* Issuer::find(const KeyId& kid) const {
  for (const auto& k : keys_) {
    if (k.kid() == kid) return &k;
  }
  return nullptr;
}

Result<Point> Issuer::verify_open(const OpenRequest& req, const ContextHash& expected_ctx) const {
  if (req.group != &group_ || find(req.kid) == nullptr || req.ctx != expected_ctx ||
      group_.is_identity(req.Cn) || group_.is_identity(req.J)) {
    return verification_failed();
  }
  auto in = detail::open_instance(req);
  if (!detail::verify(Statements::of(group_).open, req.proof, in)) return verification_failed();
  return req.J;
}

namespace {

// Checks 1 and 3–7 of docs/PROTOCOL.md §5.5 — every check on public data, so the issuer and a
// third party run the same code; the caller adds the key lookup and the MAC check (with x, or
// with the issuer's DLEQ proof). Returns the double-spend challenge C.
Result<Scalar> check_show_public(const Group& g, const ShowRequest& req,
                                 const ContextHash& expected_ctx, const Point* identity,
                                 std::span<const std::string> scopes) {
  bool with_identity = req.op == ShowOp::kRefund;
  if (req.group != &g || req.ctx != expected_ctx || g.is_identity(req.A_prime) ||
      g.is_identity(req.Cn) || with_identity != (identity != nullptr) ||
      (identity != nullptr && g.is_identity(*identity)) || req.pseudonyms.size() != scopes.size()) {
    return verification_failed();
  }
  for (const auto& p : req.pseudonyms) {
    if (g.is_identity(p)) return verification_failed();
  }
  Scalar C = ds_challenge(g, req.nonce, req.op);
  auto in = detail::show_instance(req, C, identity, detail::pseudonym_bases(g, scopes));
  if (!detail::verify(detail::show_statement(req), req.proof, in)) return verification_failed();
  return C;
}

VerifiedShow verified(const ShowRequest& req, const Scalar& C) {
  return VerifiedShow{req.kid, req.nonce, req.s, req.R, C, req.Cn, req.pseudonyms};
}

}  // namespace

Result<VerifiedShow> Issuer::verify_show_proof(const ShowRequest& req,
                                               const ContextHash& expected_ctx,
                                               const Point* identity,
                                               std::span<const std::string> scopes) const {
  const IssuerKey* key = find(req.kid);
  if (key == nullptr) return verification_failed();
  // The proof first: it depends only on public data, so how long it takes tells nothing.
  ANONCODE_TRY(Scalar C, check_show_public(group_, req, expected_ctx, identity, scopes));
  // The MAC check last: Ā = x·A' (x is secret: constant-time multiplication and comparison).
  // Done after the proof, its outcome is visible only as the final accept or reject, never as a
  // timing difference for a request whose proof fails anyway.
  if (!group_.equal(req.A_bar, group_.mul(key->x(), req.A_prime))) return verification_failed();
  return verified(req, C);
}

Result<Bytes> Issuer::prove_mac(const ShowRequest& req, Rng& rng) const {
  const IssuerKey* key = find(req.kid);
  if (key == nullptr) return make_error(ErrorCode::kUnknownKey, "no issuer key with that id");
  // Attest only what is true: a proof for a false Ā would not verify anyway.
  if (req.group != &group_ || group_.is_identity(req.A_prime) ||
      !group_.equal(req.A_bar, group_.mul(key->x(), req.A_prime))) {
    return verification_failed();
  }
  const Statement& st = Statements::of(group_).mac;
  auto in = detail::mac_instance(key->public_key(), req);
  const Scalar& x = key->x();
  return detail::prove(st, in, st.witness({{"x", &x}}), rng);
}

Result<VerifiedShow> verify_show_public(const IssuerPublicKey& pub, const ShowRequest& req,
                                        const Point* identity, std::span<const std::string> scopes,
                                        ByteView mac_proof) {
  const Group& g = pub.group();
  if (req.group != &g || req.kid != pub.kid()) return verification_failed();
  // The context is the one the show carries: a third party checks the show as it was made.
  ANONCODE_TRY(Scalar C, check_show_public(g, req, req.ctx, identity, scopes));
  auto in = detail::mac_instance(pub, req);
  if (!detail::verify(Statements::of(g).mac, mac_proof, in)) return verification_failed();
  return verified(req, C);
}

Result<VerifiedShow> Issuer::verify_show(const ShowRequest& req, const ContextHash& expected_ctx,
                                         const Point* identity, NonceBook& nonces,
                                         int64_t now) const {
  ANONCODE_TRY(VerifiedShow v, verify_show_proof(req, expected_ctx, identity));
  // Consumed only after the proof verifies, so garbage cannot burn a rider's nonce.
  if (!nonces.consume(req.nonce, now)) return verification_failed();
  return v;
}

Result<IssueResponse> Issuer::issue(const KeyId& kid, const Point& Cn, Rng& rng) const {
  const IssuerKey* key = find(kid);
  if (key == nullptr) return make_error(ErrorCode::kUnknownKey, "no issuer key with that id");
  if (group_.is_identity(Cn)) return verification_failed();
  const auto& gen = Generators::of(group_);
  IssueResponse resp;
  resp.group = &group_;
  resp.kid = kid;
  Scalar inv;
  for (;;) {  // x + e = 0 has probability 2^-252; resample rather than fail
    resp.e = group_.random_scalar(rng);
    auto i = group_.invert(group_.add(key->x(), resp.e));
    if (i) {
      inv = *i;
      break;
    }
  }
  resp.r2 = group_.random_scalar(rng);
  Point M = group_.add(group_.add(gen.B, Cn), group_.mul(resp.r2, gen.H0));
  resp.A = group_.mul(inv, M);
  Point X = group_.mul(key->x(), resp.A);
  // Both are encoded next (X into the transcript, A there and into the response).
  std::array<Point, 2> computed{resp.A, X};
  group_.normalize(computed);
  resp.A = computed[0];
  X = computed[1];
  const Statement& st = Statements::of(group_).issue;
  auto in = detail::issue_instance(resp, key->public_key().W(), Cn, X);
  const Scalar& x = key->x();
  resp.proof = detail::prove(st, in, st.witness({{"x", &x}}), rng);
  return resp;
}

Result<TraceResult> trace_double_show(const Group& g, const Scalar& R1, const Scalar& C1,
                                      const Scalar& R2, const Scalar& C2) {
  auto inv = g.invert(g.sub(C1, C2));
  if (!inv)
    return make_error(ErrorCode::kInvalidArgument, "equal challenges: a replay, not a clone");
  Scalar sk = g.mul(g.sub(R1, R2), *inv);
  return TraceResult{sk, identity_commitment(g, sk)};
}

}  // namespace anoncode::crypto
