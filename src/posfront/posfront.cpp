// seed 000 §2.5: the POS front between the terminals and the code platform
#include "posfront/posfront.h"

#include <sodium.h>

#include <algorithm>

#include "posfront/posfront_store.h"
#include "posfront/terminal_keys.h"
#include "protocol/terminal_mac.h"

namespace anoncode::posfront {

using storage::Tx;

namespace {

Error unauthorized() {
  return make_error(ErrorCode::kUnauthorized, "unknown terminal");
}
Error registered_already() {
  return make_error(ErrorCode::kConflict, "this terminal is registered already");
}
Error bad_mac() {
  return make_error(ErrorCode::kVerificationFailed, "verification failed");
}

// A terminal or merchant id as an administrator registers it: 1 to 32 of A-Z a-z 0-9 - _ .
Status check_id(std::string_view v, const char* what) {
  const bool ok =
      !v.empty() && v.size() <= kMaxRegisteredId && std::all_of(v.begin(), v.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
      });
  if (!ok) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + " must be 1 to " +
                                                       std::to_string(kMaxRegisteredId) +
                                                       " of A-Z a-z 0-9 - _ .");
  }
  return {};
}

}  // namespace

PosFront::PosFront(storage::Db& db, platform::CodePlatform& platform, crypto::Sm4Aead terminal_keys,
                   PosFrontOptions options)
    : db_(db), platform_(platform), sealer_(std::move(terminal_keys)), options_(options) {}

Result<SecretBytes> PosFront::register_terminal(std::string_view terminal,
                                                std::string_view merchant, int64_t now_ms,
                                                const storage::AlsoInTx& also) {
  ANONCODE_CHECK(check_id(terminal, "terminal"));
  ANONCODE_CHECK(check_id(merchant, "merchant"));
  SecretBytes key(kTerminalKeyBytes);
  randombytes_buf(key.expose_secret_mut().data(), key.size());
  ANONCODE_TRY(Bytes sealed, seal_terminal_key(sealer_, terminal, key));
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    // Two administrators registering one terminal at once: the second insert is the unique
    // violation, answered as the first check would.
    ANONCODE_TRY(bool exists, store::terminal_registered(tx, terminal));
    if (exists) return registered_already();
    auto inserted = store::insert_terminal(tx, terminal, merchant, sealed, now_ms);
    if (!inserted.ok() && storage::is_unique_violation(inserted.error())) {
      return registered_already();
    }
    ANONCODE_CHECK(inserted);
    if (also) ANONCODE_CHECK(also(tx));
    return {};
  }));
  return key;
}

Result<SecretBytes> PosFront::terminal_key(std::string_view terminal, std::string_view merchant) {
  std::optional<store::StoredTerminal> row;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(row, store::load_terminal(tx, terminal));
    return {};
  }));
  if (!row) return unauthorized();
  if (row->merchant != merchant) {
    return make_error(ErrorCode::kForbidden, "the terminal belongs to another merchant");
  }
  auto key = open_terminal_key(sealer_, terminal, row->key_sealed);
  if (!key.ok()) return make_error(ErrorCode::kInternal, "a terminal key does not open");
  return key;
}

Status PosFront::touch(std::string_view terminal, int64_t now_ms) {
  return db_.transact(
      [&](Tx& tx) -> Status { return store::touch_terminal(tx, terminal, now_ms); });
}

Result<std::vector<protocol::PlatformPublicKey>> PosFront::sync(std::string_view terminal,
                                                                std::string_view merchant,
                                                                int64_t at, ByteView mac,
                                                                int64_t now_ms) {
  ANONCODE_TRY(SecretBytes key, terminal_key(terminal, merchant));
  if (!protocol::mac_equal(protocol::sync_mac(key, terminal, merchant, at), mac)) return bad_mac();
  if (at > now_ms + options_.sync_skew_ms || at < now_ms - options_.sync_skew_ms) {
    return make_error(ErrorCode::kExpired, "the terminal's clock is off; set it and sync again");
  }
  ANONCODE_CHECK(touch(terminal, now_ms));
  return platform_.keys();
}

Result<platform::SettleSummary> PosFront::upload(std::string_view terminal,
                                                 std::string_view merchant,
                                                 const std::vector<BatchRide>& rides,
                                                 int64_t now_ms) {
  if (rides.size() > options_.max_batch) {
    return make_error(ErrorCode::kInvalidArgument,
                      "at most " + std::to_string(options_.max_batch) + " rides per batch");
  }
  ANONCODE_TRY(SecretBytes key, terminal_key(terminal, merchant));
  // Every MAC before anything is forwarded: one bad MAC refuses the whole batch.
  std::vector<platform::RideUpload> forward;
  forward.reserve(rides.size());
  for (const auto& r : rides) {
    auto want =
        protocol::ride_mac(key, terminal, merchant, r.counter, r.payload, r.amount, r.scanned_at);
    if (!protocol::mac_equal(want, r.mac)) return bad_mac();
    forward.push_back({r.counter, r.payload, r.amount, r.scanned_at});
  }
  // The terminal's last upload is recorded in the settlement's transaction.
  return platform_.settle_rides(terminal, merchant, forward, now_ms, [&](Tx& tx) -> Status {
    return store::touch_terminal(tx, terminal, now_ms);
  });
}

}  // namespace anoncode::posfront
