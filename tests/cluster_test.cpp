// The platform as separate processes (the real `anoncode serve` binary), driven the way riders
// and POS terminals drive it — through the rider SDK and the POS terminal library over HTTP:
//  - two servers on one PostgreSQL: 16 parallel shows of one credential (each with its own
//    nonce) at the privacy service → exactly one succeeds, 15 are `sn_reused` and trace the
//    owner; 16 wallet copies requesting codes at the platform → at most one code, the rest refused
//    and traced; 16 parallel copies of one identical request → all get the same stored response,
//    and the money moves once;
//  - the money invariant: a randomized run of operations with replayed uploads and the server
//    SIGKILLed mid-upload and restarted → Σ recharges − Σ rides − Σ refunds = Σ balances, and
//    every accepted ride settled exactly once (SQLite and PostgreSQL).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "crypto/credential.h"
#include "datadir/config.h"
#include "perf/flows.h"
#include "protocol/show_context.h"
#include "sdk/results_json.h"
#include "server/clock.h"
#include "server_process.h"
#include "storage/db.h"
#include "storage/test_databases.h"

namespace anoncode {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using perf::Operator;
using perf::Rider;
using testing::ServerProcess;

using testing::fresh_dir;

// Forwards to HTTP, but "loses" the first POST to `path`: the SDK has journaled the request and
// the server never saw it — so the next attempt sends exactly those bytes.
class LosingTransport final : public sdk::Transport {
 public:
  LosingTransport(const net::Endpoint& server, std::string path)
      : inner_(std::move(sdk::make_http_transport(server)).value()), path_(std::move(path)) {}
  Result<sdk::Reply> post(const std::string& path, const json& body,
                          const std::optional<std::string>& bearer) override {
    if (path == path_ && !lost_) {
      lost_ = true;
      return make_error(ErrorCode::kUnavailable, "the request was lost");
    }
    return inner_->post(path, body, bearer);
  }
  Result<sdk::Reply> get(const std::string& path) override { return inner_->get(path); }

 private:
  std::unique_ptr<sdk::Transport> inner_;
  std::string path_;
  bool lost_ = false;
};

// Forwards to HTTP and keeps the last reply body to a POST to `path`.
class RecordingTransport final : public sdk::Transport {
 public:
  RecordingTransport(const net::Endpoint& server, std::string path)
      : inner_(std::move(sdk::make_http_transport(server)).value()), path_(std::move(path)) {}
  Result<sdk::Reply> post(const std::string& path, const json& body,
                          const std::optional<std::string>& bearer) override {
    auto r = inner_->post(path, body, bearer);
    if (path == path_ && r.ok()) reply_ = r->body;
    return r;
  }
  Result<sdk::Reply> get(const std::string& path) override { return inner_->get(path); }
  const json& reply() const { return reply_; }

 private:
  std::unique_ptr<sdk::Transport> inner_;
  std::string path_;
  json reply_;
};

std::vector<json> clone_violations(Operator& op, const std::string& user_id) {
  auto v = op.get("/admin/v1/violations");
  EXPECT_TRUE(v.ok());
  std::vector<json> out;
  if (!v) return out;
  for (const auto& x : (*v)["violations"]) {
    if (x.value("kind", "") == "clone" && x["user_id"] == user_id) out.push_back(x);
  }
  return out;
}

TEST(TwoServersOnePostgres, ParallelShowsOfOneCredentialAndParallelCopiesOfOneRequest) {
  if (storage::testing::pg_base_url() == nullptr) {
    GTEST_SKIP() << "needs ANONCODE_TEST_PG_URL (scripts/test sets it)";
  }
  auto dir = fresh_dir("cluster_");
  std::string db = storage::testing::fresh_database_url("postgresql");
  std::string token = testing::init_data_dir(dir / "data", db);
  ServerProcess a(dir / "data", dir / "a.log"), b(dir / "data", dir / "b.log");
  a.start();
  b.start();
  ASSERT_NE(a.url(), b.url());
  auto op = Operator::create(a.endpoint(), token);
  ASSERT_TRUE(op.ok());

  // At the privacy service itself (what every platform operation calls): Carol's credential
  // is shown 16 times at once, half through A and half through B, each show with its own nonce.
  {
    auto secrets = datadir::load_secrets(dir / "data");
    ASSERT_TRUE(secrets.ok());
    auto issuer = crypto::IssuerKey::decode_secret(secrets->issuer_key);
    ASSERT_TRUE(issuer.ok());
    const crypto::IssuerPublicKey pub = issuer->public_key();
    auto token_bytes = secrets->service_token.expose_secret();
    std::string service(token_bytes.begin(), token_bytes.end());
    ASSERT_TRUE(op->add_rider("carol").ok());
    auto started = crypto::CredentialClient::begin_open(pub, protocol::open_context_hash("carol"),
                                                        crypto::OsRng::instance());
    auto client_a = protocol::ApiClient::create(a.endpoint());
    ASSERT_TRUE(client_a.ok());
    auto opened = client_a->post(
        "/privacy/v1/open",
        {{"user_id", "carol"}, {"request", to_base64url(started.request.encode())}}, service);
    ASSERT_TRUE(opened.ok() && opened->ok()) << (opened ? opened->body.dump() : "");
    auto resp =
        crypto::IssueResponse::decode(*from_base64url(opened->body["response"].get<std::string>()));
    ASSERT_TRUE(resp.ok());
    auto cred = crypto::CredentialClient::finish_issue(started.pending, *resp, pub);
    ASSERT_TRUE(cred.ok());

    std::atomic<int> shown{0}, refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i) {
      threads.emplace_back([&, i] {
        auto client = protocol::ApiClient::create(i % 2 == 0 ? a.endpoint() : b.endpoint());
        auto nonce_reply = client->post("/privacy/v1/nonce", json::object());
        if (!nonce_reply || !nonce_reply->ok()) return ADD_FAILURE() << "no nonce";
        Bytes raw = *from_base64url(nonce_reply->body["nonce"].get<std::string>());
        crypto::Nonce nonce{};
        std::copy(raw.begin(), raw.end(), nonce.begin());
        protocol::ShowContext ctx{crypto::ShowOp::kQuery, "", "", 0, "", {}};
        auto show = crypto::CredentialClient::show(*cred, pub, ctx.op, nonce, ctx.hash(),
                                                   crypto::OsRng::instance());
        if (!show) return ADD_FAILURE() << "show failed";
        auto r = client->post("/privacy/v1/show",
                              {{"request", to_base64url(show->request.encode())},
                               {"context", {{"op", 3}, {"wallet", ""}, {"accountid", ""}}}},
                              service);
        if (!r) return ADD_FAILURE() << "unreachable";
        if (r->ok()) {
          ++shown;
        } else if (protocol::reply_error(*r).code == ErrorCode::kSnReused) {
          ++refused;
        } else {
          ADD_FAILURE() << r->body.dump();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(shown.load(), 1);
    EXPECT_EQ(refused.load(), 15);
    EXPECT_EQ(clone_violations(*op, "carol").size(), 15u);
  }

  // Alice opens and recharges through server A.
  auto alice = Rider::open(*op, "alice", dir / "alice.json", a.endpoint(),
                           (dir / "data" / "trust_root").string());
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  ASSERT_TRUE((*alice)->wallet().recharge(1000, "010001", false).ok());
  alice->reset();

  // 16 copies of her wallet each request a code at once, half through A and half through B:
  // each show fetches its own nonce, all show the same credential.
  constexpr int kCopies = 16;
  for (int i = 0; i < kCopies; ++i) {
    fs::copy_file(dir / "alice.json", dir / ("alice-" + std::to_string(i) + ".json"));
  }
  std::atomic<int> ok{0}, reused{0}, locked{0};
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kCopies; ++i) {
      threads.emplace_back([&, i] {
        auto r = Rider::load(dir / ("alice-" + std::to_string(i) + ".json"),
                             i % 2 == 0 ? a.endpoint() : b.endpoint());
        if (!r) {
          ADD_FAILURE() << r.error().message;
          return;
        }
        auto code = (*r)->wallet().code();
        if (code) {
          ++ok;
        } else if (code.error().code == ErrorCode::kSnReused) {
          ++reused;
        } else if (code.error().code == ErrorCode::kForbidden) {
          ++locked;
        } else {
          ADD_FAILURE() << "copy " << i << ": " << code.error().code_name() << " "
                        << code.error().message;
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  // Every show but the first of the serial is a clone, caught, traced to Alice and refused
  // (`sn_reused`). The copy whose show came first gets the code, unless a clone caught meanwhile
  // locked the wallet before its operation ran (the rules run after the show): then it is refused
  // `forbidden`, with its next credential. Never more than one code.
  EXPECT_EQ(reused.load(), kCopies - 1);
  EXPECT_EQ(ok + locked, 1);
  EXPECT_EQ(clone_violations(*op, "alice").size(), static_cast<size_t>(reused.load()))
      << "ok " << ok << ", reused " << reused << ", locked " << locked << "; violations "
      << op->get("/admin/v1/violations")->dump();

  // Bob's recharge of 500 is journaled but lost before it reached a server; 16 copies of his
  // wallet then send that identical request at once through A and B.
  auto bob = Rider::open(*op, "bob", dir / "bob.json", a.endpoint(),
                         (dir / "data" / "trust_root").string());
  ASSERT_TRUE(bob.ok());
  ASSERT_TRUE((*bob)->wallet().recharge(1000, "010001", false).ok());
  bob->reset();
  {
    LosingTransport losing(a.endpoint(), "/platform/v1/recharge");
    auto w = sdk::Wallet::load(dir / "bob.json", losing);
    ASSERT_TRUE(w.ok());
    auto lost = w->recharge(500, "010001", false);
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(w->has_pending());
  }
  for (int i = 0; i < kCopies; ++i) {
    fs::copy_file(dir / "bob.json", dir / ("bob-" + std::to_string(i) + ".json"));
  }
  std::atomic<int> recovered{0};
  std::vector<json> replies(kCopies);
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < kCopies; ++i) {
      threads.emplace_back([&, i] {
        RecordingTransport t(i % 2 == 0 ? a.endpoint() : b.endpoint(), "/platform/v1/recharge");
        auto w = sdk::Wallet::load(dir / ("bob-" + std::to_string(i) + ".json"), t);
        if (w && w->recover().ok() && !w->has_pending()) ++recovered;
        replies[static_cast<size_t>(i)] = t.reply();
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(recovered.load(), kCopies);
  // Every copy got the same stored response (the next credential's issuance included).
  ASSERT_TRUE(replies[0].contains("response")) << replies[0].dump();
  for (int i = 1; i < kCopies; ++i) EXPECT_EQ(replies[static_cast<size_t>(i)], replies[0]) << i;
  // A replay is not a clone, and the 500 fen were credited once.
  EXPECT_TRUE(clone_violations(*op, "bob").empty());
  auto bob0 = Rider::load(dir / "bob-0.json", b.endpoint());
  ASSERT_TRUE(bob0.ok());
  auto balance = (*bob0)->wallet().balance();
  ASSERT_TRUE(balance.ok()) << balance.error().message;
  EXPECT_EQ(json(*balance)["balance"], 1500);
  a.stop();
  b.stop();
}

class MoneyInvariant : public ::testing::TestWithParam<std::string> {};

// Sums over the server's own records after the run.
struct Ledger {
  int64_t recharged = 0, refunded = 0, paid_orders = 0, rides = 0, ride_amounts = 0;
  std::set<std::pair<std::string, int64_t>> ride_keys;
};

Ledger read_ledger(const std::string& db_url) {
  Ledger l;
  auto db = storage::Db::open(db_url);
  EXPECT_TRUE(db.ok());
  if (!db) return l;
  auto st = (*db)->transact([&](storage::Tx& tx) -> Status {
    auto sum = [&](std::string_view sql) -> Result<int64_t> {
      ANONCODE_TRY(auto row, tx.query_one(sql));
      return row ? row->i64(0) : 0;
    };
    ANONCODE_TRY(l.recharged, sum("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM "
                                  "wallet_transactions WHERE transaction_type = '01'"));
    ANONCODE_TRY(l.refunded, sum("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM "
                                 "wallet_transactions WHERE transaction_type = '04'"));
    ANONCODE_TRY(l.paid_orders, sum("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM "
                                    "payment_orders WHERE state = 'paid'"));
    ANONCODE_TRY(auto rides, tx.query("SELECT terminal, counter, amount FROM rides"));
    for (const auto& r : rides) {
      ++l.rides;
      l.ride_amounts += r.i64(2);
      l.ride_keys.insert({r.text(0), r.i64(1)});
    }
    return {};
  });
  EXPECT_TRUE(st.ok()) << st.error().message;
  return l;
}

TEST_P(MoneyInvariant, RandomOperationsWithReplayedUploadsAndSigkillMidUpload) {
  ANONCODE_REQUIRE_BACKEND(GetParam());
  const char* ops_env = std::getenv("ANONCODE_INVARIANT_OPS");
  const int kOps = ops_env != nullptr ? std::atoi(ops_env) : 2000;
  auto dir = fresh_dir("invariant_");
  std::string db = storage::testing::fresh_database_url(GetParam());
  std::string token = testing::init_data_dir(dir / "data", db);
  // Codes live 2 s, so refunds (refused while a code is valid) get through now and then.
  testing::set_config(dir / "data", "code_validity_seconds", "2");
  ServerProcess server(dir / "data", dir / "serve.log");
  server.start();
  auto op = Operator::create(server.endpoint(), token);
  ASSERT_TRUE(op.ok());

  uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };

  constexpr int kRiders = 4, kTerminals = 3;
  std::vector<std::unique_ptr<Rider>> riders;
  std::vector<std::string> rider_ids;
  int64_t recharged = 0, rides = 0, refunded = 0;
  for (int i = 0; i < kRiders; ++i) {
    std::string id = "rider" + std::to_string(i);
    auto r = Rider::open(*op, id, dir / (id + ".json"), server.endpoint(),
                         (dir / "data" / "trust_root").string());
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE((*r)->wallet().recharge(5000, "020001", false).ok());
    recharged += 5000;
    riders.push_back(std::move(*r));
    rider_ids.push_back(id);
  }
  std::vector<fs::path> stores;
  for (int i = 0; i < kTerminals; ++i) {
    std::string name = "T" + std::to_string(i);
    stores.push_back(dir / (name + ".pos"));
    auto t = perf::open_terminal(*op, name, "M1", stores.back(), server.endpoint(),
                                 server::system_now_ms());
    ASSERT_TRUE(t.ok()) << t.error().message;
  }
  auto terminal = [&](size_t i) {
    auto t =
        pos::PosTerminal::open(stores[i].string(), "T" + std::to_string(i), "M1", std::nullopt);
    EXPECT_TRUE(t.ok());
    return std::move(*t);
  };
  auto pos_transport = std::move(pos::http_transport(server.endpoint())).value();

  std::set<std::pair<std::string, int64_t>> accepted;  // (terminal, counter) of every ride
  int kills = 0, interrupted = 0, replays = 0, refunds_refused = 0;
  for (int n = 0; n < kOps; ++n) {
    double pick = std::uniform_real_distribution<double>(0, 1)(rng);
    size_t ri = static_cast<size_t>(uniform(0, kRiders - 1));
    auto& rider = *riders[ri];
    if (pick < 0.35) {  // a ride: a code, scanned offline (sometimes copied to a second POS)
      auto code = rider.wallet().code();
      ASSERT_TRUE(code.ok()) << code.error().message;
      Bytes payload = *from_base64url(json(*code)["payload"].get<std::string>());
      size_t first = static_cast<size_t>(uniform(0, kTerminals - 1));
      std::vector<size_t> at = {first};
      if (uniform(0, 9) == 0) at.push_back((first + 1) % kTerminals);
      for (size_t ti : at) {
        auto t = terminal(ti);
        int64_t fare = uniform(1, 300);
        auto s = t.scan(payload, fare, server::system_now_ms());
        ASSERT_TRUE(s.accepted) << s.reason;
        accepted.insert({"T" + std::to_string(ti), s.counter});
        rides += fare;
      }
    } else if (pick < 0.50) {  // a recharge
      int64_t amount = uniform(1, 5000);
      auto r = rider.wallet().recharge(amount, "010002", false);
      ASSERT_TRUE(r.ok()) << r.error().message;
      recharged += amount;
    } else if (pick < 0.58) {  // a refund: refused while a code is valid or the balance is short
      int64_t amount = uniform(1, 500);
      auto r = rider.wallet().refund(amount, Operator::rider_name(rider_ids[ri]),
                                     Operator::rider_id_number(rider_ids[ri]), "6222000000000000");
      if (r) {
        refunded += amount;
      } else {
        ASSERT_TRUE(r.error().code == ErrorCode::kConflict ||
                    r.error().code == ErrorCode::kInsufficientBalance)
            << r.error().message;
        ++refunds_refused;
      }
    } else if (pick < 0.78) {  // an upload
      auto t = terminal(static_cast<size_t>(uniform(0, kTerminals - 1)));
      auto u = t.upload(pos_transport);
      ASSERT_TRUE(u.ok()) << u.error().message;
      EXPECT_EQ(u->rejected, 0);
    } else if (pick < 0.88) {  // a replayed upload: the POS lost its acknowledgement
      size_t ti = static_cast<size_t>(uniform(0, kTerminals - 1));
      fs::copy_file(stores[ti], dir / "replay.pos", fs::copy_options::overwrite_existing);
      auto t = terminal(ti);
      auto queued = static_cast<int64_t>(t.store().queue.size());
      auto u = t.upload(pos_transport);
      ASSERT_TRUE(u.ok()) << u.error().message;
      fs::copy_file(dir / "replay.pos", stores[ti], fs::copy_options::overwrite_existing);
      auto again = terminal(ti).upload(pos_transport);
      ASSERT_TRUE(again.ok()) << again.error().message;
      EXPECT_EQ(again->uploaded, 0);
      EXPECT_EQ(again->duplicates, queued);
      ++replays;
    } else if (pick < 0.91) {  // the server is SIGKILLed while a terminal uploads, restarted
      size_t ti = static_cast<size_t>(uniform(0, kTerminals - 1));
      auto delay = std::chrono::microseconds(uniform(0, 4'000));
      std::thread killer([&] {
        std::this_thread::sleep_for(delay);
        server.kill(SIGKILL);
      });
      auto u = terminal(ti).upload(pos_transport);  // may or may not have been acknowledged
      killer.join();
      if (!u.ok()) ++interrupted;
      server.start();
      ++kills;
    } else {  // a balance query (a show that moves no money)
      auto b = rider.wallet().balance();
      ASSERT_TRUE(b.ok()) << b.error().message;
    }
  }
  // Every POS uploads what it still holds; every rider's balance.
  for (size_t i = 0; i < kTerminals; ++i) {
    auto u = terminal(i).upload(pos_transport);
    ASSERT_TRUE(u.ok()) << u.error().message;
    EXPECT_TRUE(terminal(i).store().queue.empty());
  }
  int64_t balances = 0;
  for (auto& r : riders) {
    auto b = r->wallet().balance();
    ASSERT_TRUE(b.ok()) << b.error().message;
    balances += json(*b)["balance"].get<int64_t>();
  }
  server.stop();

  std::cout << "ops " << kOps << ", kills " << kills << " (" << interrupted
            << " interrupted an upload), replayed uploads " << replays << ", rides "
            << accepted.size() << ", refunds refused " << refunds_refused << "\n";
  EXPECT_GT(kills, 0);
  EXPECT_EQ(recharged - rides - refunded, balances);
  Ledger l = read_ledger(db);
  EXPECT_EQ(l.recharged, recharged);
  EXPECT_EQ(l.paid_orders, recharged);
  EXPECT_EQ(l.refunded, refunded);
  EXPECT_EQ(l.ride_amounts, rides);
  EXPECT_EQ(l.rides, static_cast<int64_t>(accepted.size()));
  EXPECT_EQ(l.ride_keys, accepted);  // every accepted ride settled, exactly once
}

INSTANTIATE_TEST_SUITE_P(Backends, MoneyInvariant,
                         ::testing::ValuesIn(storage::testing::test_backends()));

}  // namespace
}  // namespace anoncode
