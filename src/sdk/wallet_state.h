// What the rider SDK keeps on the device (DESIGN §2, docs/PROTOCOL.md §9.4), typed, with every
// secret in SecretBytes; and its one JSON form, the version 1 state file, which is also the
// plaintext of a backup. The conversion keeps the file as the SDK has always written it: a file
// written by an earlier SDK loads, and one written here is the same bytes an earlier SDK wrote.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"

namespace anoncode::sdk {

// What a journaled request does (the journal's "kind"); a balance query is kHistory.
enum class RequestKind { kOpen, kRecharge, kHistory, kCode, kRefund, kClose };

// The current anonymous wallet B; a recharge replaces it.
struct WalletRecord {
  std::string b = {};          // the wallet account (24 characters)
  std::string accountid = {};  // the account it belongs to (19 digits)
  SecretBytes key_pem = {};    // its SM2 private key, PKCS#8 PEM: signs every show of it
  bool strong = false;         // opened by a strong-privacy recharge
  int64_t balance = 0;         // as the last answer gave it
};

// What a request changes in the state once the server accepted it (status 200).
struct RequestEffects {
  std::optional<std::string> user_id = {};    // open: the app user
  std::optional<std::string> app_token = {};  // open: its bearer token
  std::optional<SecretBytes> key_pem = {};    // recharge: the new wallet's key
  std::optional<bool> strong = {};            // recharge: strong privacy
};

// The journal (PROTOCOL §9.4 rule 1): written before the request leaves, sent again unchanged
// until the server answers definitively.
struct PendingRequest {
  RequestKind kind = RequestKind::kCode;
  std::string path = {};
  std::optional<std::string> bearer = {};  // open: the app token
  nlohmann::json body = {};                // the exact wire body
  SecretBytes issue = {};                  // crypto::PendingIssue::encode_secret
  RequestEffects effects = {};
};

// A restore whose server copy is not yet consumed (POST /app/v1/restore/confirm).
struct RestoreConfirmation {
  std::string phone = {};
  SecretBytes key_proof = {};
};

struct WalletState {
  std::optional<std::string> trust_root = {};  // base64url of the operator's root public key
  // From the last verified key set: kid (hex) → crypto::IssuerPublicKey encoding.
  std::optional<std::map<std::string, Bytes>> issuer_keys = {};
  std::optional<std::string> issuing_kid = {};
  std::optional<int64_t> keyset_sequence = {};  // absent: keys from before signed key sets
  std::optional<SecretBytes> credential = {};   // crypto::Credential::encode_secret
  std::optional<std::string> user_id = {};
  std::optional<std::string> app_token = {};
  std::optional<std::string> person = {};  // hex of the person digest (PROTOCOL §9.4 rule 6)
  std::optional<WalletRecord> wallet = {};
  std::optional<PendingRequest> pending = {};
  std::optional<std::string> halted = {};        // why the wallet stopped ("issuer_misbehaved")
  bool disabled = false;                         // backed up: the secrets left this device
  std::optional<std::string> backed_up_to = {};  // the phone number of that backup
  bool close_unconfirmed = false;  // the platform closed the wallet; the app backend not yet
  std::optional<RestoreConfirmation> restore_unconfirmed = {};
  // Members this SDK does not know (written by a later one), kept as they were.
  nlohmann::json unknown = nlohmann::json::object();
};

// The JSON object of the state file (version 1).
nlohmann::json state_to_json(const WalletState& state);
// `malformed` unless `j` is a version 1 state whose members have their types.
Result<WalletState> state_from_json(const nlohmann::json& j);

// The state in `file`, or an empty state when there is no such file.
Result<WalletState> load_state_file(const std::filesystem::path& file);
// Writes the state to `file` atomically with mode 0600: temp file, fsync, rename, fsync the folder.
Status save_state_file(const std::filesystem::path& file, const WalletState& state);

}  // namespace anoncode::sdk
