// seed 000 §2.8 钱包余额返充 (the strong-mode refill job)
#include <algorithm>
#include <span>

#include "platform/platform.h"
#include "platform/platform_store.h"

namespace anoncode::platform {

using storage::Tx;

Result<int64_t> CodePlatform::run_refill(int64_t now_ms) {
  std::vector<std::string> due;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(due, store::due_refills(tx, now_ms));
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
      ANONCODE_TRY(auto rec, store::load_refill(tx, id));
      if (!rec || !rec->registered) return {};  // moved by another run
      const std::string old_acc = rec->accountid_old;
      // The successor may itself have been refilled onward already: follow to the live one.
      std::string target_acc = rec->accountid_new;
      for (int hop = 0; hop < 64; ++hop) {
        ANONCODE_TRY(auto next, store::refilled_into(tx, target_acc));
        if (!next) break;
        target_acc = *next;
      }
      ANONCODE_TRY(auto from, store::load_head(tx, old_acc));
      ANONCODE_TRY(auto to, store::load_head(tx, target_acc));
      if (!from || !to) return make_error(ErrorCode::kInternal, "a refill names a missing wallet");
      const int64_t amount = from->balance;  // positive or negative
      ANONCODE_TRY(bool moved_now, store::complete_refill(tx, id, amount, now_ms));
      if (!moved_now) return {};
      if (amount != 0) {
        ANONCODE_CHECK(store::debit_balance(tx, from->b, amount));
        ANONCODE_CHECK(store::credit_balance(tx, to->b, amount));
        // Each side records what its accountid gained or lost; order_id names the other side.
        auto record = [&](const WalletRecord& w, const std::string& accountid, int64_t gained,
                          const std::string& other) {
          return store::insert_transaction(tx, {.txn_id = txn_id(now_ms),
                                                .paychannel = "",
                                                .b = w.b,
                                                .pay_no = id,
                                                .accountid = accountid,
                                                .transaction_date = now_ms,
                                                .amount = gained,
                                                .transaction_type = TransactionType::kRefill,
                                                .order_id = other,
                                                .state = TransactionState::kNormal});
        };
        ANONCODE_CHECK(record(*from, old_acc, -amount, target_acc));
        ANONCODE_CHECK(record(*to, target_acc, amount, old_acc));
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
