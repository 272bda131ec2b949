// seed 000 §2.5: the POS front between the terminals and the code platform
#include "posfront/posfront.h"

#include <sodium.h>

#include "pos/terminal_mac.h"
#include "posfront/posfront_store.h"

namespace anoncode::posfront {

using storage::Tx;

namespace {

Bytes key_aad(std::string_view terminal) {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/terminal-key")).var(as_bytes(terminal));
  return std::move(w).take();
}

Error unauthorized() {
  return make_error(ErrorCode::kUnauthorized, "unknown terminal");
}
Error bad_mac() {
  return make_error(ErrorCode::kVerificationFailed, "verification failed");
}

Status check_id(std::string_view v, const char* what) {
  if (v.empty() || v.size() > 64) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(what) + " must be 1 to 64 characters");
  }
  return {};
}

}  // namespace

PosFront::PosFront(storage::Db& db, platform::CodePlatform& platform, crypto::Sm4Aead terminal_keys,
                   PosFrontOptions options)
    : db_(db), platform_(platform), sealer_(std::move(terminal_keys)), options_(options) {}

Result<SecretBytes> PosFront::register_terminal(std::string_view terminal,
                                                std::string_view merchant, int64_t now_ms) {
  ANONCODE_CHECK(check_id(terminal, "terminal"));
  ANONCODE_CHECK(check_id(merchant, "merchant"));
  SecretBytes key(pos::kTerminalKeySize);
  randombytes_buf(key.expose_secret_mut().data(), key.size());
  ANONCODE_TRY(Bytes sealed, sealer_.seal(key.expose_secret(), key_aad(terminal)));
  bool exists = false;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(exists, store::terminal_registered(tx, terminal));
    if (exists) return {};
    return store::insert_terminal(tx, terminal, merchant, sealed, now_ms);
  }));
  if (exists) return make_error(ErrorCode::kConflict, "this terminal is registered already");
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
  auto key = sealer_.open(row->key_sealed, key_aad(terminal));
  if (!key.ok()) return make_error(ErrorCode::kInternal, "a terminal key does not open");
  return key;
}

Status PosFront::touch(std::string_view terminal, int64_t now_ms) {
  return db_.transact(
      [&](Tx& tx) -> Status { return store::touch_terminal(tx, terminal, now_ms); });
}

Result<std::vector<pos::PlatformPublicKey>> PosFront::sync(std::string_view terminal,
                                                           std::string_view merchant, int64_t at,
                                                           ByteView mac, int64_t now_ms) {
  ANONCODE_TRY(SecretBytes key, terminal_key(terminal, merchant));
  if (!pos::mac_equal(pos::sync_mac(key, terminal, merchant, at), mac)) return bad_mac();
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
        pos::ride_mac(key, terminal, merchant, r.counter, r.payload, r.amount, r.scanned_at);
    if (!pos::mac_equal(want, r.mac)) return bad_mac();
    forward.push_back({r.counter, r.payload, r.amount, r.scanned_at});
  }
  ANONCODE_TRY(auto summary, platform_.settle_rides(terminal, merchant, forward, now_ms));
  ANONCODE_CHECK(touch(terminal, now_ms));
  return summary;
}

}  // namespace anoncode::posfront
