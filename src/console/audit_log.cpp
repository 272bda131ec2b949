#include "console/audit_log.h"

#include <sodium.h>

#include <algorithm>

#include "console/console_store.h"
#include "server/json_fields.h"

namespace anoncode::console {

using storage::Tx;

namespace {

constexpr std::string_view kAuditTag = "anoncode/v1/audit";
constexpr size_t kHashSize = crypto::kSm3Size;
constexpr int64_t kVerifyPage = 1000;
bool equal_bytes(ByteView a, ByteView b) {
  return a.size() == b.size() && (a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace

crypto::Sm3Digest audit_entry_hash(ByteView prev_hash, int64_t seq, int64_t at,
                                   std::string_view actor, std::string_view action,
                                   std::string_view target, std::string_view details) {
  ByteWriter w;
  w.raw(prev_hash)
      .var(as_bytes(kAuditTag))
      .u64(static_cast<uint64_t>(seq))
      .u64(static_cast<uint64_t>(at))
      .var(as_bytes(actor))
      .var(as_bytes(action))
      .var(as_bytes(target))
      .var(as_bytes(details));
  return crypto::sm3(ByteView(w.bytes()));
}

nlohmann::json audit_entry_json(const AuditEntry& e) {
  nlohmann::json details = nlohmann::json::parse(e.details, nullptr, /*allow_exceptions=*/false);
  if (details.is_discarded()) details = e.details;  // an edited row: show it as it is
  return {{"seq", e.seq},
          {"at", e.at},
          {"actor", e.actor},
          {"action", e.action},
          {"target", e.target},
          {"details", std::move(details)},
          {"prev_hash", to_hex(e.prev_hash)},
          {"hash", to_hex(e.hash)}};
}

nlohmann::json audit_verification_json(const AuditVerification& v) {
  return {{"ok", v.ok},
          {"entries", v.entries},
          {"first_broken_seq",
           v.first_broken_seq ? nlohmann::json(*v.first_broken_seq) : nlohmann::json()},
          {"reason", v.reason},
          {"head_hash", to_hex(v.head_hash)}};
}

Result<int64_t> AuditLog::append(Tx& tx, const AuditRecord& record, int64_t at) {
  if (!record.details.is_object() && !record.details.is_null()) {
    return make_error(ErrorCode::kInvalidArgument, "audit details must be a JSON object");
  }
  // Only UTF-8 text enters the chain (requests are checked at the edge, server/json_fields.h;
  // this keeps anything else out too): every entry can be sent back as JSON.
  for (const std::string* text : {&record.actor, &record.action, &record.target}) {
    if (!server::is_utf8(*text)) {
      return make_error(ErrorCode::kInvalidArgument, "audit entries must be UTF-8 text");
    }
  }
  std::string details = "{}";
  if (!record.details.is_null()) {
    try {
      details = record.details.dump();
    } catch (const nlohmann::json::type_error&) {  // a string in it is not UTF-8
      return make_error(ErrorCode::kInvalidArgument, "audit entries must be UTF-8 text");
    }
  }
  // The head of the chain, read inside the caller's (SERIALIZABLE) transaction: a concurrent
  // append that takes the same seq loses on the PRIMARY KEY and is run again (audit_log.h).
  ANONCODE_TRY(auto head, store::audit_head(tx));
  const int64_t seq = head ? head->seq + 1 : 1;
  const Bytes prev = head ? head->hash : Bytes(kHashSize, 0);
  auto hash = audit_entry_hash(prev, seq, at, record.actor, record.action, record.target, details);
  ANONCODE_CHECK(store::insert_audit_entry(tx, {seq, at, record.actor, record.action, record.target,
                                                details, prev, Bytes(hash.begin(), hash.end())}));
  return seq;
}

Result<int64_t> AuditLog::append(const AuditRecord& record, int64_t at) {
  int64_t seq = 0;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(seq, append(tx, record, at));
    return {};
  }));
  return seq;
}

Result<AuditVerification> AuditLog::verify() {
  AuditVerification out;
  out.head_hash = Bytes(kHashSize, 0);
  int64_t expected = 1;
  Bytes prev(kHashSize, 0);
  auto broken = [&out](int64_t seq, std::string reason) {
    out.ok = false;
    out.first_broken_seq = seq;
    out.reason = std::move(reason);
  };
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(out.entries, store::count_audit_entries(tx));
    return {};
  }));
  // Page by page, each in a transaction of its own: appends only ever add after the end.
  int64_t after = INT64_MIN;
  while (out.ok) {
    std::vector<AuditEntry> page;
    ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
      ANONCODE_TRY(page, store::audit_entries_after(tx, after, kVerifyPage));
      return {};
    }));
    if (page.empty()) break;
    for (const auto& e : page) {
      if (e.seq != expected) {
        if (e.seq > expected) {
          broken(expected, "entry " + std::to_string(expected) + " is missing");
        } else {
          broken(e.seq, "entry " + std::to_string(e.seq) + " is out of sequence");
        }
        break;
      }
      if (!equal_bytes(e.prev_hash, prev)) {
        broken(e.seq, "entry " + std::to_string(e.seq) + "'s prev_hash is not the hash of entry " +
                          std::to_string(e.seq - 1));
        break;
      }
      auto h = audit_entry_hash(e.prev_hash, e.seq, e.at, e.actor, e.action, e.target, e.details);
      if (!equal_bytes(h, e.hash)) {
        broken(e.seq, "entry " + std::to_string(e.seq) + "'s hash does not match its contents");
        break;
      }
      prev = e.hash;
      out.head_hash = e.hash;
      ++expected;
    }
    after = page.back().seq;
    if (static_cast<int64_t>(page.size()) < kVerifyPage) break;
  }
  return out;
}

Result<std::vector<AuditEntry>> AuditLog::entries(int64_t limit,
                                                  std::optional<int64_t> before_seq) {
  if (limit < 1 || limit > 1000) {
    return make_error(ErrorCode::kInvalidArgument, "limit must be 1 to 1000");
  }
  std::vector<AuditEntry> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(out, store::audit_entries_before(tx, before_seq.value_or(INT64_MAX), limit));
    return {};
  }));
  return out;
}

}  // namespace anoncode::console
