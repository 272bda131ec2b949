// The administrators' audit log (DESIGN §4 "audit log (append-only, SM3 hash chain)", issue 4):
// every administrative action, every login and every decryption of personal data, each entry
// chained to its predecessor so that editing, deleting or reordering an entry is detected.
//
//   hash(seq) = SM3(prev_hash ‖ var("anoncode/v1/audit") ‖ u64(seq) ‖ u64(at) ‖ var(actor) ‖
//                   var(action) ‖ var(target) ‖ var(details))
//
// (`var` = u32 big-endian length, then the bytes; u64 big-endian; `details` is the JSON text as
// stored.) seq runs 1, 2, 3, … without gaps; the first entry's prev_hash is 32 zero bytes.
//
// An entry is appended inside the caller's transaction, so an action and its entry commit
// together or not at all. Two processes appending at once on one PostgreSQL still form one
// chain: the next seq is read as MAX(seq) + 1 inside the SERIALIZABLE transaction and the
// PRIMARY KEY refuses a second entry with that seq; PostgreSQL aborts the loser with a
// serialization failure and the Db layer runs it again (storage/db.h).
//
// The chain proves integrity of what is there; removing the newest entries (truncating the tail)
// leaves a shorter valid chain. Operators who need that detected record `head_hash` and `entries`
// of verify() elsewhere from time to time (docs/OPERATIONS.md).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/sm3.h"
#include "storage/db.h"

namespace anoncode::console {

// What an entry says. `details` must be a JSON object without personal data or secrets.
struct AuditRecord {
  std::string actor;
  std::string action;
  std::string target;
  nlohmann::json details = nlohmann::json::object();
};

// A stored entry.
struct AuditEntry {
  int64_t seq = 0;
  int64_t at = 0;
  std::string actor, action, target;
  std::string details;  // JSON text, as hashed
  Bytes prev_hash, hash;
};

struct AuditVerification {
  bool ok = true;
  int64_t entries = 0;                      // entries read
  std::optional<int64_t> first_broken_seq;  // the first seq whose link does not hold
  std::string reason;                       // why, for people; "" when ok
  Bytes head_hash;                          // the last entry's hash (32 zero bytes when empty)
};

// The entry hash of the formula above.
crypto::Sm3Digest audit_entry_hash(ByteView prev_hash, int64_t seq, int64_t at,
                                   std::string_view actor, std::string_view action,
                                   std::string_view target, std::string_view details);

// {"seq","at","actor","action","target","details" (parsed JSON),"prev_hash","hash" (hex)}
nlohmann::json audit_entry_json(const AuditEntry& e);
// {"ok","entries","first_broken_seq" (null when ok),"reason","head_hash" (hex)}
nlohmann::json audit_verification_json(const AuditVerification& v);

class AuditLog {
 public:
  explicit AuditLog(storage::Db& db) : db_(db) {}

  // Appends `record` at time `at` inside `tx`; returns its seq. `invalid_argument` if details is
  // not a JSON object (null is taken as {}).
  static Result<int64_t> append(storage::Tx& tx, const AuditRecord& record, int64_t at);
  // Appends in a transaction of its own (for what has no transaction to join).
  Result<int64_t> append(const AuditRecord& record, int64_t at);

  // Walks the whole chain in seq order and recomputes every hash.
  Result<AuditVerification> verify();

  // Entries newest first: at most `limit` (1..1000), with seq < before_seq when given.
  Result<std::vector<AuditEntry>> entries(int64_t limit, std::optional<int64_t> before_seq);

 private:
  storage::Db& db_;
};

}  // namespace anoncode::console
