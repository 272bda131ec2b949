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

Result<std::vector<TerminalListing>> list_terminals(Tx& tx) {
  ANONCODE_TRY(auto rows, tx.query("SELECT terminal, merchant, created_at, last_seen_at "
                                   "FROM terminals ORDER BY terminal"));
  std::vector<TerminalListing> out;
  for (const auto& r : rows) {
    out.push_back({r.text(0), r.text(1), r.i64(2),
                   r.is_null(3) ? std::nullopt : std::optional<int64_t>(r.i64(3))});
  }
  return out;
}

}  // namespace anoncode::posfront::store
