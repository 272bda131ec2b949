// seed 000 §2.3–§2.6, §2.8, §2.11, §2.12: the code platform (码平台) — what every flow shares:
// the show contexts, the signature and show checks, the request ledger in front of every wallet
// operation, the platform's keys and small helpers. Each flow is in its own file (recharge.cpp,
// code.cpp, history.cpp, refund.cpp, close.cpp, settle.cpp, refill.cpp, trace.cpp); the SQL is in
// platform_store.cpp.
#include "platform/platform.h"

#include "crypto/sm3.h"
#include "platform/platform_internal.h"
#include "platform/platform_store.h"
#include "platform/request_ledger.h"
#include "privacy/privacy_store.h"
#include "protocol/errors.h"

namespace anoncode::platform {

using storage::Tx;

// --- what the flow files share (platform_internal.h) ---

Error wallet_locked() {
  return make_error(ErrorCode::kForbidden, "this wallet is locked after a violation");
}
Error wallet_inactive() {
  return make_error(ErrorCode::kConflict, "this wallet was superseded by a recharge or closed");
}
Error amount_out_of_range(int64_t max) {
  return make_error(ErrorCode::kInvalidArgument,
                    "amount must be between 1 and " + std::to_string(max) + " fen");
}
Error still_processing() {
  return make_error(ErrorCode::kUnavailable, "this request is still being processed; retry");
}

std::string amount_text(int64_t amount) {
  return std::to_string(amount);
}

Result<WalletRecord> load_usable_wallet(Tx& tx, std::string_view b) {
  ANONCODE_TRY(auto cur, store::load_wallet(tx, b));
  if (!cur) return make_error(ErrorCode::kNotFound, "no such wallet");
  if (cur->locked) return wallet_locked();
  if (cur->deactivated) return wallet_inactive();
  return *cur;
}

namespace {

// The typed results as the request ledger stores them (its "ok" object).
template <typename T>
struct Codec;
template <>
struct Codec<RechargeResult> {
  static nlohmann::json to_json(const RechargeResult& r) {
    return {{"wallet", r.wallet},
            {"accountid", r.accountid},
            {"balance", r.balance},
            {"order_id", r.order_id}};
  }
  static RechargeResult from_json(const nlohmann::json& j) {
    return {j.at("wallet").get<std::string>(), j.at("accountid").get<std::string>(),
            j.at("balance").get<int64_t>(), j.at("order_id").get<std::string>()};
  }
};
template <>
struct Codec<CodeResult> {
  static nlohmann::json to_json(const CodeResult& r) {
    return {{"payload", to_base64url(r.payload)},
            {"sequence", r.sequence},
            {"accountid", r.accountid},
            {"expires_at", r.expires_at}};
  }
  static CodeResult from_json(const nlohmann::json& j) {
    auto payload = from_base64url(j.at("payload").get<std::string>());
    return {payload.ok() ? *payload : Bytes{}, j.at("sequence").get<std::string>(),
            j.at("accountid").get<std::string>(), j.at("expires_at").get<int64_t>()};
  }
};
template <>
struct Codec<History> {
  static nlohmann::json to_json(const History& h) {
    auto money = nlohmann::json::array(), rides = nlohmann::json::array();
    for (const auto& m : h.money) {
      money.push_back({m.txn_id, m.type, m.wallet, m.channel, m.order_id, m.state, m.amount, m.at,
                       m.accountid});
    }
    for (const auto& r : h.rides) {
      rides.push_back({r.txn_id, r.sequence, r.terminal, r.merchant, r.wallet, r.counter, r.amount,
                       r.scanned_at, r.settled_at, r.copy_risk});
    }
    return {{"wallet", h.wallet},
            {"accountid", h.accountid},
            {"balance", h.balance},
            {"money", std::move(money)},
            {"rides", std::move(rides)}};
  }
  static History from_json(const nlohmann::json& j) {
    History h;
    h.wallet = j.at("wallet").get<std::string>();
    h.accountid = j.at("accountid").get<std::string>();
    h.balance = j.at("balance").get<int64_t>();
    for (const auto& m : j.at("money")) {
      h.money.push_back({m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]});
    }
    for (const auto& r : j.at("rides")) {
      h.rides.push_back({r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]});
    }
    return h;
  }
};
template <>
struct Codec<RefundResult> {
  static nlohmann::json to_json(const RefundResult& r) {
    return {{"refunded", r.refunded}, {"balance", r.balance}};
  }
  static RefundResult from_json(const nlohmann::json& j) {
    return {j.at("refunded").get<int64_t>(), j.at("balance").get<int64_t>()};
  }
};
template <>
struct Codec<CloseResult> {
  static nlohmann::json to_json(const CloseResult& r) {
    return {{"status", r.status}, {"accountid", r.accountid}};
  }
  static CloseResult from_json(const nlohmann::json& j) {
    return {j.at("status").get<std::string>(), j.at("accountid").get<std::string>()};
  }
};

// The answer a ledger entry holds, with the issue response of its show.
template <typename T>
WalletOutcome<T> outcome_of(const LedgerEntry& e) {
  if (!e.done) return {still_processing(), e.issue_response};
  try {
    if (e.result.contains("ok")) return {Codec<T>::from_json(e.result.at("ok")), e.issue_response};
    if (auto refused = protocol::error_in(e.result)) return {std::move(*refused), e.issue_response};
    return {make_error(ErrorCode::kInternal, "a stored outcome does not parse"), e.issue_response};
  } catch (const nlohmann::json::exception&) {
    return {make_error(ErrorCode::kInternal, "a stored outcome does not parse"), e.issue_response};
  }
}

}  // namespace

template <typename T>
nlohmann::json ok_json(const T& value) {
  return {{"ok", Codec<T>::to_json(value)}};
}
template nlohmann::json ok_json(const RechargeResult&);
template nlohmann::json ok_json(const RefundResult&);

std::string_view history_type_name(HistoryType t) {
  return t == HistoryType::kRecharge ? "recharge" : "ride";
}

protocol::ShowContext recharge_context(const RechargeRequest& r) {
  return {crypto::ShowOp::kRecharge,
          r.auth.wallet,
          "",
          r.amount,
          protocol::recharge_extra(r.previous_wallet, r.channel, r.strong, r.new_wallet_public_key),
          protocol::recharge_scopes(r.previous_wallet, r.auth.wallet)};
}
protocol::ShowContext code_context(std::string_view b, std::string_view accountid) {
  return {crypto::ShowOp::kRequestCode,
          std::string(b),
          std::string(accountid),
          0,
          "",
          {std::string(b)}};
}
protocol::ShowContext history_context(std::string_view b, std::string_view accountid,
                                      HistoryType type) {
  return {crypto::ShowOp::kQuery,
          std::string(b),
          std::string(accountid),
          0,
          std::string(history_type_name(type)),
          {std::string(b)}};
}
protocol::ShowContext refund_context(std::string_view b, std::string_view accountid,
                                     const RefundRequest& r) {
  return {crypto::ShowOp::kRefund,
          std::string(b),
          std::string(accountid),
          r.amount,
          protocol::refund_extra(r.name, r.id_number, r.bank_account),
          {std::string(b)}};
}
protocol::ShowContext close_context(std::string_view b, std::string_view accountid) {
  return {crypto::ShowOp::kClose, std::string(b), std::string(accountid), 0, "", {std::string(b)}};
}

CodePlatform::CodePlatform(storage::Db& db, privacy::PrivacyBackend& privacy,
                           crypto::Sm2PrivateKey signing_key, PaymentChannels channels,
                           IdentityDirectory& identities, crypto::Sm4Aead pii,
                           PlatformOptions options, crypto::Rng& rng)
    : db_(db),
      privacy_(privacy),
      signing_key_(std::move(signing_key)),
      signing_kid_(protocol::platform_key_id(signing_key_.public_key())),
      channels_(std::move(channels)),
      identities_(identities),
      pii_(std::move(pii)),
      options_(options),
      rng_(rng),
      ledger_(db) {
  // Wallet operations run in the privacy backend's show transaction (perform_on_wallet).
  if (&privacy_.db() != &db_) {
    throw std::logic_error("the platform and the privacy backend must share one database");
  }
}

// --- small helpers ---

std::string CodePlatform::random_digits(size_t n) {
  std::string out;
  out.reserve(n);
  std::lock_guard lock(rng_mu_);
  while (out.size() < n) {
    uint8_t b[16];
    rng_.fill(b);
    for (uint8_t x : b) {
      if (x >= 250 || out.size() == n) continue;  // 250 = 25·10: rejection keeps digits uniform
      out.push_back(static_cast<char>('0' + x % 10));
    }
  }
  return out;
}

std::string CodePlatform::random_id(std::string_view prefix) {
  Bytes b(12);
  {
    std::lock_guard lock(rng_mu_);
    rng_.fill(b);
  }
  return std::string(prefix) + to_hex(b);
}

std::string CodePlatform::txn_id(int64_t now_ms) {
  Bytes b(12);
  const auto seconds = static_cast<uint32_t>(std::max<int64_t>(0, now_ms / 1000));
  for (int i = 0; i < 4; ++i)
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(seconds >> (24 - 8 * i));
  {
    std::lock_guard lock(rng_mu_);
    rng_.fill(std::span<uint8_t>(b).subspan(4));
  }
  return "T" + to_hex(b);
}

Result<WalletRecord> CodePlatform::wallet(std::string_view b) {
  std::optional<WalletRecord> w;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(w, store::load_wallet(tx, b));
    return {};
  }));
  if (!w) return make_error(ErrorCode::kNotFound, "no such wallet");
  return *w;
}

Result<WalletRecord> CodePlatform::head_of(std::string_view accountid) {
  std::optional<WalletRecord> w;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(w, store::load_head(tx, accountid));
    return {};
  }));
  if (!w) return make_error(ErrorCode::kNotFound, "no such account");
  return *w;
}

Status CodePlatform::verify_wallet_signature(const WalletRecord& w, const WalletAuth& auth) {
  auto key = crypto::Sm2PublicKey::from_bytes(w.wallet_public_key);
  if (!key.ok()) return make_error(ErrorCode::kInternal, "a stored wallet key does not parse");
  auto digest = crypto::sm3(auth.show);
  return crypto::sm2_verify(*key, digest, auth.wallet_signature);
}

// The wallet `signer_b` exists and signed the show.
Result<WalletRecord> CodePlatform::authorize(const WalletAuth& auth, std::string_view signer_b,
                                             const std::optional<WalletRecord>* loaded) {
  if (auth.show.empty()) return make_error(ErrorCode::kInvalidArgument, "show is required");
  if (!protocol::is_valid_wallet_account(signer_b)) {
    return make_error(ErrorCode::kInvalidArgument, "a wallet account is 24 base32 characters");
  }
  Result<WalletRecord> w = loaded == nullptr ? wallet(signer_b)
                           : *loaded         ? Result<WalletRecord>(**loaded)
                                             : make_error(ErrorCode::kNotFound, "no such wallet");
  if (!w.ok()) return w.error();
  ANONCODE_CHECK(verify_wallet_signature(*w, auth));
  // DESIGN §3.6 rule 3: the wallet answers only to the credential chain that created it. The
  // show's first pseudonym is the one for this wallet (the proof, checked next, binds it to the
  // credential's sk); another chain's — a colluder holding a copy of the wallet key — is refused
  // before anything is spent.
  auto shown = crypto::ShowRequest::decode(auth.show);
  if (!shown.ok() || shown->pseudonyms.empty()) {
    return make_error(ErrorCode::kVerificationFailed, "verification failed");
  }
  if (!w->pseudonym.empty() &&
      shown->group->encode_point(shown->pseudonyms.front()) != w->pseudonym) {
    return make_error(ErrorCode::kForbidden, "this wallet answers to another credential");
  }
  return w;
}

Result<privacy::ShowOutcome> CodePlatform::show(
    const WalletAuth& auth, const protocol::ShowContext& ctx, int64_t now_ms,
    std::vector<std::string> wallets_to_lock, bool adopt_pseudonym,
    const std::optional<std::string>& refund_user,
    const privacy::PrivacyBackend::WithShow& also_in_tx) {
  auto out = privacy_.show(auth.show, ctx, now_ms, refund_user, also_in_tx);
  if (!out.ok() && out.error().code == ErrorCode::kSnReused) {
    lock_cloned(ctx.wallet_b, wallets_to_lock, now_ms);
  }
  if (adopt_pseudonym && out.ok() && !out->pseudonyms.empty() && !ctx.scopes.empty()) {
    // A wallet created before pseudonyms were stored (migration 0005) takes the first one proven
    // for it; from then on it answers only to that chain (DESIGN §3.6 rule 3).
    auto adopted = db_.transact([&](Tx& tx) -> Status {
      return store::adopt_pseudonym(tx, ctx.scopes.front(), out->pseudonyms.front());
    });
    if (!adopted.ok()) return adopted.error();
  }
  return out;
}

// seed 000 §2.7: the privacy backend traced the clone and wrote the violation (with the user id
// when J matched a registered user); the platform locks the wallet the cheater acted on and
// records the user on it, so the admin console lists it with its transactions.
void CodePlatform::lock_cloned(const std::string& ctx_b, const std::vector<std::string>& wallets,
                               int64_t /*now_ms*/) {
  (void)db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto user_id, privacy::store::clone_user(tx, ctx_b));
    for (const auto& b : wallets) {
      if (b.empty()) continue;
      ANONCODE_CHECK(store::lock_wallet(tx, b, user_id));
    }
    return {};
  });
}

// --- keys ---

Status CodePlatform::publish_signing_key(int64_t valid_from, int64_t valid_until) {
  if (valid_until < valid_from) return make_error(ErrorCode::kInvalidArgument, "empty validity");
  return db_.transact([&](Tx& tx) -> Status {
    return store::upsert_platform_key(tx, signing_kid_, signing_key_.public_key().to_bytes(),
                                      valid_from, valid_until);
  });
}

Result<std::vector<protocol::PlatformPublicKey>> CodePlatform::keys() {
  std::vector<protocol::PlatformPublicKey> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(out, store::platform_keys(tx));
    return {};
  }));
  return out;
}

// --- the request ledger in front of every wallet operation (DESIGN §3.6 rule 1) ---

template <typename T>
std::optional<WalletOutcome<T>> CodePlatform::answered(const LedgerKey& k) {
  auto e = ledger_.find(k);
  if (!e.ok()) return WalletOutcome<T>{e.error(), std::nullopt};
  if (!*e) return std::nullopt;
  return outcome_of<T>(**e);
}

template <typename T>
WalletOutcome<T> CodePlatform::perform_on_wallet(
    const LedgerKey& k, const WalletAuth& auth, int64_t now_ms,
    const std::function<protocol::ShowContext(const WalletRecord&)>& context,
    const std::function<Result<T>(Tx&, const WalletRecord&)>& op) {
  using Out = WalletOutcome<T>;
  // One read: the recorded answer to this request, else the wallet it acts on.
  std::optional<LedgerEntry> entry;
  std::optional<WalletRecord> loaded;
  if (protocol::is_valid_wallet_account(auth.wallet)) {
    auto read = db_.transact([&](Tx& tx) -> Status {
      loaded.reset();
      ANONCODE_TRY(entry, RequestLedger::read_in(tx, k));
      if (entry) return {};
      ANONCODE_TRY(loaded, store::load_wallet(tx, auth.wallet));
      return {};
    });
    if (!read.ok()) return Out{read.error(), std::nullopt};
  }
  if (entry) {
    if (!entry->done) {  // pending (a payment being confirmed): wait for it as find() does
      if (auto stored = answered<T>(k)) return std::move(*stored);
    }
    return outcome_of<T>(*entry);
  }
  auto w = authorize(auth, auth.wallet, &loaded);
  if (!w.ok()) return Out{w.error(), std::nullopt};
  // The operation runs in the show's transaction (one commit per request): a refusal by the
  // rules undoes the operation's writes (Tx::nested) and is recorded beside the spent show; any
  // other failure rolls back the show too, so the rider's resent request is a first show again.
  bool lost = false;
  T value{};
  std::optional<Error> refused;
  auto in_show = [&](Tx& tx, const Bytes& response) -> Status {
    lost = false;
    refused.reset();
    ANONCODE_TRY(lost, RequestLedger::recorded(tx, k));
    if (lost) return {};  // a concurrent copy of the request recorded its outcome
    Status ran = tx.nested([&](Tx& t) -> Status {
      ANONCODE_TRY(value, op(t, *w));
      return {};
    });
    if (!ran.ok()) {
      if (!is_final_refusal(ran.error())) return ran.error();
      refused = ran.error();
      return RequestLedger::finish(tx, k, refusal_json(*refused), response, now_ms);
    }
    return RequestLedger::finish(tx, k, ok_json(value), response, now_ms);
  };
  auto shown = show(auth, context(*w), now_ms, {w->b}, w->pseudonym.empty(), std::nullopt, in_show);
  if (!shown.ok()) return Out{shown.error(), std::nullopt};
  Out out = lost      ? or_still_processing(answered<T>(k), shown->issue_response)
            : refused ? Out{*refused, shown->issue_response}
                      : Out{std::move(value), shown->issue_response};
  out.next_nonce = shown->next_nonce;
  return out;
}

Status CodePlatform::refuse_in_ledger(const LedgerKey& k, const Error& e, const Bytes& response,
                                      int64_t now_ms) {
  if (!is_final_refusal(e)) return {};
  return ledger_.refuse(k, e, response, now_ms);
}

// The flows in the other files answer through these.
template std::optional<WalletOutcome<RechargeResult>> CodePlatform::answered(const LedgerKey&);
template std::optional<WalletOutcome<RefundResult>> CodePlatform::answered(const LedgerKey&);
template WalletOutcome<CodeResult> CodePlatform::perform_on_wallet(
    const LedgerKey&, const WalletAuth&, int64_t,
    const std::function<protocol::ShowContext(const WalletRecord&)>&,
    const std::function<Result<CodeResult>(Tx&, const WalletRecord&)>&);
template WalletOutcome<History> CodePlatform::perform_on_wallet(
    const LedgerKey&, const WalletAuth&, int64_t,
    const std::function<protocol::ShowContext(const WalletRecord&)>&,
    const std::function<Result<History>(Tx&, const WalletRecord&)>&);
template WalletOutcome<CloseResult> CodePlatform::perform_on_wallet(
    const LedgerKey&, const WalletAuth&, int64_t,
    const std::function<protocol::ShowContext(const WalletRecord&)>&,
    const std::function<Result<CloseResult>(Tx&, const WalletRecord&)>&);

// What a refund keeps back and a close waits for (DESIGN §3.6 rule 8): the maximum fare for every
// code of the accountid that was never uploaded and whose upload window is still open — it may
// yet be scanned offline.
Result<CodePlatform::Reserve> CodePlatform::reserve_of(Tx& tx, std::string_view accountid,
                                                       int64_t now_ms) {
  ANONCODE_TRY(auto unused, store::unused_codes(tx, accountid, now_ms - options_.upload_window_ms));
  Reserve r;
  r.codes = unused.count;
  r.amount = r.codes * options_.max_ride_amount;
  r.until = r.codes > 0 ? unused.latest_expiry + options_.upload_window_ms : 0;
  return r;
}

}  // namespace anoncode::platform
