// What the credential's sources share (credential_statements.cpp, credential_codec.cpp,
// credential_client.cpp, credential_issuer.cpp). Not for users: they include credential.h.
#pragma once

#include <vector>

#include "crypto/credential.h"
#include "crypto/transcript.h"

namespace anoncode::crypto::detail {

// The one opaque error of every failed check (STYLE.md, from zkgroup).
Error verification_failed();

// The statements (docs/PROTOCOL.md §4.3), declared once and built once per group; the prover and
// the verifier of each use the same one.
struct Statements {
  Statement open, issue, mac;
  std::vector<Statement> shows;  // [with_identity * (kMaxPseudonyms + 1) + pseudonyms]
  explicit Statements(const Group& g);
  const Statement& show(bool with_identity, size_t pseudonyms) const;
  static const Statements& of(const Group& g);
};

// The show statement a request proves: its op (a refund adds J) and its pseudonym count.
const Statement& show_statement(const ShowRequest& req);

// kid = the first 8 bytes of SM3(E(W)).
KeyId key_id_of(const Group& g, const Point& W);

// G_i for each scope: HashToGroup("anoncode/v1/wallet", B_i).
std::vector<Point> pseudonym_bases(const Group& g, std::span<const std::string> scopes);

// A statement's public side — the transcript, holding what the proof binds, and the points in the
// statement's order — computed by one function for the prover and the verifier alike.
struct Instance {
  Transcript transcript;
  std::vector<Point> points;
};

// Open: Cn and J under the request's kid and ctx.
Instance open_instance(const OpenRequest& req);
// Issue: the DLEQ log_B W = log_A X, X = M − e·A, binding the kid, Cn and (e, r'').
Instance issue_instance(const IssueResponse& resp, const Point& W, const Point& Cn, const Point& X);
// Show: `C` is the request's double-spend challenge, `identity` the J of a refund (else null),
// `bases` the pseudonym bases, one per req.pseudonyms[i].
Instance show_instance(const ShowRequest& req, const Scalar& C, const Point* identity,
                       std::span<const Point> bases);
// The issuer's MAC attestation log_B W = log_A' Ā, bound to the kid and SM3 of the show's encoding.
Instance mac_instance(const IssuerPublicKey& pub, const ShowRequest& req);

// The encoded proof of `witness` for `in` under `st`.
Bytes prove(const Statement& st, Instance& in, std::span<const Scalar> witness, Rng& rng);
// true iff `proof` decodes and verifies for `in` under `st`.
bool verify(const Statement& st, ByteView proof, Instance& in);

}  // namespace anoncode::crypto::detail
