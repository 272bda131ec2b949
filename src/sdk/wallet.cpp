// seed 000 §2.2–2.12, rider side
#include "sdk/wallet.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "crypto/sm2.h"
#include "crypto/sm3.h"
#include "crypto/sm4.h"
#include "protocol/issuer_keyset.h"
#include "protocol/show_context.h"
#include "sdk/json_read.h"
#include "sdk/results_json.h"

namespace anoncode::sdk {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr uint32_t kBackupIterations = 100000;
constexpr const char* kNoWalletYet = "no wallet yet: recharge first";

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

// The member `name` of a server's answer, when it has one of type T.
template <typename T>
std::optional<T> member_in(const json& answer, const char* name) {
  auto v = json_read::member<T>(answer, name, "the server's answer");
  if (!v.ok()) return std::nullopt;
  return std::move(*v);
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
  ANONCODE_TRY(WalletState state, load_state_file(state_file));
  return Wallet(state_file, transport, std::move(state));
}

Status Wallet::save() const {
  return save_state_file(file_, state_);
}

bool Wallet::has_pending() const {
  return state_.pending.has_value();
}

Status Wallet::require_usable() const {
  if (state_.halted) return halted_error();
  if (state_.disabled) {
    return make_error(ErrorCode::kConflict,
                      "this wallet was backed up and is disabled; restore it");
  }
  if (!state_.credential) {
    return make_error(ErrorCode::kConflict, "the anonymous code is not opened in this wallet");
  }
  return {};
}

Error Wallet::halted_error() const {
  return make_error(ErrorCode::kIssuerMisbehaved,
                    "the issuer's credential did not verify; this wallet stopped (" +
                        state_.halted.value_or("") + ")");
}

Status Wallet::set_trust_root(const std::string& trust_root) {
  ANONCODE_TRY(auto root, protocol::parse_trust_root(trust_root));
  const std::string canonical = to_base64url(root.to_bytes());
  if (state_.trust_root) {
    if (*state_.trust_root == canonical) return {};
    return make_error(ErrorCode::kConflict, "this wallet already trusts another root key");
  }
  state_.trust_root = canonical;
  return save();
}

// DESIGN §3.6 rule 4: the issuer keys come only from a key set the trust root signed, never older
// than one seen before, with at most two issuing keys valid at once — so the issuer cannot give
// this rider a key of its own.
Status Wallet::refresh_issuer_keys() {
  if (!state_.trust_root) {
    return make_error(ErrorCode::kInvalidArgument,
                      "no trust root: give the wallet the operator's root public key "
                      "(--trust-root, the trust_root file of `anoncode init`)");
  }
  ANONCODE_TRY(auto root, protocol::parse_trust_root(*state_.trust_root));
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
  ANONCODE_TRY(
      protocol::IssuerKeySet set,
      protocol::verify_keyset(signed_set, root, state_.keyset_sequence.value_or(0), now_ms));
  std::map<std::string, Bytes> keys;
  for (const auto& k : set.keys) keys[k.kid] = k.public_key;
  state_.issuer_keys = std::move(keys);
  state_.issuing_kid = set.issuing_kid;
  state_.keyset_sequence = set.sequence;
  return save();
}

Result<crypto::IssuerPublicKey> Wallet::issuer_key() {
  std::string kid = state_.issuing_kid.value_or("");
  if (state_.credential) {
    ANONCODE_TRY(crypto::Credential c, credential());
    kid = to_hex(c.kid());
  }
  // Keys not taken from a signed set (a wallet state from before them) are fetched again.
  if (!state_.keyset_sequence || !state_.issuer_keys || !state_.issuer_keys->contains(kid)) {
    ANONCODE_CHECK(refresh_issuer_keys());
    if (!state_.credential) kid = state_.issuing_kid.value_or("");
  }
  auto key = state_.issuer_keys->find(kid);
  if (key == state_.issuer_keys->end())
    return make_error(ErrorCode::kUnknownKey, "the issuer key " + kid + " is unknown");
  return crypto::IssuerPublicKey::decode(key->second);
}

Result<crypto::Credential> Wallet::credential() const {
  if (!state_.credential) return make_error(ErrorCode::kMalformed, "missing field 'credential'");
  return crypto::Credential::decode_secret(*state_.credential);
}

Status Wallet::recover() {
  if (state_.halted) return halted_error();
  if (state_.pending) {
    auto r = send_pending();
    // A request is settled once the server gave a definitive answer (with the next credential
    // for a show); until then nothing else may be sent — the journal stays, and so does the error.
    if (!r.ok() && (state_.pending || state_.halted)) return r.error();
  }
  if (state_.close_unconfirmed) ANONCODE_CHECK(close_opening());
  if (state_.restore_unconfirmed) {
    const RestoreConfirmation& u = *state_.restore_unconfirmed;
    ANONCODE_TRY(Reply r, transport_->post("/app/v1/restore/confirm",
                                           {{"phone", u.phone}, {"key_proof", b64(u.key_proof)}}));
    // 401: the app token is no longer valid here (nothing this install can close).
    if (r.status != 200 && r.status != 404 && r.status != 401) return reply_error(r);
    state_.restore_unconfirmed.reset();
    ANONCODE_CHECK(save());
  }
  return {};
}

namespace {

// How long a nonce that came with an answer is used for the next show: the server accepts it for
// days (kNonceRetryWindowMs), but it is meant for a show within a minute.
constexpr auto kHeldNonceLifetime = std::chrono::seconds(50);

Result<crypto::Nonce> nonce_from(const json& body, const char* member) {
  ANONCODE_TRY(Bytes raw, b64(body, member));
  crypto::Nonce nonce{};
  if (raw.size() != nonce.size()) {
    return make_error(ErrorCode::kMalformed, std::string(member) + ": wrong length");
  }
  std::copy(raw.begin(), raw.end(), nonce.begin());
  return nonce;
}

}  // namespace

// DESIGN §3.6 rule 1. A show, once sent, is spent: the journal holds the exact request bytes,
// and the only move is to send them again until the server answers with a verifiable issue
// response (success or refusal). Every other answer — a timeout, a 5xx, a refusal without an
// issue response, a 200 without one — leaves the journal as it is, so even a lying server never
// sees the credential shown under a second nonce (which is what tracing needs to frame a rider).
// An issue response whose DLEQ proof fails stops the wallet for good (`issuer_misbehaved`): the
// spent credential is dropped, never shown again.
Result<json> Wallet::send_pending() {
  const PendingRequest pending = *state_.pending;
  const bool spends_show = pending.kind != RequestKind::kOpen;
  ANONCODE_TRY(Reply reply, transport_->post(pending.path, pending.body, pending.bearer));
  const bool has_response = reply.body.is_object() && reply.body.contains("response");
  // A 5xx is never definitive, even with the next credential: the operation's outcome is not
  // known yet (a payment still being confirmed), so the same bytes are sent again later.
  if (!has_response || reply.status >= 500) {
    // An open that was refused issued nothing: there is no credential to protect.
    if (!spends_show && !has_response && reply.status >= 400 && reply.status < 500) {
      state_.pending.reset();
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

  ANONCODE_TRY(crypto::PendingIssue issue, crypto::PendingIssue::decode_secret(pending.issue));
  auto resp_raw = b64(reply.body, "response");
  auto resp = resp_raw.ok() ? crypto::IssueResponse::decode(*resp_raw)
                            : Result<crypto::IssueResponse>(resp_raw.error());
  if (!resp.ok()) return resp.error();  // garbled on the way: the journal stays
  ANONCODE_TRY(crypto::IssuerPublicKey pub, issuer_key());
  auto next = crypto::CredentialClient::finish_issue(issue, *resp, pub);
  if (!next) {
    state_.pending.reset();
    state_.credential.reset();
    state_.halted = "issuer_misbehaved";
    ANONCODE_CHECK(save());
    return halted_error();
  }
  state_.credential = next->encode_secret();
  if (reply.status == 200) {
    const RequestEffects& effects = pending.effects;
    if (pending.kind == RequestKind::kOpen) {
      state_.user_id = effects.user_id;
      state_.app_token = effects.app_token;
      if (reply.body.contains("person") && reply.body["person"].is_string()) {
        state_.person = reply.body["person"].get<std::string>();
      }
    } else if (pending.kind == RequestKind::kRecharge) {
      state_.wallet =
          WalletRecord{.b = member_in<std::string>(reply.body, "wallet").value_or(""),
                       .accountid = member_in<std::string>(reply.body, "accountid").value_or(""),
                       .key_pem = effects.key_pem.value_or(SecretBytes()),
                       .strong = effects.strong.value_or(false),
                       .balance = member_in<int64_t>(reply.body, "balance").value_or(0)};
    } else if (pending.kind == RequestKind::kClose) {
      state_.wallet.reset();
    } else if (auto balance = member_in<int64_t>(reply.body, "balance"); balance && state_.wallet) {
      state_.wallet->balance = *balance;
    }
  }
  if (reply.status == 200 && spends_show && reply.body.contains("next_nonce")) {
    auto wallet = member_in<std::string>(pending.body, "wallet");
    if (auto next = nonce_from(reply.body, "next_nonce"); next.ok() && wallet) {
      next_nonce_ = HeldNonce{*next, *wallet, std::chrono::steady_clock::now()};
    }
  }
  state_.pending.reset();
  ANONCODE_CHECK(save());
  if (reply.status != 200) return reply_error(reply);
  return reply.body;
}

Result<crypto::Nonce> Wallet::nonce_for(const std::string& wallet_b) {
  std::optional<HeldNonce> held = std::exchange(next_nonce_, std::nullopt);  // used once at most
  if (held && held->wallet_b == wallet_b && !wallet_b.empty() &&
      std::chrono::steady_clock::now() - held->received < kHeldNonceLifetime) {
    return held->nonce;
  }
  ANONCODE_TRY(Reply nr, transport_->post("/privacy/v1/nonce", json::object()));
  if (nr.status != 200) return reply_error(nr);
  return nonce_from(nr.body, "nonce");
}

Result<json> Wallet::perform(Operation o) {
  ANONCODE_CHECK(require_usable());
  ANONCODE_TRY(crypto::Credential cred, credential());
  ANONCODE_TRY(crypto::IssuerPublicKey pub, issuer_key());
  ANONCODE_TRY(crypto::Nonce nonce, nonce_for(o.wallet_b));

  protocol::ShowContext ctx{o.op, o.wallet_b, o.accountid, o.amount, o.extra, o.scopes};
  ANONCODE_TRY(auto shown, crypto::CredentialClient::show(cred, pub, o.op, nonce, ctx.hash(),
                                                          crypto::OsRng::instance(), ctx.scopes));
  Bytes show = shown.request.encode();
  json body = std::move(o.body);
  body["show"] = b64(show);
  if (!body.contains("wallet")) body["wallet"] = o.wallet_b;
  if (o.signing_key_pem) {
    ANONCODE_TRY(auto key, crypto::Sm2PrivateKey::from_pem(*o.signing_key_pem));
    crypto::Sm3Digest digest = crypto::sm3(show);
    ANONCODE_TRY(Bytes sig, crypto::sm2_sign(key, digest));
    body["wallet_signature"] = b64(sig);
  }
  // The journal: written before the request leaves, so a crash or a lost reply is recovered by
  // sending these exact bytes again.
  state_.pending = PendingRequest{.kind = o.kind,
                                  .path = o.path,
                                  .body = std::move(body),
                                  .issue = shown.pending.encode_secret(),
                                  .effects = std::move(o.effects)};
  ANONCODE_CHECK(save());
  return send_pending();
}

Result<OpenResult> Wallet::open(const std::string& user_id, const std::string& app_token) {
  ANONCODE_CHECK(recover());
  if (state_.credential) {
    return make_error(ErrorCode::kConflict, "the anonymous code is already opened in this wallet");
  }
  if (user_id.empty() || app_token.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "user id and app token are required");
  }
  ANONCODE_TRY(crypto::IssuerPublicKey pub, issuer_key());
  auto started = crypto::CredentialClient::begin_open(pub, protocol::open_context_hash(user_id),
                                                      crypto::OsRng::instance());
  state_.pending =
      PendingRequest{.kind = RequestKind::kOpen,
                     .path = "/app/v1/open",
                     .bearer = app_token,
                     .body = {{"request", b64(started.request.encode())}},
                     .issue = started.pending.encode_secret(),
                     .effects = RequestEffects{.user_id = user_id, .app_token = app_token}};
  ANONCODE_CHECK(save());
  ANONCODE_CHECK(send_pending());
  return OpenResult{};
}

Result<RechargeResult> Wallet::recharge(int64_t amount, const std::string& channel, bool strong) {
  ANONCODE_CHECK(recover());
  if (amount <= 0)
    return make_error(ErrorCode::kInvalidArgument, "the amount must be positive (fen)");
  ANONCODE_TRY(auto key, crypto::Sm2PrivateKey::generate());
  Bytes pub = key.public_key().to_bytes();
  Operation o;
  o.kind = RequestKind::kRecharge;
  o.path = "/platform/v1/recharge";
  o.op = crypto::ShowOp::kRecharge;
  o.wallet_b = protocol::wallet_account_of(pub);
  o.amount = amount;
  std::string previous_b;
  if (state_.wallet) {
    previous_b = state_.wallet->b;
    o.signing_key_pem = state_.wallet->key_pem;
  }
  o.body = {{"amount", amount},
            {"channel", channel},
            {"strong", strong},
            {"new_wallet_public_key", b64(pub)},
            {"previous_wallet", previous_b}};
  o.extra = protocol::recharge_extra(previous_b, channel, strong, pub);
  o.scopes = protocol::recharge_scopes(previous_b, o.wallet_b);
  o.effects.key_pem = key.export_pem_secret();
  o.effects.strong = strong;
  ANONCODE_TRY(json out, perform(std::move(o)));
  return wallet_balance_from(out);
}

Result<Wallet::Operation> Wallet::on_current_wallet(RequestKind kind, std::string path,
                                                    crypto::ShowOp op, const char* missing) const {
  if (!state_.wallet) return make_error(ErrorCode::kNotFound, missing);
  const WalletRecord& w = *state_.wallet;
  Operation o;
  o.kind = kind;
  o.path = std::move(path);
  o.op = op;
  o.wallet_b = w.b;
  o.accountid = w.accountid;
  o.scopes = {w.b};
  o.signing_key_pem = w.key_pem;
  return o;
}

Result<History> Wallet::history(const std::string& type) {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  if (type != "recharge" && type != "ride") {
    return make_error(ErrorCode::kInvalidArgument, "history type must be recharge or ride");
  }
  ANONCODE_TRY(Operation o, on_current_wallet(RequestKind::kHistory, "/platform/v1/history",
                                              crypto::ShowOp::kQuery, kNoWalletYet));
  o.body = {{"type", type}};
  o.extra = type;
  ANONCODE_TRY(json out, perform(std::move(o)));
  return history_from(out, type == "ride");
}

Result<WalletBalance> Wallet::balance() {
  ANONCODE_TRY(History h, history("recharge"));
  return WalletBalance{h.wallet, h.accountid, h.balance};
}

Result<CodeResult> Wallet::code() {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  ANONCODE_TRY(Operation o, on_current_wallet(RequestKind::kCode, "/platform/v1/code",
                                              crypto::ShowOp::kRequestCode, kNoWalletYet));
  ANONCODE_TRY(json out, perform(std::move(o)));
  return code_from(out);
}

Result<RefundResult> Wallet::refund(int64_t amount, const std::string& name,
                                    const std::string& id_number, const std::string& bank_account) {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  if (amount <= 0)
    return make_error(ErrorCode::kInvalidArgument, "the amount must be positive (fen)");
  ANONCODE_TRY(Operation o, on_current_wallet(RequestKind::kRefund, "/platform/v1/refund",
                                              crypto::ShowOp::kRefund, kNoWalletYet));
  // The refund proves the credential belongs to the person named: a name or ID number that is not
  // this rider's would be refused after the show was sent, leaving it pending. Checked here first.
  if (state_.person && *state_.person != protocol::person_digest(name, id_number)) {
    return make_error(ErrorCode::kVerificationFailed,
                      "the name and ID number are not this wallet's rider; nothing was sent");
  }
  o.body = {
      {"amount", amount}, {"name", name}, {"id_number", id_number}, {"bank_account", bank_account}};
  o.amount = amount;
  o.extra = protocol::refund_extra(name, id_number, bank_account);
  ANONCODE_TRY(json out, perform(std::move(o)));
  return refund_from(out);
}

Status Wallet::close_opening() {
  ANONCODE_TRY(Reply r,
               transport_->post("/app/v1/close", json::object(), state_.app_token.value_or("")));
  // 404: no opening record under this app user.
  // 401: the app token is no longer valid here (nothing this install can close).
  if (r.status != 200 && r.status != 404 && r.status != 401) return reply_error(r);
  state_.close_unconfirmed = false;
  return save();
}

Result<CloseResult> Wallet::close() {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  ANONCODE_TRY(Operation o, on_current_wallet(RequestKind::kClose, "/platform/v1/close",
                                              crypto::ShowOp::kClose, "no wallet to close"));
  ANONCODE_CHECK(perform(std::move(o)));
  // seed 000 §2.12: the app backend then closes the opening record. Journaled: if the app
  // backend cannot be reached now, the next call finishes it (recover()).
  state_.close_unconfirmed = true;
  ANONCODE_CHECK(save());
  if (Status st = close_opening(); !st) {
    if (st.error().code != ErrorCode::kUnavailable) return st.error();
    return CloseResult{.opening_record_pending = true};
  }
  return CloseResult{};
}

Result<BackupResult> Wallet::backup(const std::string& phone, const std::string& passphrase) {
  ANONCODE_CHECK(recover());
  ANONCODE_CHECK(require_usable());
  ANONCODE_TRY(BackupKeys keys, derive_backup_keys(phone, passphrase));
  ANONCODE_TRY(auto aead, crypto::Sm4Aead::create(keys.blob_key));
  std::string plain = state_to_json(state_).dump();
  ANONCODE_TRY(Bytes blob, aead.seal(as_bytes(plain), as_bytes("anoncode/v1/backup" + phone)));
  sodium_memzero(plain.data(), plain.size());
  crypto::Sm3Digest verifier = crypto::sm3(keys.key_proof.expose_secret());
  json body = {{"phone", phone}, {"blob", b64(blob)}, {"verifier", b64(verifier)}};
  ANONCODE_TRY(Reply r, transport_->post("/app/v1/backup", body, state_.app_token.value_or("")));
  if (r.status != 200) return reply_error(r);
  // The local wallet is disabled: its secrets leave this device's state.
  WalletState disabled;
  disabled.disabled = true;
  disabled.backed_up_to = phone;
  disabled.user_id = state_.user_id.value_or("");
  disabled.app_token = state_.app_token.value_or("");
  state_ = std::move(disabled);
  ANONCODE_CHECK(save());
  return BackupResult{};
}

Result<RestoreResult> Wallet::restore(const std::string& phone, const std::string& passphrase) {
  ANONCODE_CHECK(recover());
  if (state_.credential) {
    return make_error(ErrorCode::kConflict,
                      "this wallet holds a credential; restore into an empty state");
  }
  ANONCODE_TRY(BackupKeys keys, derive_backup_keys(phone, passphrase));
  ANONCODE_TRY(Reply r, transport_->post("/app/v1/restore",
                                         {{"phone", phone}, {"key_proof", b64(keys.key_proof)}}));
  if (r.status != 200) return reply_error(r);
  ANONCODE_TRY(Bytes blob, b64(r.body, "blob"));
  ANONCODE_TRY(auto aead, crypto::Sm4Aead::create(keys.blob_key));
  ANONCODE_TRY(SecretBytes plain, aead.open(blob, as_bytes("anoncode/v1/backup" + phone)));
  json parsed =
      json::parse(plain.expose_secret().begin(), plain.expose_secret().end(), nullptr, false);
  auto restored = state_from_json(parsed);
  if (!restored.ok()) {
    return make_error(ErrorCode::kMalformed, "the backup does not hold a wallet");
  }
  // Saved before the server copy is consumed: a crash in between leaves the backup restorable
  // rather than the wallet lost; the confirmation is retried by the next call.
  state_ = std::move(*restored);
  state_.restore_unconfirmed = RestoreConfirmation{phone, keys.key_proof};
  ANONCODE_CHECK(save());
  ANONCODE_CHECK(recover());
  return RestoreResult{};
}

}  // namespace anoncode::sdk
