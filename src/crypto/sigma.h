// A generic sigma-protocol engine for linear relations between group elements (STYLE.md, after
// libsignal's zkgroup): a statement is declared once, and the same declaration drives the prover
// and the verifier, so they cannot disagree.
//
//   Statement st(group, "anoncode/v1/show");
//   st.add("AbarMinusD", {{"e", "-A'"}, {"r2", "H0"}});   // Ā − D = −e·A' + r2·H0
//
// A point name with a leading '-' means the term is subtracted. Variables (the witness) are
// numbered in order of first appearance, points likewise (left-hand sides included).
//
// Proof (compact form): challenge c and one response z_v = k_v − c·x_v per variable. The
// verifier recomputes every commitment T_j = Σ ±z_v·P + c·LHS_j in variable time — all its
// inputs are public — and accepts iff the recomputed challenge equals c (constant-time compare).
// Encoding: c || z_0 || … || z_{m−1}, 32 bytes each, canonical scalars only.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "crypto/group.h"
#include "crypto/transcript.h"

namespace anoncode::crypto {

class Statement {
 public:
  Statement(const Group& group, std::string name);

  Statement& add(std::string_view lhs,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> terms);

  const Group& group() const { return group_; }
  const std::string& name() const { return name_; }
  size_t var_count() const { return vars_.size(); }
  size_t point_count() const { return points_.size(); }
  size_t relation_count() const { return relations_.size(); }
  size_t proof_size() const { return Group::kScalarSize * (1 + vars_.size()); }

  // Values in declaration order, from name/value pairs. A missing or unknown name is a bug in
  // the caller (the statement is fixed at compile time), so it throws std::logic_error.
  std::vector<Point> points(std::initializer_list<std::pair<std::string_view, Point>> values) const;
  std::vector<Point> points(std::span<const std::pair<std::string_view, Point>> values) const;
  std::vector<Scalar> witness(
      std::initializer_list<std::pair<std::string_view, const Scalar*>> values) const;

 private:
  friend class SigmaProof;
  struct Term {
    size_t var;
    size_t point;
    bool negate;
  };
  struct Relation {
    size_t lhs;
    std::vector<Term> terms;
  };
  size_t intern(std::vector<std::string>& names, std::string_view name);
  void absorb_instance(Transcript& t, std::span<const Point> points) const;

  const Group& group_;
  std::string name_;
  std::vector<std::string> vars_;
  std::vector<std::string> points_;
  std::vector<Relation> relations_;
};

class SigmaProof {
 public:
  // Proves knowledge of `witness` for `points` under `st`. The transcript must already hold the
  // context the proof binds (messages, nonces); the statement's points are absorbed here.
  static SigmaProof prove(const Statement& st, std::span<const Point> points,
                          std::span<const Scalar> witness, Transcript& transcript, Rng& rng);
  // true iff the proof verifies. Callers map false to the one opaque `verification_failed`.
  bool verify(const Statement& st, std::span<const Point> points, Transcript& transcript) const;

  Bytes encode(const Group& g) const;
  static Result<SigmaProof> decode(const Statement& st, ByteView bytes);

 private:
  Scalar challenge_;
  std::vector<Scalar> responses_;
};

}  // namespace anoncode::crypto
