// The audit log's hash chain on SQLite and PostgreSQL: an intact chain verifies; an edited, a
// deleted or a re-hashed entry is reported at its seq; an entry commits with the action it
// records or not at all; appends from two processes (two Db pools) at once form one chain.
#include "console/audit_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server/log.h"
#include "storage/test_databases.h"

namespace anoncode::console {
namespace {

using storage::Tx;

class AuditLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ANONCODE_REQUIRE_BACKEND(GetParam());
    url_ = storage::testing::fresh_database_url(GetParam());
    auto db = storage::Db::open(url_);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    log_ = std::make_unique<AuditLog>(*db_);
  }

  void append_n(int n) {
    for (int i = 1; i <= n; ++i) {
      auto seq = log_->append({"alice",
                               "whitelist.add",
                               "u" + std::to_string(i),
                               {{"user_ids", {"u" + std::to_string(i)}}}},
                              1'764'000'000'000 + i);
      ASSERT_TRUE(seq.ok()) << seq.error().message;
      EXPECT_EQ(*seq, i);
    }
  }

  void exec(const std::string& sql, const std::vector<storage::Value>& params = {}) {
    auto s = db_->transact([&](Tx& tx) -> Status {
      ANONCODE_CHECK(tx.exec(sql, params));
      return {};
    });
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  AuditVerification verify() {
    auto v = log_->verify();
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : AuditVerification{};
  }

  std::string url_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<AuditLog> log_;
};

TEST_P(AuditLogTest, EmptyLogVerifies) {
  auto v = verify();
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries, 0);
  EXPECT_FALSE(v.first_broken_seq.has_value());
  EXPECT_EQ(v.head_hash, Bytes(32, 0));
}

TEST_P(AuditLogTest, IntactChainVerifiesAndFollowsTheDocumentedFormula) {
  append_n(5);
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.entries, 5);
  EXPECT_FALSE(v.first_broken_seq.has_value());

  auto entries = log_->entries(10, std::nullopt);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ(entries->front().seq, 5);  // newest first
  EXPECT_EQ(v.head_hash, entries->front().hash);
  // Recomputed independently, field by field, as audit_log.h documents it.
  Bytes prev(32, 0);
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
    EXPECT_EQ(it->prev_hash, prev);
    crypto::Sm3 h;
    h.update(ByteView(prev));
    auto var = [&h](std::string_view s) {
      ByteWriter w;
      w.u32(static_cast<uint32_t>(s.size()));
      h.update(ByteView(w.bytes()));
      h.update(s);
    };
    auto u64 = [&h](int64_t x) {
      ByteWriter w;
      w.u64(static_cast<uint64_t>(x));
      h.update(ByteView(w.bytes()));
    };
    var("anoncode/v1/audit");
    u64(it->seq);
    u64(it->at);
    var(it->actor);
    var(it->action);
    var(it->target);
    var(it->details);
    auto d = h.final();
    EXPECT_EQ(it->hash, Bytes(d.begin(), d.end())) << "seq " << it->seq;
    prev = it->hash;
  }
  // Paging: before_seq.
  auto older = log_->entries(2, 4);
  ASSERT_TRUE(older.ok());
  ASSERT_EQ(older->size(), 2u);
  EXPECT_EQ((*older)[0].seq, 3);
  EXPECT_EQ((*older)[1].seq, 2);
}

TEST_P(AuditLogTest, EditedDetailsAreReportedAtTheirSeq) {
  append_n(5);
  exec("UPDATE audit_log SET details = $1 WHERE seq = 3",
       {std::string(R"({"user_ids":["mallory"]})")});
  auto v = verify();
  EXPECT_FALSE(v.ok);
  ASSERT_TRUE(v.first_broken_seq.has_value());
  EXPECT_EQ(*v.first_broken_seq, 3);
  EXPECT_NE(v.reason.find("does not match"), std::string::npos) << v.reason;
  EXPECT_EQ(v.entries, 5);
}

TEST_P(AuditLogTest, EditedActorOrTimeIsReported) {
  append_n(4);
  exec("UPDATE audit_log SET actor = 'bob' WHERE seq = 2");
  EXPECT_EQ(verify().first_broken_seq, std::optional<int64_t>(2));
  exec("UPDATE audit_log SET actor = 'alice' WHERE seq = 2");
  EXPECT_TRUE(verify().ok);
  exec("UPDATE audit_log SET at = at + 1 WHERE seq = 4");
  EXPECT_EQ(verify().first_broken_seq, std::optional<int64_t>(4));
}

TEST_P(AuditLogTest, ADeletedMiddleEntryIsReportedAtItsSeq) {
  append_n(5);
  exec("DELETE FROM audit_log WHERE seq = 3");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken_seq, std::optional<int64_t>(3));
  EXPECT_NE(v.reason.find("missing"), std::string::npos) << v.reason;
}

TEST_P(AuditLogTest, ADeletedFirstEntryIsReported) {
  append_n(3);
  exec("DELETE FROM audit_log WHERE seq = 1");
  EXPECT_EQ(verify().first_broken_seq, std::optional<int64_t>(1));
}

TEST_P(AuditLogTest, AChangedHashIsReportedAtItsSeq) {
  append_n(5);
  exec("UPDATE audit_log SET hash = $1 WHERE seq = 2", {Bytes(32, 0xab)});
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken_seq, std::optional<int64_t>(2));
}

TEST_P(AuditLogTest, ARewrittenEntryWithARecomputedHashBreaksTheNextLink) {
  append_n(5);
  // The forger recomputes entry 3's own hash; entry 4 still names the old one.
  auto entries = log_->entries(5, std::nullopt);
  ASSERT_TRUE(entries.ok());
  const AuditEntry& e3 = (*entries)[2];
  ASSERT_EQ(e3.seq, 3);
  const std::string forged = R"({"user_ids":["mallory"]})";
  auto h = audit_entry_hash(e3.prev_hash, 3, e3.at, e3.actor, e3.action, e3.target, forged);
  exec("UPDATE audit_log SET details = $1, hash = $2 WHERE seq = 3",
       {forged, Bytes(h.begin(), h.end())});
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_broken_seq, std::optional<int64_t>(4));
  EXPECT_NE(v.reason.find("prev_hash"), std::string::npos) << v.reason;
}

TEST_P(AuditLogTest, AnEntryCommitsWithItsActionOrNotAtAll) {
  auto failed = db_->transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(AuditLog::append(tx, {"alice", "whitelist.all", "", {{"on", true}}}, 1));
    return make_error(ErrorCode::kConflict, "the action failed");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(verify().entries, 0);

  auto ok = db_->transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(tx.exec("INSERT INTO settings (name, value) VALUES ('whitelist_all', '1')", {}));
    ANONCODE_CHECK(AuditLog::append(tx, {"alice", "whitelist.all", "", {{"on", true}}}, 2));
    return {};
  });
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  auto v = verify();
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries, 1);
}

TEST_P(AuditLogTest, DetailsMustBeAnObject) {
  auto r = log_->append({"alice", "x", "", nlohmann::json::array()}, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  auto empty = log_->append({"alice", "x", "", nlohmann::json()}, 1);
  ASSERT_TRUE(empty.ok());
  auto e = log_->entries(1, std::nullopt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->front().details, "{}");
}

TEST_P(AuditLogTest, OnlyUtf8TextEntersTheChain) {
  for (const AuditRecord& bad :
       {AuditRecord{"alice", "trace.view", std::string("u\xff"), {}},
        AuditRecord{std::string("\xc0\xaf"), "trace.view", "u1", {}},
        AuditRecord{"alice", "x", "", {{"note", std::string("\xed\xa0\x80")}}}}) {
    auto r = log_->append(bad, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(verify().entries, 0);
  ASSERT_TRUE(log_->append({"alice", "trace.view", "张三", {{"note", "备注"}}}, 1).ok());
  EXPECT_EQ(verify().entries, 1);
}

// Two processes (two Db pools on one database) and several threads in each append at once:
// every append lands, and the result is one gapless chain.
TEST_P(AuditLogTest, ConcurrentAppendsFromTwoProcessesFormOneChain) {
  auto other = storage::Db::open(url_);
  ASSERT_TRUE(other.ok()) << other.error().message;
  AuditLog second(**other);
  constexpr int kThreads = 3, kEach = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreads; ++t) {
    threads.emplace_back([&, t] {
      AuditLog& log = t % 2 == 0 ? *log_ : second;
      for (int i = 0; i < kEach; ++i) {
        auto r = log.append({"p" + std::to_string(t % 2),
                             "test.append",
                             std::to_string(t) + "/" + std::to_string(i),
                             {}},
                            1'764'000'000'000 + i);
        if (!r.ok()) {
          ++failures;
          ADD_FAILURE() << r.error().message;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.entries, 2 * kThreads * kEach);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest,
                         ::testing::ValuesIn(storage::testing::test_backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace anoncode::console
