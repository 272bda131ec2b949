// The POS front's SQL (posfront_store.h)
#include "posfront/posfront_store.h"

namespace anoncode::posfront::store {

Result<bool> terminal_registered(Tx& tx, std::string_view terminal) {
  ANONCODE_TRY(auto row, tx.query_one("SELECT 1 FROM terminals WHERE terminal = $1",
                                      {std::string(terminal)}));
  return row.has_value();
}

Status insert_terminal(Tx& tx, std::string_view terminal, std::string_view merchant,
                       const Bytes& key_sealed, int64_t created_at) {
  return tx.run(
      "INSERT INTO terminals (terminal, merchant, key_sealed, created_at) "
      "VALUES ($1, $2, $3, $4)",
      {std::string(terminal), std::string(merchant), key_sealed, created_at});
}

Result<std::optional<StoredTerminal>> load_terminal(Tx& tx, std::string_view terminal) {
  ANONCODE_TRY(auto row,
               tx.query_one("SELECT merchant, key_sealed FROM terminals WHERE terminal = $1",
                            {std::string(terminal)}));
  if (!row) return std::optional<StoredTerminal>();
  return std::optional<StoredTerminal>(StoredTerminal{row->text(0), row->blob(1)});
}

Status touch_terminal(Tx& tx, std::string_view terminal, int64_t last_seen_at) {
  return tx.run("UPDATE terminals SET last_seen_at = $2 WHERE terminal = $1",
                {std::string(terminal), last_seen_at});
}

}  // namespace anoncode::posfront::store
