// The SQL layer against both backends (DESIGN §4: the same test suite on SQLite and PostgreSQL).
//
// SQLite runs on a temporary file. PostgreSQL runs when ANONCODE_TEST_PG_URL names a server
// (scripts/test starts a throwaway one); each test gets its own schema, so tests running in
// parallel never see each other's rows.
#include "storage/db.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/counters.h"

namespace anoncode::storage {
namespace {

#define ASSERT_OK(expr)                                                                      \
  do {                                                                                       \
    const auto& assert_ok_result = (expr);                                                   \
    ASSERT_TRUE(assert_ok_result.ok())                                                       \
        << assert_ok_result.error().code_name() << ": " << assert_ok_result.error().message; \
  } while (0)
#define EXPECT_OK(expr)                                                                      \
  do {                                                                                       \
    const auto& expect_ok_result = (expr);                                                   \
    EXPECT_TRUE(expect_ok_result.ok())                                                       \
        << expect_ok_result.error().code_name() << ": " << expect_ok_result.error().message; \
  } while (0)

constexpr const char* kPgUrlEnv = "ANONCODE_TEST_PG_URL";

std::string random_suffix() {
  std::random_device rd;
  const uint64_t v = (uint64_t{rd()} << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Runs one statement on a separate connection to the test server; returns "" or the error.
std::string pg_admin(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
  } else {
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);  // "drop cascades to …"
    PGresult* r = PQexec(c, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  return error;
}

// One statement in its own transaction.
Status exec1(Db& db, std::string_view sql, const std::vector<Value>& params = {}) {
  return db.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(int64_t changed, tx.exec(sql, params));
    (void)changed;
    return {};
  });
}

Result<Rows> query1(Db& db, std::string_view sql, const std::vector<Value>& params = {}) {
  Rows rows;
  ANONCODE_CHECK(db.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(rows, tx.query(sql, params));
    return {};
  }));
  return rows;
}

// The rows of the table `vals` (id, i, t, b), in id order, are exactly `expected`.
void expect_vals(Db& db, const Rows& expected) {
  auto rows = query1(db, "SELECT id, i, t, b FROM vals ORDER BY id");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ((*rows)[k].cols, expected[k].cols) << "row " << k;
  }
}

int64_t count_rows(Db& db, const std::string& table) {
  auto rows = query1(db, "SELECT COUNT(*) FROM " + table);
  if (!rows.ok()) throw std::runtime_error(rows.error().message);
  return rows->at(0).i64(0);
}

constexpr std::string_view kCreateVals =
    "CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, t TEXT, b BYTEA)";

// Sets up a database on one backend: a temporary SQLite file, or a fresh PostgreSQL schema.
class Backend : public ::testing::Test {
 protected:
  void use(const std::string& backend) {
    backend_ = backend;
    if (backend == "postgresql") {
      const char* base = std::getenv(kPgUrlEnv);
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << kPgUrlEnv
                     << " is not set, so the PostgreSQL tests are skipped (scripts/test starts a "
                        "throwaway server and sets it)";
      }
      pg_base_ = base;
      schema_ = "anoncode_test_" + random_suffix();
      const std::string error = pg_admin(pg_base_, "CREATE SCHEMA " + schema_);
      ASSERT_EQ(error, "") << "cannot create the test schema";
      url_ = pg_base_ + (pg_base_.find('?') == std::string::npos ? "?" : "&") +
             "options=-csearch_path%3D" + schema_ + "&application_name=" + schema_;
    } else {
      path_ = std::filesystem::temp_directory_path() /
              ("anoncode-storage-test-" + random_suffix() + ".db");
      url_ = "sqlite:" + path_.string();
    }
  }

  void TearDown() override {
    if (!schema_.empty()) pg_admin(pg_base_, "DROP SCHEMA " + schema_ + " CASCADE");
    if (!path_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(path_.string() + suffix);
      }
    }
  }

  std::unique_ptr<Db> open() {
    auto db = Db::open(url_);
    if (!db.ok()) {
      ADD_FAILURE() << "Db::open: " << db.error().code_name() << ": " << db.error().message;
      return nullptr;
    }
    return std::move(db).value();
  }

  bool is_pg() const { return backend_ == "postgresql"; }

  std::string backend_;
  std::string url_;
  std::string pg_base_;
  std::string schema_;
  std::filesystem::path path_;
};

class DbTest : public Backend, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override { use(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Backends, DbTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// --- migrations -------------------------------------------------------------------------------

TEST(Migrations, AreEmbeddedInVersionOrder) {
  const auto& all = migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].version, 1);
  EXPECT_EQ(all[0].name, "privacy_backend");
  // The whole file is embedded, from its first comment to its last table.
  EXPECT_TRUE(all[0].sql.starts_with("-- The privacy backend's tables"));
  EXPECT_NE(all[0].sql.find("CREATE TABLE certification_transactions ("), std::string::npos);
  EXPECT_NE(all[0].sql.find("consumed_at  BIGINT"), std::string::npos);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].version, all[i].version);
}

TEST_P(DbTest, AppliesMigrationsOnceAndRecordsThem) {
  std::vector<int64_t> all;
  for (const Migration& m : migrations()) all.push_back(m.version);

  Rows recorded;
  {
    auto db = open();
    ASSERT_TRUE(db);
    EXPECT_EQ(db->dialect(), GetParam());
    auto applied = db->applied_migrations();
    ASSERT_OK(applied);
    EXPECT_EQ(*applied, all);
    ASSERT_OK(exec1(*db,
                    "INSERT INTO userid_records (user_id, j, creation_date) VALUES ($1, $2, $3)",
                    {std::string("u1"), Bytes{1, 2, 3}, int64_t{1700000000000}}));
    auto rows =
        query1(*db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
    ASSERT_OK(rows);
    recorded = *rows;
    ASSERT_EQ(recorded.size(), all.size());
    EXPECT_EQ(recorded[0].text(1), migrations()[0].name);
    EXPECT_GT(recorded[0].i64(2), 1600000000000);
  }
  // Reopening applies nothing: the bookkeeping rows are untouched and the data is still there.
  auto db = open();
  ASSERT_TRUE(db);
  auto applied = db->applied_migrations();
  ASSERT_OK(applied);
  EXPECT_EQ(*applied, all);
  auto rows =
      query1(*db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), recorded.size());
  for (size_t i = 0; i < recorded.size(); ++i) EXPECT_EQ((*rows)[i].cols, recorded[i].cols);
  EXPECT_EQ(count_rows(*db, "userid_records"), 1);
}

TEST_P(DbTest, ConcurrentOpenersApplyEachMigrationOnce) {
  // Several server processes starting at once on one empty database.
  constexpr int kOpeners = 4;
  std::vector<std::unique_ptr<Db>> opened(kOpeners);
  std::vector<std::string> errors(kOpeners);
  std::latch start(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto db = Db::open(url_);
      if (db.ok()) {
        opened[i] = std::move(db).value();
      } else {
        errors[i] = db.error().message;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kOpeners; ++i) ASSERT_TRUE(opened[i]) << errors[i];

  EXPECT_EQ(count_rows(*opened[0], "schema_migrations"), static_cast<int64_t>(migrations().size()));
  for (const auto& db : opened) {
    auto applied = db->applied_migrations();
    ASSERT_OK(applied);
    EXPECT_EQ(applied->size(), migrations().size());
  }
}

// --- values -----------------------------------------------------------------------------------

Bytes all_byte_values() {
  Bytes b;
  for (int i = 0; i < 256; ++i) b.push_back(static_cast<uint8_t>(i));
  return b;
}

Bytes random_bytes(size_t n) {
  std::mt19937_64 rng(42);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

TEST_P(DbTest, RoundTripsEveryValueExactly) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));

  const std::vector<Value> ints = {std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max(),
                                   int64_t{0},
                                   int64_t{-1},
                                   int64_t{1},
                                   int64_t{4294967296},
                                   Value{}};
  const std::vector<Value> texts = {std::string(""),
                                    std::string("00"),
                                    std::string("0000000000000000"),
                                    std::string("1e3"),
                                    std::string(" 42 "),
                                    std::string("-0"),
                                    std::string("0x10"),
                                    std::string("乘车码 ✓ 🚇 Ωmega"),
                                    std::string("a'b\"c\\d$1;--"),
                                    std::string(10000, 'z'),
                                    Value{}};
  const std::vector<Value> blobs = {Bytes{},
                                    Bytes{0},
                                    Bytes{0, 0, 0, 0},
                                    all_byte_values(),
                                    to_bytes(std::string_view("123")),
                                    to_bytes(std::string_view("00")),
                                    to_bytes(std::string_view("1e3")),
                                    to_bytes(std::string_view("\\x00")),
                                    random_bytes(100000),
                                    Value{}};

  std::vector<Row> expected;
  ASSERT_OK(db->transact([&](Tx& tx) -> Status {
    int64_t id = 0;
    auto insert = [&](const Value& i, const Value& t, const Value& b) -> Status {
      ANONCODE_TRY(int64_t n, tx.exec("INSERT INTO vals (id, i, t, b) VALUES ($1, $2, $3, $4)",
                                      {id, i, t, b}));
      if (n != 1) return make_error(ErrorCode::kInternal, "insert changed no row");
      expected.push_back(Row{{id++, i, t, b}});
      return {};
    };
    for (const auto& v : ints) ANONCODE_CHECK(insert(v, Value{}, Value{}));
    for (const auto& v : texts) ANONCODE_CHECK(insert(Value{}, v, Value{}));
    for (const auto& v : blobs) ANONCODE_CHECK(insert(Value{}, Value{}, v));
    return {};
  }));

  expect_vals(*db, expected);

  // A parameter selected straight back keeps its type too.
  for (const auto& list : {ints, texts, blobs}) {
    for (const Value& v : list) {
      if (std::holds_alternative<std::monostate>(v)) continue;
      auto echoed = query1(*db, "SELECT $1", {v});
      ASSERT_OK(echoed);
      ASSERT_EQ(echoed->size(), 1u);
      EXPECT_EQ(echoed->at(0).cols.at(0), v);
    }
  }
}

TEST_P(DbTest, TextDefaultsOfTheSchemaReadBackExactly) {
  auto db = open();
  ASSERT_TRUE(db);
  const Bytes sn = to_bytes(std::string_view("0001"));  // bytes that look like a number
  ASSERT_OK(exec1(*db,
                  "INSERT INTO certification_transactions (sn, certification_type, usage_date, r, "
                  "c, kid, nonce, request_hash, issue_response) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                  {sn, std::string("02"), int64_t{1}, Bytes{}, Bytes{0}, Bytes{1}, Bytes{2},
                   Bytes{3}, Bytes{4}}));
  auto rows = query1(*db,
                     "SELECT sn, certification_type, is_used, state, sequence, r FROM "
                     "certification_transactions WHERE sn = $1",
                     {sn});
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  const Row& row = rows->at(0);
  EXPECT_EQ(row.blob(0), sn);
  EXPECT_EQ(row.text(1), "02");
  EXPECT_EQ(row.text(2), "1");
  EXPECT_EQ(row.text(3), "00");
  EXPECT_EQ(row.text(4), "0000000000000000");
  EXPECT_EQ(row.blob(5), Bytes{});
}

TEST_P(DbTest, TypedAccessorsThrowOnTheWrongType) {
  auto db = open();
  ASSERT_TRUE(db);
  auto rows = query1(*db, "SELECT CAST(NULL AS BIGINT), CAST(7 AS BIGINT), 'x'");
  ASSERT_OK(rows);
  const Row& row = rows->at(0);
  EXPECT_TRUE(row.is_null(0));
  EXPECT_FALSE(row.is_null(1));
  EXPECT_EQ(row.i64(1), 7);
  EXPECT_EQ(row.text(2), "x");
  EXPECT_THROW((void)row.i64(0), std::logic_error);
  EXPECT_THROW((void)row.text(1), std::logic_error);
  EXPECT_THROW((void)row.blob(2), std::logic_error);
  EXPECT_THROW((void)row.i64(3), std::out_of_range);
}

TEST_P(DbTest, PortableSqlWorksAlike) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  ASSERT_OK(db->transact([&](Tx& tx) -> Status {
    for (int64_t id = 1; id <= 3; ++id) {
      ANONCODE_TRY(int64_t n, tx.exec("INSERT INTO vals (id, i) VALUES ($1, $2)", {id, id * 10}));
      EXPECT_EQ(n, 1);
    }
    ANONCODE_TRY(int64_t updated, tx.exec("UPDATE vals SET i = i + $1", {int64_t{1}}));
    EXPECT_EQ(updated, 3);
    ANONCODE_TRY(int64_t created, tx.exec("CREATE TABLE other (k BIGINT)"));
    EXPECT_EQ(created, 0);
    ANONCODE_TRY(int64_t deleted, tx.exec("DELETE FROM vals WHERE id = $1", {int64_t{99}}));
    EXPECT_EQ(deleted, 0);

    // COUNT, SUM (numeric on PostgreSQL) and comparisons (boolean there) read as integers.
    ANONCODE_TRY(auto agg,
                 tx.query_one("SELECT COUNT(*), SUM(i), MAX(i) = $1 FROM vals", {int64_t{31}}));
    EXPECT_TRUE(agg.has_value());
    EXPECT_EQ(agg->cols, (std::vector<Value>{int64_t{3}, int64_t{63}, int64_t{1}}));

    // Upsert with RETURNING, and a placeholder used twice.
    ANONCODE_TRY(auto up, tx.query_one("INSERT INTO vals (id, t) VALUES ($1, $2) ON CONFLICT (id) "
                                       "DO UPDATE SET t = excluded.t || $2 RETURNING id, t",
                                       {int64_t{2}, std::string("ab")}));
    EXPECT_TRUE(up.has_value());
    EXPECT_EQ(up->cols, (std::vector<Value>{int64_t{2}, std::string("abab")}));

    ANONCODE_TRY(auto none, tx.query_one("SELECT id FROM vals WHERE id = $1", {int64_t{42}}));
    EXPECT_FALSE(none.has_value());
    return {};
  }));
}

// Set-based statements: a batch larger than one statement's parameters is split, and a CTE of
// VALUES updates rows by key on both databases.
TEST_P(DbTest, InsertRowsSplitsABatchAndAValuesCteUpdatesByKey) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  EXPECT_EQ(storage::placeholders(3, 3), "$3, $4, $5");
  EXPECT_EQ(storage::value_rows(1, 2, 2), "($1, $2), ($3, $4)");
  const int64_t rows = storage::kMaxStatementParams / 2 + 7;  // two statements of 2 columns
  std::vector<Value> flat;
  for (int64_t id = 1; id <= rows; ++id) {
    flat.emplace_back(id);
    flat.emplace_back(id * 10);
  }
  ASSERT_OK(db->transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(storage::insert_rows(tx, "INSERT INTO vals (id, i) VALUES ", 2, flat));
    ANONCODE_CHECK(storage::insert_rows(tx, "INSERT INTO vals (id, i) VALUES ", 2, {}));
    EXPECT_FALSE(
        storage::insert_rows(tx, "INSERT INTO vals (id, i) VALUES ", 2, {Value(int64_t{1})})
            .ok());  // half a row is a bug
    ANONCODE_TRY(auto agg, tx.query_one("SELECT COUNT(*), SUM(i) FROM vals"));
    EXPECT_EQ(agg->cols, (std::vector<Value>{rows, rows * (rows + 1) * 5}));
    ANONCODE_CHECK(tx.run("WITH v(k, n) AS (VALUES " + storage::value_rows(1, 2, 2) +
                              ") UPDATE vals SET i = i + v.n FROM v WHERE vals.id = v.k",
                          {int64_t{1}, int64_t{5}, int64_t{3}, int64_t{-30}}));
    ANONCODE_TRY(auto one, tx.query_one("SELECT i FROM vals WHERE id = 1"));
    ANONCODE_TRY(auto three, tx.query_one("SELECT i FROM vals WHERE id = 3"));
    EXPECT_EQ(one->i64(0), 15);
    EXPECT_EQ(three->i64(0), 0);
    return {};
  }));
}

// copy_rows (COPY in binary form on PostgreSQL, INSERT on SQLite) keeps every value exactly, and
// a duplicate key fails it as any insert fails.
TEST_P(DbTest, CopyRowsKeepsEveryValueAndMapsADuplicateKey) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  const std::vector<Value> ints = {std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max(), int64_t{-1}, Value{}};
  const std::vector<Value> texts = {std::string(""), std::string("乘车码 ✓ 🚇"),
                                    std::string("a'b\"c\\d\t\n$1;--"), std::string(70000, 'z'),
                                    Value{}};
  const std::vector<Value> blobs = {Bytes{}, Bytes{0}, all_byte_values(), random_bytes(100000),
                                    Value{}};
  std::vector<Value> flat;
  std::vector<Row> expected;
  int64_t id = 0;
  for (size_t k = 0; k < 5; ++k) {
    const Value& i = ints[k % ints.size()];
    const Value& t = texts[k % texts.size()];
    const Value& b = blobs[k % blobs.size()];
    flat.insert(flat.end(), {Value(id), i, t, b});
    expected.push_back(Row{{id++, i, t, b}});
  }
  ASSERT_OK(db->transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(tx.copy_rows("vals", "id, i, t, b", 4, flat));
    ANONCODE_CHECK(tx.copy_rows("vals", "id, i, t, b", 4, {}));
    return {};
  }));
  expect_vals(*db, expected);
  // A row whose key is taken: the whole copy fails, nothing of it stays, the Db stays usable.
  Status dup = db->transact([&](Tx& tx) -> Status {
    return tx.copy_rows("vals", "id, i", 2,
                        {Value(int64_t{100}), Value(int64_t{1}), Value(int64_t{0}), Value{}});
  });
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(is_unique_violation(dup.error())) << dup.error().message;
  auto count = query1(*db, "SELECT COUNT(*) FROM vals");
  ASSERT_OK(count);
  EXPECT_EQ(count->at(0).i64(0), 5);
}

// transact_locking (READ COMMITTED on PostgreSQL) with Tx::lock around a read-modify-write: the
// lock alone makes it exact, across two Db objects.
TEST_P(DbTest, TransactLockingWithALockLosesNoUpdate) {
  auto db1 = open();
  auto db2 = open();
  ASSERT_TRUE(db1 && db2);
  ASSERT_OK(exec1(*db1, "CREATE TABLE counter (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)"));
  ASSERT_OK(exec1(*db1, "INSERT INTO counter (id, v) VALUES (1, 0)"));
  constexpr int kThreads = 6, kIncrements = 30;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Db& db = t % 2 == 0 ? *db1 : *db2;
    threads.emplace_back([&] {
      for (int k = 0; k < kIncrements; ++k) {
        Status s = db.transact_locking([&](Tx& tx) -> Status {
          ANONCODE_CHECK(tx.lock("counter:1"));
          ANONCODE_TRY(auto row, tx.query_one("SELECT v FROM counter WHERE id = 1"));
          return tx.run("UPDATE counter SET v = $1 WHERE id = 1", {row->i64(0) + 1});
        });
        if (!s.ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  auto rows = query1(*db1, "SELECT v FROM counter WHERE id = 1");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->at(0).i64(0), kThreads * kIncrements);
}

// Placeholders in any order or used twice, and a "$1" in quoted text, which is text, read alike
// on both databases (SQLite's driver binds an in-order statement by position).
TEST_P(DbTest, PlaceholdersOutOfOrderRepeatedOrQuotedReadAlike) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(db->transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto swapped, tx.query_one("SELECT $2, $1, $2", {int64_t{1}, int64_t{2}}));
    EXPECT_EQ(swapped->cols, (std::vector<Value>{int64_t{2}, int64_t{1}, int64_t{2}}));
    ANONCODE_TRY(auto quoted,
                 tx.query_one("SELECT '$1 it''s', $1 -- $2 is a comment\n", {std::string("x")}));
    EXPECT_EQ(quoted->cols, (std::vector<Value>{std::string("$1 it's"), std::string("x")}));
    return {};
  }));
}

TEST_P(DbTest, QueryOneRefusesSeveralRows) {
  auto db = open();
  ASSERT_TRUE(db);
  Status s = db->transact([](Tx& tx) -> Status {
    ANONCODE_TRY(auto row, tx.query_one("SELECT version FROM schema_migrations UNION ALL "
                                        "SELECT version FROM schema_migrations"));
    (void)row;
    return {};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInternal);
}

// --- errors and transactions ------------------------------------------------------------------

TEST_P(DbTest, UniqueViolationIsMapped) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  ASSERT_OK(exec1(*db, "INSERT INTO vals (id, t) VALUES ($1, $2)", {int64_t{1}, std::string("a")}));

  // PRIMARY KEY.
  Status s = exec1(*db, "INSERT INTO vals (id, t) VALUES ($1, $2)", {int64_t{1}, std::string("b")});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(is_unique_violation(s.error())) << s.error().message;
  EXPECT_EQ(s.error().http_status(), 409);

  // UNIQUE (userid_records.j).
  const Bytes j = {9, 9, 9};
  ASSERT_OK(exec1(*db, "INSERT INTO userid_records (user_id, j, creation_date) VALUES ($1, $2, 1)",
                  {std::string("u1"), j}));
  s = exec1(*db, "INSERT INTO userid_records (user_id, j, creation_date) VALUES ($1, $2, 1)",
            {std::string("u2"), j});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(is_unique_violation(s.error())) << s.error().message;

  // fn's own mapping of the violation is what transact returns (the SN registry's sn_reused).
  s = db->transact([](Tx& tx) -> Status {
    auto n = tx.exec("INSERT INTO vals (id) VALUES ($1)", {int64_t{1}});
    if (!n.ok() && is_unique_violation(n.error())) {
      return make_error(ErrorCode::kSnReused, "sn_reused");
    }
    return {};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kSnReused);

  // A failed statement dooms the transaction on both backends, even if fn ignores it.
  s = db->transact([](Tx& tx) -> Status {
    (void)tx.exec("INSERT INTO vals (id, t) VALUES (5, 'kept?')");
    (void)tx.exec("INSERT INTO vals (id) VALUES ($1)", {int64_t{1}});
    (void)tx.exec("INSERT INTO vals (id, t) VALUES (6, 'kept?')");
    return {};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(is_unique_violation(s.error()));
  EXPECT_EQ(count_rows(*db, "vals"), 1);
  auto rows = query1(*db, "SELECT t FROM vals WHERE id = 1");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->at(0).text(0), "a");
}

TEST_P(DbTest, RollsBackWhenFnFails) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  int runs = 0;
  Status s = db->transact([&](Tx& tx) -> Status {
    ++runs;
    ANONCODE_TRY(int64_t n, tx.exec("INSERT INTO vals (id, i) VALUES (1, 100)"));
    (void)n;
    return make_error(ErrorCode::kInsufficientBalance, "balance too low");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInsufficientBalance);
  EXPECT_EQ(s.error().message, "balance too low");
  EXPECT_EQ(runs, 1);  // fn's own failure is not retried
  EXPECT_EQ(count_rows(*db, "vals"), 0);

  // An exception (a bug) rolls back as well and leaves the Db usable.
  EXPECT_THROW((void)db->transact([](Tx& tx) -> Status {
    (void)tx.exec("INSERT INTO vals (id, i) VALUES (2, 200)");
    throw std::runtime_error("bug");
  }),
               std::runtime_error);
  EXPECT_EQ(count_rows(*db, "vals"), 0);
}

// Tx::nested: a refusal inside a transaction undoes only its own writes (a wallet operation
// refused by its rules, recorded beside the show that was spent); a failed statement in it too —
// PostgreSQL's aborted transaction is usable again after the savepoint.
TEST_P(DbTest, NestedUndoesOnlyItsOwnWritesAndTheTransactionGoesOn) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  ASSERT_OK(db->transact([](Tx& tx) -> Status {
    ANONCODE_CHECK(tx.run("INSERT INTO vals (id, i) VALUES (1, 100)"));  // the show
    Status refused = tx.nested([](Tx& t) -> Status {
      ANONCODE_CHECK(t.run("UPDATE vals SET i = i - 500 WHERE id = 1"));
      ANONCODE_CHECK(t.run("INSERT INTO vals (id, i) VALUES (2, 2)"));
      return make_error(ErrorCode::kInsufficientBalance, "balance too low");
    });
    EXPECT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kInsufficientBalance);
    Status failed = tx.nested([](Tx& t) -> Status {
      ANONCODE_CHECK(t.run("INSERT INTO vals (id, i) VALUES (3, 3)"));
      return t.run("INSERT INTO vals (id, i) VALUES (1, 1)");  // duplicate key
    });
    EXPECT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, ErrorCode::kConflict);
    ANONCODE_CHECK(
        tx.nested([](Tx& t) { return t.run("INSERT INTO vals (id, i) VALUES (4, 4)"); }));
    return tx.run("INSERT INTO vals (id, i) VALUES (5, 5)");  // the refusal's record
  }));
  auto rows = query1(*db, "SELECT id, i FROM vals ORDER BY id");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->at(0).i64(0), 1);
  EXPECT_EQ(rows->at(0).i64(1), 100);  // the refused update was undone
  EXPECT_EQ(rows->at(1).i64(0), 4);
  EXPECT_EQ(rows->at(2).i64(0), 5);
}

TEST_P(DbTest, CommitsWhenFnSucceeds) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  ASSERT_OK(db->transact([](Tx& tx) -> Status {
    ANONCODE_TRY(int64_t a, tx.exec("INSERT INTO vals (id, i) VALUES (1, 100)"));
    ANONCODE_TRY(int64_t b, tx.exec("UPDATE vals SET i = i - 30 WHERE id = 1"));
    (void)a;
    (void)b;
    return {};
  }));
  // Visible to another connection (a second Db on the same database).
  auto other = open();
  ASSERT_TRUE(other);
  auto rows = query1(*other, "SELECT i FROM vals WHERE id = 1");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).i64(0), 70);
}

TEST_P(DbTest, BadSqlIsInternalAndLeavesTheDbUsable) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  for (std::string_view sql : {"SELEKT 1", "SELECT * FROM no_such_table", "SELECT nope FROM vals",
                               "SELECT ?", "SELECT :name", "SELECT 1; SELECT 2", ""}) {
    Status s = exec1(*db, sql, {int64_t{1}});
    ASSERT_FALSE(s.ok()) << sql;
    EXPECT_EQ(s.error().code, ErrorCode::kInternal) << sql << ": " << s.error().message;
  }
  // A placeholder beyond the parameters given.
  Status s = exec1(*db, "SELECT $1, $2", {int64_t{1}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInternal);
  EXPECT_OK(exec1(*db, "INSERT INTO vals (id) VALUES (1)"));
}

TEST_P(DbTest, ErrorsNeverQuoteParameterValues) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db,
                  "CREATE TABLE people (id BIGINT PRIMARY KEY, "
                  "phone TEXT NOT NULL CHECK (length(phone) < 12))"));
  const std::string secret = "13800138000-secret";
  Status s = exec1(*db, "INSERT INTO people (id, phone) VALUES ($1, $2)", {int64_t{1}, secret});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInternal);
  EXPECT_EQ(s.error().message.find("secret"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find("13800138000"), std::string::npos) << s.error().message;

  // PostgreSQL quotes the input of a failed conversion in its own message.
  s = exec1(*db, "INSERT INTO people (id, phone) VALUES (CAST($1 AS BIGINT), 'x')", {secret});
  if (is_pg()) {
    ASSERT_FALSE(s.ok());
  }
  if (!s.ok()) {
    EXPECT_EQ(s.error().message.find("secret"), std::string::npos) << s.error().message;
  }
}

TEST_P(DbTest, NestedTransactIsABug) {
  auto db = open();
  ASSERT_TRUE(db);
  EXPECT_THROW((void)db->transact(
                   [&](Tx&) -> Status { return db->transact([](Tx&) -> Status { return {}; }); }),
               std::logic_error);
  EXPECT_OK(db->transact([](Tx&) -> Status { return {}; }));
}

// --- concurrency ------------------------------------------------------------------------------

TEST_P(DbTest, ReadModifyWriteUnderConcurrencyLosesNoUpdate) {
  // Two Db objects (two server processes) on one database, 8 threads, plain SELECT then UPDATE:
  // only isolation plus retries make the count exact.
  auto db1 = open();
  auto db2 = open();
  ASSERT_TRUE(db1 && db2);
  ASSERT_OK(exec1(*db1, "CREATE TABLE counter (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)"));
  ASSERT_OK(exec1(*db1, "INSERT INTO counter (id, v) VALUES (1, 0)"));

  constexpr int kThreads = 8, kIncrements = 50;
  std::atomic<int> succeeded{0}, runs{0};
  std::atomic<int> failed{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Db& db = t % 2 == 0 ? *db1 : *db2;
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int k = 0; k < kIncrements; ++k) {
        Status s = db.transact([&](Tx& tx) -> Status {
          ++runs;
          ANONCODE_TRY(auto row, tx.query_one("SELECT v FROM counter WHERE id = 1"));
          if (!row) return make_error(ErrorCode::kNotFound, "no counter");
          ANONCODE_TRY(int64_t n,
                       tx.exec("UPDATE counter SET v = $1 WHERE id = 1", {row->i64(0) + 1}));
          (void)n;
          return {};
        });
        if (s.ok()) {
          ++succeeded;
        } else if (failed++ == 0) {
          ADD_FAILURE() << s.error().code_name() << ": " << s.error().message;
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(succeeded.load(), kThreads * kIncrements);
  auto rows = query1(*db1, "SELECT v FROM counter WHERE id = 1");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->at(0).i64(0), kThreads * kIncrements);
  RecordProperty("fn_runs", runs.load());
  std::printf("%s: %d transactions took %d runs of fn\n", GetParam().c_str(),
              kThreads * kIncrements, runs.load());
}

TEST_P(DbTest, RacingInsertsOfOneKeyLetExactlyOneWin) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));

  constexpr int kThreads = 16;
  std::atomic<int> won{0}, refused{0}, other{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      Status s = exec1(*db, "INSERT INTO vals (id, t) VALUES (7, $1)", {std::to_string(t)});
      if (s.ok()) {
        ++won;
      } else if (is_unique_violation(s.error())) {
        ++refused;
      } else {
        ++other;
        ADD_FAILURE() << s.error().code_name() << ": " << s.error().message;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(count_rows(*db, "vals"), 1);
}

// --- PostgreSQL only --------------------------------------------------------------------------

class PostgresTest : public Backend {
 protected:
  void SetUp() override { use("postgresql"); }
};

TEST_F(PostgresTest, GivesUpAfterTenSerializationFailures) {
  auto db = open();
  ASSERT_TRUE(db);
  int runs = 0;
  Status s = db->transact([&](Tx& tx) -> Status {
    ++runs;
    ANONCODE_TRY(int64_t n,
                 tx.exec("DO $$BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure'; "
                         "END$$"));
    (void)n;
    return {};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("40001"), std::string::npos) << s.error().message;
  EXPECT_EQ(runs, 10);
}

TEST_F(PostgresTest, RetriesADeadlockEvenIfFnSwallowedIt) {
  auto db = open();
  ASSERT_TRUE(db);
  int runs = 0;
  Status s = db->transact([&](Tx& tx) -> Status {
    if (++runs == 1) {
      (void)tx.exec("DO $$BEGIN RAISE EXCEPTION USING ERRCODE = 'deadlock_detected'; END$$");
    }
    return {};
  });
  EXPECT_OK(s);
  EXPECT_EQ(runs, 2);
}

TEST_F(PostgresTest, ALostConnectionIsUnavailableAndReplaced) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));

  // The connection dies inside a transaction: unavailable, nothing committed.
  Status s = db->transact([](Tx& tx) -> Status {
    ANONCODE_TRY(int64_t a, tx.exec("INSERT INTO vals (id) VALUES (1)"));
    ANONCODE_TRY(auto r, tx.query("SELECT pg_terminate_backend(pg_backend_pid())"));
    (void)a;
    (void)r;
    return {};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable) << s.error().message;
  EXPECT_EQ(count_rows(*db, "vals"), 0);

  // Idle pooled connections killed behind the pool's back (a server restart): the next
  // transaction notices at BEGIN and runs on a fresh connection.
  const std::string kill_ours =
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
      "application_name = '" +
      schema_ + "'";
  ASSERT_EQ(pg_admin(pg_base_, kill_ours), "");
  const std::string still_there =
      "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = '" + schema_ +
      "') THEN RAISE EXCEPTION 'still there'; END IF; END$$";
  bool gone = false;
  for (int i = 0; i < 250 && !gone; ++i) {
    gone = pg_admin(pg_base_, still_there).empty();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(gone);
  EXPECT_OK(exec1(*db, "INSERT INTO vals (id) VALUES (2)"));
  EXPECT_EQ(count_rows(*db, "vals"), 1);
}

TEST(PostgresUrl, UnreachableServerIsUnavailableAndHidesThePassword) {
  auto db = Db::open("postgresql://anoncode:hunter2@127.0.0.1:1/anoncode?connect_timeout=2");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(db.error().message.find("hunter2"), std::string::npos) << db.error().message;
}

// --- SQLite only / URLs -----------------------------------------------------------------------

class SqliteTest : public Backend {
 protected:
  void SetUp() override { use("sqlite"); }
};

TEST_F(SqliteTest, KeepsBytesAsBlobsAndTextAsText) {
  // BYTEA has NUMERIC affinity in SQLite, which would turn the text "123" into an integer; the
  // driver binds bytes as blobs, which no affinity converts.
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  ASSERT_OK(exec1(*db, "INSERT INTO vals (id, t, b) VALUES (1, $1, $2)",
                  {std::string("0000000000000000"), to_bytes(std::string_view("123"))}));
  auto rows = query1(*db, "SELECT typeof(t), typeof(b) FROM vals");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->at(0).cols, (std::vector<Value>{std::string("text"), std::string("blob")}));
}

TEST_F(SqliteTest, UsesWalWithItsOwnGroupCommit) {
  auto db = open();
  ASSERT_TRUE(db);
  auto rows = query1(*db, "PRAGMA journal_mode");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->at(0).text(0), "wal");
  rows = query1(*db, "PRAGMA synchronous");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->at(0).i64(0), 1);  // NORMAL: the driver syncs the WAL itself, once per group
  rows = query1(*db, "PRAGMA foreign_keys");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->at(0).i64(0), 1);
}

uint64_t wal_syncs() {
  return counters::value(counters::Event::kDbWalSync);
}
uint64_t write_commits() {
  return counters::value(counters::Event::kDbCommit);
}

TEST_F(SqliteTest, AWriteIsAcknowledgedOnlyAfterAWalSyncAndAReadCostsNone) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  uint64_t syncs = wal_syncs(), commits = write_commits();
  ASSERT_OK(exec1(*db, "INSERT INTO vals (id, i) VALUES (1, 1)"));
  EXPECT_EQ(write_commits(), commits + 1);
  EXPECT_EQ(wal_syncs(), syncs + 1);  // before transact returned

  syncs = wal_syncs();
  ASSERT_OK(query1(*db, "SELECT i FROM vals"));  // nothing written since the last sync
  EXPECT_EQ(wal_syncs(), syncs);
}

TEST_F(SqliteTest, AWriteWhoseWalCannotBeSyncedIsNotAcknowledged) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  // The connection keeps writing to its open WAL, but the driver's sync finds no file: the
  // commit cannot be made durable, so the caller hears `unavailable`, never success (a retry is
  // answered by the request ledger, as after a lost reply).
  ASSERT_TRUE(std::filesystem::remove(path_.string() + "-wal"));
  Status st = exec1(*db, "INSERT INTO vals (id, i) VALUES (2, 2)");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(st.error().message.find("cannot sync the write-ahead log"), std::string::npos)
      << st.error().message;
  // A read that may have seen that commit cannot vouch for it either.
  auto rows = query1(*db, "SELECT i FROM vals");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().code, ErrorCode::kUnavailable);
}

TEST_F(SqliteTest, ConcurrentWritersShareWalSyncsAndLoseNothing) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  constexpr int kThreads = 8, kEach = 40;
  const uint64_t syncs = wal_syncs(), commits = write_commits();
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!exec1(*db, "INSERT INTO vals (id, i) VALUES ($1, $2)",
                   {int64_t{t} * 1000 + i, int64_t{i}})
                 .ok()) {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(count_rows(*db, "vals"), kThreads * kEach);
  EXPECT_EQ(write_commits() - commits, uint64_t{kThreads * kEach});
  // Never more syncs than commits, at least one; how many commits share one depends on the disk.
  EXPECT_GE(wal_syncs() - syncs, 1u);
  EXPECT_LE(wal_syncs() - syncs, uint64_t{kThreads * kEach});
}

TEST_F(SqliteTest, WaitsForAnotherProcessHoldingTheWriteLock) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_OK(exec1(*db, kCreateVals));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread releaser([other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "INSERT INTO vals (id) VALUES (1); COMMIT", nullptr, nullptr, nullptr);
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_OK(exec1(*db, "INSERT INTO vals (id) VALUES (2)"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  releaser.join();
  sqlite3_close(other);
  EXPECT_EQ(count_rows(*db, "vals"), 2);
}

TEST(SqliteUrl, InMemoryDatabaseWorksFromManyThreads) {
  auto opened = Db::open("sqlite::memory:");
  ASSERT_OK(opened);
  Db& db = **opened;
  ASSERT_OK(exec1(db, "CREATE TABLE counter (v BIGINT NOT NULL)"));
  ASSERT_OK(exec1(db, "INSERT INTO counter (v) VALUES (0)"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 25; ++k) {
        EXPECT_OK(db.transact([](Tx& tx) -> Status {
          ANONCODE_TRY(auto row, tx.query_one("SELECT v FROM counter"));
          ANONCODE_TRY(int64_t n, tx.exec("UPDATE counter SET v = $1", {row->i64(0) + 1}));
          (void)n;
          return {};
        }));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(count_rows(db, "counter"), 1);
  auto rows = query1(db, "SELECT v FROM counter");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->at(0).i64(0), 100);
}

TEST(DbUrl, UnsupportedSchemesAndEmptyPathsAreRefused) {
  auto db = Db::open("mysql://root:hunter2@localhost/db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(db.error().message.find("hunter2"), std::string::npos);
  db = Db::open("sqlite:");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kInvalidArgument);
  db = Db::open("sqlite:/nonexistent-dir-anoncode/x.db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace anoncode::storage
