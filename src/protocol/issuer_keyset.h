// The issuer key set (DESIGN §3.6 rule 4; docs/PROTOCOL.md "Signed issuer key sets"): the issuer
// keys in force — kid, group, W, validity — with a sequence number, signed by the operator's SM2
// root key and published append-only. A client holds the root public key from its build (the
// trust root), and accepts a key set only if the root signed it, its sequence is not older than
// one it saw before, and it names at most two issuing keys valid at once for its group. So the
// issuer cannot hand one rider a key of its own (which would link every show of that rider).
//
// Storage-free: the SDK and the services share it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/sm2.h"

namespace anoncode::protocol {

// Clients refuse a set with more issuing keys valid at one instant than this, for its group.
constexpr size_t kMaxConcurrentIssuerKeys = 2;

struct IssuerKeyEntry {
  std::string kid;                          // hex of the 8-byte key id
  Bytes public_key;                         // crypto::IssuerPublicKey encoding
  int64_t valid_from = 0, valid_until = 0;  // Unix ms
  bool valid_at(int64_t t) const { return valid_from <= t && t <= valid_until; }
};

struct IssuerKeySet {
  int64_t sequence = 0;  // 1, 2, … : every change of the keys publishes the next one
  std::string group;     // the zero-knowledge group's name
  std::string issuing_kid;
  std::vector<IssuerKeyEntry> keys;
  int64_t published_at = 0;

  // The canonical body that is signed: compact JSON, keys sorted.
  std::string body() const;
  static Result<IssuerKeySet> parse(std::string_view body);
};

// A published key set: its body, exactly as signed, and the root's SM2 signature (r‖s) over
// "anoncode/v1/issuer-keyset" ‖ body.
struct SignedKeySet {
  std::string body;
  Bytes signature;
};

Result<SignedKeySet> sign_keyset(const IssuerKeySet& set, const crypto::Sm2PrivateKey& root);

// The client's check: the root signed it, its sequence is at least `min_sequence`, it is well
// formed, names its issuing key among its keys, and has at most kMaxConcurrentIssuerKeys keys
// valid at `now_ms`. `verification_failed` for a bad signature or an older sequence,
// `malformed` for a body that does not parse, `issuer_misbehaved` for too many keys.
Result<IssuerKeySet> verify_keyset(const SignedKeySet& signed_set,
                                   const crypto::Sm2PublicKey& trust_root, int64_t min_sequence,
                                   int64_t now_ms);

// The trust root as it is handed to clients: base64url of the 65-byte SM2 public key.
Result<crypto::Sm2PublicKey> parse_trust_root(std::string_view text);

}  // namespace anoncode::protocol
