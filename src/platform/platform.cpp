// seed 000 §2.3–§2.6, §2.8, §2.11, §2.12: the code platform (码平台)
#include "platform/platform.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "common/counters.h"
#include "crypto/sm3.h"
#include "platform/request_ledger.h"
#include "pos/qr_payload.h"

namespace anoncode::platform {

using storage::Row;
using storage::Tx;
using storage::Value;

namespace {

constexpr std::string_view kWalletCols =
    "b, accountid, balance, total_recharge_amount, total_consume_amount, creation_date, "
    "is_locked, is_deactivated, strong, user_id, previous_b, superseded_by, wallet_public_key, "
    "pseudonym";

std::optional<std::string> opt_text(const Row& r, size_t i) {
  return r.is_null(i) ? std::nullopt : std::optional<std::string>(r.text(i));
}

WalletRecord wallet_from_row(const Row& r) {
  WalletRecord w;
  w.b = r.text(0);
  w.accountid = r.text(1);
  w.balance = r.i64(2);
  w.total_recharge_amount = r.i64(3);
  w.total_consume_amount = r.i64(4);
  w.creation_date = r.i64(5);
  w.locked = r.text(6) == "1";
  w.deactivated = r.text(7) == "1";
  w.strong = r.text(8) == "1";
  w.user_id = opt_text(r, 9);
  w.previous_b = opt_text(r, 10);
  w.superseded_by = opt_text(r, 11);
  w.wallet_public_key = r.blob(12);
  if (!r.is_null(13)) w.pseudonym = r.blob(13);
  return w;
}

Result<std::optional<WalletRecord>> load_wallet(Tx& tx, std::string_view b) {
  ANONCODE_TRY(auto row, tx.query_one(std::string("SELECT ") + std::string(kWalletCols) +
                                          " FROM anonymous_wallet_accounts WHERE b = $1",
                                      {std::string(b)}));
  if (!row) return std::optional<WalletRecord>();
  return std::optional<WalletRecord>(wallet_from_row(*row));
}

// The head of an accountid's chain: the record no later record of the same accountid replaced.
Result<std::optional<WalletRecord>> load_head(Tx& tx, std::string_view accountid) {
  ANONCODE_TRY(auto rows, tx.query(std::string("SELECT ") + std::string(kWalletCols) +
                                       " FROM anonymous_wallet_accounts "
                                       "WHERE accountid = $1 AND superseded_by IS NULL",
                                   {std::string(accountid)}));
  if (rows.empty()) return std::optional<WalletRecord>();
  if (rows.size() > 1) {
    return make_error(ErrorCode::kInternal, "an accountid has more than one head record");
  }
  return std::optional<WalletRecord>(wallet_from_row(rows[0]));
}

Error wallet_locked() {
  return make_error(ErrorCode::kForbidden, "this wallet is locked after a violation");
}
Error wallet_inactive() {
  return make_error(ErrorCode::kConflict, "this wallet was superseded by a recharge or closed");
}

// The wallet record B as an operation on it needs it: present, not locked, not deactivated.
Result<WalletRecord> load_usable_wallet(Tx& tx, std::string_view b) {
  ANONCODE_TRY(auto cur, load_wallet(tx, b));
  if (!cur) return make_error(ErrorCode::kNotFound, "no such wallet");
  if (cur->locked) return wallet_locked();
  if (cur->deactivated) return wallet_inactive();
  return *cur;
}
Error amount_out_of_range(int64_t max) {
  return make_error(ErrorCode::kInvalidArgument,
                    "amount must be between 1 and " + std::to_string(max) + " fen");
}

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

// Retryable: the rider's SDK keeps its journal on a 503 and sends the request again.
Error still_processing() {
  return make_error(ErrorCode::kUnavailable, "this request is still being processed; retry");
}

// The answer a ledger entry holds, with the issue response of its show.
template <typename T>
WalletOutcome<T> outcome_of(const LedgerEntry& e) {
  if (!e.done) return {still_processing(), e.issue_response};
  try {
    if (e.result.contains("ok")) return {Codec<T>::from_json(e.result.at("ok")), e.issue_response};
    const auto& err = e.result.at("error");
    const std::string code = err.value("code", "internal");
    return {make_error(error_code_from_name(code).value_or(ErrorCode::kInternal),
                       err.value("message", "")),
            e.issue_response};
  } catch (const nlohmann::json::exception&) {
    return {make_error(ErrorCode::kInternal, "a stored outcome does not parse"), e.issue_response};
  }
}

std::string amount_text(int64_t amount) {
  return std::to_string(amount);
}

}  // namespace

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
      signing_kid_(pos::platform_key_id(signing_key_.public_key())),
      channels_(std::move(channels)),
      identities_(identities),
      pii_(std::move(pii)),
      options_(options),
      rng_(rng),
      ledger_(db) {}

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

Result<std::string> CodePlatform::new_accountid(Tx& tx) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string id = random_digits(pos::kAccountIdSize);
    if (id[0] == '0') continue;  // a cloud-card number does not start with 0
    ANONCODE_TRY(
        auto taken,
        tx.query_one("SELECT 1 FROM anonymous_wallet_accounts WHERE accountid = $1", {id}));
    if (!taken) return id;
  }
  return make_error(ErrorCode::kInternal, "cannot find a free accountid");
}

Result<WalletRecord> CodePlatform::wallet(std::string_view b) {
  std::optional<WalletRecord> w;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(w, load_wallet(tx, b));
    return {};
  }));
  if (!w) return make_error(ErrorCode::kNotFound, "no such wallet");
  return *w;
}

Result<WalletRecord> CodePlatform::head_of(std::string_view accountid) {
  std::optional<WalletRecord> w;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(w, load_head(tx, accountid));
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
Result<WalletRecord> CodePlatform::authorize(const WalletAuth& auth, std::string_view signer_b) {
  if (auth.show.empty()) return make_error(ErrorCode::kInvalidArgument, "show is required");
  if (!protocol::is_valid_wallet_account(signer_b)) {
    return make_error(ErrorCode::kInvalidArgument, "a wallet account is 24 base32 characters");
  }
  auto w = wallet(signer_b);
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

Result<privacy::ShowOutcome> CodePlatform::show(const WalletAuth& auth,
                                                const protocol::ShowContext& ctx, int64_t now_ms,
                                                std::vector<std::string> wallets_to_lock,
                                                bool adopt_pseudonym,
                                                const std::optional<std::string>& refund_user) {
  auto out = privacy_.show(auth.show, ctx, now_ms, refund_user);
  if (!out.ok() && out.error().code == ErrorCode::kSnReused) {
    lock_cloned(ctx.wallet_b, wallets_to_lock, now_ms);
  }
  if (adopt_pseudonym && out.ok() && !out->pseudonyms.empty() && !ctx.scopes.empty()) {
    // A wallet created before pseudonyms were stored (migration 0005) takes the first one proven
    // for it; from then on it answers only to that chain (DESIGN §3.6 rule 3).
    auto adopted = db_.transact([&](Tx& tx) -> Status {
      ANONCODE_CHECK(
          tx.exec("UPDATE anonymous_wallet_accounts SET pseudonym = $2 "
                  "WHERE b = $1 AND pseudonym IS NULL",
                  {ctx.scopes.front(), out->pseudonyms.front()}));
      return {};
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
    ANONCODE_TRY(auto user, tx.query_one("SELECT user_id FROM violations WHERE kind = 'clone' "
                                         "AND b = $1 AND user_id IS NOT NULL "
                                         "ORDER BY detected_at DESC, id DESC LIMIT 1",
                                         {ctx_b}));
    Value user_id = user ? Value(user->text(0)) : Value();
    for (const auto& b : wallets) {
      if (b.empty()) continue;
      ANONCODE_CHECK(
          tx.exec("UPDATE anonymous_wallet_accounts SET is_locked = '1', "
                  "user_id = COALESCE(user_id, $2) WHERE b = $1",
                  {b, user_id}));
    }
    return {};
  });
}

// --- keys ---

Status CodePlatform::publish_signing_key(int64_t valid_from, int64_t valid_until) {
  if (valid_until < valid_from) return make_error(ErrorCode::kInvalidArgument, "empty validity");
  return db_.transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(
        tx.exec("INSERT INTO platform_keys (kid, public_key, valid_from, valid_until) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (kid) DO UPDATE SET valid_from = $3, "
                "valid_until = $4",
                {Bytes(signing_kid_.begin(), signing_kid_.end()),
                 signing_key_.public_key().to_bytes(), valid_from, valid_until}));
    return {};
  });
}

Result<std::vector<pos::PlatformPublicKey>> CodePlatform::keys() {
  std::vector<pos::PlatformPublicKey> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out.clear();
    ANONCODE_TRY(auto rows, tx.query("SELECT kid, public_key, valid_from, valid_until "
                                     "FROM platform_keys ORDER BY valid_from, kid"));
    for (const auto& r : rows) {
      pos::PlatformPublicKey k;
      if (r.blob(0).size() != k.kid.size()) return make_error(ErrorCode::kInternal, "kid size");
      std::copy(r.blob(0).begin(), r.blob(0).end(), k.kid.begin());
      k.public_key = r.blob(1);
      k.valid_from = r.i64(2);
      k.valid_until = r.i64(3);
      out.push_back(std::move(k));
    }
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
WalletOutcome<T> CodePlatform::perform(const LedgerKey& k, const Bytes& response, int64_t now_ms,
                                       const std::function<Result<T>(Tx&)>& op) {
  bool lost = false;
  T value{};
  auto done = db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(lost, RequestLedger::recorded(tx, k));
    if (lost) return {};
    ANONCODE_TRY(value, op(tx));
    return RequestLedger::finish(tx, k, {{"ok", Codec<T>::to_json(value)}}, response, now_ms);
  });
  if (done.ok() && !lost) return {std::move(value), response};
  if (!done.ok()) {
    // A refusal by the rules is recorded (the operation's writes were rolled back); a transient
    // failure is not, so the retry runs the operation again.
    if (!is_final_refusal(done.error())) return {done.error(), response};
    if (auto st = ledger_.refuse(k, done.error(), response, now_ms); !st.ok()) {
      return {st.error(), response};
    }
  }
  // The recorded outcome: this one's refusal, or a concurrent copy's answer.
  if (auto stored = answered<T>(k)) return std::move(*stored);
  return {still_processing(), response};
}

Status CodePlatform::refuse_in_ledger(const LedgerKey& k, const Error& e, const Bytes& response,
                                      int64_t now_ms) {
  if (!is_final_refusal(e)) return {};
  return ledger_.refuse(k, e, response, now_ms);
}

// --- recharge ---

namespace {
LedgerKey recharge_key(const RechargeRequest& r) {
  return ledger_key(
      "recharge", r.auth.show,
      {as_bytes(r.auth.wallet), r.auth.wallet_signature, as_bytes(amount_text(r.amount)),
       as_bytes(r.channel), as_bytes(std::string_view(r.strong ? "1" : "0")),
       r.new_wallet_public_key, as_bytes(r.previous_wallet)});
}
}  // namespace

// seed 000 §2.3 recharge, §2.8 strong mode; DESIGN §2.2, §2.7
WalletOutcome<RechargeResult> CodePlatform::recharge(const RechargeRequest& r, int64_t now_ms) {
  using Out = WalletOutcome<RechargeResult>;
  auto refuse = [](Error e) { return Out{std::move(e), std::nullopt}; };

  // 1. The request's own fields.
  if (r.amount <= 0 || r.amount > options_.max_amount) {
    return refuse(amount_out_of_range(options_.max_amount));
  }
  PaymentChannel* channel = is_known_channel(r.channel) ? channels_.find(r.channel) : nullptr;
  if (channel == nullptr) {
    return refuse(make_error(ErrorCode::kInvalidArgument, "unknown payment channel"));
  }
  if (r.new_wallet_public_key.size() != crypto::kSm2PublicKeySize) {
    return refuse(make_error(ErrorCode::kInvalidArgument, "the wallet public key is 65 bytes"));
  }
  auto new_key = crypto::Sm2PublicKey::from_bytes(r.new_wallet_public_key);
  if (!new_key.ok()) return refuse(new_key.error());
  if (protocol::wallet_account_of(r.new_wallet_public_key) != r.auth.wallet) {
    return refuse(make_error(ErrorCode::kInvalidArgument,
                             "the wallet account is not derived from its public key"));
  }
  if (r.auth.show.empty()) {
    return refuse(make_error(ErrorCode::kInvalidArgument, "show is required"));
  }
  if (r.previous_wallet == r.auth.wallet) {
    return refuse(make_error(ErrorCode::kInvalidArgument, "a recharge opens a new wallet"));
  }

  // 2. The identical request again: its recorded outcome.
  const LedgerKey k = recharge_key(r);
  if (auto stored = answered<RechargeResult>(k)) return std::move(*stored);

  // 3. B1's signature (a later recharge).
  std::optional<WalletRecord> prev;
  if (!r.previous_wallet.empty()) {
    auto p = authorize(r.auth, r.previous_wallet);
    if (!p.ok()) return refuse(p.error());
    prev = std::move(*p);
  }

  // 4. The show: spends the serial. From here every answer carries the next credential.
  auto shown = show(r.auth, recharge_context(r), now_ms, {r.previous_wallet, r.auth.wallet},
                    prev && prev->pseudonym.empty());
  if (!shown.ok()) return refuse(shown.error());
  const Bytes response = shown->issue_response;
  if (shown->pseudonyms.empty()) return {make_error(ErrorCode::kInternal, "pseudonym"), response};
  const Bytes new_pseudonym = shown->pseudonyms.back();  // P of the wallet this recharge creates
  auto failed = [&](Error e) -> Out {
    if (auto st = refuse_in_ledger(k, e, response, now_ms); !st.ok()) return {st.error(), response};
    return {std::move(e), response};
  };

  // 5. The rules, and the claim, so a concurrent copy of the request does not pay twice.
  bool lost = false;
  const std::string order_id = "RC" + random_digits(18);
  auto claimed = db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(lost, RequestLedger::recorded(tx, k));
    if (lost) return {};
    if (prev) ANONCODE_CHECK(load_usable_wallet(tx, prev->b));
    ANONCODE_TRY(auto clash, load_wallet(tx, r.auth.wallet));
    if (clash) return make_error(ErrorCode::kConflict, "this wallet account exists already");
    ANONCODE_CHECK(RequestLedger::claim(tx, k, response, now_ms));
    ANONCODE_CHECK(
        tx.exec("INSERT INTO payment_orders (order_id, channel, amount, state, "
                "created_at) VALUES ($1, $2, $3, 'created', $4)",
                {order_id, r.channel, r.amount, now_ms}));
    return {};
  });
  if (!claimed.ok()) return failed(claimed.error());
  if (lost) {
    if (auto stored = answered<RechargeResult>(k)) return std::move(*stored);
    return {still_processing(), response};
  }

  // 6. The payment: nothing is credited unless the channel confirms it.
  auto pay_no = channel->create_order(order_id, r.amount);
  Status paid = pay_no.ok() ? channel->confirm(order_id) : Status(pay_no.error());
  if (!paid.ok()) {
    (void)db_.transact([&](Tx& tx) -> Status {
      return tx.exec("UPDATE payment_orders SET state = 'failed' WHERE order_id = $1", {order_id})
                     .ok()
                 ? Status()
                 : Status(make_error(ErrorCode::kInternal, "order state"));
    });
    // Recorded as the final answer: the payment was refused, the show is spent.
    Error e = make_error(ErrorCode::kConflict, "the payment channel did not confirm the payment");
    (void)ledger_.refuse(k, e, response, now_ms);
    return {std::move(e), response};
  }

  // 7. Credit, in one transaction with the ledger's outcome.
  RechargeResult res;
  auto credited = db_.transact([&](Tx& tx) -> Status {
    res = RechargeResult{};
    ANONCODE_TRY(int64_t n, tx.exec("UPDATE payment_orders SET state = 'paid' "
                                    "WHERE order_id = $1 AND state = 'created'",
                                    {order_id}));
    if (n != 1) return make_error(ErrorCode::kConflict, "the order was already settled");
    std::optional<WalletRecord> old;
    if (prev) {
      ANONCODE_TRY(WalletRecord cur, load_usable_wallet(tx, prev->b));
      old = std::move(cur);
    }
    ANONCODE_TRY(auto clash, load_wallet(tx, r.auth.wallet));
    if (clash) return make_error(ErrorCode::kConflict, "this wallet account exists already");
    const bool carry = old.has_value() && !r.strong;  // normal mode: same accountid, balance on
    if (carry) {
      res.accountid = old->accountid;
    } else {
      ANONCODE_TRY(res.accountid, new_accountid(tx));
    }
    res.wallet = r.auth.wallet;
    res.order_id = order_id;
    res.balance = carry ? old->balance + r.amount : r.amount;
    const int64_t total_recharge = carry ? old->total_recharge_amount + r.amount : r.amount;
    const int64_t total_consume = carry ? old->total_consume_amount : 0;
    ANONCODE_CHECK(tx.exec(
        "INSERT INTO anonymous_wallet_accounts (b, total_recharge_amount, total_consume_amount, "
        "balance, accountid, creation_date, wallet_public_key, previous_b, strong, pseudonym) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        {res.wallet, total_recharge, total_consume, res.balance, res.accountid, now_ms,
         new_key->to_bytes(), old ? Value(old->b) : Value(), std::string(r.strong ? "1" : "0"),
         new_pseudonym}));
    if (old) {
      // Normal mode: the old record is superseded within its accountid. Strong mode: it stays
      // the head of its own accountid (late rides still land on it) until the refill moves it.
      ANONCODE_TRY(int64_t m, tx.exec("UPDATE anonymous_wallet_accounts SET is_deactivated = '1', "
                                      "superseded_by = $2 WHERE b = $1 AND is_deactivated = '0'",
                                      {old->b, carry ? Value(res.wallet) : Value()}));
      if (m != 1) return wallet_inactive();
      if (r.strong) {
        ANONCODE_CHECK(tx.exec(
            "INSERT INTO purse_refund_record (id, register_date, accountid_old, accountid_new, "
            "due_at, modify_date, state) VALUES ($1, $2, $3, $4, $5, $2, '00')",
            {"PR" + random_digits(14), now_ms, old->accountid, res.accountid,
             now_ms + options_.refill_delay_ms}));
      }
    }
    ANONCODE_CHECK(
        tx.exec("INSERT INTO wallet_transactions (txn_id, paychannel, b, pay_no, accountid, "
                "transaction_date, amount, transaction_type, account_type, order_id, state) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, '01', '01', $8, '02')",
                {random_id("T"), r.channel, res.wallet, pay_no.value(), res.accountid, now_ms,
                 r.amount, order_id}));
    return RequestLedger::finish(tx, k, {{"ok", Codec<RechargeResult>::to_json(res)}}, response,
                                 now_ms);
  });
  if (!credited.ok()) {
    // Paid but not credited (the wallet changed under us): the order is kept for the operator
    // to return the payment.
    (void)db_.transact([&](Tx& tx) -> Status {
      return tx.exec("UPDATE payment_orders SET state = 'uncredited' WHERE order_id = $1",
                     {order_id})
                     .ok()
                 ? Status()
                 : Status(make_error(ErrorCode::kInternal, "order state"));
    });
    Error e = credited.error();
    (void)ledger_.refuse(k, e, response, now_ms);
    return {std::move(e), response};
  }
  return Out{res, response};
}

// --- request code ---

// seed 000 §2.4 request code
WalletOutcome<CodeResult> CodePlatform::request_code(const WalletAuth& auth, int64_t now_ms) {
  using Out = WalletOutcome<CodeResult>;
  const LedgerKey k = ledger_key("code", auth.show, {as_bytes(auth.wallet), auth.wallet_signature});
  if (auto stored = answered<CodeResult>(k)) return std::move(*stored);
  auto w = authorize(auth, auth.wallet);
  if (!w.ok()) return Out{w.error(), std::nullopt};
  auto shown = show(auth, code_context(w->b, w->accountid), now_ms, {w->b}, w->pseudonym.empty());
  if (!shown.ok()) return Out{shown.error(), std::nullopt};

  const int64_t expires_at = now_ms + options_.code_lifetime_ms;
  return perform<CodeResult>(k, shown->issue_response, now_ms, [&](Tx& tx) -> Result<CodeResult> {
    ANONCODE_TRY(WalletRecord cur, load_usable_wallet(tx, w->b));
    if (cur.balance <= 0) {
      return make_error(ErrorCode::kInsufficientBalance, "recharge before requesting a code");
    }
    for (int attempt = 0; attempt < 16; ++attempt) {
      std::string sequence = "nm" + random_digits(14);
      ANONCODE_TRY(auto taken,
                   tx.query_one("SELECT 1 FROM code_requests WHERE sequence = $1", {sequence}));
      if (taken) continue;
      ANONCODE_CHECK(
          tx.exec("INSERT INTO code_requests (sequence, b, accountid, issued_at, "
                  "expires_at, used_count) VALUES ($1, $2, $3, $4, $5, 0)",
                  {sequence, cur.b, cur.accountid, now_ms, expires_at}));
      ANONCODE_TRY(auto payload,
                   pos::sign_qr_payload(signing_key_, sequence, cur.accountid, now_ms, expires_at));
      return CodeResult{payload.encode(), sequence, cur.accountid, expires_at};
    }
    return make_error(ErrorCode::kInternal, "cannot find a free sequence");
  });
}

// --- history ---

// seed 000 §2.6 query
WalletOutcome<History> CodePlatform::history(const WalletAuth& auth, HistoryType type,
                                             int64_t now_ms) {
  using Out = WalletOutcome<History>;
  const LedgerKey k =
      ledger_key("history", auth.show,
                 {as_bytes(auth.wallet), auth.wallet_signature, as_bytes(history_type_name(type))});
  if (auto stored = answered<History>(k)) return std::move(*stored);
  auto w = authorize(auth, auth.wallet);
  if (!w.ok()) return Out{w.error(), std::nullopt};
  auto shown =
      show(auth, history_context(w->b, w->accountid, type), now_ms, {w->b}, w->pseudonym.empty());
  if (!shown.ok()) return Out{shown.error(), std::nullopt};

  return perform<History>(k, shown->issue_response, now_ms, [&](Tx& tx) -> Result<History> {
    ANONCODE_TRY(auto cur, load_wallet(tx, w->b));
    if (!cur) return make_error(ErrorCode::kNotFound, "no such wallet");
    if (cur->locked) return wallet_locked();
    History h;
    h.wallet = cur->b;
    h.accountid = cur->accountid;
    ANONCODE_TRY(auto head, load_head(tx, cur->accountid));
    h.balance = head ? head->balance : cur->balance;
    if (type == HistoryType::kRecharge) {
      ANONCODE_TRY(auto rows,
                   tx.query("SELECT txn_id, transaction_type, b, paychannel, order_id, state, "
                            "amount, transaction_date FROM wallet_transactions "
                            "WHERE accountid = $1 AND transaction_type <> '02' "
                            "ORDER BY transaction_date DESC, txn_id DESC LIMIT $2",
                            {cur->accountid, options_.history_limit}));
      for (const auto& r : rows) {
        h.money.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5),
                           r.i64(6), r.i64(7), cur->accountid});
      }
    } else {
      ANONCODE_TRY(auto rows,
                   tx.query("SELECT t.txn_id, r.sequence, r.terminal, r.merchant, t.b, "
                            "r.counter, t.amount, r.scanned_at, r.settled_at, r.copy_risk "
                            "FROM rides r JOIN wallet_transactions t ON t.txn_id = r.txn_id "
                            "WHERE r.accountid = $1 "
                            "ORDER BY r.scanned_at DESC, r.terminal DESC, r.counter DESC LIMIT $2",
                            {cur->accountid, options_.history_limit}));
      for (const auto& r : rows) {
        h.rides.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.i64(5),
                           r.i64(6), r.i64(7), r.i64(8), r.text(9) == "1"});
      }
    }
    return h;
  });
}

// --- refund ---

// What a refund keeps back (DESIGN §3.6 rule 8): the maximum fare for every code of the accountid
// that was never uploaded and whose upload window is still open — it may yet be scanned offline.
Result<CodePlatform::Reserve> CodePlatform::reserve_of(Tx& tx, std::string_view accountid,
                                                       int64_t now_ms) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT COUNT(*), COALESCE(MAX(expires_at), 0) FROM code_requests "
                            "WHERE accountid = $1 AND used_count = 0 AND expires_at >= $2",
                            {std::string(accountid), now_ms - options_.upload_window_ms}));
  Reserve r;
  r.codes = row ? row->i64(0) : 0;
  r.amount = r.codes * options_.max_ride_amount;
  r.until = r.codes > 0 ? row->i64(1) + options_.upload_window_ms : 0;
  return r;
}

// seed 000 §2.11 refund; DESIGN §2.10
WalletOutcome<RefundResult> CodePlatform::refund(const RefundRequest& r, int64_t now_ms) {
  using Out = WalletOutcome<RefundResult>;
  auto refuse = [](Error e) { return Out{std::move(e), std::nullopt}; };
  if (r.amount <= 0 || r.amount > options_.max_amount) {
    return refuse(amount_out_of_range(options_.max_amount));
  }
  if (r.name.empty() || r.name.size() > 64 || r.id_number.empty() || r.id_number.size() > 32 ||
      r.bank_account.empty() || r.bank_account.size() > 64) {
    return refuse(
        make_error(ErrorCode::kInvalidArgument, "name, id_number and bank_account are required"));
  }
  const LedgerKey k =
      ledger_key("refund", r.auth.show,
                 {as_bytes(r.auth.wallet), r.auth.wallet_signature, as_bytes(amount_text(r.amount)),
                  as_bytes(r.name), as_bytes(r.id_number), as_bytes(r.bank_account)});
  if (auto stored = answered<RefundResult>(k)) return std::move(*stored);
  auto w = authorize(r.auth, r.auth.wallet);
  if (!w.ok()) return refuse(w.error());
  // Who the rider says it is. An unknown person is refused like a wrong one, so the refund
  // endpoint does not tell anonymous callers who is registered.
  auto user = identities_.user_for(r.name, r.id_number);
  if (!user.ok()) {
    if (user.error().code != ErrorCode::kNotFound) return refuse(user.error());
    return refuse(make_error(ErrorCode::kVerificationFailed, "verification failed"));
  }
  auto shown = show(r.auth, refund_context(w->b, w->accountid, r), now_ms, {w->b},
                    w->pseudonym.empty(), *user);
  if (!shown.ok()) return refuse(shown.error());
  const Bytes response = shown->issue_response;

  // Deduct first (the balance check is atomic with it) and claim the request, then pay out; a
  // refused payout is reversed.
  const std::string refund_id = "RF" + random_digits(18);
  const std::string txn_id = random_id("T");
  auto sealed = pii_.seal(as_bytes(r.bank_account), as_bytes(refund_id));
  if (!sealed.ok()) return {sealed.error(), response};
  bool lost = false;
  auto deducted = db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(lost, RequestLedger::recorded(tx, k));
    if (lost) return {};
    ANONCODE_TRY(WalletRecord cur, load_usable_wallet(tx, w->b));
    ANONCODE_TRY(Reserve reserve, reserve_of(tx, cur.accountid, now_ms));
    if (r.amount > cur.balance - reserve.amount) {
      std::string why = "the refund exceeds the balance";
      if (reserve.codes > 0) {
        why += " less " + std::to_string(reserve.amount) + " fen kept back for " +
               std::to_string(reserve.codes) + " ride code(s) that may still be uploaded (until " +
               std::to_string(reserve.until) + ")";
      }
      return make_error(ErrorCode::kInsufficientBalance, why);
    }
    ANONCODE_CHECK(RequestLedger::claim(tx, k, response, now_ms));
    ANONCODE_CHECK(
        tx.exec("UPDATE anonymous_wallet_accounts SET balance = balance - $2 "
                "WHERE b = $1",
                {w->b, r.amount}));
    ANONCODE_CHECK(tx.exec(
        "INSERT INTO wallet_transactions (txn_id, paychannel, b, pay_no, accountid, "
        "transaction_date, amount, transaction_type, account_type, order_id, state) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, '04', '01', $4, '01')",
        {txn_id, channels_.payout_channel, w->b, refund_id, w->accountid, now_ms, r.amount}));
    ANONCODE_CHECK(tx.exec(
        "INSERT INTO refunds (refund_id, user_id, b, accountid, amount, bank_account_sealed, "
        "created_at, state, txn_id) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
        {refund_id, *user, w->b, w->accountid, r.amount, *sealed, now_ms, txn_id}));
    return {};
  });
  if (!deducted.ok()) {
    Error e = deducted.error();
    if (auto st = refuse_in_ledger(k, e, response, now_ms); !st.ok()) return {st.error(), response};
    if (auto stored = answered<RefundResult>(k)) return std::move(*stored);
    return {std::move(e), response};
  }
  if (lost) {
    if (auto stored = answered<RefundResult>(k)) return std::move(*stored);
    return {still_processing(), response};
  }

  PaymentChannel* payout = channels_.find(channels_.payout_channel);
  auto transfer =
      payout != nullptr
          ? payout->pay_out(refund_id, r.amount, r.bank_account)
          : Result<std::string>(make_error(ErrorCode::kUnavailable, "no payout channel"));
  RefundResult res;
  if (transfer.ok()) {
    auto done = db_.transact([&](Tx& tx) -> Status {
      ANONCODE_CHECK(
          tx.exec("UPDATE refunds SET state = 'paid', payout_ref = $2 "
                  "WHERE refund_id = $1",
                  {refund_id, *transfer}));
      ANONCODE_CHECK(
          tx.exec("UPDATE wallet_transactions SET state = '00' WHERE txn_id = $1", {txn_id}));
      ANONCODE_TRY(auto cur, load_wallet(tx, w->b));
      res = RefundResult{r.amount, cur ? cur->balance : 0};
      return RequestLedger::finish(tx, k, {{"ok", Codec<RefundResult>::to_json(res)}}, response,
                                   now_ms);
    });
    if (!done.ok()) return Out{done.error(), response};
    return Out{res, response};
  }
  // The payout was refused: give the money back to the wallet.
  Error refused =
      make_error(ErrorCode::kConflict, "the payout was not accepted; nothing was refunded");
  auto reversed = db_.transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(
        tx.exec("UPDATE anonymous_wallet_accounts SET balance = balance + $2 "
                "WHERE b = $1",
                {w->b, r.amount}));
    ANONCODE_CHECK(
        tx.exec("UPDATE refunds SET state = 'reversed' WHERE refund_id = $1", {refund_id}));
    ANONCODE_CHECK(
        tx.exec("UPDATE wallet_transactions SET state = '09' WHERE txn_id = $1", {txn_id}));
    return RequestLedger::finish(tx, k, refusal_json(refused), response, now_ms);
  });
  if (!reversed.ok()) return Out{reversed.error(), response};
  return Out{refused, response};
}

// --- close ---

// seed 000 §2.12 close
WalletOutcome<CloseResult> CodePlatform::close(const WalletAuth& auth, int64_t now_ms) {
  using Out = WalletOutcome<CloseResult>;
  const LedgerKey k =
      ledger_key("close", auth.show, {as_bytes(auth.wallet), auth.wallet_signature});
  if (auto stored = answered<CloseResult>(k)) return std::move(*stored);
  auto w = authorize(auth, auth.wallet);
  if (!w.ok()) return Out{w.error(), std::nullopt};
  auto shown = show(auth, close_context(w->b, w->accountid), now_ms, {w->b}, w->pseudonym.empty());
  if (!shown.ok()) return Out{shown.error(), std::nullopt};

  return perform<CloseResult>(k, shown->issue_response, now_ms, [&](Tx& tx) -> Result<CloseResult> {
    ANONCODE_TRY(WalletRecord cur, load_usable_wallet(tx, w->b));
    if (cur.balance != 0) {
      return make_error(ErrorCode::kConflict, "the balance is not zero: refund it first");
    }
    ANONCODE_TRY(auto pending, tx.query_one("SELECT 1 FROM purse_refund_record "
                                            "WHERE accountid_new = $1 AND state = '00' LIMIT 1",
                                            {cur.accountid}));
    if (pending) {
      return make_error(ErrorCode::kConflict,
                        "a balance refill into this wallet is pending; close after it");
    }
    ANONCODE_TRY(Reserve reserve, reserve_of(tx, cur.accountid, now_ms));
    if (reserve.codes > 0) {
      return make_error(ErrorCode::kConflict,
                        std::to_string(reserve.codes) +
                            " ride code(s) of this wallet may still be uploaded; close after " +
                            std::to_string(reserve.until));
    }
    ANONCODE_CHECK(
        tx.exec("UPDATE anonymous_wallet_accounts SET is_deactivated = '1' "
                "WHERE b = $1",
                {cur.b}));
    ANONCODE_CHECK(
        tx.exec("INSERT INTO wallet_transactions (txn_id, paychannel, b, pay_no, accountid, "
                "transaction_date, amount, transaction_type, account_type, order_id, state) "
                "VALUES ($1, '', $2, '', $3, $4, 0, '05', '01', '', '00')",
                {random_id("T"), cur.b, cur.accountid, now_ms}));
    return CloseResult{"closed", cur.accountid};
  });
}

// --- deduction ---

// seed 000 §2.5 offline scan and deduction: the platform side
Result<SettleSummary> CodePlatform::settle_rides(std::string_view terminal,
                                                 std::string_view merchant,
                                                 const std::vector<RideUpload>& rides,
                                                 int64_t now_ms) {
  if (terminal.empty() || merchant.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "terminal and merchant are required");
  }
  // Verify every payload first, outside the transaction (pure and the costly part): a POS
  // checked it offline, the platform checks again — a terminal can only charge codes it saw.
  ANONCODE_TRY(auto published, keys());
  struct Verdict {
    std::optional<pos::QrPayload> qr;
    std::string reason;  // "" if the payload verified
  };
  std::vector<Verdict> verdicts;
  verdicts.reserve(rides.size());
  for (const auto& ride : rides) {
    Verdict v;
    auto qr = pos::QrPayload::decode(ride.payload);
    if (!qr.ok()) {
      v.reason = "malformed";
    } else {
      std::optional<crypto::Sm2PublicKey> key;
      const pos::PlatformPublicKey* published_key = nullptr;
      for (const auto& k : published) {
        if (k.kid == qr->kid) published_key = &k;
      }
      if (published_key != nullptr) {
        auto parsed = crypto::Sm2PublicKey::from_bytes(published_key->public_key);
        if (parsed.ok()) key = *parsed;
      } else if (qr->kid == signing_kid_) {
        key = signing_key_.public_key();
      }
      const int64_t skew = options_.clock_skew_ms;
      if (!key) {
        v.reason = "unknown_key";
      } else if (!pos::verify_qr_signature(*qr, *key).ok()) {
        v.reason = "bad_signature";
      } else if (ride.scanned_at < qr->issued_at - skew ||
                 ride.scanned_at > qr->expires_at + skew) {
        // DESIGN §3.6 rule 8: a code is charged only within its validity (± the clock skew).
        v.reason = "outside_validity";
      } else if (now_ms > qr->expires_at + options_.upload_window_ms) {
        // Past the upload window a refund or close may have paid the reserve out: refused, on
        // record for the operator (the reserve covers exactly the rides inside the window).
        v.reason = "late_upload";
      } else if (published_key != nullptr &&
                 (!published_key->covers(qr->issued_at) ||
                  ride.scanned_at > published_key->valid_until + skew)) {
        // Issued under a key outside its validity, or scanned after the key was retired.
        v.reason = "key_not_valid";
      } else if (ride.amount <= 0 || ride.amount > options_.max_ride_amount) {
        v.reason = "invalid_amount";
      } else if (ride.counter < 0) {
        v.reason = "invalid_counter";
      } else {
        v.qr = *qr;
      }
    }
    verdicts.push_back(std::move(v));
  }

  SettleSummary sum;
  int64_t copy_risks = 0;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    sum = SettleSummary{};
    copy_risks = 0;
    const std::string term(terminal), merch(merchant);
    for (size_t i = 0; i < rides.size(); ++i) {
      const RideUpload& ride = rides[i];
      const Verdict& v = verdicts[i];
      ANONCODE_TRY(auto seen,
                   tx.query_one("SELECT 1 FROM rides WHERE terminal = $1 AND counter = $2 "
                                "UNION ALL "
                                "SELECT 1 FROM rejected_rides WHERE terminal = $1 AND counter = $2",
                                {term, ride.counter}));
      if (seen) {
        ++sum.duplicates;
        continue;
      }
      auto reject = [&](const std::string& reason) -> Status {
        ANONCODE_CHECK(
            tx.exec("INSERT INTO rejected_rides (terminal, counter, merchant, payload, "
                    "amount, scanned_at, received_at, reason) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    {term, ride.counter, merch, ride.payload, ride.amount, ride.scanned_at, now_ms,
                     reason}));
        ++sum.rejected;
        return {};
      };
      if (!v.qr) {
        ANONCODE_CHECK(reject(v.reason));
        continue;
      }
      const pos::QrPayload& qr = *v.qr;
      ANONCODE_TRY(auto code, tx.query_one("SELECT accountid, used_count FROM code_requests "
                                           "WHERE sequence = $1",
                                           {qr.sequence}));
      if (!code || code->text(0) != qr.accountid) {
        ANONCODE_CHECK(reject("unknown_code"));
        continue;
      }
      // The record charged: the head of the code's accountid — the active record, or, when the
      // wallet was closed or moved to a strong-mode successor, the record that still holds the
      // accountid's balance. Locked, deactivated and empty wallets are charged all the same: the
      // ride happened offline (balance may go negative).
      ANONCODE_TRY(auto head, load_head(tx, qr.accountid));
      if (!head) {
        ANONCODE_CHECK(reject("unknown_wallet"));
        continue;
      }
      const int64_t used_before = code->i64(1);
      const bool copy_risk = used_before > 0;
      ANONCODE_CHECK(
          tx.exec("UPDATE code_requests SET used_count = used_count + 1 "
                  "WHERE sequence = $1",
                  {qr.sequence}));
      ANONCODE_CHECK(
          tx.exec("UPDATE anonymous_wallet_accounts SET balance = balance - $2, "
                  "total_consume_amount = total_consume_amount + $2 WHERE b = $1",
                  {head->b, ride.amount}));
      const std::string txn_id = random_id("T");
      ANONCODE_CHECK(
          tx.exec("INSERT INTO wallet_transactions (txn_id, paychannel, b, pay_no, accountid, "
                  "transaction_date, amount, transaction_type, account_type, order_id, state) "
                  "VALUES ($1, '', $2, $3, $4, $5, $6, '02', '01', $3, '00')",
                  {txn_id, head->b, qr.sequence, qr.accountid, ride.scanned_at, ride.amount}));
      ANONCODE_CHECK(
          tx.exec("INSERT INTO rides (terminal, counter, merchant, sequence, accountid, b, amount, "
                  "scanned_at, settled_at, copy_risk, txn_id) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                  {term, ride.counter, merch, qr.sequence, qr.accountid, head->b, ride.amount,
                   ride.scanned_at, now_ms, std::string(copy_risk ? "1" : "0"), txn_id}));
      if (copy_risk) {
        ++copy_risks;
        // 复制风险: the code was used before. Logged where the admin console lists violations.
        ANONCODE_CHECK(tx.exec(
            "INSERT INTO violations (id, kind, user_id, sn, b, accountid, detected_at, detail) "
            "VALUES ($1, 'copy', NULL, NULL, $2, $3, $4, $5)",
            {random_id("V"), head->b, qr.accountid, now_ms,
             "code " + qr.sequence + " used " + std::to_string(used_before + 1) +
                 " times; terminal " + term + " counter " + std::to_string(ride.counter)}));
      }
      ++sum.uploaded;
    }
    return {};
  }));
  counters::add(counters::Event::kRideSettled, static_cast<uint64_t>(sum.uploaded));
  counters::add(counters::Event::kRideDuplicate, static_cast<uint64_t>(sum.duplicates));
  counters::add(counters::Event::kRideRejected, static_cast<uint64_t>(sum.rejected));
  counters::add(counters::Event::kCopyRisk, static_cast<uint64_t>(copy_risks));
  return sum;
}

// --- tracing ---

// seed 000 §2.7: the wallets a traced cheater's user id was written on, their whole chains
Result<Trace> CodePlatform::trace(std::string_view user_id) {
  Trace out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out = Trace{};
    ANONCODE_TRY(auto seeds, tx.query("SELECT DISTINCT accountid FROM anonymous_wallet_accounts "
                                      "WHERE user_id = $1 ORDER BY accountid",
                                      {std::string(user_id)}));
    std::vector<std::string> accounts, todo;
    for (const auto& r : seeds) todo.push_back(r.text(0));
    // Strong-mode refills link accountids of one rider: follow them both ways.
    while (!todo.empty() && accounts.size() < 1000) {
      std::string acc = todo.back();
      todo.pop_back();
      if (std::find(accounts.begin(), accounts.end(), acc) != accounts.end()) continue;
      accounts.push_back(acc);
      ANONCODE_TRY(auto linked, tx.query("SELECT accountid_new FROM purse_refund_record "
                                         "WHERE accountid_old = $1 UNION "
                                         "SELECT accountid_old FROM purse_refund_record "
                                         "WHERE accountid_new = $1",
                                         {acc}));
      for (const auto& r : linked) todo.push_back(r.text(0));
    }
    for (const auto& acc : accounts) {
      ANONCODE_TRY(auto rows, tx.query(std::string("SELECT ") + std::string(kWalletCols) +
                                           " FROM anonymous_wallet_accounts WHERE accountid = $1 "
                                           "ORDER BY creation_date, b",
                                       {acc}));
      for (const auto& r : rows) out.wallets.push_back(wallet_from_row(r));
      ANONCODE_TRY(auto txns,
                   tx.query("SELECT txn_id, transaction_type, b, paychannel, order_id, state, "
                            "amount, transaction_date, accountid FROM wallet_transactions "
                            "WHERE accountid = $1 ORDER BY transaction_date, txn_id",
                            {acc}));
      for (const auto& r : txns) {
        out.transactions.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.text(4),
                                    r.text(5), r.i64(6), r.i64(7), r.text(8)});
      }
    }
    std::stable_sort(out.wallets.begin(), out.wallets.end(),
                     [](const WalletRecord& a, const WalletRecord& b) {
                       return a.creation_date < b.creation_date;
                     });
    std::stable_sort(out.transactions.begin(), out.transactions.end(),
                     [](const MoneyRecord& a, const MoneyRecord& b) { return a.at < b.at; });
    return {};
  }));
  return out;
}

// --- refill ---

// seed 000 §2.8 钱包余额返充
Result<int64_t> CodePlatform::run_refill(int64_t now_ms) {
  std::vector<std::string> due;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    due.clear();
    ANONCODE_TRY(auto rows, tx.query("SELECT id FROM purse_refund_record "
                                     "WHERE state = '00' AND due_at <= $1 ORDER BY due_at, id",
                                     {now_ms}));
    for (const auto& r : rows) due.push_back(r.text(0));
    return {};
  }));
  // Nodes running at once start at different places, so they seldom contend for one record.
  if (due.size() > 1) {
    uint64_t start = 0;
    {
      std::lock_guard lock(rng_mu_);
      rng_.fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&start), sizeof start));
    }
    std::rotate(due.begin(), due.begin() + static_cast<ptrdiff_t>(start % due.size()), due.end());
  }

  int64_t moved = 0;
  std::optional<Error> first_error;
  for (const auto& id : due) {
    bool did = false;
    auto st = db_.transact([&](Tx& tx) -> Status {
      did = false;
      ANONCODE_TRY(auto rec, tx.query_one("SELECT accountid_old, accountid_new, state "
                                          "FROM purse_refund_record WHERE id = $1",
                                          {id}));
      if (!rec || rec->text(2) != "00") return {};  // moved by another run
      const std::string old_acc = rec->text(0);
      // The successor may itself have been refilled onward already: follow to the live one.
      std::string target_acc = rec->text(1);
      for (int hop = 0; hop < 64; ++hop) {
        ANONCODE_TRY(auto next, tx.query_one("SELECT accountid_new FROM purse_refund_record "
                                             "WHERE accountid_old = $1 AND state = '01'",
                                             {target_acc}));
        if (!next) break;
        target_acc = next->text(0);
      }
      ANONCODE_TRY(auto from, load_head(tx, old_acc));
      ANONCODE_TRY(auto to, load_head(tx, target_acc));
      if (!from || !to) return make_error(ErrorCode::kInternal, "a refill names a missing wallet");
      const int64_t amount = from->balance;  // positive or negative
      ANONCODE_TRY(int64_t n, tx.exec("UPDATE purse_refund_record SET state = '01', amount = $2, "
                                      "transaction_date = $3, modify_date = $3 "
                                      "WHERE id = $1 AND state = '00'",
                                      {id, amount, now_ms}));
      if (n != 1) return {};
      if (amount != 0) {
        ANONCODE_CHECK(
            tx.exec("UPDATE anonymous_wallet_accounts SET balance = balance - $2 "
                    "WHERE b = $1",
                    {from->b, amount}));
        ANONCODE_CHECK(
            tx.exec("UPDATE anonymous_wallet_accounts SET balance = balance + $2 "
                    "WHERE b = $1",
                    {to->b, amount}));
        const std::string sql =
            "INSERT INTO wallet_transactions (txn_id, paychannel, b, pay_no, accountid, "
            "transaction_date, amount, transaction_type, account_type, order_id, state) "
            "VALUES ($1, '', $2, $3, $4, $5, $6, '03', '01', $7, '00')";
        // Each side records what its accountid gained or lost; order_id names the other side.
        ANONCODE_CHECK(
            tx.exec(sql, {random_id("T"), from->b, id, old_acc, now_ms, -amount, target_acc}));
        ANONCODE_CHECK(
            tx.exec(sql, {random_id("T"), to->b, id, target_acc, now_ms, amount, old_acc}));
      }
      did = true;
      return {};
    });
    if (!st.ok()) {
      if (!first_error) first_error = st.error();
      continue;  // the others still get their chance; a re-run finishes this one
    }
    if (did) ++moved;
  }
  if (first_error) return *first_error;
  return moved;
}

}  // namespace anoncode::platform
