// seed 000 §2.3 recharge, §2.8 strong mode; DESIGN §2.2, §2.7
#include "platform/platform.h"
#include "platform/platform_internal.h"
#include "platform/platform_store.h"
#include "platform/request_ledger.h"

namespace anoncode::platform {

using storage::Tx;

namespace {
LedgerKey recharge_key(const RechargeRequest& r) {
  return ledger_key(
      "recharge", r.auth.show,
      {as_bytes(r.auth.wallet), r.auth.wallet_signature, as_bytes(amount_text(r.amount)),
       as_bytes(r.channel), as_bytes(std::string_view(r.strong ? "1" : "0")),
       r.new_wallet_public_key, as_bytes(r.previous_wallet)});
}
}  // namespace

// A fresh cloud-card number (accountid) for a first recharge or a strong-mode one.
Result<std::string> CodePlatform::new_accountid(Tx& tx) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string id = random_digits(protocol::kAccountIdSize);
    if (id[0] == '0') continue;  // a cloud-card number does not start with 0
    ANONCODE_TRY(bool taken, store::accountid_taken(tx, id));
    if (!taken) return id;
  }
  return make_error(ErrorCode::kInternal, "cannot find a free accountid");
}

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

  // A first recharge has no wallet to sign for it. A signature there would be checked by nobody
  // yet enter the ledger's digest: a copy of the rider's request with other bytes in it would be
  // executed first and the rider's own request refused as a conflict, without the next
  // credential (found by the clean-room client, tests/independent_client/FINDINGS.md item 2).
  // Checked after the ledger, so a request recorded before this rule still gets its answer.
  if (r.previous_wallet.empty() && !r.auth.wallet_signature.empty()) {
    return refuse(
        make_error(ErrorCode::kInvalidArgument, "a first recharge carries no wallet_signature"));
  }

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
    ANONCODE_TRY(auto clash, store::load_wallet(tx, r.auth.wallet));
    if (clash) return make_error(ErrorCode::kConflict, "this wallet account exists already");
    ANONCODE_CHECK(RequestLedger::claim(tx, k, response, now_ms));
    return store::insert_payment_order(tx, order_id, r.channel, r.amount, now_ms);
  });
  if (!claimed.ok()) return failed(claimed.error());
  if (lost) return or_still_processing(answered<RechargeResult>(k), response);

  // 6. The payment: nothing is credited unless the channel confirms it.
  auto pay_no = channel->create_order(order_id, r.amount);
  Status paid = pay_no.ok() ? channel->confirm(order_id) : Status(pay_no.error());
  if (!paid.ok()) {
    (void)db_.transact(
        [&](Tx& tx) -> Status { return store::set_order_state(tx, order_id, "failed"); });
    // Recorded as the final answer: the payment was refused, the show is spent.
    Error e = make_error(ErrorCode::kConflict, "the payment channel did not confirm the payment");
    (void)ledger_.refuse(k, e, response, now_ms);
    return {std::move(e), response};
  }

  // 7. Credit, in one transaction with the ledger's outcome.
  RechargeResult res;
  auto credited = db_.transact([&](Tx& tx) -> Status {
    res = RechargeResult{};
    ANONCODE_TRY(bool paid_now, store::mark_order_paid(tx, order_id));
    if (!paid_now) return make_error(ErrorCode::kConflict, "the order was already settled");
    std::optional<WalletRecord> old;
    if (prev) {
      ANONCODE_TRY(WalletRecord cur, load_usable_wallet(tx, prev->b));
      old = std::move(cur);
    }
    ANONCODE_TRY(auto clash, store::load_wallet(tx, r.auth.wallet));
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
    WalletRecord created;
    created.b = res.wallet;
    created.accountid = res.accountid;
    created.balance = res.balance;
    created.total_recharge_amount = carry ? old->total_recharge_amount + r.amount : r.amount;
    created.total_consume_amount = carry ? old->total_consume_amount : 0;
    created.creation_date = now_ms;
    created.strong = r.strong;
    if (old) created.previous_b = old->b;
    created.wallet_public_key = new_key->to_bytes();
    created.pseudonym = new_pseudonym;
    ANONCODE_CHECK(store::insert_wallet(tx, created));
    if (old) {
      // Normal mode: the old record is superseded within its accountid. Strong mode: it stays
      // the head of its own accountid (late rides still land on it) until the refill moves it.
      ANONCODE_TRY(bool superseded,
                   store::supersede_wallet(
                       tx, old->b, carry ? std::optional<std::string>(res.wallet) : std::nullopt));
      if (!superseded) return wallet_inactive();
      if (r.strong) {
        ANONCODE_CHECK(store::insert_refill(tx, "PR" + random_digits(14), now_ms, old->accountid,
                                            res.accountid, now_ms + options_.refill_delay_ms));
      }
    }
    ANONCODE_CHECK(store::insert_transaction(tx, {.txn_id = txn_id(now_ms),
                                                  .paychannel = r.channel,
                                                  .b = res.wallet,
                                                  .pay_no = pay_no.value(),
                                                  .accountid = res.accountid,
                                                  .transaction_date = now_ms,
                                                  .amount = r.amount,
                                                  .transaction_type = TransactionType::kRecharge,
                                                  .order_id = order_id,
                                                  .state = TransactionState::kRechargeDone}));
    return RequestLedger::finish(tx, k, ok_json(res), response, now_ms);
  });
  if (!credited.ok()) {
    // Paid but not credited (the wallet changed under us): the order is kept for the operator
    // to return the payment.
    (void)db_.transact(
        [&](Tx& tx) -> Status { return store::set_order_state(tx, order_id, "uncredited"); });
    Error e = credited.error();
    (void)ledger_.refuse(k, e, response, now_ms);
    return {std::move(e), response};
  }
  return Out{res, response};
}

}  // namespace anoncode::platform
