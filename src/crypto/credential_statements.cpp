// The credential's statements, generators, transcripts and key ids (docs/PROTOCOL.md §3, §4.3):
// everything the prover and the verifier must compute the same way, declared once, here.
#include <algorithm>
#include <memory>
#include <stdexcept>

#include "crypto/credential_internal.h"
#include "crypto/sm3.h"

namespace anoncode::crypto {
namespace detail {
namespace {

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

}  // namespace

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

KeyId key_id_of(const Group& g, const Point& W) {
  Sm3Digest d = sm3(g.encode_point(W));
  KeyId kid{};
  std::copy_n(d.begin(), kid.size(), kid.begin());
  return kid;
}

std::vector<Point> pseudonym_bases(const Group& g, std::span<const std::string> scopes) {
  std::vector<Point> out;
  out.reserve(scopes.size());
  for (const auto& scope : scopes) out.push_back(wallet_pseudonym_base(g, scope));
  return out;
}

Instance open_instance(const OpenRequest& req) {
  const Group& g = *req.group;
  const auto& gen = Generators::of(g);
  const Statement& st = Statements::of(g).open;
  Transcript t(st.name());
  t.append("kid", req.kid).append("ctx", req.ctx);
  return {std::move(t), st.points({{"Cn", req.Cn},
                                   {"H0", gen.H0},
                                   {"H1", gen.H1},
                                   {"H2", gen.H2},
                                   {"H3", gen.H3},
                                   {"J", req.J},
                                   {"GJ", gen.GJ}})};
}

Instance issue_instance(const IssueResponse& resp, const Point& W, const Point& Cn,
                        const Point& X) {
  const Group& g = *resp.group;
  Transcript t("anoncode/v1/issue");
  t.append("kid", resp.kid).append_point(g, "Cn", Cn);
  t.append_public_scalar(g, "e", resp.e).append_public_scalar(g, "r''", resp.r2);
  return {std::move(t), Statements::of(g).issue.points(
                            {{"W", W}, {"B", Generators::of(g).B}, {"X", X}, {"A", resp.A}})};
}

Instance show_instance(const ShowRequest& req, const Scalar& C, const Point* identity,
                       std::span<const Point> bases) {
  const Group& g = *req.group;
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
  return {std::move(t), show_statement(req).points(named)};
}

// The MAC proof's transcript binds the key and the whole show (SM3 of its encoding), so a proof
// made for one show proves nothing about another.
Instance mac_instance(const IssuerPublicKey& pub, const ShowRequest& req) {
  const Group& g = pub.group();
  const Sm3Digest show = sm3(req.encode());
  Transcript t("anoncode/v1/mac");
  t.append("kid", req.kid).append("show", show);
  return {
      std::move(t),
      Statements::of(g).mac.points(
          {{"W", pub.W()}, {"B", Generators::of(g).B}, {"Abar", req.A_bar}, {"A'", req.A_prime}})};
}

Bytes prove(const Statement& st, Instance& in, std::span<const Scalar> witness, Rng& rng) {
  return SigmaProof::prove(st, in.points, witness, in.transcript, rng).encode(st.group());
}

bool verify(const Statement& st, ByteView proof, Instance& in) {
  auto p = SigmaProof::decode(st, proof);
  return p && p->verify(st, in.points, in.transcript);
}

}  // namespace detail

const Generators& Generators::of(const Group& g) {
  // Every generator is declared to the group as a fixed base, so that multiplying it (prover,
  // issuer, verifier alike) uses precomputed tables where the group keeps them.
  return detail::per_group<Generators>(g, [](const Group& grp) {
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

Point wallet_pseudonym_base(const Group& g, std::string_view wallet) {
  return g.hash_to_group_vartime("anoncode/v1/wallet", as_bytes(wallet));
}

Scalar ds_challenge(const Group& g, const Nonce& nonce, ShowOp op) {
  ByteWriter w;
  w.raw(nonce).u8(static_cast<uint8_t>(op));
  return g.hash_to_scalar("anoncode/v1/dschal", w.bytes());
}

}  // namespace anoncode::crypto
