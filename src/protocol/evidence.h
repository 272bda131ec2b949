// Evidence with every violation (DESIGN §3.6 rule 7; docs/PROTOCOL.md §9.10): a clone is two
// shows of one serial under different challenges. The evidence document holds both shows as they
// came, what each was verified against, and the issuer's DLEQ proof of each show's MAC
// (Ā = x·A'), so anyone with the published issuer public keys — no secret — checks both shows,
// recomputes the rider's secret from the two tags and from it J, the identity commitment the
// violation names.
//
// Storage-free: the privacy backend builds and checks it, the console marks it, and
// `anoncode admin violations verify` checks it on the administrator's machine.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/credential.h"
#include "protocol/issuer_keyset.h"

namespace anoncode::protocol {

constexpr int kEvidenceVersion = 1;

// What a show was verified against, and the fields an auditor reads (not verified: the show binds
// them only through its ctx hash, whose `extra` is not kept).
struct ShowRecord {
  crypto::ShowOp op = crypto::ShowOp::kRecharge;
  std::vector<std::string> scopes;  // the wallets whose pseudonyms it proved, in order
  std::optional<Bytes> identity;    // a refund: E(J) of the user it was proven against
  std::string wallet, accountid;
  int64_t amount = 0;

  nlohmann::json to_json() const;
  static Result<ShowRecord> from_json(const nlohmann::json& j);
};

// One show of the evidence: its bytes, its record, the issuer's MAC proof, when it was shown.
struct EvidenceShow {
  Bytes request;
  ShowRecord record;
  Bytes mac_proof;
  int64_t at = 0;
};

// The versioned JSON document (hex for bytes):
//   {"version":1,"kind":"clone","group":G,"serial":hex,"j":hex(E(J)),
//    "shows":[{"request":hex,"kid":hex,"context":{…ShowRecord…},"mac_proof":hex,"at":ms}, ×2]}
nlohmann::json make_evidence(const crypto::Group& g, const crypto::Scalar& serial,
                             const crypto::Point& J, const EvidenceShow& first,
                             const EvidenceShow& second);

// What a verified evidence proves: the identity commitment J of the rider who showed the
// credential twice (and its encoding). The rider's secret is recomputed on the way and dropped.
struct VerifiedEvidence {
  const crypto::Group* group = nullptr;
  crypto::Point J;
  Bytes j;  // E(J)
};

// Checks the document with public keys alone: both shows verify (verify_show_public, with the
// key its kid names among `keys`), reveal the same serial under different challenges, and the
// two tags give a J equal to the one claimed. `malformed` for a document that does not parse,
// `unknown_key` for a show under a key not among `keys`, `verification_failed` for anything that
// does not hold.
Result<VerifiedEvidence> verify_evidence(const nlohmann::json& evidence,
                                         std::span<const crypto::IssuerPublicKey> keys);

// The issuer public keys a set of (already verified or self-published) key sets names, each once.
Result<std::vector<crypto::IssuerPublicKey>> issuer_keys_of(std::span<const IssuerKeySet> sets);

// The console's mark of a violation: "verified", "absent" (no evidence: a copied code, or a
// clone whose first show predates migration 0007) or "invalid".
std::string evidence_status(const std::optional<std::string>& evidence,
                            std::span<const crypto::IssuerPublicKey> keys);

}  // namespace anoncode::protocol
