// The driver-independent half of the SQL layer: typed row access, URL dispatch, the transaction
// runner (retries, failure tracking) and the migrations runner, shared by SQLite and PostgreSQL.
#include "storage/db.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "storage/driver.h"

namespace anoncode::storage {

namespace {

const char* type_name(const Value& v) {
  switch (v.index()) {
    case 0:
      return "NULL";
    case 1:
      return "an integer";
    case 2:
      return "text";
    default:
      return "bytes";
  }
}

[[noreturn]] void wrong_type(size_t i, const Value& v, const char* wanted) {
  throw std::logic_error("storage: column " + std::to_string(i) + " is " + type_name(v) + ", not " +
                         wanted);
}

}  // namespace

int64_t Row::i64(size_t i) const {
  const Value& v = cols.at(i);
  if (const auto* p = std::get_if<int64_t>(&v)) return *p;
  wrong_type(i, v, "an integer");
}

const std::string& Row::text(size_t i) const {
  const Value& v = cols.at(i);
  if (const auto* p = std::get_if<std::string>(&v)) return *p;
  wrong_type(i, v, "text");
}

const Bytes& Row::blob(size_t i) const {
  const Value& v = cols.at(i);
  if (const auto* p = std::get_if<Bytes>(&v)) return *p;
  wrong_type(i, v, "bytes");
}

Result<std::optional<Row>> Tx::query_one(std::string_view sql, const std::vector<Value>& params) {
  ANONCODE_TRY(Rows rows, query(sql, params));
  if (rows.size() > 1) {
    return make_error(ErrorCode::kInternal, "storage: query_one: the query returned several rows");
  }
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

std::string placeholders(size_t first, size_t n) {
  std::string out;
  out.reserve(n * 7);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    out += '$';
    out += std::to_string(first + i);
  }
  return out;
}

std::string value_rows(size_t first, size_t rows, size_t ncols) {
  std::string out;
  out.reserve(rows * (ncols * 7 + 4));
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) out += ", ";
    out += '(';
    out += placeholders(first + r * ncols, ncols);
    out += ')';
  }
  return out;
}

Status insert_rows(Tx& tx, std::string_view head, size_t ncols, const std::vector<Value>& flat,
                   std::string_view tail) {
  if (ncols == 0 || flat.size() % ncols != 0) {
    return make_error(ErrorCode::kInternal, "storage: insert_rows: a row of the wrong width");
  }
  const size_t per_statement = tx.rows_per_statement(ncols);
  const size_t rows = flat.size() / ncols;
  for (size_t begin = 0; begin < rows; begin += per_statement) {
    const size_t n = std::min(per_statement, rows - begin);
    std::vector<Value> params(flat.begin() + static_cast<ptrdiff_t>(begin * ncols),
                              flat.begin() + static_cast<ptrdiff_t>((begin + n) * ncols));
    std::string sql(head);
    sql += value_rows(1, n, ncols);
    sql += tail;
    ANONCODE_CHECK(tx.run(sql, params));
  }
  return {};
}

size_t Tx::rows_per_statement(size_t params_per_row) const {
  return std::max<size_t>(1, kMaxStatementParams / std::max<size_t>(1, params_per_row));
}

Status Tx::copy_rows(std::string_view table, std::string_view columns, size_t ncols,
                     const std::vector<Value>& flat) {
  return insert_rows(
      *this, "INSERT INTO " + std::string(table) + " (" + std::string(columns) + ") VALUES ", ncols,
      flat);
}

Result<std::unique_ptr<Db>> Db::open(std::string_view url) {
  std::unique_ptr<detail::DriverDb> db;
  if (url.starts_with("sqlite:")) {
    ANONCODE_TRY(db, detail::open_sqlite(url.substr(std::string_view("sqlite:").size())));
  } else if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    ANONCODE_TRY(db, detail::open_postgres(url));
  } else {
    // Never echo the URL: a PostgreSQL URL may carry a password.
    return make_error(ErrorCode::kInvalidArgument,
                      "storage: unsupported database URL (expected sqlite:<path>, sqlite::memory: "
                      "or postgresql://…)");
  }
  ANONCODE_CHECK(db->migrate());
  return std::unique_ptr<Db>(std::move(db));
}

namespace detail {

// The Tx handed to callers: forwards to the session and remembers the first failure. After a
// failed statement the transaction cannot commit (PostgreSQL aborts it; SQLite is made to behave
// the same so code tested on one backend behaves alike on the other), so every later call
// returns that first error again and the runner rolls back even if fn ignored it.
class TxImpl final : public Tx {
 public:
  explicit TxImpl(Session& session) : session_(session) {}

  Result<int64_t> exec(std::string_view sql, const std::vector<Value>& params) override {
    if (fault_ != Fault::kNone) return first_error_;
    return note(session_.exec(sql, params));
  }
  Result<Rows> query(std::string_view sql, const std::vector<Value>& params) override {
    if (fault_ != Fault::kNone) return first_error_;
    return note(session_.query(sql, params));
  }
  Status exec_script(std::string_view sql) {
    if (fault_ != Fault::kNone) return first_error_;
    return note(session_.exec_script(sql));
  }
  Status lock_migrations() {
    if (fault_ != Fault::kNone) return first_error_;
    return note(session_.lock_migrations());
  }
  Status lock(std::string_view key) override {
    if (fault_ != Fault::kNone) return first_error_;
    return note(session_.lock_key(key));
  }
  Status copy_rows(std::string_view table, std::string_view columns, size_t ncols,
                   const std::vector<Value>& flat) override {
    if (fault_ != Fault::kNone) return first_error_;
    if (!session_.can_copy()) return Tx::copy_rows(table, columns, ncols, flat);
    if (ncols == 0 || flat.size() % ncols != 0) {
      return make_error(ErrorCode::kInternal, "storage: copy_rows: a row of the wrong width");
    }
    if (flat.empty()) return {};
    return note(session_.copy_in(table, columns, ncols, flat));
  }

  Status nested(const std::function<Status(Tx&)>& fn) override {
    if (fault_ != Fault::kNone) return first_error_;
    ANONCODE_CHECK(note(session_.exec("SAVEPOINT anoncode_nested", {})));
    Status result = fn(*this);
    if (fault_ == Fault::kConflict) return result.ok() ? Status(first_error_) : result;
    if (result.ok() && fault_ == Fault::kNone) {
      ANONCODE_CHECK(note(session_.exec("RELEASE SAVEPOINT anoncode_nested", {})));
      return {};
    }
    // Undo fn's writes; the transaction is usable again (PostgreSQL leaves its aborted state).
    const Error failure = result.ok() ? first_error_ : result.error();
    fault_ = Fault::kNone;
    first_error_ = Error{};
    ANONCODE_CHECK(note(session_.exec("ROLLBACK TO SAVEPOINT anoncode_nested", {})));
    ANONCODE_CHECK(note(session_.exec("RELEASE SAVEPOINT anoncode_nested", {})));
    return failure;
  }

  size_t rows_per_statement(size_t params_per_row) const override {
    return session_.in_process() ? 1 : Tx::rows_per_statement(params_per_row);
  }

  Fault fault() const { return fault_; }
  const Error& first_error() const { return first_error_; }

 private:
  template <typename R>
  R note(R result) {
    if (!result.ok()) {
      fault_ = session_.fault() == Fault::kNone ? Fault::kStatement : session_.fault();
      first_error_ = result.error();
    }
    return result;
  }

  Session& session_;
  Fault fault_ = Fault::kNone;
  Error first_error_;
};

namespace {

// Full-jitter exponential backoff: a uniform wait in [0, min(64 ms, 2^retry ms)], so transactions
// that collided once spread out instead of colliding again in lockstep.
void backoff(int retry) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int64_t cap_us = int64_t{1000} << std::min(retry, 6);
  std::uniform_int_distribution<int64_t> wait_us(0, cap_us);
  std::this_thread::sleep_for(std::chrono::microseconds(wait_us(rng)));
}

// Transactions running on this thread, to catch a nested transact on the same Db: on SQLite it
// would deadlock on the connection mutex, on PostgreSQL it would silently run outside the outer
// transaction (and could wait forever for a row lock the outer one holds).
thread_local std::vector<const DriverDb*> t_running;

class RunningGuard {
 public:
  explicit RunningGuard(const DriverDb* db) : db_(db) {
    if (std::find(t_running.begin(), t_running.end(), db) != t_running.end()) {
      throw std::logic_error("storage: transact called inside a transaction on the same Db");
    }
    t_running.push_back(db);
  }
  ~RunningGuard() { t_running.erase(std::find(t_running.begin(), t_running.end(), db_)); }
  RunningGuard(const RunningGuard&) = delete;
  RunningGuard& operator=(const RunningGuard&) = delete;

 private:
  const DriverDb* db_;
};

int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::string_view kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

}  // namespace

Status DriverDb::run(TxKind kind, const std::function<Status(TxImpl&)>& fn) {
  RunningGuard running(this);
  Error last;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    if (attempt > 1) backoff(attempt - 1);
    ANONCODE_TRY(std::unique_ptr<Session> session, acquire());

    Status begun = session->begin(kind, attempt > kAttemptsBeforeAlone);
    if (!begun.ok()) {
      // Nothing ran yet, so another attempt is safe: the database was busy (SQLite), or a pooled
      // connection died while idle (the driver dropped it; the next attempt opens a fresh one).
      if (session->fault() == Fault::kConflict || session->fault() == Fault::kBroken) {
        last = begun.error();
        continue;
      }
      return begun;
    }

    TxImpl tx(*session);
    Status result = fn(tx);
    if (tx.fault() == Fault::kConflict) {
      // fn's result rests on a transaction the database threw away, whatever fn made of it.
      session->rollback();
      last = tx.first_error();
      continue;
    }
    if (!result.ok() || tx.fault() != Fault::kNone) {
      session->rollback();
      // fn's own error wins (it may have mapped unique_violation to something meaningful).
      if (!result.ok()) return result;
      return tx.first_error();
    }

    Status committed = session->commit();
    if (committed.ok()) {
      const uint64_t ticket = session->commit_ticket();
      session.reset();  // the connection serves the next transaction while this one waits
      return await_durable(ticket);
    }
    if (session->fault() == Fault::kConflict) {  // a serialization failure found at COMMIT
      last = committed.error();
      continue;
    }
    return committed;
  }
  return make_error(ErrorCode::kUnavailable,
                    "storage: the transaction conflicted with concurrent ones " +
                        std::to_string(kMaxAttempts) + " times; last: " + last.message);
}

Status DriverDb::transact(const std::function<Status(Tx&)>& fn) {
  return run(TxKind::kNormal, [&fn](TxImpl& tx) { return fn(tx); });
}

Status DriverDb::transact_locking(const std::function<Status(Tx&)>& fn) {
  return run(TxKind::kLocking, [&fn](TxImpl& tx) { return fn(tx); });
}

Result<std::vector<int64_t>> DriverDb::applied_migrations() {
  std::vector<int64_t> versions;
  ANONCODE_CHECK(run(TxKind::kNormal, [&versions](TxImpl& tx) -> Status {
    versions.clear();
    ANONCODE_TRY(Rows rows, tx.query("SELECT version FROM schema_migrations ORDER BY version", {}));
    for (const Row& row : rows) versions.push_back(row.i64(0));
    return {};
  }));
  return versions;
}

Status DriverDb::migrate() {
  std::vector<const Migration*> pending;
  for (const Migration& m : migrations()) pending.push_back(&m);
  std::sort(pending.begin(), pending.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });

  // One transaction per migration. The check for "already applied" runs after the lock, so of
  // several processes starting at once exactly one applies each migration and the others see
  // its row (PostgreSQL: advisory lock + READ COMMITTED; SQLite: BEGIN IMMEDIATE).
  for (const Migration* m : pending) {
    Status applied = run(TxKind::kMigration, [m](TxImpl& tx) -> Status {
      ANONCODE_CHECK(tx.lock_migrations());
      ANONCODE_CHECK(tx.exec_script(kCreateSchemaMigrations));
      ANONCODE_TRY(
          auto row,
          tx.query_one("SELECT version FROM schema_migrations WHERE version = $1", {m->version}));
      if (row) return {};
      ANONCODE_CHECK(tx.exec_script(m->sql));
      ANONCODE_TRY(int64_t inserted,
                   tx.exec("INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES ($1, $2, $3)",
                           {m->version, m->name, unix_millis()}));
      (void)inserted;
      return {};
    });
    if (!applied.ok()) {
      return make_error(applied.error().code, "storage: migration " + std::to_string(m->version) +
                                                  " (" + m->name +
                                                  ") failed: " + applied.error().message);
    }
  }
  return {};
}

}  // namespace detail
}  // namespace anoncode::storage
