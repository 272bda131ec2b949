#include "crypto/credential_internal.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "crypto/sm3.h"

namespace anoncode::crypto {
namespace {

// Statements: declared once here, used by both sides.
Statement declare_open(const Group& g) {
  Statement st(g, "anoncode/v1/open");
  st.add("Cn", {{"r'", "H0"}, {"sk", "H1"}, {"s'", "H2"}, {"u'", "H3"}});
  st.add("J", {{"sk", "GJ"}});
  return st;
}

Statement declare_issue(const Group& g) {
  Statement st(g, "anoncode/v1/issue");
  st.add("W", {{"x", "B"}});
  st.add("X", {{"x", "A"}});  // X = M − e·A = x·A
  return st;
}

// The issuer's attestation of a show's MAC (DESIGN §3.6 rule 7): log_B W = log_A' Ā.
Statement declare_mac(const Group& g) {
  Statement st(g, "anoncode/v1/mac");
  st.add("W", {{"x", "B"}});
  st.add("Abar", {{"x", "A'"}});
  return st;
}

// The pseudonym relations' names: P0 = sk·G0, P1 = sk·G1 (DESIGN §3.6 rule 3).
constexpr std::array<std::string_view, kMaxPseudonyms> kPseudonymNames{"P0", "P1"};
constexpr std::array<std::string_view, kMaxPseudonyms> kPseudonymBaseNames{"G0", "G1"};

Statement declare_show(const Group& g, bool with_identity, size_t pseudonyms) {
  std::string name = with_identity ? "anoncode/v1/show+identity" : "anoncode/v1/show";
  if (pseudonyms > 0) name += "+pseudonyms" + std::to_string(pseudonyms);
  Statement st(g, name);
  st.add("Abar-D", {{"e", "-A'"}, {"r2", "H0"}});                          // 1
  st.add("B+sH2+RH3", {{"r3", "D"}, {"rhat", "-H0"}, {"sk", "-H1-CH3"}});  // 2
  st.add("Cn", {{"r'", "H0"}, {"sk", "H1"}, {"s'", "H2"}, {"u'", "H3"}});  // 3
  if (with_identity) st.add("J", {{"sk", "GJ"}});                          // refund
  for (size_t i = 0; i < pseudonyms; ++i) {
    st.add(kPseudonymNames[i], {{"sk", kPseudonymBaseNames[i]}});  // wallet pseudonyms
  }
  return st;
}

// One T per group, built on first use for every group in all_groups() and found by wire id.
template <typename T, typename Make>
const T& per_group(const Group& g, Make make) {
  static const auto table = [&make] {
    std::array<std::unique_ptr<const T>, 256> t{};
    for (const Group* grp : all_groups()) {
      t[static_cast<uint8_t>(grp->id())] = std::make_unique<const T>(make(*grp));
    }
    return t;
  }();
  const auto& item = table[static_cast<uint8_t>(g.id())];
  if (!item) throw std::logic_error("credential: a group outside all_groups()");
  return *item;
}

KeyId key_id_of(const Group& g, const Point& W) {
  Sm3Digest d = sm3(g.encode_point(W));
  KeyId kid{};
  std::copy_n(d.begin(), kid.size(), kid.begin());
  return kid;
}

}  // namespace

namespace detail {

Error verification_failed() {
  return make_error(ErrorCode::kVerificationFailed, "verification failed");
}

// The statements are built once per group; building one is cheap but not free.
Statements::Statements(const Group& g)
    : open(declare_open(g)), issue(declare_issue(g)), mac(declare_mac(g)) {
  for (bool identity : {false, true}) {
    for (size_t k = 0; k <= kMaxPseudonyms; ++k) shows.push_back(declare_show(g, identity, k));
  }
}

const Statement& Statements::show(bool with_identity, size_t pseudonyms) const {
  return shows[(with_identity ? kMaxPseudonyms + 1 : 0) + pseudonyms];
}

const Statements& Statements::of(const Group& g) {
  return per_group<Statements>(g, [](const Group& grp) { return Statements(grp); });
}

const Statement& show_statement(const ShowRequest& req) {
  return Statements::of(*req.group).show(req.op == ShowOp::kRefund, req.pseudonyms.size());
}

}  // namespace detail

using detail::Statements;
using detail::verification_failed;

const Generators& Generators::of(const Group& g) {
  // Every generator is declared to the group as a fixed base, so that multiplying it (prover,
  // issuer, verifier alike) uses precomputed tables where the group keeps them.
  return per_group<Generators>(g, [](const Group& grp) {
    auto gen = [&](std::string_view name) {
      return grp.precompute(grp.hash_to_group_vartime("anoncode/v1/gen", as_bytes(name)));
    };
    return Generators{
        grp.precompute(grp.generator()), gen("H0"), gen("H1"), gen("H2"), gen("H3"), gen("G_J")};
  });
}

Point identity_commitment(const Group& g, const Scalar& sk) {
  return g.mul(sk, Generators::of(g).GJ);
}

Scalar ds_challenge(const Group& g, const Nonce& nonce, ShowOp op) {
  ByteWriter w;
  w.raw(nonce).u8(static_cast<uint8_t>(op));
  return g.hash_to_scalar("anoncode/v1/dschal", w.bytes());
}

// ---------------------------------------------------------------- issuer keys

// W is a fixed base too: clients multiply it in every issue-proof check.
IssuerPublicKey::IssuerPublicKey(const Group& g, Point W)
    : group_(&g), W_(g.precompute(W)), kid_(key_id_of(g, W)) {}

IssuerKey IssuerKey::generate(const Group& g, Rng& rng) {
  Scalar x = g.random_nonzero_scalar(rng);
  return IssuerKey(x, IssuerPublicKey(g, g.mul_base(x)));
}

Point Credential::identity_commitment() const {
  return crypto::identity_commitment(*group_, sk_);
}

// ---------------------------------------------------------------- client

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
  const auto& gen = Generators::of(g);
  Scalar sk = g.random_nonzero_scalar(rng);
  Started out{OpenRequest{}, commit_next(g, pub.kid(), sk, rng)};
  const PendingIssue& p = out.pending;
  OpenRequest& req = out.request;
  req.group = &g;
  req.kid = pub.kid();
  req.ctx = ctx;
  req.Cn = p.Cn_;
  req.J = g.mul(sk, gen.GJ);

  const Statement& st = Statements::of(g).open;
  Transcript t(st.name());
  t.append("kid", req.kid).append("ctx", req.ctx);
  auto points = st.points({{"Cn", req.Cn},
                           {"H0", gen.H0},
                           {"H1", gen.H1},
                           {"H2", gen.H2},
                           {"H3", gen.H3},
                           {"J", req.J},
                           {"GJ", gen.GJ}});
  auto witness = st.witness({{"r'", &p.r1_}, {"sk", &p.sk_}, {"s'", &p.s_}, {"u'", &p.u_}});
  req.proof = SigmaProof::prove(st, points, witness, t, rng).encode(g);
  return out;
}

namespace {

// The DLEQ transcript of an issue response: binds the key, the commitment and (e, r'').
Transcript issue_transcript(const Group& g, const KeyId& kid, const Point& Cn, const Scalar& e,
                            const Scalar& r2) {
  Transcript t("anoncode/v1/issue");
  t.append("kid", kid).append_point(g, "Cn", Cn);
  t.append_public_scalar(g, "e", e).append_public_scalar(g, "r''", r2);
  return t;
}

}  // namespace

Result<Credential> CredentialClient::finish_issue(const PendingIssue& pending,
                                                  const IssueResponse& resp,
                                                  const IssuerPublicKey& pub) {
  const Group& g = pending.group();
  if (resp.group != &g || &pub.group() != &g || resp.kid != pending.kid() ||
      pub.kid() != pending.kid() || g.is_identity(resp.A)) {
    return verification_failed();
  }
  const auto& gen = Generators::of(g);
  const Statement& st = Statements::of(g).issue;
  // M = B + Cn + r''·H0, X = M − e·A (= x·A when A = (x+e)^-1·M).
  Point M = g.add(g.add(gen.B, pending.Cn_), g.mul(resp.r2, gen.H0));
  Point X = g.sub(M, g.mul(resp.e, resp.A));
  auto proof = SigmaProof::decode(st, resp.proof);
  if (!proof) return verification_failed();
  Transcript t = issue_transcript(g, resp.kid, pending.Cn_, resp.e, resp.r2);
  auto points = st.points({{"W", pub.W()}, {"B", gen.B}, {"X", X}, {"A", resp.A}});
  if (!proof->verify(st, points, t)) return verification_failed();

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

namespace {

Transcript show_transcript(const Group& g, const ShowRequest& req, const Scalar& C) {
  Transcript t("anoncode/v1/show");
  t.append("op", std::array<uint8_t, 1>{static_cast<uint8_t>(req.op)})
      .append("kid", req.kid)
      .append("nonce", req.nonce)
      .append("ctx", req.ctx)
      .append_point(g, "A'", req.A_prime)
      .append_point(g, "Abar", req.A_bar)
      .append_point(g, "D", req.D)
      .append_public_scalar(g, "s", req.s)
      .append_public_scalar(g, "R", req.R)
      .append_public_scalar(g, "C", C);
  return t;
}

// The MAC proof's transcript binds the key and the whole show (SM3 of its encoding), so a proof
// made for one show proves nothing about another.
Transcript mac_transcript(const ShowRequest& req) {
  const Sm3Digest show = sm3(req.encode());
  Transcript t("anoncode/v1/mac");
  t.append("kid", req.kid).append("show", show);
  return t;
}

// The public points of the show statement, computed the same way by both sides. `bases` are the
// pseudonym bases G_i, one per req.pseudonyms[i].
std::vector<Point> show_points(const Statement& st, const Group& g, const ShowRequest& req,
                               const Scalar& C, const Point* identity,
                               std::span<const Point> bases) {
  const auto& gen = Generators::of(g);
  // B + s·H2 + R·H3 and H1 − C·H3: s, R and C are public.
  std::array<Scalar, 2> k1{req.s, req.R};
  std::array<Point, 2> p1{gen.H2, gen.H3};
  Point lhs2 = g.add(gen.B, g.multi_mul_vartime(k1, p1));
  std::array<Scalar, 1> k2{C};
  std::array<Point, 1> p2{gen.H3};
  Point h1_minus_ch3 = g.sub(gen.H1, g.multi_mul_vartime(k2, p2));
  Point abar_minus_d = g.sub(req.A_bar, req.D);
  // All three are about to be encoded into the transcript: one shared inversion on SM2.
  std::array<Point, 3> computed{lhs2, h1_minus_ch3, abar_minus_d};
  g.normalize(computed);
  lhs2 = computed[0];
  h1_minus_ch3 = computed[1];
  abar_minus_d = computed[2];
  std::vector<std::pair<std::string_view, Point>> named = {{"Abar-D", abar_minus_d},
                                                           {"A'", req.A_prime},
                                                           {"H0", gen.H0},
                                                           {"B+sH2+RH3", lhs2},
                                                           {"D", req.D},
                                                           {"H1-CH3", h1_minus_ch3},
                                                           {"Cn", req.Cn},
                                                           {"H1", gen.H1},
                                                           {"H2", gen.H2},
                                                           {"H3", gen.H3}};
  if (identity != nullptr) {
    named.emplace_back("J", *identity);
    named.emplace_back("GJ", gen.GJ);
  }
  for (size_t i = 0; i < req.pseudonyms.size(); ++i) {
    named.emplace_back(kPseudonymNames[i], req.pseudonyms[i]);
    named.emplace_back(kPseudonymBaseNames[i], bases[i]);
  }
  return st.points(named);
}

// G_i for each scope: HashToGroup("anoncode/v1/wallet", B_i).
std::vector<Point> pseudonym_bases(const Group& g, std::span<const std::string> scopes) {
  std::vector<Point> out;
  out.reserve(scopes.size());
  for (const auto& scope : scopes) out.push_back(wallet_pseudonym_base(g, scope));
  return out;
}

}  // namespace

Point wallet_pseudonym_base(const Group& g, std::string_view wallet) {
  return g.hash_to_group_vartime("anoncode/v1/wallet", as_bytes(wallet));
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
  const std::vector<Point> bases = pseudonym_bases(g, scopes);
  for (const auto& base : bases) req.pseudonyms.push_back(g.mul(cred.sk_, base));
  g.normalize(req.pseudonyms);

  bool with_identity = op == ShowOp::kRefund;
  const Statement& st = Statements::of(g).show(with_identity, bases.size());
  Point J = with_identity ? g.mul(cred.sk_, gen.GJ) : Point{};
  Transcript t = show_transcript(g, req, C);
  auto points = show_points(st, g, req, C, with_identity ? &J : nullptr, bases);
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
  req.proof = SigmaProof::prove(st, points, witness, t, rng).encode(g);
  return out;
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
  const auto& gen = Generators::of(group_);
  const Statement& st = Statements::of(group_).open;
  auto proof = SigmaProof::decode(st, req.proof);
  if (!proof) return verification_failed();
  Transcript t(st.name());
  t.append("kid", req.kid).append("ctx", req.ctx);
  auto points = st.points({{"Cn", req.Cn},
                           {"H0", gen.H0},
                           {"H1", gen.H1},
                           {"H2", gen.H2},
                           {"H3", gen.H3},
                           {"J", req.J},
                           {"GJ", gen.GJ}});
  if (!proof->verify(st, points, t)) return verification_failed();
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
  const Statement& st = Statements::of(g).show(with_identity, scopes.size());
  auto proof = SigmaProof::decode(st, req.proof);
  if (!proof) return verification_failed();
  Scalar C = ds_challenge(g, req.nonce, req.op);
  Transcript t = show_transcript(g, req, C);
  auto points = show_points(st, g, req, C, identity, pseudonym_bases(g, scopes));
  if (!proof->verify(st, points, t)) return verification_failed();
  return C;
}

// The MAC proof's public points.
std::vector<Point> mac_points(const Statement& st, const IssuerPublicKey& pub,
                              const ShowRequest& req) {
  const Group& g = pub.group();
  return st.points(
      {{"W", pub.W()}, {"B", Generators::of(g).B}, {"Abar", req.A_bar}, {"A'", req.A_prime}});
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
  return VerifiedShow{req.kid, req.nonce, req.s, req.R, C, req.Cn, req.pseudonyms};
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
  Transcript t = mac_transcript(req);
  auto points = mac_points(st, key->public_key(), req);
  const Scalar& x = key->x();
  auto witness = st.witness({{"x", &x}});
  return SigmaProof::prove(st, points, witness, t, rng).encode(group_);
}

Result<VerifiedShow> verify_show_public(const IssuerPublicKey& pub, const ShowRequest& req,
                                        const Point* identity, std::span<const std::string> scopes,
                                        ByteView mac_proof) {
  const Group& g = pub.group();
  if (req.group != &g || req.kid != pub.kid()) return verification_failed();
  // The context is the one the show carries: a third party checks the show as it was made.
  ANONCODE_TRY(Scalar C, check_show_public(g, req, req.ctx, identity, scopes));
  const Statement& st = Statements::of(g).mac;
  auto proof = SigmaProof::decode(st, mac_proof);
  if (!proof) return verification_failed();
  Transcript t = mac_transcript(req);
  if (!proof->verify(st, mac_points(st, pub, req), t)) return verification_failed();
  return VerifiedShow{req.kid, req.nonce, req.s, req.R, C, req.Cn, req.pseudonyms};
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
  Transcript t = issue_transcript(group_, kid, Cn, resp.e, resp.r2);
  auto points = st.points({{"W", key->public_key().W()}, {"B", gen.B}, {"X", X}, {"A", resp.A}});
  const Scalar& x = key->x();
  auto witness = st.witness({{"x", &x}});
  resp.proof = SigmaProof::prove(st, points, witness, t, rng).encode(group_);
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
