// Tests only: the storage backends a test suite runs on, and a fresh empty database for each
// test. SQLite always; PostgreSQL when ANONCODE_TEST_PG_URL is set (scripts/test starts a
// throwaway server and sets it), each test in a new schema so tests never see each other's rows.
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace anoncode::storage::testing {

inline const char* pg_base_url() {
  const char* url = std::getenv("ANONCODE_TEST_PG_URL");
  return url != nullptr && *url != '\0' ? url : nullptr;
}

// "sqlite", and "postgresql" when a test server is configured; a missing server is reported by
// the PostgreSQL instances themselves (GTEST_SKIP), so the list is the same on every machine.
inline std::vector<std::string> test_backends() {
  return {"sqlite", "postgresql"};
}

inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

// A URL for a new, empty database of this backend.
inline std::string fresh_database_url(const std::string& backend) {
  if (backend == "sqlite") {
    auto dir = std::filesystem::temp_directory_path() / "anoncode-tests";
    std::filesystem::create_directories(dir);
    auto path = dir / (unique_name("db_") + ".sqlite");
    std::filesystem::remove(path);
    return "sqlite:" + path.string();
  }
  const char* base = pg_base_url();
  if (base == nullptr) throw std::runtime_error("ANONCODE_TEST_PG_URL is not set");
  std::string schema = unique_name("t_");
  PGconn* conn = PQconnectdb(base);
  if (PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    throw std::runtime_error("cannot reach the test PostgreSQL server");
  }
  PGresult* res = PQexec(conn, ("CREATE SCHEMA " + schema).c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  PQfinish(conn);
  if (!ok) throw std::runtime_error("cannot create test schema " + schema);
  std::string url = base;
  url += url.find('?') == std::string::npos ? "?" : "&";
  return url + "options=-csearch_path%3D" + schema;
}

}  // namespace anoncode::storage::testing

// Skips the current test when it is a PostgreSQL instance and no server is configured.
#define ANONCODE_REQUIRE_BACKEND(backend)                                                    \
  do {                                                                                       \
    if ((backend) == "postgresql" && ::anoncode::storage::testing::pg_base_url() == nullptr) \
      GTEST_SKIP() << "PostgreSQL: set ANONCODE_TEST_PG_URL (scripts/test does)";            \
  } while (0)
