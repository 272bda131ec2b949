// What the credential's sources share (credential.cpp, credential_codec.cpp). Not for users:
// they include credential.h.
#pragma once

#include <vector>

#include "crypto/credential.h"

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

}  // namespace anoncode::crypto::detail
