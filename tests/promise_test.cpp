// The promise as an attacker tries it (DESIGN §3.6, issue "The promise holds"), through the real
// `anoncode serve` binary and the real rider SDK over HTTP, with a proxy on loopback standing for
// the network and for an operator who answers as it pleases:
//  - a code request's reply is lost, a ride uses the balance up, the SDK resends: the rider gets
//    the code it missed and is never traced;
//  - the operator answers a code request with a refusal that carries no next credential (before
//    or after the server saw it): the SDK keeps its journal, sends the same bytes again, and is
//    never traced;
//  - a captured request replayed verbatim mints nothing: the same reply, one code;
//  - a second credential chain for a user is refused (`already_opened`);
//  - an issue response that does not verify stops the wallet (`issuer_misbehaved`) and its spent
//    credential is never shown again.
// On SQLite and PostgreSQL, on ristretto255 and sm2.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "crypto/credential.h"
#include "perf/flows.h"
#include "pos/pos_terminal.h"
#include "protocol/issuer_keyset.h"
#include "sdk/results_json.h"
#include "sdk/transport.h"
#include "sdk/wallet.h"
#include "server/clock.h"
#include "server_process.h"
#include "storage/db.h"
#include "storage/test_databases.h"

namespace anoncode {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using perf::Operator;
using testing::ServerProcess;

using testing::fresh_dir;

// An HTTPS proxy on 127.0.0.1 in front of the server (terminating TLS with the server's own
// certificate, as an operator's load balancer would, and verifying the server's). By default it
// forwards; `intercept` sets what it does with the next POST to one path: drop the reply (forward,
// then answer 502 as a load balancer does when the upstream reply is lost), forge a reply without
// forwarding, or forward and replace the reply.
class Proxy {
 public:
  enum class Act { kForward, kDropReply, kForgeWithoutForwarding, kReplaceReply };
  struct Seen {
    std::string path, request_body;
    int status = 0;
    std::string reply_body;
  };

  Proxy(net::Endpoint upstream, const fs::path& data_dir)
      : upstream_(std::move(upstream)),
        server_((data_dir / "tls_cert.pem").c_str(), (data_dir / "tls_key.pem").c_str()) {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      Act act = Act::kForward;
      int forged_status = 0;
      std::string forged_body;
      {
        std::lock_guard lock(mu_);
        if (req.path == path_ && act_ != Act::kForward) {
          act = act_;
          forged_status = status_;
          forged_body = body_;
          act_ = Act::kForward;
        }
      }
      Seen seen{req.path, req.body, 0, ""};
      if (act != Act::kForgeWithoutForwarding) {
        auto client = net::make_client(upstream_);
        if (!client.ok()) {
          res.status = 500;
          return;
        }
        httplib::Client& up = **client;
        httplib::Headers h;
        for (const auto& [k, v] : req.headers) {
          if (k == "Authorization") h.emplace(k, v);
        }
        auto r = req.method == "GET" ? up.Get(req.path, h)
                                     : up.Post(req.path, h, req.body, "application/json");
        if (!r) {
          res.status = 502;
          return;
        }
        seen.status = r->status;
        seen.reply_body = r->body;
        res.status = r->status;
        res.set_content(r->body, "application/json");
      }
      if (act == Act::kDropReply) {
        res.status = 502;
        res.set_content(R"({"error":{"code":"unavailable","message":"bad gateway"}})",
                        "application/json");
      } else if (act == Act::kForgeWithoutForwarding || act == Act::kReplaceReply) {
        res.status = forged_status;
        res.set_content(forged_body, "application/json");
      }
      std::lock_guard lock(mu_);
      seen_.push_back(std::move(seen));
    };
    server_.Get(".*", handle);
    server_.Post(".*", handle);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~Proxy() {
    server_.stop();
    thread_.join();
  }

  net::Endpoint endpoint() const {
    return {"https://127.0.0.1:" + std::to_string(port_), upstream_.trust};
  }
  void intercept(const std::string& path, Act act, int status = 0, std::string body = "") {
    std::lock_guard lock(mu_);
    path_ = path;
    act_ = act;
    status_ = status;
    body_ = std::move(body);
  }
  std::vector<Seen> seen(const std::string& path) {
    std::lock_guard lock(mu_);
    std::vector<Seen> out;
    for (const auto& s : seen_) {
      if (s.path == path) out.push_back(s);
    }
    return out;
  }

 private:
  net::Endpoint upstream_;
  httplib::SSLServer server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::string path_;
  Act act_ = Act::kForward;
  int status_ = 0;
  std::string body_;
  std::vector<Seen> seen_;
};

// An answer as the request ledger gives it again: the same, without the first answer's
// `next_nonce` (the nonce came with the show, which a resent request does not repeat).
std::string ledger_answer(const std::string& first_answer) {
  json a = json::parse(first_answer);
  EXPECT_TRUE(a.contains("next_nonce")) << first_answer;
  a.erase("next_nonce");
  return a.dump();
}

struct Param {
  std::string backend, group;
};
void PrintTo(const Param& p, std::ostream* os) {
  *os << p.backend << "/" << p.group;
}

class Promise : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    ANONCODE_REQUIRE_BACKEND(GetParam().backend);
    dir_ = fresh_dir("promise_");
    db_url_ = storage::testing::fresh_database_url(GetParam().backend);
    if (GetParam().backend == "sqlite") db_url_ = "sqlite:" + (dir_ / "anoncode.db").string();
    token_ = testing::init_data_dir(dir_ / "data", db_url_, GetParam().group);
    server_ = std::make_unique<ServerProcess>(dir_ / "data", dir_ / "serve.log");
    server_->start();
    proxy_ = std::make_unique<Proxy>(server_->endpoint(), dir_ / "data");
    auto op = Operator::create(server_->endpoint(), token_);
    ASSERT_TRUE(op.ok());
    op_.emplace(std::move(*op));
  }
  void TearDown() override {
    proxy_.reset();
    if (server_) server_->stop();
  }

  // A rider's wallet talking to the server through the proxy.
  struct Rider {
    std::unique_ptr<sdk::Transport> transport;
    std::optional<sdk::Wallet> wallet;
  };
  Rider rider(const std::string& state) {
    Rider r;
    r.transport = std::move(sdk::make_http_transport(proxy_->endpoint())).value();
    auto w = sdk::Wallet::load(dir_ / state, *r.transport);
    EXPECT_TRUE(w.ok());
    r.wallet.emplace(std::move(*w));
    // The trust root as the app's build ships it (the trust_root file of `anoncode init`).
    EXPECT_TRUE(
        r.wallet->set_trust_root(perf::read_trust_root((dir_ / "data" / "trust_root").string()))
            .ok());
    return r;
  }
  Rider opened(const std::string& user_id, int64_t recharge) {
    auto token = op_->add_rider(user_id);
    EXPECT_TRUE(token.ok());
    Rider r = rider(user_id + ".json");
    auto o = r.wallet->open(user_id, *token);
    EXPECT_TRUE(o.ok()) << o.error().message;
    if (recharge > 0) {
      auto c = r.wallet->recharge(recharge, "010001", false);
      EXPECT_TRUE(c.ok()) << c.error().message;
    }
    return r;
  }

  int64_t count(const std::string& sql) {
    auto db = storage::Db::open(db_url_);
    EXPECT_TRUE(db.ok());
    int64_t n = -1;
    EXPECT_TRUE((*db)
                    ->transact([&](storage::Tx& tx) -> Status {
                      ANONCODE_TRY(auto row, tx.query_one(sql));
                      n = row ? row->i64(0) : 0;
                      return {};
                    })
                    .ok());
    return n;
  }
  size_t clone_violations() {
    auto v = op_->get("/admin/v1/violations");
    EXPECT_TRUE(v.ok());
    size_t n = 0;
    for (const auto& x : (*v)["violations"]) n += x.value("kind", "") == "clone";
    return n;
  }

  fs::path dir_;
  std::string db_url_, token_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Proxy> proxy_;
  std::optional<Operator> op_;
};

std::vector<Param> params() {
  std::vector<Param> out;
  for (const auto& b : storage::testing::test_backends()) {
    for (const char* g : {"ristretto255", "sm2"}) out.push_back({b, g});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(All, Promise, ::testing::ValuesIn(params()), [](const auto& info) {
  return info.param.backend + "_" + info.param.group;
});

// The attack that framed an honest rider after one lost reply.
TEST_P(Promise, ALostReplyThenARideThatEmptiesTheWalletNeverFramesTheRider) {
  Rider rosa = opened("rosa", 300);
  auto code1 = rosa.wallet->code();
  ASSERT_TRUE(code1.ok()) << code1.error().message;

  // The next code request reaches the server, which answers; the reply is lost.
  proxy_->intercept("/platform/v1/code", Proxy::Act::kDropReply);
  auto lost = rosa.wallet->code();
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(rosa.wallet->has_pending());

  // Meanwhile the first code is scanned offline for the whole balance and uploaded.
  auto terminal = perf::open_terminal(*op_, "T1", "M1", dir_ / "t1.pos", server_->endpoint(),
                                      server::system_now_ms());
  ASSERT_TRUE(terminal.ok()) << terminal.error().message;
  auto payload = from_base64url(json(*code1)["payload"].get<std::string>());
  ASSERT_TRUE(payload.ok());
  ASSERT_TRUE(terminal->scan(*payload, 300, server::system_now_ms()).accepted);
  ASSERT_TRUE(terminal->upload(*pos::http_transport(server_->endpoint())).ok());

  // The rider's next call resends the journaled bytes and gets the answer it missed.
  auto next = rosa.wallet->history("ride");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_FALSE(rosa.wallet->has_pending());
  auto seen = proxy_->seen("/platform/v1/code");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2].request_body, seen[1].request_body);             // the same bytes
  EXPECT_EQ(seen[2].reply_body, ledger_answer(seen[1].reply_body));  // the same answer
  EXPECT_EQ(seen[2].status, 200);
  EXPECT_EQ(json(*next)["balance"], 0);
  EXPECT_EQ(clone_violations(), 0u);
  // The wallet is not locked: a code request is refused for the balance only.
  auto empty = rosa.wallet->code();
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInsufficientBalance);
  EXPECT_FALSE(rosa.wallet->has_pending());  // a refusal after the show is definitive
  EXPECT_EQ(clone_violations(), 0u);
}

// An operator who wants to unmask a rider answers one request with an error and no next
// credential — hoping the SDK shows the same credential again under a new nonce.
TEST_P(Promise, ARefusalWithoutTheNextCredentialNeverMakesTheSdkShowTwice) {
  Rider sam = opened("sam", 1000);
  const std::string forged =
      R"({"error":{"code":"insufficient_balance","message":"recharge first"}})";
  // Before the server saw the request …
  proxy_->intercept("/platform/v1/code", Proxy::Act::kForgeWithoutForwarding, 409, forged);
  auto refused = sam.wallet->code();
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(sam.wallet->has_pending());
  const int64_t shows = count("SELECT COUNT(*) FROM certification_transactions");
  // … every later call resends exactly those bytes, until a real answer comes.
  auto b = sam.wallet->balance();
  ASSERT_TRUE(b.ok()) << b.error().message;
  // … and after it: the server recorded the show, the operator replaces the answer.
  proxy_->intercept("/platform/v1/code", Proxy::Act::kReplaceReply, 409, forged);
  ASSERT_FALSE(sam.wallet->code().ok());
  EXPECT_TRUE(sam.wallet->has_pending());
  ASSERT_TRUE(sam.wallet->code().ok());  // resent, answered from the ledger, then a new one
  auto seen = proxy_->seen("/platform/v1/code");
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[1].request_body, seen[0].request_body);
  EXPECT_EQ(seen[3].request_body, seen[2].request_body);
  EXPECT_EQ(seen[3].reply_body, ledger_answer(seen[2].reply_body));
  // Every show was a first show of its credential: nothing to trace.
  EXPECT_EQ(count("SELECT COUNT(*) FROM certification_transactions"), shows + 4);
  EXPECT_EQ(clone_violations(), 0u);
}

// A captured request replayed verbatim, by anyone, gets the recorded answer and mints nothing.
TEST_P(Promise, AReplayedCaptureMintsNoCodeAndReadsNoFreshHistory) {
  Rider tom = opened("tom", 1000);
  ASSERT_TRUE(tom.wallet->code().ok());
  ASSERT_TRUE(tom.wallet->history("recharge").ok());
  auto code = proxy_->seen("/platform/v1/code").back();
  auto history = proxy_->seen("/platform/v1/history").back();
  ASSERT_TRUE(tom.wallet->recharge(500, "010001", false).ok());  // the wallet changes meanwhile
  // Whoever holds the plaintext (the rider's device, a TLS-terminating proxy) replays it.
  auto attacker_client = net::make_client(server_->endpoint());
  ASSERT_TRUE(attacker_client.ok());
  httplib::Client& attacker = **attacker_client;
  for (int i = 0; i < 3; ++i) {
    auto c = attacker.Post("/platform/v1/code", code.request_body, "application/json");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status, 200);
    EXPECT_EQ(c->body, ledger_answer(code.reply_body));
    auto h = attacker.Post("/platform/v1/history", history.request_body, "application/json");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->body, ledger_answer(history.reply_body));
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM code_requests"), 1);
  // The same show with a field changed is refused and changes nothing.
  json changed = json::parse(code.request_body);
  changed["wallet_signature"] = changed["wallet_signature"].get<std::string>().substr(1) + "A";
  auto c = attacker.Post("/platform/v1/code", changed.dump(), "application/json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 409);
  EXPECT_EQ(json::parse(c->body).contains("response"), false);
  EXPECT_EQ(count("SELECT COUNT(*) FROM code_requests"), 1);
  EXPECT_EQ(clone_violations(), 0u);
}

// The next nonce travels with an answer (docs/PROTOCOL.md "Nonces"): the rider's next show on
// that wallet needs no nonce request; on another wallet it is never used (it would link the two).
TEST_P(Promise, TheNonceOfAnAnswerServesOnlyTheNextShowOnItsWallet) {
  Rider ada = opened("ada", 1000);
  const size_t nonces = proxy_->seen("/privacy/v1/nonce").size();
  ASSERT_TRUE(ada.wallet->code().ok());  // after a recharge: no nonce held, one is fetched
  EXPECT_EQ(proxy_->seen("/privacy/v1/nonce").size(), nonces + 1);
  ASSERT_TRUE(ada.wallet->code().ok());
  ASSERT_TRUE(ada.wallet->history("ride").ok());
  EXPECT_EQ(proxy_->seen("/privacy/v1/nonce").size(), nonces + 1);  // both rode on answers

  // The second code's show is under the nonce the first code's answer carried.
  auto codes = proxy_->seen("/platform/v1/code");
  ASSERT_GE(codes.size(), 2u);
  const json answer = json::parse(codes[codes.size() - 2].reply_body);
  ASSERT_TRUE(answer.contains("next_nonce"));
  const json request = json::parse(codes.back().request_body);
  auto show = crypto::ShowRequest::decode(*from_base64url(request["show"].get<std::string>()));
  ASSERT_TRUE(show.ok());
  EXPECT_EQ(to_base64url(show->nonce), answer["next_nonce"].get<std::string>());

  // (That the server takes a nonce once: PrivacyBackendTest.TheNextNonceComesWithTheShow….)
  const int64_t shows = count("SELECT COUNT(*) FROM certification_transactions");

  // A recharge acts on a new wallet: the nonce the history's answer carried is not used for it.
  ASSERT_TRUE(ada.wallet->recharge(100, "010001", false).ok());
  EXPECT_EQ(proxy_->seen("/privacy/v1/nonce").size(), nonces + 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM certification_transactions"), shows + 1);
  EXPECT_EQ(clone_violations(), 0u);
}

// One credential chain per rider: a second install cannot open a second, untraceable chain.
TEST_P(Promise, ASecondOpenOfAUserIsRefused) {
  Rider una = opened("una", 0);
  std::ifstream in(dir_ / "una.json");
  json state = json::parse(in);
  Rider second = rider("una-second.json");
  auto again = second.wallet->open("una", state["app_token"].get<std::string>());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyOpened);
  EXPECT_FALSE(second.wallet->has_pending());
  EXPECT_EQ(count("SELECT COUNT(*) FROM userid_records WHERE user_id = 'una'"), 1);
}

// The operator (or the network) answers the key set request with issuer keys of its own — a key
// for this rider alone would link every show of the rider. The SDK takes keys only from a set its
// trust root signed: it refuses, and shows nothing.
TEST_P(Promise, ASubstitutedIssuerKeyIsRefusedAndNothingIsShown) {
  auto token = op_->add_rider("yves");
  ASSERT_TRUE(token.ok());
  const crypto::Group& g = *crypto::group_by_name(GetParam().group).value();
  auto own_key = crypto::IssuerKey::generate(g, crypto::OsRng::instance());
  auto own_root = *crypto::Sm2PrivateKey::generate();
  protocol::IssuerKeySet forged;
  forged.sequence = 99;
  forged.group = GetParam().group;
  forged.issuing_kid = to_hex(own_key.kid());
  forged.keys.push_back({forged.issuing_kid, own_key.public_key().encode(), 0, INT64_MAX / 2});
  forged.published_at = 0;
  auto signed_forged = protocol::sign_keyset(forged, own_root);
  ASSERT_TRUE(signed_forged.ok());
  const std::string reply =
      json{{"body", signed_forged->body}, {"signature", to_base64url(signed_forged->signature)}}
          .dump();
  proxy_->intercept("/privacy/v1/keyset", Proxy::Act::kForgeWithoutForwarding, 200, reply);
  Rider yves = rider("yves.json");
  auto opened_with_forged = yves.wallet->open("yves", *token);
  ASSERT_FALSE(opened_with_forged.ok());
  EXPECT_EQ(opened_with_forged.error().code, ErrorCode::kVerificationFailed);
  EXPECT_TRUE(proxy_->seen("/app/v1/open").empty());  // nothing was sent
  EXPECT_EQ(count("SELECT COUNT(*) FROM userid_records WHERE user_id = 'yves'"), 0);
  // An unsigned answer (the old /params shape) is refused the same way.
  proxy_->intercept("/privacy/v1/keyset", Proxy::Act::kForgeWithoutForwarding, 200,
                    R"({"group":"x","keys":[]})");
  EXPECT_EQ(yves.wallet->open("yves", *token).error().code, ErrorCode::kVerificationFailed);
  // The genuine set: the open goes through.
  auto opened = yves.wallet->open("yves", *token);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
}

// Two colluding riders: the second copies the first one's wallet (its key and account) into its
// own state and tries to spend it with its own credential. The wallet answers only to the chain
// that created it: refused, nothing spent, the first rider unaffected.
TEST_P(Promise, AColluderWithACopiedWalletKeyCannotSpendTheWallet) {
  Rider ann = opened("ann", 1000);
  Rider cal = opened("cal", 0);
  json ann_state = json::parse(std::ifstream(dir_ / "ann.json"));
  json cal_state = json::parse(std::ifstream(dir_ / "cal.json"));
  cal_state["wallet"] = ann_state["wallet"];
  std::ofstream(dir_ / "cal-colluding.json") << cal_state.dump();
  Rider colluder = rider("cal-colluding.json");
  const int64_t shows = count("SELECT COUNT(*) FROM certification_transactions");
  auto code = colluder.wallet->code();
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(count("SELECT COUNT(*) FROM certification_transactions"), shows);
  EXPECT_EQ(count("SELECT COUNT(*) FROM code_requests"), 0);
  auto mine = ann.wallet->code();
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ(clone_violations(), 0u);
}

// An issue response that does not verify (here: another rider's, spliced in by the operator)
// stops the wallet; the spent credential is never shown again.
TEST_P(Promise, AnIssueResponseThatDoesNotVerifyStopsTheWallet) {
  Rider vic = opened("vic", 1000);
  Rider wes = opened("wes", 1000);
  ASSERT_TRUE(wes.wallet->code().ok());
  json other = json::parse(proxy_->seen("/platform/v1/code").back().reply_body);
  ASSERT_TRUE(other.contains("response"));
  // vic's code request is answered with wes's issue response.
  proxy_->intercept("/platform/v1/code", Proxy::Act::kReplaceReply, 200, other.dump());
  auto stopped = vic.wallet->code();
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code, ErrorCode::kIssuerMisbehaved);
  const int64_t shows = count("SELECT COUNT(*) FROM certification_transactions");
  for (int i = 0; i < 2; ++i) {
    auto again = vic.wallet->code();
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kIssuerMisbehaved);
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM certification_transactions"), shows);
  EXPECT_EQ(clone_violations(), 0u);
}

}  // namespace
}  // namespace anoncode
