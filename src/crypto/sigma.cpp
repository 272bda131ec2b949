#include "crypto/sigma.h"

#include <stdexcept>

namespace anoncode::crypto {

Statement::Statement(const Group& group, std::string name)
    : group_(group), name_(std::move(name)) {}

size_t Statement::intern(std::vector<std::string>& names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i;
  }
  names.emplace_back(name);
  return names.size() - 1;
}

Statement& Statement::add(
    std::string_view lhs,
    std::initializer_list<std::pair<std::string_view, std::string_view>> terms) {
  Relation r{intern(points_, lhs), {}};
  for (const auto& [var, point] : terms) {
    bool negate = !point.empty() && point.front() == '-';
    std::string_view p = negate ? point.substr(1) : point;
    r.terms.push_back(Term{intern(vars_, var), intern(points_, p), negate});
  }
  relations_.push_back(std::move(r));
  return *this;
}

namespace {

// Orders name/value pairs by the statement's declaration order; every declared name exactly once.
template <typename T, typename V, typename Get>
std::vector<T> bind(const std::string& statement, const std::vector<std::string>& names,
                    std::span<const std::pair<std::string_view, V>> values, Get get,
                    const char* what) {
  std::vector<T> out(names.size());
  std::vector<bool> seen(names.size(), false);
  for (const auto& [name, value] : values) {
    size_t i = 0;
    while (i < names.size() && names[i] != name) ++i;
    if (i == names.size() || seen[i]) {
      throw std::logic_error("statement " + statement + ": unknown or repeated " + what + " " +
                             std::string(name));
    }
    out[i] = get(value);
    seen[i] = true;
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i])
      throw std::logic_error("statement " + statement + ": missing " + what + " " + names[i]);
  }
  return out;
}

}  // namespace

std::vector<Point> Statement::points(
    std::initializer_list<std::pair<std::string_view, Point>> values) const {
  return points(std::span<const std::pair<std::string_view, Point>>(values.begin(), values.size()));
}

std::vector<Point> Statement::points(
    std::span<const std::pair<std::string_view, Point>> values) const {
  return bind<Point>(
      name_, points_, values, [](const Point& p) { return p; }, "point");
}

std::vector<Scalar> Statement::witness(
    std::initializer_list<std::pair<std::string_view, const Scalar*>> values) const {
  return bind<Scalar>(
      name_, vars_,
      std::span<const std::pair<std::string_view, const Scalar*>>(values.begin(), values.size()),
      [](const Scalar* s) { return *s; }, "variable");
}

void Statement::absorb_instance(Transcript& t, std::span<const Point> points) const {
  t.append("statement", as_bytes(name_));
  for (size_t i = 0; i < points_.size(); ++i) t.append_point(group_, points_[i], points[i]);
}

SigmaProof SigmaProof::prove(const Statement& st, std::span<const Point> points,
                             std::span<const Scalar> witness, Transcript& transcript, Rng& rng) {
  const Group& g = st.group();
  if (points.size() != st.point_count() || witness.size() != st.var_count()) {
    throw std::logic_error("sigma prove: instance does not match statement " + st.name());
  }
  std::vector<Scalar> blinds;
  blinds.reserve(st.var_count());
  for (size_t i = 0; i < st.var_count(); ++i) blinds.push_back(g.random_scalar(rng));

  st.absorb_instance(transcript, points);
  std::vector<Point> commitments;
  commitments.reserve(st.relations_.size());
  for (const auto& rel : st.relations_) {
    Point t;
    for (size_t i = 0; i < rel.terms.size(); ++i) {
      const auto& term = rel.terms[i];
      // Blinds are secret: constant-time multiplication (on precomputed tables for generators).
      Scalar k = term.negate ? g.neg(blinds[term.var]) : blinds[term.var];
      Point kp = g.mul(k, points[term.point]);
      t = i == 0 ? kp : g.add(t, kp);
    }
    commitments.push_back(t);
  }
  g.normalize(commitments);  // all encoded next: one shared inversion where the group needs one
  for (const Point& t : commitments) transcript.append_point(g, "T", t);
  SigmaProof proof;
  proof.challenge_ = transcript.challenge(g, "challenge");
  proof.responses_.reserve(st.var_count());
  for (size_t i = 0; i < st.var_count(); ++i) {
    proof.responses_.push_back(g.sub(blinds[i], g.mul(proof.challenge_, witness[i])));
  }
  return proof;
}

bool SigmaProof::verify(const Statement& st, std::span<const Point> points,
                        Transcript& transcript) const {
  const Group& g = st.group();
  if (points.size() != st.point_count() || responses_.size() != st.var_count()) return false;
  st.absorb_instance(transcript, points);
  std::vector<Scalar> ks;
  std::vector<Point> ps;
  std::vector<Point> commitments;
  commitments.reserve(st.relations_.size());
  for (const auto& rel : st.relations_) {
    ks.clear();
    ps.clear();
    for (const auto& term : rel.terms) {
      ks.push_back(term.negate ? g.neg(responses_[term.var]) : responses_[term.var]);
      ps.push_back(points[term.point]);
    }
    ks.push_back(challenge_);
    ps.push_back(points[rel.lhs]);
    commitments.push_back(g.multi_mul_vartime(ks, ps));
  }
  g.normalize(commitments);  // all encoded next: one shared inversion where the group needs one
  for (const Point& t : commitments) transcript.append_point(g, "T", t);
  Scalar c = transcript.challenge(g, "challenge");
  return c.ct_equal(challenge_);
}

Bytes SigmaProof::encode(const Group& g) const {
  ByteWriter w;
  w.raw(g.encode_scalar(challenge_));
  for (const auto& z : responses_) w.raw(g.encode_scalar(z));
  return std::move(w).take();
}

Result<SigmaProof> SigmaProof::decode(const Statement& st, ByteView bytes) {
  const Group& g = st.group();
  if (bytes.size() != st.proof_size())
    return make_error(ErrorCode::kMalformed, "proof: wrong length");
  SigmaProof proof;
  ANONCODE_TRY(proof.challenge_, g.decode_scalar(bytes.subspan(0, 32)));
  for (size_t i = 0; i < st.var_count(); ++i) {
    ANONCODE_TRY(Scalar z, g.decode_scalar(bytes.subspan(32 * (i + 1), 32)));
    proof.responses_.push_back(z);
  }
  return proof;
}

}  // namespace anoncode::crypto
