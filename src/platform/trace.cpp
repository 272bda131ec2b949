// seed 000 §2.7 violation tracing: the wallets a traced cheater's user id was written on, their
// whole chains
#include <algorithm>

#include "platform/platform.h"
#include "platform/platform_store.h"

namespace anoncode::platform {

using storage::Tx;

Result<Trace> CodePlatform::trace(std::string_view user_id) {
  Trace out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out = Trace{};
    ANONCODE_TRY(std::vector<std::string> todo, store::accounts_of_user(tx, user_id));
    std::vector<std::string> accounts;
    // Strong-mode refills link accountids of one rider: follow them both ways.
    while (!todo.empty() && accounts.size() < 1000) {
      std::string acc = todo.back();
      todo.pop_back();
      if (std::find(accounts.begin(), accounts.end(), acc) != accounts.end()) continue;
      accounts.push_back(acc);
      ANONCODE_TRY(auto linked, store::refill_links(tx, acc));
      todo.insert(todo.end(), linked.begin(), linked.end());
    }
    for (const auto& acc : accounts) {
      ANONCODE_TRY(auto wallets, store::wallets_of_account(tx, acc));
      out.wallets.insert(out.wallets.end(), wallets.begin(), wallets.end());
      ANONCODE_TRY(auto txns, store::transactions_of_account(tx, acc));
      out.transactions.insert(out.transactions.end(), txns.begin(), txns.end());
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

}  // namespace anoncode::platform
