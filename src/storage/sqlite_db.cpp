// The SQLite driver (embedded default, DESIGN §4).
//
// Thread safety: one connection behind a mutex held for a whole transaction. Every transaction
// writes (BEGIN IMMEDIATE takes the database's single write lock at once), so transactions run
// one at a time whatever we do; a pool would only turn the wait on our mutex into SQLite's busy
// polling, which is slower and unfair. One connection also makes "sqlite::memory:" work (each
// connection to it is a separate database). Several processes on one file (a CLI beside the
// server) are serialised by SQLite's file lock, waited for by busy_timeout.
//
// Durability: WAL with synchronous=FULL. In WAL mode NORMAL may lose the last transactions
// committed before a power loss (the database stays consistent, but a recharge the rider was
// told succeeded could vanish); FULL syncs the WAL at every commit, so a committed payment is
// on disk.
#include <sqlite3.h>

#include <climits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/driver.h"

namespace anoncode::storage::detail {
namespace {

constexpr int kBusyTimeoutMs = 5000;

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

bool is_busy(int rc) {
  return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

// The driver's error for a failed call. Messages carry the SQLite code and its generic
// description, never a bound value.
Error sqlite_error(int rc, std::string_view what, Fault* fault, const char* detail = nullptr) {
  std::string msg = "sqlite: " + std::string(what) + ": " + sqlite3_errstr(rc) + " (code " +
                    std::to_string(rc) + ")";
  if (detail != nullptr && *detail != '\0') msg += ": " + std::string(detail);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
    *fault = Fault::kStatement;
    return make_error(ErrorCode::kConflict, "unique_violation");
  }
  if (is_busy(rc)) {
    *fault = Fault::kConflict;
    return make_error(ErrorCode::kUnavailable, std::move(msg));
  }
  *fault = Fault::kStatement;
  switch (rc & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return make_error(ErrorCode::kUnavailable, std::move(msg));
    default:
      return make_error(ErrorCode::kInternal, std::move(msg));
  }
}

// A statement in SQLite's placeholders. SQLite keeps every named or numbered placeholder in a
// list it searches linearly, at parse and at bind, which is quadratic for a batch statement of
// thousands of parameters; an anonymous '?' is bound by position in constant time.
struct SqliteSql {
  std::string text;
  bool positional = false;  // every placeholder a bare '?': $1, $2, … in order, each once
};

// PostgreSQL's placeholders ($1…$N), outside quoted text and comments, as SQLite's: bare '?'
// when they are $1, $2, … in order, each once (a batch insert), else numbered ?N. nullopt when
// the SQL has a '?' of its own, a placeholder PostgreSQL would not take.
std::optional<SqliteSql> sqlite_placeholders(std::string_view sql) {
  SqliteSql out{std::string(sql), true};
  std::vector<size_t> marks;  // where each '$' of a placeholder was
  size_t expected = 1;
  char quote = 0;
  for (size_t i = 0; i < out.text.size(); ++i) {
    const char c = out.text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote ('') closes and reopens: the same
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '-' && i + 1 < out.text.size() && out.text[i + 1] == '-') {
      while (i < out.text.size() && out.text[i] != '\n') ++i;
    } else if (c == '?') {
      return std::nullopt;
    } else if (c == '$' && i + 1 < out.text.size() && out.text[i + 1] >= '0' &&
               out.text[i + 1] <= '9') {
      marks.push_back(i);
      size_t end = i + 1, number = 0;
      while (end < out.text.size() && out.text[end] >= '0' && out.text[end] <= '9') {
        number = number * 10 + static_cast<size_t>(out.text[end] - '0');
        ++end;
      }
      const bool canonical = out.text[i + 1] != '0';
      if (!canonical || number != expected) out.positional = false;
      ++expected;
      i = end - 1;
    }
  }
  // A statement without $N binds nothing by position: a :name or @name of its own is refused.
  if (marks.empty()) out.positional = false;
  if (!out.positional) {
    for (size_t m : marks) out.text[m] = '?';
    return out;
  }
  std::string bare;
  bare.reserve(out.text.size());
  size_t from = 0;
  for (size_t m : marks) {
    bare.append(out.text, from, m - from);
    bare += '?';
    from = m + 1;
    while (from < out.text.size() && out.text[from] >= '0' && out.text[from] <= '9') ++from;
  }
  bare.append(out.text, from, std::string::npos);
  out.text = std::move(bare);
  return out;
}

// The parameter number of a placeholder SQLite names "?N" (sqlite_placeholders), or 0 for any
// other form: :name, @name, a bare ?, a leading zero ($01) or a number beyond `count`.
size_t placeholder_number(const char* name, size_t count) {
  if (name == nullptr || name[0] != '?' || name[1] < '1' || name[1] > '9') return 0;
  size_t k = 0;
  for (const char* p = name + 1; *p != 0; ++p) {
    if (*p < '0' || *p > '9' || k > count) return 0;
    k = k * 10 + static_cast<size_t>(*p - '0');
  }
  return k <= count ? k : 0;
}

// Binds each placeholder of the statement to its parameter. Placeholders must be exactly
// $1..$N, as PostgreSQL requires, so a query written for SQLite alone (?, :name, $01) fails here
// too; a parameter the statement does not use is left unbound.
Status bind_params(sqlite3_stmt* stmt, bool positional, const std::vector<Value>& params) {
  // A blob or text of length 0 must still get a non-null pointer, or SQLite binds NULL.
  static const char kEmpty[1] = {0};
  const int count = sqlite3_bind_parameter_count(stmt);
  for (int idx = 1; idx <= count; ++idx) {
    const size_t k =
        positional ? (static_cast<size_t>(idx) <= params.size() ? static_cast<size_t>(idx) : 0)
                   : placeholder_number(sqlite3_bind_parameter_name(stmt, idx), params.size());
    if (k == 0) {
      return make_error(ErrorCode::kInternal, "sqlite: a placeholder is not one of $1..$" +
                                                  std::to_string(params.size()) + " (parameter " +
                                                  std::to_string(idx) + " of the statement)");
    }
    const Value& v = params[k - 1];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(stmt, idx);
    } else if (const auto* i = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, idx, *i);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else {
      const Bytes& b = std::get<Bytes>(v);
      const void* data = b.empty() ? static_cast<const void*>(kEmpty) : b.data();
      rc = sqlite3_bind_blob64(stmt, idx, data, b.size(), SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) {
      return make_error(ErrorCode::kInternal, "sqlite: cannot bind parameter $" +
                                                  std::to_string(k) + ": " + sqlite3_errstr(rc));
    }
  }
  return {};
}

Result<Value> read_column(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL:
      return Value{};
    case SQLITE_INTEGER:
      return Value{static_cast<int64_t>(sqlite3_column_int64(stmt, i))};
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      const int n = sqlite3_column_bytes(stmt, i);
      return Value{p == nullptr ? std::string() : std::string(p, static_cast<size_t>(n))};
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, i));
      const int n = sqlite3_column_bytes(stmt, i);
      return Value{p == nullptr ? Bytes() : Bytes(p, p + n)};
    }
    default: {
      // REAL: the layer has no floating point (money is integer fen); cast in the SQL.
      const char* name = sqlite3_column_name(stmt, i);
      return make_error(ErrorCode::kInternal, "sqlite: column " + std::to_string(i) + " (" +
                                                  (name ? name : "?") +
                                                  ") is REAL, which the storage layer does not "
                                                  "read");
    }
  }
}

class SqliteSession final : public Session {
 public:
  SqliteSession(sqlite3* db, std::unique_lock<std::mutex> lock) : lock_(std::move(lock)), db_(db) {}
  ~SqliteSession() override { rollback(); }

  Status begin(TxKind, bool) override { return run_script("BEGIN IMMEDIATE", "BEGIN IMMEDIATE"); }

  Result<int64_t> exec(std::string_view sql, const std::vector<Value>& params) override {
    ANONCODE_TRY(Stmt stmt, prepare(sql, params));
    const int64_t before = sqlite3_total_changes64(db_);
    int64_t rows = 0;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) ++rows;
    if (rc != SQLITE_DONE) return step_error(rc);
    if (sqlite3_stmt_readonly(stmt.get())) return rows;
    // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE even across DDL, so
    // report it only when this statement changed something.
    return sqlite3_total_changes64(db_) == before ? int64_t{0} : sqlite3_changes64(db_);
  }

  Result<Rows> query(std::string_view sql, const std::vector<Value>& params) override {
    ANONCODE_TRY(Stmt stmt, prepare(sql, params));
    Rows rows;
    const int ncols = sqlite3_column_count(stmt.get());
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      Row row;
      row.cols.reserve(static_cast<size_t>(ncols));
      for (int i = 0; i < ncols; ++i) {
        auto v = read_column(stmt.get(), i);
        if (!v.ok()) return fail(Fault::kStatement, v.error());
        row.cols.push_back(std::move(v).value());
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return step_error(rc);
    return rows;
  }

  Status exec_script(std::string_view sql) override { return run_script(sql, "script"); }
  Status lock_migrations() override { return {}; }  // BEGIN IMMEDIATE holds the write lock
  Status commit() override { return run_script("COMMIT", "COMMIT"); }

  void rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  Result<Stmt> prepare(std::string_view pg_sql, const std::vector<Value>& params) {
    if (pg_sql.size() > INT_MAX) {
      return fail(Fault::kStatement, make_error(ErrorCode::kInternal, "sqlite: SQL too long"));
    }
    const std::optional<SqliteSql> converted = sqlite_placeholders(pg_sql);
    if (!converted) {
      return fail(Fault::kStatement,
                  make_error(ErrorCode::kInternal, "sqlite: a placeholder is not one of $1..$" +
                                                       std::to_string(params.size()) +
                                                       " (a '?' in the statement)"));
    }
    const std::string_view sql = converted->text;
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
    Stmt stmt(raw);
    Fault fault = Fault::kStatement;
    if (rc != SQLITE_OK) {
      // The message describes the SQL text (no values are bound yet), so it is safe to show.
      Error e = sqlite_error(rc, "prepare", &fault, sqlite3_errmsg(db_));
      return fail(fault, std::move(e));
    }
    if (!stmt) {
      return fail(Fault::kStatement, make_error(ErrorCode::kInternal, "sqlite: empty statement"));
    }
    // One statement per call, as PostgreSQL's extended protocol requires: the rest must be
    // whitespace or comments.
    const std::string_view rest(tail, static_cast<size_t>(sql.data() + sql.size() - tail));
    sqlite3_stmt* extra = nullptr;
    rc = sqlite3_prepare_v2(db_, rest.data(), static_cast<int>(rest.size()), &extra, nullptr);
    sqlite3_finalize(extra);
    if (rc != SQLITE_OK || extra != nullptr) {
      return fail(Fault::kStatement,
                  make_error(ErrorCode::kInternal, "sqlite: several statements in one call"));
    }
    Status bound = bind_params(stmt.get(), converted->positional, params);
    if (!bound.ok()) return fail(Fault::kStatement, bound.error());
    return stmt;
  }

  Error step_error(int rc) {
    Fault fault = Fault::kStatement;
    // Constraint messages name the constraint or column ("UNIQUE constraint failed: t.c"),
    // never a value; other codes get only their generic description.
    const char* detail = (rc & 0xff) == SQLITE_CONSTRAINT ? sqlite3_errmsg(db_) : nullptr;
    Error e = sqlite_error(rc, "step", &fault, detail);
    return fail(fault, std::move(e));
  }

  Status run_script(std::string_view sql, std::string_view what) {
    char* errmsg = nullptr;
    const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &errmsg);
    if (rc == SQLITE_OK) return {};
    // Scripts have no parameters, so the message can only describe the SQL text.
    Fault fault = Fault::kStatement;
    Error e = sqlite_error(rc, what, &fault, errmsg);
    sqlite3_free(errmsg);
    return fail(fault, std::move(e));
  }

  std::unique_lock<std::mutex> lock_;  // released last, after the rollback in the destructor
  sqlite3* db_;
};

class SqliteDb final : public DriverDb {
 public:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  ~SqliteDb() override { sqlite3_close_v2(db_); }
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  std::string_view dialect() const override { return "sqlite"; }

 protected:
  Result<std::unique_ptr<Session>> acquire() override {
    return std::unique_ptr<Session>(
        std::make_unique<SqliteSession>(db_, std::unique_lock<std::mutex>(mu_)));
  }

 private:
  std::mutex mu_;
  sqlite3* db_;
};

// Runs a pragma and returns its first result column as text (or empty); retries while another
// connection holds the lock it needs (switching a fresh file to WAL needs it exclusively).
Result<std::string> pragma(sqlite3* db, const char* sql) {
  for (int attempt = 0;; ++attempt) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
    Stmt stmt(raw);
    std::string out;
    if (rc == SQLITE_OK) {
      while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        if (out.empty() && sqlite3_column_type(stmt.get(), 0) == SQLITE_TEXT) {
          out = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
        }
      }
      if (rc == SQLITE_DONE) return out;
    }
    if (!is_busy(rc) || attempt >= 50) {
      Fault ignored;
      return sqlite_error(rc, sql, &ignored);
    }
    sqlite3_sleep(20);
  }
}

}  // namespace

Result<std::unique_ptr<DriverDb>> open_sqlite(std::string_view path) {
  if (path.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "sqlite: the URL names no file");
  }
  const bool in_memory = path == ":memory:";
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  const int rc = sqlite3_open_v2(std::string(path).c_str(), &raw, flags, nullptr);
  auto db = std::make_unique<SqliteDb>(raw);  // closes raw on every return below
  if (rc != SQLITE_OK) {
    return make_error(ErrorCode::kUnavailable,
                      "sqlite: cannot open " + std::string(path) + ": " + sqlite3_errstr(rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);

  ANONCODE_TRY(std::string mode, pragma(raw, "PRAGMA journal_mode=WAL"));
  if (!in_memory && mode != "wal") {
    return make_error(ErrorCode::kUnavailable, "sqlite: cannot switch " + std::string(path) +
                                                   " to WAL (mode: " + mode + ")");
  }
  for (const char* sql : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    ANONCODE_TRY(std::string ignored, pragma(raw, sql));
    (void)ignored;
  }
  return std::unique_ptr<DriverDb>(std::move(db));
}

}  // namespace anoncode::storage::detail
