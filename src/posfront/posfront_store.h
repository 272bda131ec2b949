// The POS front's SQL: one named function per query, each run inside the caller's transaction
// (storage::Db::transact), so the POS front holds no SQL (see platform/platform_store.h). Its
// table is terminals; the app backend's store registers terminals too (app/app_store.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/db.h"

namespace anoncode::posfront::store {

using storage::Tx;

Result<bool> terminal_registered(Tx& tx, std::string_view terminal);
Status insert_terminal(Tx& tx, std::string_view terminal, std::string_view merchant,
                       const Bytes& key_sealed, int64_t created_at);
struct StoredTerminal {
  std::string merchant = {};
  Bytes key_sealed = {};
};
Result<std::optional<StoredTerminal>> load_terminal(Tx& tx, std::string_view terminal);
Status touch_terminal(Tx& tx, std::string_view terminal, int64_t last_seen_at);
// Every terminal, by name (the console's dashboard).
struct TerminalListing {
  std::string terminal = {};
  std::string merchant = {};
  int64_t created_at = 0;
  std::optional<int64_t> last_seen_at = {};
};
Result<std::vector<TerminalListing>> list_terminals(Tx& tx);

}  // namespace anoncode::posfront::store
