// seed 000 §2.11 refund; DESIGN §2.10
#include "platform/platform.h"
#include "platform/platform_internal.h"
#include "platform/platform_store.h"
#include "platform/request_ledger.h"

namespace anoncode::platform {

using storage::Tx;

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
  const std::string txn = txn_id(now_ms);
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
    ANONCODE_CHECK(store::debit_balance(tx, w->b, r.amount));
    ANONCODE_CHECK(store::insert_transaction(tx, {.txn_id = txn,
                                                  .paychannel = channels_.payout_channel,
                                                  .b = w->b,
                                                  .pay_no = refund_id,
                                                  .accountid = w->accountid,
                                                  .transaction_date = now_ms,
                                                  .amount = r.amount,
                                                  .transaction_type = TransactionType::kRefund,
                                                  .order_id = refund_id,
                                                  .state = TransactionState::kPaid}));
    return store::insert_refund(tx, {.refund_id = refund_id,
                                     .user_id = *user,
                                     .b = w->b,
                                     .accountid = w->accountid,
                                     .amount = r.amount,
                                     .bank_account_sealed = *sealed,
                                     .created_at = now_ms,
                                     .txn_id = txn});
  });
  if (!deducted.ok()) {
    Error e = deducted.error();
    if (auto st = refuse_in_ledger(k, e, response, now_ms); !st.ok()) return {st.error(), response};
    if (auto stored = answered<RefundResult>(k)) return std::move(*stored);
    return {std::move(e), response};
  }
  if (lost) return or_still_processing(answered<RefundResult>(k), response);

  PaymentChannel* payout = channels_.find(channels_.payout_channel);
  auto transfer =
      payout != nullptr
          ? payout->pay_out(refund_id, r.amount, r.bank_account)
          : Result<std::string>(make_error(ErrorCode::kUnavailable, "no payout channel"));
  RefundResult res;
  if (transfer.ok()) {
    auto done = db_.transact([&](Tx& tx) -> Status {
      ANONCODE_CHECK(store::mark_refund_paid(tx, refund_id, *transfer));
      ANONCODE_CHECK(store::set_transaction_state(tx, txn, TransactionState::kNormal));
      ANONCODE_TRY(auto cur, store::load_wallet(tx, w->b));
      res = RefundResult{r.amount, cur ? cur->balance : 0};
      return RequestLedger::finish(tx, k, ok_json(res), response, now_ms);
    });
    if (!done.ok()) return Out{done.error(), response};
    return Out{res, response};
  }
  // The payout was refused: give the money back to the wallet.
  Error refused =
      make_error(ErrorCode::kConflict, "the payout was not accepted; nothing was refunded");
  auto reversed = db_.transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(store::credit_balance(tx, w->b, r.amount));
    ANONCODE_CHECK(store::mark_refund_reversed(tx, refund_id));
    ANONCODE_CHECK(store::set_transaction_state(tx, txn, TransactionState::kReversed));
    return RequestLedger::finish(tx, k, refusal_json(refused), response, now_ms);
  });
  if (!reversed.ok()) return Out{reversed.error(), response};
  return Out{refused, response};
}

}  // namespace anoncode::platform
