// The rider SDK (隐私保护 SDK): the anonymous credential, the wallet keys, and every flow of
// DESIGN §2 as one call. State (sdk/wallet_state.h) lives in one file, written atomically (temp
// file, fsync, rename) with mode 0600. Before a request that spends the credential is sent, the
// request and the client's pending secrets are written to the file (the journal); after a crash or
// a lost reply the next call sends the very same bytes again, and the server answers a replay with
// the stored response — so a retry is never mistaken for a clone and the rider is never stranded.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "crypto/credential.h"
#include "sdk/results.h"
#include "sdk/transport.h"
#include "sdk/wallet_state.h"

namespace anoncode::sdk {

class Wallet {
 public:
  // Loads the state file, or starts an empty one (written on the first change).
  static Result<Wallet> load(const std::filesystem::path& state_file, Transport& transport);

  // Each returns its result (sdk/results.h; its JSON, the object the CLI prints (DESIGN §6), is
  // in sdk/results_json.h) or an error with a stable code.
  // Open (开通): creates the rider secret and registers it under the app user.
  Result<OpenResult> open(const std::string& user_id, const std::string& app_token);
  // Recharge (充值): a new wallet record B (normal) or a new wallet and accountid (strong).
  Result<RechargeResult> recharge(int64_t amount, const std::string& channel, bool strong);
  // Balance: a query of the current wallet (it spends a show, like every wallet operation).
  Result<WalletBalance> balance();
  Result<History> history(const std::string& type);  // "recharge" or "ride"
  // Request code (请码): the signed QR payload.
  Result<CodeResult> code();
  Result<RefundResult> refund(int64_t amount, const std::string& name, const std::string& id_number,
                              const std::string& bank_account);
  Result<CloseResult> close();
  // Backup (钱包备份): the state, encrypted under a passphrase-derived key, is uploaded under the
  // phone number, and this wallet is disabled. Restore (钱包恢复) downloads and confirms it.
  Result<BackupResult> backup(const std::string& phone, const std::string& passphrase);
  Result<RestoreResult> restore(const std::string& phone, const std::string& passphrase);

  // The operator's root public key (base64url of the 65-byte SM2 key), as the app's build or
  // provisioning gives it; kept in the state. Issuer keys are accepted only in a key set it
  // signed (DESIGN §3.6 rule 4). Setting another root on a wallet that has one is `conflict`.
  Status set_trust_root(const std::string& trust_root);

  // Completes a request interrupted by a crash or a lost reply (every call does this first): sends
  // the journaled bytes again; fails, leaving the journal, until the server answers definitively.
  Status recover();
  bool has_pending() const;

 private:
  // A request that shows the credential: what perform() needs to make the show and the request.
  struct Operation {
    RequestKind kind = RequestKind::kCode;
    std::string path = {};
    // The request's own members; perform() adds "show", "wallet" (if absent) and
    // "wallet_signature".
    nlohmann::json body = nlohmann::json::object();
    // The show context (protocol::ShowContext).
    crypto::ShowOp op = crypto::ShowOp::kQuery;
    std::string wallet_b = {};
    std::string accountid = {};
    int64_t amount = 0;
    std::string extra = {};
    std::vector<std::string> scopes = {};  // the wallets whose pseudonyms the show proves
    // The current wallet's key (PEM), which signs SM3(show); none on a first recharge.
    std::optional<SecretBytes> signing_key_pem = {};
    RequestEffects effects = {};  // applied to the state when the server accepts the request
  };

  Wallet(std::filesystem::path file, Transport& transport, WalletState state)
      : file_(std::move(file)), transport_(&transport), state_(std::move(state)) {}

  Status save() const;
  Result<crypto::IssuerPublicKey> issuer_key();
  Status refresh_issuer_keys();
  Result<crypto::Credential> credential() const;
  Status require_usable() const;
  // An operation on the current wallet: its account, its key and its scope; `not_found` with
  // `missing` when there is no wallet yet.
  Result<Operation> on_current_wallet(RequestKind kind, std::string path, crypto::ShowOp op,
                                      const char* missing) const;
  Error halted_error() const;
  // Shows the credential for the operation's context, signs it with its key (if any), journals
  // the request, sends it and completes it. Returns the server's answer.
  Result<nlohmann::json> perform(Operation operation);
  Result<nlohmann::json> send_pending();
  // The nonce for a show on `wallet_b`: the one the last answer on that wallet carried, if it is
  // fresh, else a new one from POST /privacy/v1/nonce.
  Result<crypto::Nonce> nonce_for(const std::string& wallet_b);
  Status close_opening();  // POST /app/v1/close, then drops the close_unconfirmed mark

  std::filesystem::path file_;
  Transport* transport_;
  WalletState state_;
  // The `next_nonce` of the last answer (docs/PROTOCOL.md "Nonces"), kept in memory only and
  // used once, only for the wallet it came with: on another wallet it would link the two.
  struct HeldNonce {
    crypto::Nonce nonce = {};
    std::string wallet_b = {};
    std::chrono::steady_clock::time_point received = {};
  };
  std::optional<HeldNonce> next_nonce_ = {};
};

// Backup keys from a passphrase (docs/API.md): K = PBKDF2-HMAC-SM3(passphrase,
// "anoncode/v1/backup" || phone, 100000, 64); the blob key is K[0..32), key_proof = K[32..64).
struct BackupKeys {
  SecretBytes blob_key;
  SecretBytes key_proof;
};
Result<BackupKeys> derive_backup_keys(const std::string& phone, const std::string& passphrase);

}  // namespace anoncode::sdk
