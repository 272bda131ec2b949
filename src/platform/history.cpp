// seed 000 §2.6 query
#include "platform/platform.h"
#include "platform/platform_internal.h"
#include "platform/platform_store.h"

namespace anoncode::platform {

using storage::Tx;

WalletOutcome<History> CodePlatform::history(const WalletAuth& auth, HistoryType type,
                                             int64_t now_ms) {
  const LedgerKey k =
      ledger_key("history", auth.show,
                 {as_bytes(auth.wallet), auth.wallet_signature, as_bytes(history_type_name(type))});
  auto context = [&](const WalletRecord& w) { return history_context(w.b, w.accountid, type); };
  return perform_on_wallet<History>(
      k, auth, now_ms, context, [&](Tx& tx, const WalletRecord& w) -> Result<History> {
        ANONCODE_TRY(auto cur, store::load_wallet(tx, w.b));
        if (!cur) return make_error(ErrorCode::kNotFound, "no such wallet");
        if (cur->locked) return wallet_locked();
        History h;
        h.wallet = cur->b;
        h.accountid = cur->accountid;
        ANONCODE_TRY(auto head, store::load_head(tx, cur->accountid));
        h.balance = head ? head->balance : cur->balance;
        if (type == HistoryType::kRecharge) {
          ANONCODE_TRY(h.money, store::money_history(tx, cur->accountid, options_.history_limit));
        } else {
          ANONCODE_TRY(h.rides, store::ride_history(tx, cur->accountid, options_.history_limit));
        }
        return h;
      });
}

}  // namespace anoncode::platform
