// The PostgreSQL driver (production, DESIGN §4), over libpq.
//
// A pool of up to kMaxConnections connections, one per running transaction, opened on demand
// and kept while healthy; a connection that fails or is left in an unknown state is closed, not
// returned. Transactions are SERIALIZABLE, so plain read-modify-write code is safe; the runner
// (db.cpp) retries serialization failures and deadlocks.
//
// Parameters go in binary form with their types (int8, text, bytea); results come back in text
// form and are decoded by column type, which keeps integer results of any width (including
// SUM(), which PostgreSQL returns as numeric) readable as int64.
#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/driver.h"

namespace anoncode::storage::detail {
namespace {

constexpr int kMaxConnections = 16;
constexpr auto kPoolWait = std::chrono::seconds(30);
// pg_advisory_xact_lock key held while migrations run: "anoncode" in ASCII.
constexpr int64_t kMigrationLockKey = 0x616e6f6e636f6465;
// The gate every transaction passes: each holds this advisory lock shared until it ends; one
// that kept losing to concurrent transactions takes it exclusively before it begins, so it runs
// once all running transactions have ended and before any new one starts ("anoncodg").
constexpr int64_t kGateKey = 0x616e6f6e636f6467;
// How long a transaction waits to run alone before it competes again: bounds the stall of new
// transactions (queued behind the exclusive request) if a running one takes long.
constexpr const char* kGateTimeout = "2s";
// The first half of Tx::lock's advisory keys ("anoc").
constexpr int32_t kLockClass = 0x616e6f63;

// Type OIDs (src/include/catalog/pg_type.dat).
constexpr Oid kBoolOid = 16, kByteaOid = 17, kCharOid = 18, kNameOid = 19, kInt8Oid = 20,
              kInt2Oid = 21, kInt4Oid = 23, kTextOid = 25, kOidOid = 26, kBpcharOid = 1042,
              kVarcharOid = 1043, kNumericOid = 1700, kUnknownOid = 705;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

void ignore_notice(void*, const char*) {}  // "relation exists, skipping" and the like

std::string first_line(const char* s) {
  std::string out = s == nullptr ? "" : s;
  if (auto nl = out.find('\n'); nl != std::string::npos) out.resize(nl);
  return out;
}

// Short names for the SQLSTATEs a bug most often produces (the message itself is not shown:
// outside class 42 it may quote a value, e.g. "invalid input syntax for type bigint: "…"").
const char* sqlstate_name(std::string_view s) {
  static constexpr std::pair<std::string_view, const char*> kNames[] = {
      {"23502", "not_null_violation"},
      {"23503", "foreign_key_violation"},
      {"23514", "check_violation"},
      {"22P02", "invalid_text_representation"},
      {"22003", "numeric_value_out_of_range"},
      {"22001", "string_data_right_truncation"},
      {"22021", "character_not_in_repertoire"},
      {"22012", "division_by_zero"},
      {"25P02", "in_failed_sql_transaction"},
      {"53300", "too_many_connections"},
      {"57014", "query_canceled"},
  };
  for (const auto& [code, name] : kNames) {
    if (code == s) return name;
  }
  return "error";
}

Error connection_lost(std::string_view what) {
  return make_error(ErrorCode::kUnavailable,
                    "postgresql: connection lost during " + std::string(what));
}

bool parse_int(const char* p, int len, int64_t* out) {
  auto [end, ec] = std::from_chars(p, p + len, *out);
  return ec == std::errc() && end == p + len;
}

Result<Bytes> decode_bytea_hex(const char* p, int len) {
  // bytea_output = hex, set on every connection: "\x" then two lowercase hex digits per byte.
  if (len < 2 || p[0] != '\\' || p[1] != 'x' || len % 2 != 0) {
    return make_error(ErrorCode::kInternal, "postgresql: bytea value not in hex format");
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out(static_cast<size_t>(len - 2) / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(p[2 + 2 * i]), lo = nibble(p[3 + 2 * i]);
    if (hi < 0 || lo < 0) {
      return make_error(ErrorCode::kInternal, "postgresql: bytea value not in hex format");
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

Result<Value> decode(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return Value{};
  const char* p = PQgetvalue(r, row, col);
  const int len = PQgetlength(r, row, col);
  const Oid type = PQftype(r, col);
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kNumericOid: {  // numeric only when integral and within int64 (SUM of a BIGINT column)
      int64_t v = 0;
      if (parse_int(p, len, &v)) return Value{v};
      break;
    }
    case kBoolOid:
      return Value{int64_t{p[0] == 't' ? 1 : 0}};
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
    case kCharOid:
    case kUnknownOid:
      return Value{std::string(p, static_cast<size_t>(len))};
    case kByteaOid: {
      ANONCODE_TRY(Bytes b, decode_bytea_hex(p, len));
      return Value{std::move(b)};
    }
    default:
      break;
  }
  const char* name = PQfname(r, col);
  return make_error(ErrorCode::kInternal,
                    "postgresql: column " + std::to_string(col) + " (" + (name ? name : "?") +
                        ") has type oid " + std::to_string(type) +
                        ", which the storage layer does not read (or a non-integral numeric); "
                        "cast it in the SQL");
}

// Parameters in libpq's form. Integers are sent as binary int8 (big-endian), text and bytes as
// their raw bytes; a value pointer of nullptr is NULL, so empty values point at kEmpty.
class Params {
 public:
  explicit Params(const std::vector<Value>& params)
      : types_(params.size()),
        values_(params.size()),
        lengths_(params.size()),
        formats_(params.size(), 1),
        ints_(params.size()) {
    static const char kEmpty[1] = {0};
    for (size_t k = 0; k < params.size(); ++k) {
      const Value& v = params[k];
      if (std::holds_alternative<std::monostate>(v)) {
        types_[k] = 0;  // the server infers it from the context
        values_[k] = nullptr;
      } else if (const auto* i = std::get_if<int64_t>(&v)) {
        const auto u = static_cast<uint64_t>(*i);
        for (int b = 0; b < 8; ++b) ints_[k][b] = static_cast<char>(u >> (56 - 8 * b));
        types_[k] = kInt8Oid;
        values_[k] = ints_[k].data();
        lengths_[k] = 8;
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        types_[k] = kTextOid;
        values_[k] = s->empty() ? kEmpty : s->data();
        lengths_[k] = static_cast<int>(s->size());
      } else {
        const Bytes& b = std::get<Bytes>(v);
        types_[k] = kByteaOid;
        values_[k] = b.empty() ? kEmpty : reinterpret_cast<const char*>(b.data());
        lengths_[k] = static_cast<int>(b.size());
      }
    }
  }
  int size() const { return static_cast<int>(types_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::array<char, 8>> ints_;
};

class PostgresDb;

class PgSession final : public Session {
 public:
  PgSession(PostgresDb& db, PGconn* conn) : db_(db), conn_(conn) {}
  ~PgSession() override;

  Status begin(TxKind kind, bool alone) override {
    if (kind == TxKind::kMigration) return command("BEGIN", "BEGIN");
    const std::string begin = kind == TxKind::kLocking ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                                       : "BEGIN ISOLATION LEVEL SERIALIZABLE";
    if (alone && take_gate()) return command(begin, "BEGIN");
    // The gate, shared: one round trip with BEGIN.
    return command(
        begin + "; SELECT pg_advisory_xact_lock_shared(" + std::to_string(kGateKey) + ")", "BEGIN");
  }

  // An advisory lock in the two-int4 key space (apart from the gate's and the migrations' int8
  // keys): kLockClass and the hash of the key. Two keys with one hash share a lock, which only
  // serialises them.
  Status lock_key(std::string_view key) override {
    auto r = run("SELECT pg_advisory_xact_lock(" + std::to_string(kLockClass) + ", hashtext($1))",
                 {std::string(key)});
    if (!r.ok()) return r.error();
    return {};
  }

  Result<int64_t> exec(std::string_view sql, const std::vector<Value>& params) override {
    ANONCODE_TRY(PgResult r, run(sql, params));
    const char* n = PQcmdTuples(r.get());
    int64_t changed = 0;  // PQcmdTuples is empty for commands that count no rows (DDL)
    if (n == nullptr || !parse_int(n, static_cast<int>(std::strlen(n)), &changed)) changed = 0;
    return changed;
  }

  Result<Rows> query(std::string_view sql, const std::vector<Value>& params) override {
    ANONCODE_TRY(PgResult r, run(sql, params));
    const int nrows = PQntuples(r.get()), ncols = PQnfields(r.get());
    Rows rows(static_cast<size_t>(nrows));
    for (int i = 0; i < nrows; ++i) {
      rows[i].cols.reserve(static_cast<size_t>(ncols));
      for (int j = 0; j < ncols; ++j) {
        auto v = decode(r.get(), i, j);
        if (!v.ok()) return fail(Fault::kStatement, v.error());
        rows[i].cols.push_back(std::move(v).value());
      }
    }
    return rows;
  }

  Status exec_script(std::string_view sql) override { return command(sql, "script"); }

  bool can_copy() const override { return true; }

  // COPY table (columns) FROM STDIN in binary form: a header, then per row the field count and
  // per field its length (-1: NULL) and bytes (int8 big-endian, text and bytea raw), then -1.
  Status copy_in(std::string_view table, std::string_view columns, size_t ncols,
                 const std::vector<Value>& flat) override {
    std::string data("PGCOPY\n\377\r\n\0", 11);
    auto put_be = [&data](uint64_t v, int bytes) {
      for (int b = bytes - 1; b >= 0; --b) data += static_cast<char>(v >> (8 * b));
    };
    put_be(0, 4);  // flags
    put_be(0, 4);  // header extension length
    size_t size = data.size() + 2;
    for (const Value& v : flat) {
      size += 4 + (std::holds_alternative<int64_t>(v)       ? 8
                   : std::holds_alternative<std::string>(v) ? std::get<std::string>(v).size()
                   : std::holds_alternative<Bytes>(v)       ? std::get<Bytes>(v).size()
                                                            : 0);
    }
    data.reserve(size + 2 * (flat.size() / ncols));
    for (size_t k = 0; k < flat.size(); ++k) {
      if (k % ncols == 0) put_be(ncols, 2);
      const Value& v = flat[k];
      if (std::holds_alternative<std::monostate>(v)) {
        put_be(0xffffffffu, 4);
      } else if (const auto* i = std::get_if<int64_t>(&v)) {
        put_be(8, 4);
        put_be(static_cast<uint64_t>(*i), 8);
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        put_be(t->size(), 4);
        data += *t;
      } else {
        const Bytes& b = std::get<Bytes>(v);
        put_be(b.size(), 4);
        data.append(reinterpret_cast<const char*>(b.data()), b.size());
      }
    }
    put_be(0xffff, 2);  // the trailer: -1

    const std::string sql =
        "COPY " + std::string(table) + " (" + std::string(columns) + ") FROM STDIN (FORMAT binary)";
    PgResult start(PQexec(conn_, sql.c_str()));
    if (start == nullptr || PQresultStatus(start.get()) != PGRES_COPY_IN) {
      return failure(start.get(), "COPY");
    }
    if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 ||
        PQputCopyEnd(conn_, nullptr) != 1) {
      broken_ = true;
      return fail(Fault::kBroken, connection_lost("COPY"));
    }
    // The COPY's result, then nothing more (PQgetResult until it returns null).
    PgResult done(PQgetResult(conn_));
    for (PgResult more(PQgetResult(conn_)); more != nullptr; more.reset(PQgetResult(conn_))) {
    }
    if (done != nullptr && PQresultStatus(done.get()) == PGRES_COMMAND_OK) return {};
    return failure(done.get(), "COPY");
  }

  Status lock_migrations() override {
    return command("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")",
                   "advisory lock");
  }

  Status commit() override {
    PgResult r(PQexec(conn_, "COMMIT"));
    if (r == nullptr || PQstatus(conn_) == CONNECTION_BAD) {
      broken_ = true;
      // The server may or may not have committed: the caller must not assume either.
      return fail(Fault::kBroken, make_error(ErrorCode::kUnavailable,
                                             "postgresql: connection lost during COMMIT; the "
                                             "outcome is unknown"));
    }
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return failure(r.get(), "COMMIT");
    if (std::strcmp(PQcmdStatus(r.get()), "COMMIT") != 0) {  // the server rolled back instead
      return fail(Fault::kStatement,
                  make_error(ErrorCode::kInternal, "postgresql: COMMIT ended in a rollback"));
    }
    return {};
  }

  void rollback() override {
    if (broken_ || PQstatus(conn_) != CONNECTION_OK) return;
    if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
    PgResult r(PQexec(conn_, "ROLLBACK"));
    if (r == nullptr || PQresultStatus(r.get()) != PGRES_COMMAND_OK) broken_ = true;
  }

 private:
  // Takes the gate exclusively (session-level, so the snapshot taken after it sees every
  // transaction that ran before). Returns false if it timed out or failed: then the
  // transaction competes as usual.
  bool take_gate() {
    if (!command(std::string("SET lock_timeout = '") + kGateTimeout + "'", "SET").ok()) {
      return false;
    }
    const bool locked =
        command("SELECT pg_advisory_lock(" + std::to_string(kGateKey) + ")", "gate").ok();
    if (!command("RESET lock_timeout", "RESET").ok()) broken_ = true;
    gate_held_ = locked;
    return locked && !broken_;
  }

  Result<PgResult> run(std::string_view sql, const std::vector<Value>& params) {
    const Params p(params);
    const std::string text(sql);  // libpq wants a NUL-terminated string
    PgResult r(PQexecParams(conn_, text.c_str(), p.size(), p.size() ? p.types() : nullptr,
                            p.size() ? p.values() : nullptr, p.size() ? p.lengths() : nullptr,
                            p.size() ? p.formats() : nullptr, /*resultFormat=*/0));
    if (r == nullptr) return failure(nullptr, "a statement");
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    if (status != PGRES_FATAL_ERROR && status != PGRES_NONFATAL_ERROR) {
      return fail(Fault::kStatement,
                  make_error(ErrorCode::kInternal, "postgresql: unsupported result status " +
                                                       std::string(PQresStatus(status))));
    }
    return failure(r.get(), "a statement");
  }

  // A command without parameters (BEGIN, a migration script: several statements are allowed).
  Status command(std::string_view sql, std::string_view what) {
    PgResult r(PQexec(conn_, std::string(sql).c_str()));
    if (r != nullptr && (PQresultStatus(r.get()) == PGRES_COMMAND_OK ||
                         PQresultStatus(r.get()) == PGRES_TUPLES_OK)) {
      return {};
    }
    return failure(r.get(), what);
  }

  // Maps a failed result to the driver's error. The message carries the SQLSTATE and a short
  // name, and the server's own message only for class 42 (about the SQL text, never a value).
  Error failure(const PGresult* r, std::string_view what) {
    if (r == nullptr || PQstatus(conn_) == CONNECTION_BAD) {
      broken_ = true;
      return fail(Fault::kBroken, connection_lost(what));
    }
    const char* field = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const std::string state = field == nullptr ? "" : field;
    if (state == "40001" || state == "40P01") {
      return fail(Fault::kConflict, make_error(ErrorCode::kUnavailable,
                                               "postgresql: SQLSTATE " + state +
                                                   (state == "40001" ? " serialization_failure"
                                                                     : " deadlock_detected")));
    }
    if (state == "23505") {
      return fail(Fault::kStatement, make_error(ErrorCode::kConflict, "unique_violation"));
    }
    // FATAL ends the session (administrator shutdown, a terminated backend): the server closes
    // the connection even if libpq has not noticed yet.
    const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != nullptr &&
        (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0)) {
      broken_ = true;
      return fail(Fault::kBroken, connection_lost(what));
    }
    std::string msg = "postgresql: " + std::string(what) + ": SQLSTATE " + state;
    if (state.starts_with("42")) {
      msg += ": " + first_line(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    } else {
      msg += " " + std::string(sqlstate_name(state));
      if (const char* c = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME)) {
        msg += " (constraint " + std::string(c) + ")";
      } else if (const char* col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME)) {
        msg += " (column " + std::string(col) + ")";
      }
    }
    const ErrorCode code = state.starts_with("53") || state == "57014" ? ErrorCode::kUnavailable
                                                                       : ErrorCode::kInternal;
    return fail(Fault::kStatement, make_error(code, std::move(msg)));
  }

  PostgresDb& db_;
  PGconn* conn_;
  bool broken_ = false;
  bool gate_held_ = false;
};

class PostgresDb final : public DriverDb {
 public:
  explicit PostgresDb(std::string url) : url_(std::move(url)) {}
  ~PostgresDb() override {
    // Every session has ended (destroying a Db during a transaction is a bug).
    for (PGconn* c : idle_) PQfinish(c);
  }
  PostgresDb(const PostgresDb&) = delete;
  PostgresDb& operator=(const PostgresDb&) = delete;

  std::string_view dialect() const override { return "postgresql"; }

  // Opens the first connection now, so a wrong URL or a server that is down fails Db::open.
  Status warm_up() {
    ANONCODE_TRY(PGconn * c, connect());
    std::lock_guard lock(mu_);
    ++open_;
    idle_.push_back(c);
    return {};
  }

  // Takes back a session's connection: kept if healthy, closed otherwise.
  void release(PGconn* c, bool healthy) {
    healthy = healthy && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
    {
      std::lock_guard lock(mu_);
      if (healthy) {
        idle_.push_back(c);
      } else {
        --open_;
      }
    }
    if (!healthy) PQfinish(c);
    cv_.notify_one();
  }

 protected:
  Result<std::unique_ptr<Session>> acquire() override {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kPoolWait,
                      [this] { return !idle_.empty() || open_ < kMaxConnections; })) {
      return make_error(
          ErrorCode::kUnavailable,
          "postgresql: all " + std::to_string(kMaxConnections) + " connections stayed busy");
    }
    if (!idle_.empty()) {
      PGconn* c = idle_.back();
      idle_.pop_back();
      return std::unique_ptr<Session>(std::make_unique<PgSession>(*this, c));
    }
    ++open_;  // reserve the slot, then connect without holding the lock
    lock.unlock();
    auto c = connect();
    if (!c.ok()) {
      lock.lock();
      --open_;
      lock.unlock();
      cv_.notify_one();
      return c.error();
    }
    return std::unique_ptr<Session>(std::make_unique<PgSession>(*this, *c));
  }

 private:
  Result<PGconn*> connect() {
    // Defaults first: keywords from the URL (expanded from dbname) override them.
    const char* keys[] = {"connect_timeout", "client_encoding", "dbname", nullptr};
    const char* values[] = {"10", "UTF8", url_.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (c == nullptr) {
      return make_error(ErrorCode::kUnavailable, "postgresql: cannot connect: out of memory");
    }
    if (PQstatus(c) != CONNECTION_OK) {
      // libpq's message names the host, port and user, never the password.
      Error e = make_error(ErrorCode::kUnavailable,
                           "postgresql: cannot connect: " + first_line(PQerrorMessage(c)));
      PQfinish(c);
      return e;
    }
    PQsetNoticeProcessor(c, ignore_notice, nullptr);
    PgResult r(PQexec(c, "SET bytea_output = hex"));
    if (r == nullptr || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      PQfinish(c);
      return make_error(ErrorCode::kUnavailable, "postgresql: cannot set up the connection");
    }
    return c;
  }

  const std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PGconn*> idle_;
  int open_ = 0;  // idle + in use + being opened
};

PgSession::~PgSession() {
  rollback();
  if (gate_held_ && !broken_) {
    // Closing the connection would release the gate too, so on failure just drop it.
    PgResult r(
        PQexec(conn_, ("SELECT pg_advisory_unlock(" + std::to_string(kGateKey) + ")").c_str()));
    if (r == nullptr || PQresultStatus(r.get()) != PGRES_TUPLES_OK) broken_ = true;
  }
  db_.release(conn_, !broken_);
}

}  // namespace

Result<std::unique_ptr<DriverDb>> open_postgres(std::string_view url) {
  auto db = std::make_unique<PostgresDb>(std::string(url));
  ANONCODE_CHECK(db->warm_up());
  return std::unique_ptr<DriverDb>(std::move(db));
}

}  // namespace anoncode::storage::detail
