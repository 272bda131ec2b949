// Tests only: a code platform on a fresh database of one backend, with a privacy backend, the
// simulated payment channels and an identity directory; and riders that drive it the way the SDK
// does (a show per operation, the wallet key's signature, the next credential from each reply).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "crypto/sm3.h"
#include "crypto/test_util.h"
#include "platform/platform.h"
#include "storage/test_databases.h"

namespace anoncode::platform::testing {

constexpr int64_t kT0 = 1'764'000'000'000;  // a fixed "now"

struct Rider {
  std::string user_id, name, id_number;
  crypto::Credential cred;
  std::optional<crypto::Sm2PrivateKey> wallet_key;  // the current wallet's key
  std::string b, accountid;
};

// A show made for one operation: the request to send and what renews the credential.
struct PreparedShow {
  WalletAuth auth;
  crypto::CredentialClient::Shown shown;
};

class PlatformFixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ANONCODE_REQUIRE_BACKEND(GetParam());
    auto db = storage::Db::open(storage::testing::fresh_database_url(GetParam()));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    std::vector<crypto::IssuerKey> keys;
    keys.push_back(crypto::IssuerKey::generate(g(), rng_));
    privacy_ = std::make_unique<privacy::PrivacyBackend>(*db_, g(), std::move(keys), rng_);
    channels_ = PaymentChannels::simulated();
    platform_key_.emplace(*crypto::Sm2PrivateKey::generate());
    make_platform(options_);
  }

  void make_platform(PlatformOptions options) {
    options_ = options;
    Bytes k(crypto::Sm4Aead::kMasterKeySize, 0x42);
    platform_ =
        std::make_unique<CodePlatform>(*db_, *privacy_, *platform_key_, channels_, directory_,
                                       *crypto::Sm4Aead::create(SecretBytes(k)), options_);
    ASSERT_TRUE(platform_->publish_signing_key(kT0 - kDayMs, kT0 + 365 * kDayMs).ok());
  }

  const crypto::Group& g() const { return crypto::service_test_group(); }
  const crypto::IssuerPublicKey& issuer() const { return privacy_->issuing_key(); }
  SimulatedPaymentChannel& channel(std::string_view code) {
    return static_cast<SimulatedPaymentChannel&>(*channels_.find(code));
  }

  // 开通: registers J under the user id and takes the first credential; the app backend knows
  // the person by name and ID number.
  Rider open(const std::string& user, const std::string& name, const std::string& id_number) {
    Rider r;
    r.user_id = user;
    r.name = name;
    r.id_number = id_number;
    auto started =
        crypto::CredentialClient::begin_open(issuer(), protocol::open_context_hash(user), rng_);
    auto resp = privacy_->open(user, started.request.encode(), now_);
    EXPECT_TRUE(resp.ok()) << resp.error().message;
    auto cred = crypto::CredentialClient::finish_issue(
        started.pending, *crypto::IssueResponse::decode(*resp), issuer());
    EXPECT_TRUE(cred.ok());
    r.cred = *cred;
    directory_.add(name, id_number, user);
    return r;
  }

  // A show of the rider's credential for `ctx`, signed by `signer` (the wallet key).
  PreparedShow prepare(const Rider& r, const protocol::ShowContext& ctx,
                       const crypto::Sm2PrivateKey* signer) {
    auto nonce = privacy_->new_nonce(now_);
    EXPECT_TRUE(nonce.ok());
    auto shown = crypto::CredentialClient::show(r.cred, issuer(), ctx.op, *nonce, ctx.hash(), rng_,
                                                ctx.scopes);
    EXPECT_TRUE(shown.ok());
    PreparedShow p{WalletAuth{shown->request.encode(), ctx.wallet_b, {}}, *shown};
    if (signer != nullptr) {
      auto digest = crypto::sm3(p.auth.show);
      auto sig = crypto::sm2_sign(*signer, digest);
      EXPECT_TRUE(sig.ok());
      p.auth.wallet_signature = *sig;
    }
    return p;
  }

  // Takes the next credential from a reply, as the SDK does.
  template <typename T>
  void renew(Rider& r, const PreparedShow& p, const WalletOutcome<T>& out) {
    if (!out.response) return;
    auto resp = crypto::IssueResponse::decode(*out.response);
    ASSERT_TRUE(resp.ok());
    auto next = crypto::CredentialClient::finish_issue(p.shown.pending, *resp, issuer());
    ASSERT_TRUE(next.ok());
    r.cred = *next;
  }

  RechargeRequest recharge_request(const Rider& r, int64_t amount, bool strong,
                                   const crypto::Sm2PrivateKey& new_key,
                                   std::string channel = "010001") {
    RechargeRequest req;
    req.amount = amount;
    req.channel = std::move(channel);
    req.strong = strong;
    req.new_wallet_public_key = new_key.public_key().to_bytes();
    req.previous_wallet = r.b;
    req.auth.wallet = protocol::wallet_account_of(req.new_wallet_public_key);
    return req;
  }

  // A recharge request with a fresh wallet key, its show prepared and signed by the rider's
  // current wallet key (none the first time) — to send, replay or tamper with.
  struct PreparedRecharge {
    crypto::Sm2PrivateKey key;
    RechargeRequest req;
    PreparedShow show;
  };
  PreparedRecharge prepare_recharge(const Rider& r, int64_t amount, bool strong = false) {
    auto key = *crypto::Sm2PrivateKey::generate();
    RechargeRequest req = recharge_request(r, amount, strong, key);
    auto p = prepare(r, recharge_context(req), r.wallet_key ? &*r.wallet_key : nullptr);
    req.auth = p.auth;
    return {std::move(key), std::move(req), std::move(p)};
  }

  // 充值: a new wallet key and B; signed by the previous wallet's key (none the first time).
  WalletOutcome<RechargeResult> recharge(Rider& r, int64_t amount, bool strong = false,
                                         std::string channel = "010001") {
    auto key = *crypto::Sm2PrivateKey::generate();
    RechargeRequest req = recharge_request(r, amount, strong, key, std::move(channel));
    auto p = prepare(r, recharge_context(req), r.wallet_key ? &*r.wallet_key : nullptr);
    req.auth = p.auth;
    auto out = platform_->recharge(req, now_);
    renew(r, p, out);
    if (out.ok()) {
      r.wallet_key.emplace(key);
      r.b = out.result->wallet;
      r.accountid = out.result->accountid;
    }
    return out;
  }

  WalletOutcome<CodeResult> request_code(Rider& r) {
    auto p = prepare(r, code_context(r.b, r.accountid), &*r.wallet_key);
    auto out = platform_->request_code(p.auth, now_);
    renew(r, p, out);
    return out;
  }

  WalletOutcome<History> history(Rider& r, HistoryType type) {
    auto p = prepare(r, history_context(r.b, r.accountid, type), &*r.wallet_key);
    auto out = platform_->history(p.auth, type, now_);
    renew(r, p, out);
    return out;
  }

  RefundRequest refund_request(const Rider& r, int64_t amount, const std::string& name,
                               const std::string& id_number) {
    RefundRequest req;
    req.amount = amount;
    req.name = name;
    req.id_number = id_number;
    req.bank_account = "6222020200112233445";
    req.auth.wallet = r.b;
    return req;
  }

  WalletOutcome<RefundResult> refund(Rider& r, int64_t amount,
                                     std::optional<std::pair<std::string, std::string>> as = {}) {
    RefundRequest req =
        refund_request(r, amount, as ? as->first : r.name, as ? as->second : r.id_number);
    auto p = prepare(r, refund_context(r.b, r.accountid, req), &*r.wallet_key);
    req.auth = p.auth;
    auto out = platform_->refund(req, now_);
    renew(r, p, out);
    return out;
  }

  WalletOutcome<CloseResult> close(Rider& r) {
    auto p = prepare(r, close_context(r.b, r.accountid), &*r.wallet_key);
    auto out = platform_->close(p.auth, now_);
    renew(r, p, out);
    return out;
  }

  int64_t balance_of(const std::string& b) {
    auto w = platform_->wallet(b);
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
    return w.ok() ? w->balance : 0;
  }

  // One integer from SQL (tests inspect the tables directly).
  int64_t scalar(const std::string& sql, const std::vector<storage::Value>& params = {}) {
    int64_t v = 0;
    auto s = db_->transact([&](storage::Tx& tx) -> Status {
      ANONCODE_TRY(auto row, tx.query_one(sql, params));
      v = (!row || row->is_null(0)) ? 0 : row->i64(0);
      return {};
    });
    EXPECT_TRUE(s.ok()) << s.error().message;
    return v;
  }

  // THE MONEY INVARIANT. A normal-mode recharge copies the balance forward into the new record
  // and keeps the old one (deactivated) with the balance it had then, so summing every record
  // would count money twice. The money sits in the HEAD record of each accountid (the one no
  // later record of that accountid superseded — active, closed, or left behind by a strong-mode
  // recharge until its refill). Precisely:
  //   Σ confirmed recharges − Σ settled rides − Σ paid refunds = Σ balances of the head records,
  // refills only move money between heads, and the wallet transactions tell the same story:
  //   Σ(01) − Σ(02) + Σ(03, signed) − Σ(04 not reversed) = Σ head balances.
  void expect_money_invariant() {
    const int64_t recharged =
        scalar("SELECT COALESCE(SUM(amount), 0) FROM payment_orders WHERE state = 'paid'");
    const int64_t ridden = scalar("SELECT COALESCE(SUM(amount), 0) FROM rides");
    const int64_t refunded =
        scalar("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE state = 'paid'");
    const int64_t heads = scalar(
        "SELECT COALESCE(SUM(balance), 0) FROM anonymous_wallet_accounts "
        "WHERE superseded_by IS NULL");
    EXPECT_EQ(recharged - ridden - refunded, heads);
    const int64_t ledger = scalar(
        "SELECT COALESCE(SUM(CASE transaction_type WHEN '01' THEN amount WHEN '02' THEN -amount "
        "WHEN '03' THEN amount WHEN '04' THEN -amount ELSE 0 END), 0) FROM wallet_transactions "
        "WHERE state <> '09'");
    EXPECT_EQ(ledger, heads);
    int64_t paid_in = 0;
    for (const auto& [code, ch] : channels_.by_code) {
      paid_in += static_cast<SimulatedPaymentChannel&>(*ch).total_paid_in();
    }
    EXPECT_EQ(paid_in, recharged);
    EXPECT_EQ(channel(kChannelUnionPay).total_paid_out(), refunded);
  }

  crypto::SeededRng rng_{"platform-test"};
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<privacy::PrivacyBackend> privacy_;
  PaymentChannels channels_;
  MemoryIdentityDirectory directory_;
  std::optional<crypto::Sm2PrivateKey> platform_key_;
  PlatformOptions options_;
  std::unique_ptr<CodePlatform> platform_;
  int64_t now_ = kT0;
};

}  // namespace anoncode::platform::testing
