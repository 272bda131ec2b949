// The rider SDK (隐私保护 SDK): the anonymous credential, the wallet keys, and every flow of
// DESIGN §2 as one call. State lives in one file, written atomically (temp file, fsync, rename)
// with mode 0600. Before a request that spends the credential is sent, the request and the
// client's pending secrets are written to the file (the journal); after a crash or a lost reply
// the next call sends the very same bytes again, and the server answers a replay with the stored
// response — so a retry is never mistaken for a clone and the rider is never stranded.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "crypto/credential.h"
#include "sdk/transport.h"

namespace anoncode::sdk {

class Wallet {
 public:
  // Loads the state file, or starts an empty one (written on the first change).
  static Result<Wallet> load(const std::filesystem::path& state_file, Transport& transport);

  // Each returns the JSON object the CLI prints (DESIGN §6) or an error with a stable code.
  // Open (开通): creates the rider secret and registers it under the app user.
  Result<nlohmann::json> open(const std::string& user_id, const std::string& app_token);
  // Recharge (充值): a new wallet record B (normal) or a new wallet and accountid (strong).
  Result<nlohmann::json> recharge(int64_t amount, const std::string& channel, bool strong);
  // Balance: a query of the current wallet (it spends a show, like every wallet operation).
  Result<nlohmann::json> balance();
  Result<nlohmann::json> history(const std::string& type);  // "recharge" or "ride"
  // Request code (请码): the signed QR payload.
  Result<nlohmann::json> code();
  Result<nlohmann::json> refund(int64_t amount, const std::string& name,
                                const std::string& id_number, const std::string& bank_account);
  Result<nlohmann::json> close();
  // Backup (钱包备份): the state, encrypted under a passphrase-derived key, is uploaded under the
  // phone number, and this wallet is disabled. Restore (钱包恢复) downloads and confirms it.
  Result<nlohmann::json> backup(const std::string& phone, const std::string& passphrase);
  Result<nlohmann::json> restore(const std::string& phone, const std::string& passphrase);

  // The operator's root public key (base64url of the 65-byte SM2 key), as the app's build or
  // provisioning gives it; kept in the state. Issuer keys are accepted only in a key set it
  // signed (DESIGN §3.6 rule 4). Setting another root on a wallet that has one is `conflict`.
  Status set_trust_root(const std::string& trust_root);

  // Completes a request interrupted by a crash or a lost reply (every call does this first): sends
  // the journaled bytes again; fails, leaving the journal, until the server answers definitively.
  Status recover();
  bool has_pending() const;

 private:
  Wallet(std::filesystem::path file, Transport& transport, nlohmann::json state)
      : file_(std::move(file)), transport_(&transport), state_(std::move(state)) {}

  Status save() const;
  Result<crypto::IssuerPublicKey> issuer_key();
  Status refresh_issuer_keys();
  Result<crypto::Credential> credential() const;
  Status require_usable() const;
  Error halted_error() const;
  // Shows the credential for `ctx`, signs it with `signing_key_pem` (if any), journals the
  // request, sends it and completes it.
  Result<nlohmann::json> perform(const std::string& kind, const std::string& path,
                                 nlohmann::json body, crypto::ShowOp op,
                                 const std::string& wallet_b, const std::string& accountid,
                                 int64_t amount, const std::string& extra,
                                 const std::optional<std::string>& signing_key_pem,
                                 nlohmann::json effects);
  Result<nlohmann::json> send_pending();
  Status close_opening();  // POST /app/v1/close, then drops the close_unconfirmed mark

  std::filesystem::path file_;
  Transport* transport_;
  nlohmann::json state_;
};

// Backup keys from a passphrase (docs/API.md): K = PBKDF2-HMAC-SM3(passphrase,
// "anoncode/v1/backup" || phone, 100000, 64); the blob key is K[0..32), key_proof = K[32..64).
struct BackupKeys {
  SecretBytes blob_key;
  SecretBytes key_proof;
};
Result<BackupKeys> derive_backup_keys(const std::string& phone, const std::string& passphrase);

}  // namespace anoncode::sdk
