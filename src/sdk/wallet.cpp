// seed 000 §2.2–2.12, rider side
#include "sdk/wallet.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "crypto/sm2.h"
#include "crypto/sm3.h"
#include "crypto/sm4.h"
#include "protocol/issuer_keyset.h"
#include "protocol/show_context.h"

namespace anoncode::sdk {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kStateVersion = 1;
constexpr uint32_t kBackupIterations = 100000;

Result<Bytes> b64(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) {
    return make_error(ErrorCode::kMalformed, std::string("missing field '") + field + "'");
  }
  return from_base64url(j[field].get<std::string>());
}

std::string b64(ByteView b) {
  return to_base64url(b);
}
std::string b64(const SecretBytes& s) {
  return to_base64url(s.expose_secret());
}

// Writes `text` to `path` atomically with mode 0600: temp file, fsync, rename, fsync the folder.
Status write_atomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::kInternal, "cannot write " + tmp.string());
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n <= 0) {
      ::close(fd);
      return make_error(ErrorCode::kInternal, "cannot write " + tmp.string());
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_error(ErrorCode::kInternal, "cannot replace " + path.string());
  }
  fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

// The JSON a command prints: the server's answer without the credential material.
json public_view(json body) {
  body.erase("response");
  return body;
}

}  // namespace

Result<BackupKeys> derive_backup_keys(const std::string& phone, const std::string& passphrase) {
  if (phone.empty() || passphrase.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "phone and passphrase are required");
  }
  SecretBytes pass(as_bytes(passphrase));
  Bytes salt = to_bytes("anoncode/v1/backup" + phone);
  ANONCODE_TRY(SecretBytes k, crypto::pbkdf2_hmac_sm3(pass, salt, kBackupIterations, 64));
  return BackupKeys{SecretBytes(k.expose_secret().first(32)),
                    SecretBytes(k.expose_secret().subspan(32))};
}

Result<Wallet> Wallet::load(const fs::path& state_file, Transport& transport) {
  json state = {{"version", kStateVersion}};
  if (fs::exists(state_file)) {
    std::ifstream in(state_file);
    std::stringstream text;
    text << in.rdbuf();
    state = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (state.is_discarded() || !state.is_object() || state.value("version", 0) != kStateVersion) {
      return make_error(ErrorCode::kMalformed, "the wallet state file is not a version 1 wallet");
    }
  }
  return Wallet(state_file, transport, std::move(state));
}

Status Wallet::save() const {
  return write_atomically(file_, state_.dump(2));
}

bool Wallet::has_pending() const {
  return state_.contains("pending");
}

Status Wallet::require_usable() const {
  if (state_.contains("halted")) return halted_error();
  if (state_.value("disabled", false)) {
    return make_error(ErrorCode::kConflict,
                      "this wallet was backed up and is disabled; restore it");
  }
  if (!state_.contains("credential")) {
    return make_error(ErrorCode::kConflict, "the anonymous code is not opened in this wallet");
  }
  return {};
}

Error Wallet::halted_error() const {
  return make_error(ErrorCode::kIssuerMisbehaved,
                    "the issuer's credential did not verify; this wallet stopped (" +
                        state_.value("halted", std::string()) + ")");
}

Status Wallet::set_trust_root(const std::string& trust_root) {
  ANONCODE_TRY(auto root, protocol::parse_trust_root(trust_root));
  const std::string canonical = to_base64url(root.to_bytes());
  if (state_.contains("trust_root")) {
    if (state_["trust_root"].get<std::string>() == canonical) return {};
    return make_error(ErrorCode::kConflict, "this wallet already trusts another root key");
  }
  state_["trust_root"] = canonical;
  return save();
}

// DESIGN §3.6 rule 4: the issuer keys come only from a key set the trust root signed, never older
// than one seen before, with at most two issuing keys valid at once — so the issuer cannot give
// this rider a key of its own.
Status Wallet::refresh_issuer_keys() {
  if (!state_.contains("trust_root")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "no trust root: give the wallet the operator's root public key "
                      "(--trust-root, the trust_root file of `anoncode init`)");
  }
  ANONCODE_TRY(auto root, protocol::parse_trust_root(state_["trust_root"].get<std::string>()));
  ANONCODE_TRY(Reply r, transport_->get("/privacy/v1/keyset"));
  if (r.status != 200) return reply_error(r);
  if (!r.body.is_object() || !r.body.contains("body") || !r.body["body"].is_string()) {
    return make_error(ErrorCode::kVerificationFailed, "the issuer key set is not signed");
  }
  ANONCODE_TRY(Bytes signature, b64(r.body, "signature"));
  protocol::SignedKeySet signed_set{r.body["body"].get<std::string>(), std::move(signature)};
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  ANONCODE_TRY(protocol::IssuerKeySet set,
               protocol::verify_keyset(signed_set, root,
                                       state_.value("keyset_sequence", int64_t{0}), now_ms));
  json keys = json::object();
  for (const auto& k : set.keys) keys[k.kid] = b64(k.public_key);
  state_["issuer_keys"] = keys;
  state_["issuing_kid"] = set.issuing_kid;
  state_["keyset_sequence"] = set.sequence;
  return save();
}

Result<crypto::IssuerPublicKey> Wallet::issuer_key() {
  std::string kid = state_.value("issuing_kid", std::string());
  if (state_.contains("credential")) {
    ANONCODE_TRY(crypto::Credential c, credential());
    kid = to_hex(c.kid());
  }
  // Keys not taken from a signed set (a wallet state from before them) are fetched again.
  if (!state_.contains("keyset_sequence") || !state_.contains("issuer_keys") ||
      !state_["issuer_keys"].contains(kid)) {
    ANONCODE_CHECK(refresh_issuer_keys());
    if (!state_.contains("credential")) kid = state_.value("issuing_kid", std::string());
  }
  const json& keys = state_["issuer_keys"];
  if (!keys.contains(kid))
    return make_error(ErrorCode::kUnknownKey, "the issuer key " + kid + " is unknown");
  ANONCODE_TRY(Bytes enc, from_base64url(keys[kid].get<std::string>()));
  return crypto::IssuerPublicKey::decode(enc);
}

Result<crypto::Credential> Wallet::credential() const {
  ANONCODE_TRY(Bytes raw, b64(state_, "credential"));
  SecretBytes secret(raw);
  sodium_memzero(raw.data(), raw.size());
  return crypto::Credential::decode_secret(secret);
}

Status Wallet::recover() {
  if (state_.contains("halted")) return halted_error();
  if (state_.contains("pending")) {
    auto r = send_pending();
    // A request is settled once the server gave a definitive answer (with the next credential
    // for a show); until then nothing else may be sent — the journal stays, and so does the error.
    if (!r.ok() && (state_.contains("pending") || state_.contains("halted"))) return r.error();
  }
  if (state_.contains("close_unconfirmed")) ANONCODE_CHECK(close_opening());
  if (state_.contains("restore_unconfirmed")) {
    const json& u = state_["restore_unconfirmed"];
    ANONCODE_TRY(Reply r, transport_->post("/app/v1/restore/confirm", u));
    // 401: the app token is no longer valid here (nothing this install can close).
    if (r.status != 200 && r.status != 404 && r.status != 401) return reply_error(r);
    state_.erase("restore_unconfirmed");
    ANONCODE_CHECK(save());
  }
  return {};
}

// DESIGN §3.6 rule 1. A show, once sent, is spent: the journal holds the exact request bytes,
// and the only move is to send them again until the server answers with a verifiable issue
// response (success or refusal). Every other answer — a timeout, a 5xx, a refusal without an
// issue response, a 200 without one — leaves the journal as it is, so even a lying server never
// sees the credential shown under a second nonce (which is what tracing needs to frame a rider).
// An issue response whose DLEQ proof fails stops the wallet for good (`issuer_misbehaved`): the
// spent credential is dropped, never shown again.
Result<json> Wallet::send_pending() {
  const json pending = state_["pending"];
  const std::string kind = pending.value("kind", std::string());
  const bool spends_show = kind != "open";
  std::optional<std::string> bearer;
  if (pending.contains("bearer")) bearer = pending["bearer"].get<std::string>();
  ANONCODE_TRY(Reply reply,
               transport_->post(pending["path"].get<std::string>(), pending["body"], bearer));
  const bool has_response = reply.body.is_object() && reply.body.contains("response");
  // A 5xx is never definitive, even with the next credential: the operation's outcome is not
  // known yet (a payment still being confirmed), so the same bytes are sent again later.
  if (!has_response || reply.status >= 500) {
    // An open that was refused issued nothing: there is no credential to protect.
    if (!spends_show && !has_response && reply.status >= 400 && reply.status < 500) {
      state_.erase("pending");
      ANONCODE_CHECK(save());
      return reply_error(reply);
    }
    if (reply.status == 200) {
      return make_error(ErrorCode::kIssuerMisbehaved,
                        "the server answered without the next credential; the request stays "
                        "pending and is sent again by the next call");
    }
    return reply_error(reply);  // the journal stays: the next call sends the same bytes again
  }

  ANONCODE_TRY(Bytes issue_raw, b64(pending, "issue"));
  SecretBytes issue_secret(issue_raw);
  sodium_memzero(issue_raw.data(), issue_raw.size());
  ANONCODE_TRY(crypto::PendingIssue issue, crypto::PendingIssue::decode_secret(issue_secret));
  auto resp_raw = b64(reply.body, "response");
  auto resp = resp_raw.ok() ? crypto::IssueResponse::decode(*resp_raw)
                            : Result<crypto::IssueResponse>(resp_raw.error());
  if (!resp.ok()) return resp.error();  // garbled on the way: the journal stays
  ANONCODE_TRY(crypto::IssuerPublicKey pub, issuer_key());
  auto next = crypto::CredentialClient::finish_issue(issue, *resp, pub);
  if (!next) {
    state_.erase("pending");
    state_.erase("credential");
    state_["halted"] = "issuer_misbehaved";
    ANONCODE_CHECK(save());
    return halted_error();
  }
  state_["credential"] = b64(next->encode_secret());
  if (reply.status == 200) {
    const json& effects = pending.value("effects", json::object());
    if (kind == "open") {
      state_["user_id"] = effects["user_id"];
      state_["app_token"] = effects["app_token"];
      if (reply.body.contains("person")) state_["person"] = reply.body["person"];
    } else if (kind == "recharge") {
      state_["wallet"] = {{"b", reply.body.value("wallet", std::string())},
                          {"accountid", reply.body.value("accountid", std::string())},
                          {"key_pem", effects["key_pem"]},
                          {"strong", effects.value("strong", false)},
                          {"balance", reply.body.value("balance", int64_t{0})}};
    } else if (kind == "close") {
      state_.erase("wallet");
    } else if (reply.body.contains("balance") && state_.contains("wallet")) {
      state_["wallet"]["balance"] = reply.body["balance"];
    }
  }
  state_.erase("pending");
  ANONCODE_CHECK(save());
  if (reply.status != 200) return reply_error(reply);
  return public_view(reply.body);
}

Result<json> Wallet::perform(const std::string& kind, const std::string& path, json body,
                             crypto::ShowOp op, const std::string& wallet_b,
                             const std::string& accountid, int64_t amount, const std::string& extra,
                             const std::optional<std::string>& signing_key_pem, json effects) {
  ANONCODE_CHECK(require_usable());
  ANONCODE_TRY(crypto::Credential cred, credential());
  ANONCODE_TRY(crypto::IssuerPublicKey pub, issuer_key());
  ANONCODE_TRY(Reply nr, transport_->post("/privacy/v1/nonce", json::object()));
  if (nr.status != 200) return reply_error(nr);
  ANONCODE_TRY(Bytes nonce_raw, b64(nr.body, "nonce"));
  if (nonce_raw.size() != 32) return make_error(ErrorCode::kMalformed, "nonce: wrong length");
  crypto::Nonce nonce{};
  std::copy(nonce_raw.begin(), nonce_raw.end(), nonce.begin());

  // The wallets whose pseudonyms the show proves (DESIGN §3.6 rule 3).
  std::vector<std::string> scopes =
      kind == "recharge"
          ? protocol::recharge_scopes(body.value("previous_wallet", std::string()), wallet_b)
          : std::vector<std::string>{wallet_b};
  protocol::ShowContext ctx{op, wallet_b, accountid, amount, extra, scopes};
  ANONCODE_TRY(auto shown, crypto::CredentialClient::show(cred, pub, op, nonce, ctx.hash(),
                                                          crypto::OsRng::instance(), ctx.scopes));
  Bytes show = shown.request.encode();
  body["show"] = b64(show);
  if (!body.contains("wallet")) body["wallet"] = wallet_b;
  if (signing_key_pem) {
    ANONCODE_TRY(auto key,
                 crypto::Sm2PrivateKey::from_pem(SecretBytes(as_bytes(*signing_key_pem))));
    crypto::Sm3Digest digest = crypto::sm3(show);
    ANONCODE_TRY(Bytes sig, crypto::sm2_sign(key, digest));
    body["wallet_signature"] = b64(sig);
  }
  // The journal: written before the request leaves, so a crash or a lost reply is recovered by
  // sending these exact bytes again.
  state_["pending"] = {{"kind", kind},
                       {"path", path},
                       {"body", body},
                       {"issue", b64(shown.pending.encode_secret())},
                       {"effects", std::move(effects)}};
  ANONCODE_CHECK(save());
  return send_pending();
}

Result<json> Wallet::open(const std::string& user_id, const std::string& app_token) {
  ANONCODE_CHECK(recover());
  if (state_.contains("credential")) {
    return make_error(ErrorCode::kConflict, "the anonymous code is already opened in this wallet");
  }
  if (user_id.empty() || app_token.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "user id and app token are required");
  }
  ANONCODE_TRY(crypto::IssuerPublicKey pub, issuer_key());
  auto started = crypto::CredentialClient::begin_open(pub, protocol::open_context_hash(user_id),
                                                      crypto::OsRng::instance());
  state_["pending"] = {{"kind", "open"},
                       {"path", "/app/v1/open"},
                       {"bearer", app_token},
                       {"body", {{"request", b64(started.request.encode())}}},
                       {"issue", b64(started.pending.encode_secret())},
                       {"effects", {{"user_id", user_id}, {"app_token", app_token}}}};
  ANONCODE_CHECK(save());
  ANONCODE_TRY(json out, send_pending());
  return json{{"status", "opened"}};
}

Result<json> Wallet::recharge(int64_t amount, const std::string& channel, bool strong) {
  ANONCODE_CHECK(recover());
  if (amount <= 0)
    return make_error(ErrorCode::kInvalidArgument, "the amount must be positive (fen)");
  ANONCODE_TRY(auto key, crypto::Sm2PrivateKey::generate());
  Bytes pub = key.public_key().to_bytes();
  std::string new_b = protocol::wallet_account_of(pub);
  std::string previous_b;
  std::optional<std::string> previous_key;
  if (state_.contains("wallet")) {
    previous_b = state_["wallet"]["b"].get<std::string>();
    previous_key = state_["wallet"]["key_pem"].get<std::string>();
  }
  SecretBytes pem = key.export_pem_secret();
  std::string key_pem(pem.expose_secret().begin(), pem.expose_secret().end());
  json body = {{"amount", amount},
               {"channel", channel},
               {"strong", strong},
               {"new_wallet_public_key", b64(pub)},
               {"previous_wallet", previous_b}};
  ANONCODE_TRY(json out,
               perform("recharge", "/platform/v1/recharge", body, crypto::ShowOp::kRecharge, new_b,
                       "", amount, protocol::recharge_extra(previous_b, channel, strong, pub),
                       previous_key, {{"key_pem", key_pem}, {"strong", strong}}));
  sodium_memzero(key_pem.data(), key_pem.size());
  return json{
      {"wallet", out["wallet"]}, {"accountid", out["accountid"]}, {"balance", out["balance"]}};
}

namespace {
const json& current_wallet(const json& state) {
  return state.at("wallet");
}
}  // namespace

Result<json> Wallet::history(const std::string& type) {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  if (type != "recharge" && type != "ride") {
    return make_error(ErrorCode::kInvalidArgument, "history type must be recharge or ride");
  }
  if (!state_.contains("wallet"))
    return make_error(ErrorCode::kNotFound, "no wallet yet: recharge first");
  const json& w = current_wallet(state_);
  return perform("history", "/platform/v1/history", {{"type", type}}, crypto::ShowOp::kQuery,
                 w["b"], w["accountid"], 0, type, w["key_pem"].get<std::string>(), json::object());
}

Result<json> Wallet::balance() {
  ANONCODE_TRY(json out, history("recharge"));
  return json{
      {"wallet", out["wallet"]}, {"accountid", out["accountid"]}, {"balance", out["balance"]}};
}

Result<json> Wallet::code() {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  if (!state_.contains("wallet"))
    return make_error(ErrorCode::kNotFound, "no wallet yet: recharge first");
  const json& w = current_wallet(state_);
  return perform("code", "/platform/v1/code", json::object(), crypto::ShowOp::kRequestCode, w["b"],
                 w["accountid"], 0, "", w["key_pem"].get<std::string>(), json::object());
}

Result<json> Wallet::refund(int64_t amount, const std::string& name, const std::string& id_number,
                            const std::string& bank_account) {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  if (amount <= 0)
    return make_error(ErrorCode::kInvalidArgument, "the amount must be positive (fen)");
  if (!state_.contains("wallet"))
    return make_error(ErrorCode::kNotFound, "no wallet yet: recharge first");
  // The refund proves the credential belongs to the person named: a name or ID number that is not
  // this rider's would be refused after the show was sent, leaving it pending. Checked here first.
  if (state_.contains("person") &&
      state_["person"].get<std::string>() != protocol::person_digest(name, id_number)) {
    return make_error(ErrorCode::kVerificationFailed,
                      "the name and ID number are not this wallet's rider; nothing was sent");
  }
  const json& w = current_wallet(state_);
  json body = {
      {"amount", amount}, {"name", name}, {"id_number", id_number}, {"bank_account", bank_account}};
  ANONCODE_TRY(json out, perform("refund", "/platform/v1/refund", body, crypto::ShowOp::kRefund,
                                 w["b"], w["accountid"], amount,
                                 protocol::refund_extra(name, id_number, bank_account),
                                 w["key_pem"].get<std::string>(), json::object()));
  return json{{"refunded", out["refunded"]}, {"balance", out["balance"]}};
}

Status Wallet::close_opening() {
  ANONCODE_TRY(Reply r, transport_->post("/app/v1/close", json::object(),
                                         state_.value("app_token", std::string())));
  // 404: no opening record under this app user.
  // 401: the app token is no longer valid here (nothing this install can close).
  if (r.status != 200 && r.status != 404 && r.status != 401) return reply_error(r);
  state_.erase("close_unconfirmed");
  return save();
}

Result<json> Wallet::close() {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  if (!state_.contains("wallet")) return make_error(ErrorCode::kNotFound, "no wallet to close");
  const json& w = current_wallet(state_);
  ANONCODE_TRY(json out, perform("close", "/platform/v1/close", json::object(),
                                 crypto::ShowOp::kClose, w["b"], w["accountid"], 0, "",
                                 w["key_pem"].get<std::string>(), json::object()));
  // seed 000 §2.12: the app backend then closes the opening record. Journaled: if the app
  // backend cannot be reached now, the next call finishes it (recover()).
  state_["close_unconfirmed"] = true;
  ANONCODE_CHECK(save());
  if (Status st = close_opening(); !st) {
    if (st.error().code != ErrorCode::kUnavailable) return st.error();
    return json{{"status", "closed"}, {"opening_record", "pending"}};
  }
  return json{{"status", "closed"}};
}

Result<json> Wallet::backup(const std::string& phone, const std::string& passphrase) {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  ANONCODE_TRY(BackupKeys keys, derive_backup_keys(phone, passphrase));
  ANONCODE_TRY(auto aead, crypto::Sm4Aead::create(keys.blob_key));
  std::string plain = state_.dump();
  ANONCODE_TRY(Bytes blob, aead.seal(as_bytes(plain), as_bytes("anoncode/v1/backup" + phone)));
  sodium_memzero(plain.data(), plain.size());
  crypto::Sm3Digest verifier = crypto::sm3(keys.key_proof.expose_secret());
  json body = {{"phone", phone}, {"blob", b64(blob)}, {"verifier", b64(verifier)}};
  ANONCODE_TRY(Reply r,
               transport_->post("/app/v1/backup", body, state_.value("app_token", std::string())));
  if (r.status != 200) return reply_error(r);
  // The local wallet is disabled: its secrets leave this device's state.
  state_ = {{"version", kStateVersion},
            {"disabled", true},
            {"backed_up_to", phone},
            {"user_id", state_.value("user_id", std::string())},
            {"app_token", state_.value("app_token", std::string())}};
  ANONCODE_CHECK(save());
  return json{{"status", "backed_up"}};
}

Result<json> Wallet::restore(const std::string& phone, const std::string& passphrase) {
  ANONCODE_CHECK(recover());
  if (state_.contains("credential")) {
    return make_error(ErrorCode::kConflict,
                      "this wallet holds a credential; restore into an empty state");
  }
  ANONCODE_TRY(BackupKeys keys, derive_backup_keys(phone, passphrase));
  json proof = {{"phone", phone}, {"key_proof", b64(keys.key_proof)}};
  ANONCODE_TRY(Reply r, transport_->post("/app/v1/restore", proof));
  if (r.status != 200) return reply_error(r);
  ANONCODE_TRY(Bytes blob, b64(r.body, "blob"));
  ANONCODE_TRY(auto aead, crypto::Sm4Aead::create(keys.blob_key));
  ANONCODE_TRY(SecretBytes plain, aead.open(blob, as_bytes("anoncode/v1/backup" + phone)));
  json restored =
      json::parse(plain.expose_secret().begin(), plain.expose_secret().end(), nullptr, false);
  if (restored.is_discarded() || !restored.is_object()) {
    return make_error(ErrorCode::kMalformed, "the backup does not hold a wallet");
  }
  // Saved before the server copy is consumed: a crash in between leaves the backup restorable
  // rather than the wallet lost; the confirmation is retried by the next call.
  state_ = std::move(restored);
  state_["restore_unconfirmed"] = proof;
  ANONCODE_CHECK(save());
  ANONCODE_CHECK(recover());
  return json{{"status", "restored"}};
}

}  // namespace anoncode::sdk
