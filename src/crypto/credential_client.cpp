// The rider side of the credential (docs/PROTOCOL.md §5.1–§5.3): open, finish an issue, show.
#include "crypto/credential_internal.h"

namespace anoncode::crypto {

using detail::Statements;
using detail::verification_failed;

Point Credential::identity_commitment() const {
  return crypto::identity_commitment(*group_, sk_);
}

PendingIssue CredentialClient::commit_next(const Group& g, const KeyId& kid, const Scalar& sk,
                                           Rng& rng) {
  const auto& gen = Generators::of(g);
  PendingIssue p;
  p.group_ = &g;
  p.kid_ = kid;
  p.sk_ = sk;
  p.r1_ = g.random_scalar(rng);
  p.s_ = g.random_scalar(rng);
  p.u_ = g.random_scalar(rng);
  p.Cn_ = g.add(g.add(g.mul(p.r1_, gen.H0), g.mul(sk, gen.H1)),
                g.add(g.mul(p.s_, gen.H2), g.mul(p.u_, gen.H3)));
  return p;
}

CredentialClient::Started CredentialClient::begin_open(const IssuerPublicKey& pub,
                                                       const ContextHash& ctx, Rng& rng) {
  const Group& g = pub.group();
  Scalar sk = g.random_nonzero_scalar(rng);
  Started out{OpenRequest{}, commit_next(g, pub.kid(), sk, rng)};
  const PendingIssue& p = out.pending;
  OpenRequest& req = out.request;
  req.group = &g;
  req.kid = pub.kid();
  req.ctx = ctx;
  req.Cn = p.Cn_;
  req.J = identity_commitment(g, sk);

  const Statement& st = Statements::of(g).open;
  auto in = detail::open_instance(req);
  auto witness = st.witness({{"r'", &p.r1_}, {"sk", &p.sk_}, {"s'", &p.s_}, {"u'", &p.u_}});
  req.proof = detail::prove(st, in, witness, rng);
  return out;
}

Result<Credential> CredentialClient::finish_issue(const PendingIssue& pending,
                                                  const IssueResponse& resp,
                                                  const IssuerPublicKey& pub) {
  const Group& g = pending.group();
  if (resp.group != &g || &pub.group() != &g || resp.kid != pending.kid() ||
      pub.kid() != pending.kid() || g.is_identity(resp.A)) {
    return verification_failed();
  }
  const auto& gen = Generators::of(g);
  // M = B + Cn + r''·H0, X = M − e·A (= x·A when A = (x+e)^-1·M).
  Point M = g.add(g.add(gen.B, pending.Cn_), g.mul(resp.r2, gen.H0));
  Point X = g.sub(M, g.mul(resp.e, resp.A));
  auto in = detail::issue_instance(resp, pub.W(), pending.Cn_, X);
  if (!detail::verify(Statements::of(g).issue, resp.proof, in)) return verification_failed();

  Credential c;
  c.group_ = &g;
  c.kid_ = pending.kid();
  c.A_ = resp.A;
  c.e_ = resp.e;
  c.r_ = g.add(pending.r1_, resp.r2);
  c.sk_ = pending.sk_;
  c.s_ = pending.s_;
  c.u_ = pending.u_;
  return c;
}

Result<CredentialClient::Shown> CredentialClient::show(const Credential& cred,
                                                       const IssuerPublicKey& pub, ShowOp op,
                                                       const Nonce& nonce, const ContextHash& ctx,
                                                       Rng& rng,
                                                       std::span<const std::string> scopes) {
  return show_impl(cred, pub, op, nonce, ctx, rng, 0, scopes);
}

Result<CredentialClient::Shown> CredentialClient::show_breaking_relation_for_test(
    const Credential& cred, const IssuerPublicKey& pub, ShowOp op, const Nonce& nonce,
    const ContextHash& ctx, Rng& rng, int relation) {
  return show_impl(cred, pub, op, nonce, ctx, rng, relation, {});
}

Result<CredentialClient::Shown> CredentialClient::show_impl(
    const Credential& cred, const IssuerPublicKey& pub, ShowOp op, const Nonce& nonce,
    const ContextHash& ctx, Rng& rng, int broken_relation, std::span<const std::string> scopes) {
  const Group& g = cred.group();
  if (&pub.group() != &g || pub.kid() != cred.kid()) {
    return make_error(ErrorCode::kUnknownKey, "the credential was issued under another key");
  }
  if (scopes.size() > kMaxPseudonyms) {
    return make_error(ErrorCode::kInvalidArgument, "a show proves at most two wallet pseudonyms");
  }
  const auto& gen = Generators::of(g);
  // Relation 4 (test): the next credential committed to another sk than the one shown.
  Scalar next_sk = broken_relation == 4 ? g.add(cred.sk_, g.scalar_from_u64(1)) : cred.sk_;
  Shown out{ShowRequest{}, commit_next(g, cred.kid(), next_sk, rng)};
  ShowRequest& req = out.request;
  const PendingIssue& next = out.pending;
  req.group = &g;
  req.op = op;
  req.kid = cred.kid();
  req.nonce = nonce;
  req.ctx = ctx;
  Scalar C = ds_challenge(g, nonce, op);
  req.s = cred.s_;
  req.R = g.add(g.mul(cred.sk_, C), cred.u_);

  // Bm = B + r·H0 + sk·H1 + s·H2 + u·H3; A' = r1·A; Ā = r1·Bm − e·A'; D = r1·Bm − r2·H0.
  Scalar r1 = g.random_nonzero_scalar(rng);
  Scalar r2 = g.random_scalar(rng);
  Point Bm =
      g.add(g.add(gen.B, g.mul(cred.r_, gen.H0)),
            g.add(g.add(g.mul(cred.sk_, gen.H1), g.mul(cred.s_, gen.H2)), g.mul(cred.u_, gen.H3)));
  Point r1Bm = g.mul(r1, Bm);
  req.A_prime = g.mul(r1, cred.A_);
  req.A_bar = g.sub(r1Bm, g.mul(cred.e_, req.A_prime));
  req.D = g.sub(r1Bm, g.mul(r2, gen.H0));
  ANONCODE_TRY(Scalar r3, g.invert(r1));
  Scalar rhat = g.sub(cred.r_, g.mul(r2, r3));
  req.Cn = next.Cn_;
  // DESIGN §3.6 rule 3: P_B = sk·G_B for each wallet the show acts on.
  const std::vector<Point> bases = detail::pseudonym_bases(g, scopes);
  for (const auto& base : bases) req.pseudonyms.push_back(g.mul(cred.sk_, base));
  g.normalize(req.pseudonyms);

  bool with_identity = op == ShowOp::kRefund;
  const Statement& st = detail::show_statement(req);
  Point J = with_identity ? cred.identity_commitment() : Point{};
  auto in = detail::show_instance(req, C, with_identity ? &J : nullptr, bases);
  auto witness = st.witness({{"e", &cred.e_},
                             {"r2", &r2},
                             {"r3", &r3},
                             {"rhat", &rhat},
                             {"sk", &cred.sk_},
                             {"r'", &next.r1_},
                             {"s'", &next.s_},
                             {"u'", &next.u_}});
  if (broken_relation >= 1 && broken_relation <= 3) {
    // r2 appears only in relation 1, rhat only in 2, u' only in 3: nudge one of them.
    static constexpr size_t kVarOnlyIn[] = {0, 1, 3,
                                            7};  // indices of r2, rhat, u' in the statement
    Scalar& w = witness[kVarOnlyIn[broken_relation]];
    w = g.add(w, g.scalar_from_u64(1));
  }
  req.proof = detail::prove(st, in, witness, rng);
  return out;
}

}  // namespace anoncode::crypto
