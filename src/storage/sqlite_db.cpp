// The SQLite driver (embedded default, DESIGN §4).
//
// Thread safety: one connection behind a mutex held for a whole transaction. Every transaction
// writes (BEGIN IMMEDIATE takes the database's single write lock at once), so transactions run
// one at a time whatever we do; a pool would only turn the wait on our mutex into SQLite's busy
// polling, which is slower and unfair. One connection also makes "sqlite::memory:" work (each
// connection to it is a separate database). Several processes on one file (a CLI beside the
// server) are serialised by SQLite's file lock, waited for by busy_timeout.
//
// Durability: WAL, with a group commit of our own. synchronous=FULL would sync the WAL inside
// every COMMIT, while the connection's mutex is held, so each transaction would wait for the
// fsyncs of all before it, one by one. Instead the connection runs with synchronous=NORMAL (COMMIT
// writes the WAL frames but does not sync them; SQLite still syncs the WAL before each checkpoint
// and the database after it, so a checkpoint never loses a commit) and a transaction, once its
// COMMIT returned and the connection is free for the next one, waits for one fdatasync of the WAL
// that started after its COMMIT (WalSync). Whoever finds no sync running starts one, for every
// commit written so far; the others wait for it. Concurrent transactions so share one sync, and
// none is acknowledged before its WAL frames are on disk: a recharge the rider was told succeeded
// survives a power loss. A transaction that only read waits too, for the commits it may have
// read, so it never answers with data that could still vanish.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/counters.h"
#include "storage/driver.h"

namespace anoncode::storage::detail {
namespace {

constexpr int kBusyTimeoutMs = 5000;

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// Prepared statements kept for reuse, by their SQLite text: parsing and planning a statement
// cost more than running it for the short ones of a wallet request (a code request runs about
// twenty). Used under the connection's mutex only. Batch statements (thousands of placeholders,
// a different text per batch size) are not kept.
class StmtCache {
 public:
  static constexpr size_t kMaxSql = 4096, kMaxEntries = 512;
  struct Entry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  ~StmtCache() {
    for (auto& [sql, e] : entries_) sqlite3_finalize(e.stmt);
  }
  // A free cached statement for `sql`, marked in use; nullptr if none.
  Entry* take(const std::string& sql) {
    auto it = entries_.find(sql);
    if (it == entries_.end() || it->second.in_use) return nullptr;
    it->second.in_use = true;
    return &it->second;
  }
  // Keeps a freshly prepared statement, marked in use, if there is room; nullptr if not kept.
  Entry* keep(const std::string& sql, sqlite3_stmt* stmt) {
    if (sql.size() > kMaxSql || entries_.size() >= kMaxEntries) return nullptr;
    auto [it, inserted] = entries_.try_emplace(sql, Entry{stmt, true});
    return inserted ? &it->second : nullptr;
  }

 private:
  std::unordered_map<std::string, Entry> entries_;  // nodes never move: Entry* stays valid
};

// A statement for one call: a cached one goes back to the cache (reset, bindings cleared), any
// other is finalized.
class StmtHandle {
 public:
  StmtHandle(sqlite3_stmt* stmt, StmtCache::Entry* cached) : stmt_(stmt), cached_(cached) {}
  StmtHandle(StmtHandle&& o) noexcept
      : stmt_(std::exchange(o.stmt_, nullptr)), cached_(std::exchange(o.cached_, nullptr)) {}
  StmtHandle& operator=(StmtHandle&&) = delete;
  StmtHandle(const StmtHandle&) = delete;
  ~StmtHandle() {
    if (stmt_ == nullptr) return;
    if (cached_ == nullptr) {
      sqlite3_finalize(stmt_);
      return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    cached_->in_use = false;
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
  StmtCache::Entry* cached_;  // null: not cached
};

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

// The group commit (see the top of this file): commits are numbered as they are written to the
// WAL; await(n) returns once a WAL sync that began after commit n finished.
class WalSync {
 public:
  // `wal_path` empty: nothing to sync (an in-memory database).
  explicit WalSync(std::string wal_path) : path_(std::move(wal_path)) {}

  // Numbers a commit that wrote; called right after its COMMIT, under the connection's mutex.
  uint64_t committed() { return ++written_; }
  // The last commit written (what a transaction that only read may have seen).
  uint64_t last() const { return written_.load(); }

  Status await(uint64_t ticket) {
    if (path_.empty() || durable_.load() >= ticket) return {};
    std::unique_lock lock(mu_);
    while (durable_.load() < ticket) {
      if (syncing_) {
        synced_.wait(lock);
        continue;
      }
      syncing_ = true;
      const uint64_t covers = written_.load();  // every commit up to here is in the WAL file
      lock.unlock();
      const int err = sync_wal();
      lock.lock();
      syncing_ = false;
      if (err == 0 && covers > durable_.load()) durable_.store(covers);
      synced_.notify_all();
      if (err != 0) {
        return make_error(
            ErrorCode::kUnavailable,
            std::string("sqlite: cannot sync the write-ahead log: ") + std::strerror(err));
      }
      counters::add(counters::Event::kDbWalSync);
    }
    return {};
  }

 private:
  // fdatasync of the WAL file (and, the first time, of its directory, so a WAL file created by
  // this process is found after a power loss). Returns 0 or an errno.
  int sync_wal() {
    int err = sync_path(path_, false);
    if (err == 0 && !dir_synced_) {
      err = sync_path(std::filesystem::path(path_).parent_path().string(), true);
      dir_synced_ = err == 0;
    }
    return err;
  }

  static int sync_path(const std::string& path, bool directory) {
    const int fd = ::open(path.empty() ? "." : path.c_str(),
                          O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
    if (fd < 0) return errno;
    const int rc = directory ? ::fsync(fd) : ::fdatasync(fd);
    const int err = rc == 0 ? 0 : errno;
    ::close(fd);
    return err;
  }

  const std::string path_;
  std::atomic<uint64_t> written_{0}, durable_{0};
  std::mutex mu_;
  std::condition_variable synced_;
  bool syncing_ = false;     // guarded by mu_
  bool dir_synced_ = false;  // only the syncing thread touches it
};

class SqliteSession final : public Session {
 public:
  SqliteSession(sqlite3* db, WalSync& wal, StmtCache& cache, std::unique_lock<std::mutex> lock)
      : lock_(std::move(lock)), db_(db), wal_(wal), cache_(cache) {}
  ~SqliteSession() override { rollback(); }

  Status begin(TxKind, bool) override { return run_script("BEGIN IMMEDIATE", "BEGIN IMMEDIATE"); }

  Result<int64_t> exec(std::string_view sql, const std::vector<Value>& params) override {
    ANONCODE_TRY(StmtHandle stmt, prepare(sql, params));
    if (!sqlite3_stmt_readonly(stmt.get())) wrote_ = true;
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
    ANONCODE_TRY(StmtHandle stmt, prepare(sql, params));
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

  Status exec_script(std::string_view sql) override {
    wrote_ = true;
    return run_script(sql, "script");
  }
  Status lock_migrations() override { return {}; }  // BEGIN IMMEDIATE holds the write lock
  bool in_process() const override { return true; }
  Status commit() override {
    ANONCODE_CHECK(run_script("COMMIT", "COMMIT"));
    if (wrote_) counters::add(counters::Event::kDbCommit);
    ticket_ = wrote_ ? wal_.committed() : wal_.last();
    return {};
  }
  uint64_t commit_ticket() const override { return ticket_; }

  void rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  Result<StmtHandle> prepare(std::string_view pg_sql, const std::vector<Value>& params) {
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
    if (StmtCache::Entry* cached = cache_.take(converted->text)) {
      StmtHandle stmt(cached->stmt, cached);
      Status bound = bind_params(stmt.get(), converted->positional, params);
      if (!bound.ok()) return fail(Fault::kStatement, bound.error());
      return stmt;
    }
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
    StmtHandle handle(stmt.get(), cache_.keep(converted->text, stmt.get()));
    stmt.release();  // owned by the handle (and the cache, if kept)
    Status bound = bind_params(handle.get(), converted->positional, params);
    if (!bound.ok()) return fail(Fault::kStatement, bound.error());
    return handle;
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
  WalSync& wal_;
  StmtCache& cache_;
  bool wrote_ = false;  // a statement that can write ran
  uint64_t ticket_ = 0;
};

class SqliteDb final : public DriverDb {
 public:
  explicit SqliteDb(sqlite3* db) : db_(db), wal_(wal_path(db)) {}
  ~SqliteDb() override {
    cache_.reset();  // finalizes the cached statements before the connection closes
    sqlite3_close_v2(db_);
  }
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  std::string_view dialect() const override { return "sqlite"; }

 protected:
  Result<std::unique_ptr<Session>> acquire() override {
    return std::unique_ptr<Session>(
        std::make_unique<SqliteSession>(db_, wal_, *cache_, std::unique_lock<std::mutex>(mu_)));
  }
  Status await_durable(uint64_t ticket) override { return wal_.await(ticket); }

 private:
  // The WAL file of the main database; empty for an in-memory one (or a failed open).
  static std::string wal_path(sqlite3* db) {
    const char* name = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
    if (name == nullptr || *name == '\0') return {};
    return sqlite3_filename_wal(name);
  }

  std::mutex mu_;
  sqlite3* db_;
  WalSync wal_;
  std::optional<StmtCache> cache_{std::in_place};
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
  for (const char* sql : {"PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    ANONCODE_TRY(std::string ignored, pragma(raw, sql));
    (void)ignored;
  }
  return std::unique_ptr<DriverDb>(std::move(db));
}

}  // namespace anoncode::storage::detail
