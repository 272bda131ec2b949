// seed 000 §2.12 close
#include "platform/platform.h"
#include "platform/platform_internal.h"
#include "platform/platform_store.h"

namespace anoncode::platform {

using storage::Tx;

WalletOutcome<CloseResult> CodePlatform::close(const WalletAuth& auth, int64_t now_ms) {
  const LedgerKey k =
      ledger_key("close", auth.show, {as_bytes(auth.wallet), auth.wallet_signature});
  auto context = [](const WalletRecord& w) { return close_context(w.b, w.accountid); };
  return perform_on_wallet<CloseResult>(
      k, auth, now_ms, context, [&](Tx& tx, const WalletRecord& w) -> Result<CloseResult> {
        ANONCODE_TRY(WalletRecord cur, load_usable_wallet(tx, w.b));
        if (cur.balance != 0) {
          return make_error(ErrorCode::kConflict, "the balance is not zero: refund it first");
        }
        ANONCODE_TRY(bool pending, store::refill_pending_into(tx, cur.accountid));
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
        ANONCODE_CHECK(store::deactivate_wallet(tx, cur.b));
        ANONCODE_CHECK(store::insert_transaction(tx, {.txn_id = txn_id(now_ms),
                                                      .b = cur.b,
                                                      .accountid = cur.accountid,
                                                      .transaction_date = now_ms,
                                                      .amount = 0,
                                                      .transaction_type = TransactionType::kClose,
                                                      .order_id = "",
                                                      .state = TransactionState::kNormal}));
        return CloseResult{"closed", cur.accountid};
      });
}

}  // namespace anoncode::platform
