// Private to the storage library: what each driver implements (a Session on one connection) and
// the part both share (DriverDb: the transaction runner with its retries, and the migrations).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/db.h"

namespace anoncode::storage::detail {

// What a failed call did to the transaction around it.
enum class Fault {
  kNone,
  kStatement,  // the statement failed; the transaction can no longer commit
  kConflict,   // the database aborted the transaction for a concurrent one: run it again
  kBroken,     // the connection is gone; the driver drops it
};

enum class TxKind {
  kNormal,     // SERIALIZABLE on PostgreSQL, BEGIN IMMEDIATE on SQLite
  kMigration,  // READ COMMITTED on PostgreSQL, so rows committed while waiting for the lock show
  kLocking,    // READ COMMITTED on PostgreSQL (Db::transact_locking), BEGIN IMMEDIATE on SQLite
};

// One connection held for one transaction attempt. Destroying a Session rolls back whatever it
// left open and hands the connection back to its driver.
class Session {
 public:
  virtual ~Session() = default;
  // `alone`: this transaction already lost kAttemptsBeforeAlone times to concurrent ones, so it
  // waits until it is the only one running (PostgreSQL; SQLite always runs one at a time).
  virtual Status begin(TxKind kind, bool alone) = 0;
  virtual Result<int64_t> exec(std::string_view sql, const std::vector<Value>& params) = 0;
  virtual Result<Rows> query(std::string_view sql, const std::vector<Value>& params) = 0;
  // Several statements without parameters (a migration file).
  virtual Status exec_script(std::string_view sql) = 0;
  // Serialises migration runs across processes until the transaction ends (PostgreSQL: an
  // advisory lock; SQLite: BEGIN IMMEDIATE already holds the database's write lock).
  virtual Status lock_migrations() = 0;
  // Tx::lock. SQLite needs nothing: BEGIN IMMEDIATE already holds the database's write lock.
  virtual Status lock_key(std::string_view /*key*/) { return {}; }
  // Tx::copy_rows by COPY (PostgreSQL); without it, Tx::copy_rows inserts with statements.
  virtual bool can_copy() const { return false; }
  // Tx::rows_per_statement: true where a statement costs no round trip (SQLite, in process).
  virtual bool in_process() const { return false; }
  virtual Status copy_in(std::string_view /*table*/, std::string_view /*columns*/, size_t /*ncols*/,
                         const std::vector<Value>& /*flat*/) {
    return make_error(ErrorCode::kInternal, "storage: COPY is not supported here");
  }
  virtual Status commit() = 0;
  virtual void rollback() = 0;
  // After a commit: what the caller waits for, once the connection is released, before the
  // transaction counts as done (DriverDb::await_durable); 0 for nothing.
  virtual uint64_t commit_ticket() const { return 0; }

  // Why the last failed call failed; only meaningful right after a failure.
  Fault fault() const { return fault_; }

 protected:
  Error fail(Fault fault, Error error) {
    fault_ = fault;
    return error;
  }

 private:
  Fault fault_ = Fault::kNone;
};

class TxImpl;

// The part of Db both drivers share.
class DriverDb : public Db {
 public:
  Status transact(const std::function<Status(Tx&)>& fn) final;
  Status transact_locking(const std::function<Status(Tx&)>& fn) final;
  Result<std::vector<int64_t>> applied_migrations() final;
  // Applies every pending migration, each with its schema_migrations row in one transaction.
  Status migrate();

 protected:
  // A session on a free connection; waits while all are busy.
  virtual Result<std::unique_ptr<Session>> acquire() = 0;
  // Returns once what a transaction with this commit ticket wrote or read is durable (SQLite's
  // group commit; PostgreSQL's commit is durable when it returns).
  virtual Status await_durable(uint64_t /*ticket*/) { return {}; }

 private:
  Status run(TxKind kind, const std::function<Status(TxImpl&)>& fn);
};

// Factories: `path` is what follows "sqlite:"; `url` is the whole libpq URL.
Result<std::unique_ptr<DriverDb>> open_sqlite(std::string_view path);
Result<std::unique_ptr<DriverDb>> open_postgres(std::string_view url);

// Attempts per transaction before a conflict is reported as kUnavailable.
inline constexpr int kMaxAttempts = 10;
// Attempts that compete with concurrent transactions; later ones run alone. Without this a
// transaction on a hot row (a counter, the audit log's chain head) can lose every round to
// fresh transactions that never had to wait.
inline constexpr int kAttemptsBeforeAlone = 5;

}  // namespace anoncode::storage::detail
