// A small SQL layer with two drivers, SQLite (embedded default, WAL) and PostgreSQL (libpq),
// so the Store is written once (DESIGN §4: same schema, same test suite on both).
//
// SQL is written once for both: placeholders are $1, $2, … (PostgreSQL's native form; the
// SQLite driver binds them by name), binary columns are declared BYTEA in migrations (the SQLite
// driver reads BYTEA as BLOB), integers are BIGINT, text is TEXT, and upserts use
// INSERT … ON CONFLICT … and RETURNING, which both support.
//
// Every change runs in `transact`, which retries a transaction the database aborted for a
// conflict with a concurrent one (PostgreSQL serialization failure or deadlock, SQLite busy), so
// callers write plain read-modify-write code and still never lose or create money.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace anoncode::storage {

// A parameter or a column value: NULL, a 64-bit integer, text, or bytes.
using Value = std::variant<std::monostate, int64_t, std::string, Bytes>;

struct Row {
  std::vector<Value> cols;
  bool is_null(size_t i) const { return std::holds_alternative<std::monostate>(cols.at(i)); }
  // Typed access; a NULL or a value of another type is a bug in the query, so these throw.
  int64_t i64(size_t i) const;
  const std::string& text(size_t i) const;
  const Bytes& blob(size_t i) const;
  // A column that may be NULL.
  std::optional<std::string> opt_text(size_t i) const {
    return is_null(i) ? std::nullopt : std::optional<std::string>(text(i));
  }
  std::optional<Bytes> opt_blob(size_t i) const {
    return is_null(i) ? std::nullopt : std::optional<Bytes>(blob(i));
  }
};

// An optional text as a parameter: NULL without one.
inline Value text_or_null(const std::optional<std::string>& s) {
  return s ? Value(*s) : Value();
}
using Rows = std::vector<Row>;

// Errors a driver returns:
//  - kConflict with message "unique_violation" when a PRIMARY KEY or UNIQUE constraint refused a
//    row (the SN registry relies on it: double spending is stopped by a key, not a read);
//  - kUnavailable when the database cannot be reached or the transaction kept conflicting;
//  - kInternal for anything else (a bad query is a bug).
inline bool is_unique_violation(const Error& e) {
  return e.code == ErrorCode::kConflict && e.message == "unique_violation";
}

class Tx {
 public:
  virtual ~Tx() = default;
  // Runs a statement; returns the number of rows changed.
  virtual Result<int64_t> exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  virtual Result<Rows> query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Runs a statement whose count of changed rows the caller does not need.
  Status run(std::string_view sql, const std::vector<Value>& params = {}) {
    auto changed = exec(sql, params);
    if (!changed.ok()) return changed.error();
    return {};
  }
  // Convenience: at most one row.
  Result<std::optional<Row>> query_one(std::string_view sql, const std::vector<Value>& params = {});
  // Runs `fn` inside a savepoint. If it fails — its own error or a failed statement — what it
  // wrote is undone, the transaction goes on as it was before, and its error is returned; the
  // caller decides (record a refusal, say). A conflict with a concurrent transaction is not
  // undone: the whole transaction is run again, as for any conflict.
  virtual Status nested(const std::function<Status(Tx&)>& fn) = 0;
  // Takes an exclusive lock named `key`, held until the transaction ends (PostgreSQL: an advisory
  // transaction lock; SQLite: nothing, its write lock already serialises every transaction). For
  // transact_locking, to serialise transactions about one thing that has no row to lock.
  virtual Status lock(std::string_view key) = 0;
  // Inserts the rows of `flat` (rows of `ncols` values, one after the other) into `table`'s
  // `columns` ("a, b, c"), as insert_rows does; on PostgreSQL with COPY … FROM STDIN in binary
  // form, which a batch of hundreds of rows costs no parsing or planning of thousands of
  // parameters. The values must have the columns' types exactly (int64 for BIGINT, text for
  // TEXT, bytes for BYTEA).
  virtual Status copy_rows(std::string_view table, std::string_view columns, size_t ncols,
                           const std::vector<Value>& flat);
  // How many rows of `params_per_row` parameters one INSERT's VALUES list should carry
  // (insert_rows, and copy_rows where there is no COPY). PostgreSQL: as many as
  // kMaxStatementParams allows — one round trip and one plan for the batch. SQLite: one — in
  // process there is no round trip to save, and parsing an INSERT of thousands of placeholders
  // costs more than stepping a cached one-row INSERT once per row (the driver keeps prepared
  // statements by their text): 500 rides' rows in 5.8 ms instead of 8.3 (docs/BENCHMARKS.md).
  // Reads by an IN list stay one statement: a cached one-key SELECT per key measured slower.
  virtual size_t rows_per_statement(size_t params_per_row) const;
};

// Set-based statements: a batch of rows in one round trip, on both databases.
// At most this many parameters in one statement (SQLite allows 32,766, PostgreSQL 65,535).
constexpr size_t kMaxStatementParams = 30'000;
// "$first, $first+1, …" for `n` parameters (an IN list).
std::string placeholders(size_t first, size_t n);
// "($first, …), (…)": `rows` rows of `ncols` parameters each (a VALUES list).
std::string value_rows(size_t first, size_t rows, size_t ncols);
// Runs `head` + value_rows(…) + `tail` over `flat` (rows of `ncols` values, one after the
// other), in as few statements as kMaxStatementParams allows: "INSERT INTO t (a, b) VALUES ".
Status insert_rows(Tx& tx, std::string_view head, size_t ncols, const std::vector<Value>& flat,
                   std::string_view tail = "");
// Tx::copy_rows over `rows`, each turned into its `ncols` values by `values_of(row)`, which
// returns a std::vector<Value>.
template <typename Row, typename ValuesOf>
Status copy_each(Tx& tx, std::string_view table, std::string_view columns, size_t ncols,
                 const std::vector<Row>& rows, ValuesOf values_of) {
  if (rows.empty()) return {};
  std::vector<Value> flat;
  flat.reserve(rows.size() * ncols);
  for (const auto& row : rows) {
    for (auto& v : values_of(row)) flat.push_back(std::move(v));
  }
  return tx.copy_rows(table, columns, ncols, flat);
}
// insert_rows over `rows`, each turned into its `ncols` values by `values_of(row)`, which returns
// a std::vector<Value>.
template <typename Row, typename ValuesOf>
Status insert_each(Tx& tx, std::string_view head, size_t ncols, const std::vector<Row>& rows,
                   ValuesOf values_of) {
  std::vector<Value> flat;
  flat.reserve(rows.size() * ncols);
  for (const auto& row : rows) {
    for (auto& v : values_of(row)) flat.push_back(std::move(v));
  }
  return insert_rows(tx, head, ncols, flat);
}

// Work a caller adds to another library's operation (an admin change's audit entry): it runs
// inside the operation's transaction and commits with it; its failure rolls the operation back.
using AlsoInTx = std::function<Status(Tx&)>;

class Db {
 public:
  virtual ~Db() = default;

  // "sqlite:/path/to/file.db", "sqlite::memory:", or a libpq URL "postgresql://…" /
  // "postgres://…". Opening applies every pending migration.
  static Result<std::unique_ptr<Db>> open(std::string_view url);

  virtual std::string_view dialect() const = 0;  // "sqlite" or "postgresql"

  // Runs fn in one transaction (SERIALIZABLE on PostgreSQL; BEGIN IMMEDIATE on SQLite) and
  // commits when fn succeeds; rolls back when fn fails and returns fn's error. A transaction
  // the database aborts for a conflict is retried (fn runs again from the start) up to 10 times.
  // fn must therefore have no effects outside the transaction.
  virtual Status transact(const std::function<Status(Tx&)>& fn) = 0;
  // Like transact, but READ COMMITTED on PostgreSQL (each statement sees what committed before
  // it; no predicate locks, so a large batch does not conflict with every concurrent writer of
  // the tables it reads). Only for a fn that locks what its writes depend on before it reads it —
  // `SELECT … FOR UPDATE`, Tx::lock, in one fixed order across transactions — and writes rows
  // other transactions change only by relative updates (balance = balance - n). Transactions
  // still conflict on the rows they lock (waiting, not failing), and a deadlock is retried. On
  // SQLite it is transact (BEGIN IMMEDIATE: one writer at a time).
  virtual Status transact_locking(const std::function<Status(Tx&)>& fn) = 0;

  // Versions of the applied migrations, ascending.
  virtual Result<std::vector<int64_t>> applied_migrations() = 0;
};

// The migrations compiled into the binary (src/storage/migrations/NNNN_name.sql, in order).
struct Migration {
  int64_t version;
  std::string name;
  std::string sql;
};
const std::vector<Migration>& migrations();

}  // namespace anoncode::storage
