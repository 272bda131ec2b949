// The app backend (APP 后端, seed 000 §1, DESIGN §1–§2): the app's riders and their personal
// data, the whitelist of who sees the anonymous code, opening records, wallet backups, and the
// identity look-up a refund needs. (The POS terminals are the POS front's: posfront.h.)
//
// Personal data (name, ID number, phone, ordinary card number) is kept only sealed with Sm4Aead
// under the configured personal-data key (`pii_key`), bound to its user id; the ID number is
// also kept as an HMAC-SM3 under that key (`id_lookup`) so a refund can find the user without
// decrypting everyone. App tokens are kept as SM3 hashes. Nothing here links a user to an
// anonymous wallet (DESIGN §4): the opening record names the rider's ordinary card.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "crypto/group.h"
#include "crypto/sm4.h"
#include "privacy/privacy_backend.h"
#include "storage/db.h"

namespace anoncode::app {

// A rider of the app. Personal data: never logged, never in an error message.
struct AppUser {
  std::string user_id;
  std::string name;
  std::string id_number;
  std::string phone;
  std::string card_no;  // the rider's ordinary cloud-card number (云卡)
};

// 白名单: everyone, or the listed users.
struct Whitelist {
  bool all = false;
  std::vector<std::string> users;  // sorted
};

// A phone or client address whose restore attempts are refused for now (DESIGN §3.6 rule 6), as
// GET /admin/v1/restore-locks lists it. Neither the phone nor the address is kept in clear.
struct RestoreLock {
  std::string kind;  // "phone" or "address"
  std::string hash;  // hex of the first 8 bytes of the keyed hash its count is kept under
  int64_t failures = 0;
  int64_t locked_until = 0;  // Unix ms
};

using storage::AlsoInTx;

class AppBackend {
 public:
  // `pii_key`: 32 bytes (the data directory's pii_key file).
  static Result<std::unique_ptr<AppBackend>> create(storage::Db& db,
                                                    privacy::PrivacyBackend& privacy,
                                                    const SecretBytes& pii_key,
                                                    crypto::Rng& rng = crypto::OsRng::instance());

  // --- riders ---
  // Registers a rider; returns its app token (base64url text, shown once). `conflict` if the
  // user id exists or the ID number is already registered (one user per person); `invalid_argument`
  // for ill-formed fields.
  Result<SecretBytes> add_user(const AppUser& user, int64_t now_ms, const AlsoInTx& also = {});
  // The user id an app token belongs to; `unauthorized` otherwise.
  Result<std::string> authenticate(std::string_view app_token);
  // The rider's record, decrypted; `not_found` if unknown.
  Result<AppUser> user(std::string_view user_id);
  // For a refund (seed 000 §2.11): the user registered with this name and ID number, found by
  // id_lookup and confirmed on the decrypted name; `not_found` if nobody is.
  Result<std::string> resolve_user(std::string_view name, std::string_view id_number);

  // --- whitelist (白名单) ---
  Result<Whitelist> whitelist();
  Result<Whitelist> whitelist_add(const std::vector<std::string>& user_ids, int64_t now_ms,
                                  const AlsoInTx& also = {});
  Result<Whitelist> whitelist_remove(const std::vector<std::string>& user_ids,
                                     const AlsoInTx& also = {});
  Result<Whitelist> whitelist_set_all(bool on, const AlsoInTx& also = {});
  Result<bool> is_whitelisted(std::string_view user_id);

  // --- open (开通, seed 000 §2.1) ---
  // For a whitelisted rider: registers J with the privacy backend and writes the opening
  // record; returns the first credential (IssueResponse). `not_whitelisted`; `conflict` if the
  // rider already opened with another credential; a retry of the same open is answered again.
  Result<Bytes> open(std::string_view user_id, ByteView open_request, int64_t now_ms);

  // seed 000 §2.12: after the rider's anonymous close was accepted by the code platform, the app
  // marks the rider's opening record closed (state 1). Idempotent; `not_found` if the rider never
  // opened. The app learns only that this rider closed, never which wallet.
  Status close_opening(std::string_view user_id, int64_t now_ms);

  // --- backup and restore (钱包备份 / 恢复, seed 000 §2.8–2.9) ---
  // Stores (or replaces) the encrypted wallet under the rider's own phone number; `forbidden`
  // if the phone is not the rider's. `verifier` = SM3(key_proof), 32 bytes.
  Status backup(std::string_view user_id, std::string_view phone, ByteView blob, ByteView verifier,
                int64_t now_ms);
  //
  // Backups are no oracle (DESIGN §3.6 rule 6). Restore and its confirmation answer a wrong key
  // proof and a phone without a (live) backup alike — `verification_failed` "no backup matches
  // this phone and key", after the same work (the proof's SM3 is compared in constant time with
  // a dummy verifier when there is no backup) — and count either as a failure, for the phone and
  // for the client address. A wrong proof changes nothing else: the backup survives.
  //  - A phone is locked after 5 failures since its last right proof: 1 minute, doubled for each
  //    further failure, at most a day. A right proof after the lock clears the count.
  //  - A client address (an IPv4 address, or an IPv6 /64) is locked after 20 failures within an
  //    hour, until that hour is over.
  // While either is locked every attempt, right or wrong, is `rate_limited` without the proof
  // being looked at, and `*retry_at_ms` (when given) is set to the lock's end. A lock being set
  // is logged (`restore_locked`, with a hash prefix, never the phone or the address) and counted
  // (anoncode_restore_locks_total).
  //
  // The blob, to whoever proves the passphrase-derived key; any number of times until
  // confirmed.
  Result<Bytes> restore(std::string_view phone, ByteView key_proof, std::string_view client_address,
                        int64_t now_ms, int64_t* retry_at_ms = nullptr);
  // Consumes the server copy; afterwards restore answers as for no backup. Confirming again with
  // the same key (a retry after a lost reply) is answered again and changes nothing.
  Status confirm_restore(std::string_view phone, ByteView key_proof,
                         std::string_view client_address, int64_t now_ms,
                         int64_t* retry_at_ms = nullptr);
  // The phones and addresses locked at `now_ms`, the latest lock first (at most 1000).
  Result<std::vector<RestoreLock>> restore_locks(int64_t now_ms);

  privacy::PrivacyBackend& privacy() { return privacy_; }

 private:
  AppBackend(storage::Db& db, privacy::PrivacyBackend& privacy, SecretBytes pii_key,
             crypto::Sm4Aead aead, crypto::Rng& rng)
      : db_(db),
        privacy_(privacy),
        pii_key_(std::move(pii_key)),
        aead_(std::move(aead)),
        rng_(rng),
        dummy_verifier_(32) {
    rng_.fill(dummy_verifier_);
  }

  // One key-proof attempt of restore or confirm, in one transaction (the rules above): refused
  // while the phone or the address is locked; otherwise the proof is compared with the backup's
  // verifier — of a live backup, or also of a consumed one when `consumed_matches` — or with the
  // dummy one. A match runs `on_match` and clears the phone's count; anything else counts a
  // failure for the phone and for the address.
  Status key_proof_attempt(std::string_view phone, ByteView key_proof,
                           std::string_view client_address, int64_t now_ms, bool consumed_matches,
                           const std::function<Status(storage::Tx&)>& on_match,
                           int64_t* retry_at_ms);
  // The key a phone's or an address's count is kept under (HMAC-SM3 under pii_key).
  Bytes limit_key(std::string_view kind, std::string_view value) const;
  Bytes id_lookup(std::string_view id_number) const;
  Result<AppUser> unseal_user(std::string_view user_id, ByteView sealed) const;
  Result<Whitelist> read_whitelist(storage::Tx& tx);

  storage::Db& db_;
  privacy::PrivacyBackend& privacy_;
  SecretBytes pii_key_;
  crypto::Sm4Aead aead_;
  crypto::Rng& rng_;
  Bytes dummy_verifier_;  // what a proof is compared with when the phone has no backup
};

}  // namespace anoncode::app
