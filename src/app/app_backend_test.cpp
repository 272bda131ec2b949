// The app backend as riders, administrators and attackers meet it: over real HTTP on 127.0.0.1
// against a server started in this process, on SQLite and on PostgreSQL. Each test reads as
// steps (STYLE.md, after GNU Taler), including the attacks.
#include "app/app_backend.h"
#include "crypto/test_util.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <regex>
#include <thread>

#include "app/app_http.h"
#include "common/counters.h"
#include "console/admin_accounts.h"
#include "console/audit_log.h"
#include "crypto/sm2.h"
#include "crypto/sm3.h"
#include "privacy/privacy_http.h"
#include "protocol/api_client.h"
#include "protocol/evidence.h"
#include "server/log.h"
#include "storage/test_databases.h"

namespace anoncode::app {
namespace {

using crypto::CredentialClient;
using nlohmann::json;

constexpr const char* kAdminToken = "admin-token-for-the-app-backend-test-0000000";
constexpr const char* kServiceToken = "service-token-for-the-app-backend-test-00000";

struct Rider {
  std::string user_id, app_token;
};

// A restore answer with what a limited client needs: the status, the body and Retry-After.
struct RestoreReply {
  int status = 0;
  json body;
  std::string retry_after;
};

class AppBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ANONCODE_REQUIRE_BACKEND(GetParam());
    server::set_log_level(server::LogLevel::kWarn);
    auto db = storage::Db::open(storage::testing::fresh_database_url(GetParam()));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    std::vector<crypto::IssuerKey> keys;
    keys.push_back(crypto::IssuerKey::generate(crypto::service_test_group(), rng_));
    privacy_ = std::make_unique<privacy::PrivacyBackend>(*db_, crypto::service_test_group(),
                                                         std::move(keys), rng_);
    pii_key_ = SecretBytes(32);
    rng_.fill(pii_key_.expose_secret_mut());
    auto app = AppBackend::create(*db_, *privacy_, pii_key_, rng_);
    ASSERT_TRUE(app.ok()) << app.error().message;
    app_ = std::move(*app);

    server_ = std::make_unique<server::HttpServer>(
        server::ServerOptions{.host = "127.0.0.1", .port = 0, .threads = 4});
    auto now = [this] { return now_; };
    privacy::register_privacy_routes(*server_, *privacy_,
                                     server::token_hash(std::string_view(kServiceToken)), now);
    register_app_routes(*server_, *app_, now);
    audit_ = std::make_unique<console::AuditLog>(*db_);
    accounts_ = std::make_unique<console::AdminAccounts>(*db_);
    auth_ = std::make_unique<console::AdminAuth>(
        *accounts_, *audit_, server::token_hash(std::string_view(kAdminToken)), now);
    register_admin_routes(*server_, *app_, *auth_, now);
    ASSERT_TRUE(server_->start().ok());
    auto client = protocol::ApiClient::create({server_->url(), {}});
    ASSERT_TRUE(client.ok());
    client_ = std::make_unique<protocol::ApiClient>(std::move(*client));
  }
  void TearDown() override {
    client_.reset();  // closes its keep-alive connection, so the stop does not wait for it
    if (server_) server_->stop();
  }

  protocol::ApiReply post(const std::string& path, const json& body,
                          std::optional<std::string> bearer = std::nullopt) {
    auto r = client_->post(path, body, bearer);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : protocol::ApiReply{};
  }
  protocol::ApiReply admin_post(const std::string& path, const json& body) {
    return post(path, body, std::string(kAdminToken));
  }
  static std::string code(const protocol::ApiReply& r) {
    return r.body.contains("error") ? r.body["error"].value("code", "") : "";
  }

  // POST /app/v1/restore (or /restore/confirm) from the client address `from`, as a proxy on
  // loopback (trusted by default) reports it in X-Forwarded-For.
  RestoreReply restore(const std::string& phone, ByteView key_proof, bool confirm = false,
                       const std::string& from = "192.0.2.1") {
    httplib::Client c(server_->url());
    json body = {{"phone", phone}, {"key_proof", to_base64url(key_proof)}};
    auto res = c.Post(confirm ? "/app/v1/restore/confirm" : "/app/v1/restore",
                      {{"X-Forwarded-For", from}}, body.dump(), "application/json");
    EXPECT_TRUE(res);
    if (!res) return {};
    return RestoreReply{res->status, json::parse(res->body, nullptr, false),
                        res->get_header_value("Retry-After")};
  }
  static std::string code(const RestoreReply& r) {
    return r.body.contains("error") ? r.body["error"].value("code", "") : "";
  }
  // Backs up `blob` under the rider's phone, restorable with `key_proof`.
  void backup(const Rider& rider, const std::string& phone, ByteView key_proof,
              const std::string& blob = "the encrypted wallet state") {
    auto verifier = crypto::sm3(key_proof);
    auto r = post("/app/v1/backup",
                  {{"phone", phone},
                   {"blob", to_base64url(as_bytes(blob))},
                   {"verifier", to_base64url(verifier)}},
                  rider.app_token);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  json restore_locks() {
    auto r = client_->get("/admin/v1/restore-locks", std::string(kAdminToken));
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.ok() ? r->status : 0, 200);
    return r.ok() ? r->body : json();
  }
  // The wallet_backups row of a phone, as text, to see that nothing changed.
  std::string backup_row(const std::string& phone) {
    std::string out;
    EXPECT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                     ANONCODE_TRY(auto row, tx.query_one("SELECT blob, verifier, created_at, "
                                                         "released_at, consumed_at FROM "
                                                         "wallet_backups WHERE phone = $1",
                                                         {phone}));
                     if (!row) return {};
                     out = to_hex(row->blob(0)) + "|" + to_hex(row->blob(1)) + "|" +
                           std::to_string(row->i64(2)) + "|" +
                           (row->is_null(3) ? "-" : std::to_string(row->i64(3))) + "|" +
                           (row->is_null(4) ? "-" : std::to_string(row->i64(4)));
                     return {};
                   })
                    .ok());
    return out;
  }

  Rider add_user(const std::string& user_id, const std::string& name = "张三",
                 const std::string& id_number = "11010519491231002X",
                 const std::string& phone = "13800138000",
                 const std::string& card_no = "3104000012345678") {
    auto r = admin_post("/admin/v1/users", {{"user_id", user_id},
                                            {"name", name},
                                            {"id_number", id_number},
                                            {"phone", phone},
                                            {"card_no", card_no}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Rider{r.body.value("user_id", ""), r.body.value("app_token", "")};
  }

  const crypto::IssuerPublicKey& pub() const { return privacy_->issuing_key(); }

  // The SDK's side of open: a new rider secret, committed for this user.
  CredentialClient::Started begin_open(const std::string& user_id) {
    return CredentialClient::begin_open(pub(), protocol::open_context_hash(user_id), rng_);
  }
  protocol::ApiReply open(const Rider& rider, const CredentialClient::Started& started) {
    return post("/app/v1/open", {{"request", to_base64url(started.request.encode())}},
                rider.app_token);
  }
  crypto::Credential finish(const CredentialClient::Started& started,
                            const protocol::ApiReply& reply) {
    auto bytes = from_base64url(reply.body.value("response", ""));
    EXPECT_TRUE(bytes.ok());
    auto resp = crypto::IssueResponse::decode(*bytes);
    EXPECT_TRUE(resp.ok());
    auto cred = CredentialClient::finish_issue(started.pending, *resp, pub());
    EXPECT_TRUE(cred.ok());
    return *cred;
  }

  crypto::SeededRng rng_{"app-backend-test"};
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<privacy::PrivacyBackend> privacy_;
  SecretBytes pii_key_;
  std::unique_ptr<AppBackend> app_;
  std::unique_ptr<console::AuditLog> audit_;
  std::unique_ptr<console::AdminAccounts> accounts_;
  std::unique_ptr<console::AdminAuth> auth_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<protocol::ApiClient> client_;
  int64_t now_ = 1'764'000'000'000;
};

INSTANTIATE_TEST_SUITE_P(Backends, AppBackendTest,
                         ::testing::ValuesIn(storage::testing::test_backends()),
                         [](const auto& info) { return info.param; });

TEST_P(AppBackendTest, OpenNeedsTheWhitelistAndHappensOnce) {
  Rider alice = add_user("alice");
  ASSERT_FALSE(alice.app_token.empty());

  // The whitelist is off for everyone and alice is not on it: refused.
  auto all_off = admin_post("/admin/v1/whitelist/all", {{"on", false}});
  ASSERT_EQ(all_off.status, 200);
  EXPECT_EQ(all_off.body["whitelist"]["all"], false);
  auto started = begin_open("alice");
  auto refused = open(alice, started);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(code(refused), "not_whitelisted");

  // On the list: opened, and the response is a credential the SDK accepts.
  auto listed = admin_post("/admin/v1/whitelist/add", {{"user_id", "alice"}});
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body["whitelist"]["users"], json::array({"alice"}));
  auto opened = open(alice, started);
  ASSERT_EQ(opened.status, 200) << opened.body;
  EXPECT_EQ(opened.body["status"], "opened");
  finish(started, opened);

  // The opening record names alice's ordinary card, never a wallet.
  std::optional<storage::Row> rel;
  ASSERT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                   ANONCODE_TRY(rel,
                                tx.query_one("SELECT card_no, open_id, state FROM "
                                             "anonymous_code_user_relationship WHERE user_id = $1",
                                             {std::string("alice")}));
                   return {};
                 })
                  .ok());
  ASSERT_TRUE(rel.has_value());
  EXPECT_EQ(rel->text(0), "3104000012345678");
  EXPECT_EQ(rel->text(1), to_hex(crypto::sm3(std::string_view("3104000012345678"))));
  EXPECT_EQ(rel->text(2), "0");

  // The same request again (a lost reply) is answered again.
  auto retried = open(alice, started);
  EXPECT_EQ(retried.status, 200) << retried.body;
  // Another credential chain for the same rider is refused (DESIGN §3.6 rule 2).
  auto second = open(alice, begin_open("alice"));
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(code(second), "already_opened");
}

TEST_P(AppBackendTest, CloseMarksTheOpeningRecordClosedOnce) {
  auto state_of = [this](const std::string& user) {
    std::string state;
    EXPECT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                     ANONCODE_TRY(auto row, tx.query_one("SELECT state FROM "
                                                         "anonymous_code_user_relationship "
                                                         "WHERE user_id = $1",
                                                         {user}));
                     state = row ? row->text(0) : "";
                     return {};
                   })
                    .ok());
    return state;
  };
  Rider alice = add_user("alice");
  admin_post("/admin/v1/whitelist/add", {{"user_id", "alice"}});
  // Before opening there is nothing to close.
  auto early = post("/app/v1/close", json::object(), alice.app_token);
  EXPECT_EQ(early.status, 404);
  EXPECT_EQ(code(early), "not_found");
  ASSERT_EQ(open(alice, begin_open("alice")).status, 200);
  EXPECT_EQ(state_of("alice"), "0");
  // A wrong token changes nothing.
  auto wrong = post("/app/v1/close", json::object(), std::string("not-a-token"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(state_of("alice"), "0");
  auto closed = post("/app/v1/close", json::object(), alice.app_token);
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(closed.body["status"], "closed");
  EXPECT_EQ(state_of("alice"), "1");
  // A retry (a lost reply) is answered the same.
  EXPECT_EQ(post("/app/v1/close", json::object(), alice.app_token).status, 200);
  EXPECT_EQ(state_of("alice"), "1");
}

TEST_P(AppBackendTest, WhitelistOfListsAndOfEveryone) {
  Rider bob = add_user("bob", "李四", "110105194912310011", "13900139000", "3104000099990000");
  auto list = admin_post("/admin/v1/whitelist/add", {{"user_ids", {"u3", "u1", "u2"}}});
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["whitelist"]["users"], json::array({"u1", "u2", "u3"}));
  auto removed = admin_post("/admin/v1/whitelist/remove", {{"user_ids", {"u2"}}});
  EXPECT_EQ(removed.body["whitelist"]["users"], json::array({"u1", "u3"}));
  auto got = client_->get("/admin/v1/whitelist", std::string(kAdminToken));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, (json{{"whitelist", {{"all", false}, {"users", {"u1", "u3"}}}}}));

  // bob is not listed, but "all" opens the code to everyone.
  EXPECT_EQ(code(open(bob, begin_open("bob"))), "not_whitelisted");
  auto all_on = admin_post("/admin/v1/whitelist/all", {{"on", true}});
  EXPECT_EQ(all_on.body["whitelist"]["all"], true);
  auto opened = open(bob, begin_open("bob"));
  EXPECT_EQ(opened.status, 200) << opened.body;

  auto bad = admin_post("/admin/v1/whitelist/add", {{"user_ids", json::array()}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(code(bad), "invalid_argument");
  auto bad_on = admin_post("/admin/v1/whitelist/all", {{"on", "yes"}});
  EXPECT_EQ(code(bad_on), "invalid_argument");
}

TEST_P(AppBackendTest, WrongTokensAreRefused) {
  Rider alice = add_user("alice");
  ASSERT_EQ(admin_post("/admin/v1/whitelist/all", {{"on", true}}).status, 200);
  auto started = begin_open("alice");
  auto body = json{{"request", to_base64url(started.request.encode())}};
  for (const std::optional<std::string>& token :
       {std::optional<std::string>{}, std::optional<std::string>{"not-a-token"},
        std::optional<std::string>{kAdminToken}}) {
    auto r = post("/app/v1/open", body, token);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(code(r), "unauthorized");
  }
  auto backup =
      post("/app/v1/backup",
           {{"phone", "13800138000"}, {"blob", "AAAA"}, {"verifier", to_base64url(Bytes(32))}},
           std::string("wrong"));
  EXPECT_EQ(backup.status, 401);
  // Admin routes want the admin token, not a rider's.
  auto as_rider = post("/admin/v1/whitelist/all", {{"on", true}}, alice.app_token);
  EXPECT_EQ(as_rider.status, 401);
  auto no_token = client_->get("/admin/v1/violations");
  ASSERT_TRUE(no_token.ok());
  EXPECT_EQ(no_token->status, 401);
  // The service endpoints want the service token.
  auto service = post("/privacy/v1/open", {{"user_id", "alice"}, {"request", body["request"]}},
                      std::string(kAdminToken));
  EXPECT_EQ(service.status, 401);
  // And the refused open changed nothing: alice can still open.
  EXPECT_EQ(open(alice, started).status, 200);
}

TEST_P(AppBackendTest, BackupIsReleasedToTheRightKeyUntilConfirmed) {
  Rider alice = add_user("alice");
  Bytes blob = to_bytes(std::string_view("the encrypted wallet state"));
  Bytes key_proof(32, 0x5a), wrong_proof(32, 0xa5);
  auto verifier = crypto::sm3(ByteView(key_proof));
  json backup = {
      {"phone", "13800138000"}, {"blob", to_base64url(blob)}, {"verifier", to_base64url(verifier)}};
  auto backed = post("/app/v1/backup", backup, alice.app_token);
  ASSERT_EQ(backed.status, 200) << backed.body;
  EXPECT_EQ(backed.body, (json{{"status", "backed_up"}}));

  // Only under the rider's own phone number.
  Rider mallory = add_user("mallory", "王五", "110105194912310022", "13700137000", "31040000");
  auto hijack = post("/app/v1/backup", backup, mallory.app_token);
  EXPECT_EQ(hijack.status, 403);
  EXPECT_EQ(code(hijack), "forbidden");

  json wrong = {{"phone", "13800138000"}, {"key_proof", to_base64url(wrong_proof)}};
  json right = {{"phone", "13800138000"}, {"key_proof", to_base64url(key_proof)}};
  // A wrong passphrase is refused and burns nothing.
  auto refused = post("/app/v1/restore", wrong);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(code(refused), "verification_failed");
  EXPECT_EQ(code(post("/app/v1/restore/confirm", wrong)), "verification_failed");
  // The right one gets the blob, as often as it asks before confirming.
  for (int i = 0; i < 2; ++i) {
    auto restored = post("/app/v1/restore", right);
    ASSERT_EQ(restored.status, 200) << restored.body;
    EXPECT_EQ(restored.body["blob"], to_base64url(blob));
  }
  auto confirmed = post("/app/v1/restore/confirm", right);
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(confirmed.body, (json{{"status", "restored"}}));
  // Consumed: the server copy is gone, and restore answers as for no backup. Confirming again
  // (a retry after a lost reply) is answered again.
  auto again = post("/app/v1/restore", right);
  EXPECT_EQ(again.status, 403);
  EXPECT_EQ(code(again), "verification_failed");
  EXPECT_EQ(post("/app/v1/restore/confirm", right).status, 200);
  EXPECT_EQ(code(post("/app/v1/restore/confirm", wrong)), "verification_failed");
  std::optional<storage::Row> row;
  ASSERT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                   ANONCODE_TRY(row,
                                tx.query_one("SELECT blob FROM wallet_backups WHERE phone = $1",
                                             {std::string("13800138000")}));
                   return {};
                 })
                  .ok());
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(row->blob(0).empty());

  // No backup at all, and malformed proofs.
  EXPECT_EQ(
      post("/app/v1/restore", {{"phone", "13900000000"}, {"key_proof", right["key_proof"]}}).status,
      403);
  EXPECT_EQ(code(post("/app/v1/restore", {{"phone", "13800138000"}, {"key_proof", "AAAA"}})),
            "malformed");
  EXPECT_EQ(code(post("/app/v1/restore", {{"phone", "13800138000"}})), "invalid_argument");

  // A new backup after a restore is live again.
  EXPECT_EQ(post("/app/v1/backup", backup, alice.app_token).status, 200);
  EXPECT_EQ(post("/app/v1/restore", right).status, 200);
}

// DESIGN §3.6 rule 6: whoever asks learns nothing about who has a backup.
TEST_P(AppBackendTest, NoBackupAndAWrongKeyGetTheSameAnswer) {
  Rider alice = add_user("alice");
  Bytes key(32, 0x5a), wrong(32, 0xa5);
  backup(alice, "13800138000", key);
  const std::string stored = backup_row("13800138000");

  for (bool confirm : {false, true}) {
    auto wrong_key = restore("13800138000", wrong, confirm);
    auto no_backup = restore("13911112222", key, confirm);
    EXPECT_EQ(wrong_key.status, 403);
    EXPECT_EQ(wrong_key.body, (json{{"error",
                                     {{"code", "verification_failed"},
                                      {"message", "no backup matches this phone and key"}}}}));
    EXPECT_EQ(no_backup.status, wrong_key.status);
    EXPECT_EQ(no_backup.body, wrong_key.body);
    EXPECT_EQ(no_backup.retry_after, "");
    EXPECT_EQ(wrong_key.retry_after, "");
  }
  // The wrong keys changed nothing: the backup is as it was and the right key still gets it.
  EXPECT_EQ(backup_row("13800138000"), stored);
  auto restored = restore("13800138000", key);
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(restored.body["blob"], to_base64url(as_bytes("the encrypted wallet state")));
  ASSERT_EQ(restore("13800138000", key, /*confirm=*/true).status, 200);
  // A consumed backup answers as none, even to the right key.
  auto consumed = restore("13800138000", key);
  EXPECT_EQ(consumed.status, 403);
  EXPECT_EQ(consumed.body, restore("13911112222", key).body);
}

TEST_P(AppBackendTest, FiveWrongKeysLockAPhoneForAGrowingTimeWithOrWithoutABackup) {
  Rider alice = add_user("alice");
  Bytes key(32, 0x5a), wrong(32, 0xa5);
  backup(alice, "13800138000", key);
  const std::string stored = backup_row("13800138000");
  const uint64_t locks_before = counters::value(counters::Event::kRestoreLocked);

  // Five wrong keys, each from another address (so only the phones' counts matter), for alice's
  // phone and for a phone without a backup: answered alike, and what is logged names neither.
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 5; ++i) {
    const std::string from = "198.51.100." + std::to_string(i + 1);
    EXPECT_EQ(restore("13800138000", wrong, i % 2 == 1, from).status, 403);
    EXPECT_EQ(restore("13922223333", wrong, i % 2 == 1, from).status, 403);
  }
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(logged.find("\"restore_locked\""), std::string::npos) << logged;
  for (const std::string& secret : {std::string("13800138000"), std::string("13922223333"),
                                    to_base64url(wrong), to_hex(wrong)}) {
    EXPECT_EQ(logged.find(secret), std::string::npos) << secret;
  }
  EXPECT_EQ(counters::value(counters::Event::kRestoreLocked), locks_before + 2);

  // The 6th attempt is refused even with the right key, from any address, for a minute.
  auto locked = restore("13800138000", key, false, "203.0.113.9");
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(code(locked), "rate_limited");
  EXPECT_EQ(locked.retry_after, "60");
  EXPECT_EQ(restore("13800138000", key, /*confirm=*/true).status, 429);
  auto locked_nobody = restore("13922223333", key, false, "203.0.113.9");
  EXPECT_EQ(locked_nobody.status, 429);
  EXPECT_EQ(locked_nobody.body, locked.body);
  EXPECT_EQ(locked_nobody.retry_after, "60");
  now_ += 30'000;
  EXPECT_EQ(restore("13800138000", key).retry_after, "30");

  // Operators see both locks, by hash prefix only.
  json locks = restore_locks();
  ASSERT_EQ(locks["locks"].size(), 2u) << locks;
  for (const auto& l : locks["locks"]) {
    EXPECT_EQ(l["kind"], "phone");
    EXPECT_TRUE(std::regex_match(l["hash"].get<std::string>(), std::regex("[0-9a-f]{16}")));
    EXPECT_EQ(l["failures"], 5);
    EXPECT_EQ(l["locked_until"], now_ + 30'000);
  }
  EXPECT_EQ(locks.dump().find("1380013"), std::string::npos);
  EXPECT_EQ(locks["now"], now_);

  // The lock over, the right key works, and the count starts again.
  now_ += 30'000;
  EXPECT_EQ(backup_row("13800138000"), stored);
  auto restored = restore("13800138000", key);
  ASSERT_EQ(restored.status, 200) << restored.body;
  int64_t phones_counted = -1;
  ASSERT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                   ANONCODE_TRY(auto row, tx.query_one("SELECT COUNT(*) FROM restore_limits "
                                                       "WHERE kind = 'phone'"));
                   phones_counted = row ? row->i64(0) : 0;
                   return {};
                 })
                  .ok());
  EXPECT_EQ(phones_counted, 1);  // alice's count is gone; the other phone's stays
  for (int i = 0; i < 4; ++i) EXPECT_EQ(restore("13800138000", wrong).status, 403);
  EXPECT_EQ(restore("13800138000", key).status, 200);

  // Without the right key, each further failure doubles the lock, up to a day.
  int64_t expected_s = 60;
  for (int failure = 6; failure <= 18; ++failure) {
    now_ += expected_s * 1000;  // the lock is over
    EXPECT_EQ(restore("13922223333", wrong, false, "198.51.100.7").status, 403) << failure;
    expected_s = std::min<int64_t>(expected_s * 2, 86'400);
    auto r = restore("13922223333", key, false, "198.51.100.8");
    EXPECT_EQ(r.status, 429) << failure;
    EXPECT_EQ(r.retry_after, std::to_string(expected_s)) << failure;
  }
  EXPECT_EQ(expected_s, 86'400);
}

TEST_P(AppBackendTest, WrongKeysAreLimitedPerClientAddress) {
  Rider alice = add_user("alice");
  Bytes key(32, 0x5a), wrong(32, 0xa5);
  backup(alice, "13800138000", key);

  // 20 wrong keys from one address, each for another phone (no phone reaches its limit).
  for (int i = 0; i < 20; ++i) {
    auto r = restore("1370000" + std::to_string(1000 + i), wrong, i % 2 == 1, "203.0.113.7");
    EXPECT_EQ(r.status, 403) << i;
  }
  // The address is locked for the rest of the hour, even for the right key; other addresses
  // are not.
  now_ += 600'000;
  auto limited = restore("13800138000", key, false, "203.0.113.7");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(code(limited), "rate_limited");
  EXPECT_EQ(limited.retry_after, "3000");
  EXPECT_EQ(restore("13800138000", key, false, "203.0.113.8").status, 200);
  json locks = restore_locks();
  ASSERT_EQ(locks["locks"].size(), 1u) << locks;
  EXPECT_EQ(locks["locks"][0]["kind"], "address");
  EXPECT_EQ(locks["locks"][0]["failures"], 20);
  EXPECT_EQ(locks.dump().find("203.0.113"), std::string::npos);
  // An hour after the first failure the address may try again.
  now_ += 3'000'000;
  EXPECT_EQ(restore("13800138000", key, false, "203.0.113.7").status, 200);

  // IPv6 addresses count by /64: 20 addresses of one /64 are one client.
  for (int i = 0; i < 20; ++i) {
    auto r = restore("1360000" + std::to_string(1000 + i), wrong, false,
                     "2001:db8:1:2::" + std::to_string(i + 1));
    EXPECT_EQ(r.status, 403) << i;
  }
  EXPECT_EQ(restore("13800138000", key, false, "2001:db8:1:2::ffff").status, 429);
  EXPECT_EQ(restore("13800138000", key, false, "2001:db8:1:3::1").status, 200);
}

TEST_P(AppBackendTest, PersonalDataIsNotStoredInClear) {
  Rider alice =
      add_user("alice", "Alice Zhang", "110105194912310033", "13812345678", "3104000077776666");
  storage::Rows rows;
  ASSERT_TRUE(db_->transact([&](storage::Tx& tx) -> Status {
                   ANONCODE_TRY(rows, tx.query("SELECT user_id, app_token_hash, pii, id_lookup, "
                                               "created_at FROM app_users"));
                   return {};
                 })
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  std::string everything;
  for (size_t i = 0; i < 4; ++i) {
    if (i == 0) {
      everything += rows[0].text(0);
    } else {
      const Bytes& b = rows[0].blob(i);
      everything.append(b.begin(), b.end());
    }
  }
  for (const char* pii : {"Alice Zhang", "110105194912310033", "13812345678", "3104000077776666",
                          "Alice", "138123"}) {
    EXPECT_EQ(everything.find(pii), std::string::npos) << pii;
  }
  EXPECT_EQ(everything.find(alice.app_token), std::string::npos);
  // The sealed record opens only with the key, and decrypts to what was registered.
  auto u = app_->user("alice");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "Alice Zhang");
  EXPECT_EQ(u->card_no, "3104000077776666");
}

TEST_P(AppBackendTest, ARefundFindsItsUserByNameAndIdNumber) {
  add_user("alice", "张三", "11010519491231002X");
  add_user("carol", "赵六", "110105194912310044");
  auto found = app_->resolve_user("张三", "11010519491231002X");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(*found, "alice");
  EXPECT_EQ(*app_->resolve_user("赵六", "110105194912310044"), "carol");
  EXPECT_EQ(app_->resolve_user("赵六", "11010519491231002X").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(app_->resolve_user("李四", "11010519491231002X").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(app_->resolve_user("张三", "110105194912310000").error().code, ErrorCode::kNotFound);
  // The message never repeats what was asked.
  EXPECT_EQ(app_->resolve_user("张三", "110105194912310000").error().message.find("1101"),
            std::string::npos);
}

// DESIGN §3.6 rule 2: one person, one user, one credential chain. A second registration of an ID
// number — same name or not — would be a second chain, and a refund by name and ID number would
// find only the first of the two (a clean-room client hit exactly this).
TEST_P(AppBackendTest, AnIdNumberIsRegisteredOnce) {
  add_user("alice", "张三", "11010519491231002X");
  for (const char* name : {"张三", "赵六"}) {
    auto again = admin_post("/admin/v1/users", {{"user_id", "carol"},
                                                {"name", name},
                                                {"id_number", "11010519491231002X"},
                                                {"phone", "13900139000"},
                                                {"card_no", "3104000012340000"}});
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_EQ(code(again), "conflict");
    // The refusal never repeats the ID number it was given.
    EXPECT_EQ(again.body.dump().find("1101"), std::string::npos);
  }
  EXPECT_EQ(app_->user("carol").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(*app_->resolve_user("张三", "11010519491231002X"), "alice");
  // Two registrations of one ID number racing: the unique index lets exactly one through.
  std::vector<std::thread> racers;
  std::atomic<int> created{0};
  for (int i = 0; i < 4; ++i) {
    racers.emplace_back([&, i] {
      AppUser u{"racer" + std::to_string(i), "李四", "110105194912310055", "13700137000",
                "3104000055550000"};
      if (app_->add_user(u, 1'764'000'000'000).ok()) ++created;
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(created.load(), 1);
}

TEST_P(AppBackendTest, UsersAndTerminalsAreRegisteredOnce) {
  add_user("alice");
  auto dup = admin_post(
      "/admin/v1/users",
      {{"user_id", "alice"}, {"name", "x"}, {"id_number", "1"}, {"phone", "1"}, {"card_no", "1"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(code(dup), "conflict");
  auto bad = admin_post("/admin/v1/users", {{"user_id", "has space"},
                                            {"name", "x"},
                                            {"id_number", "1"},
                                            {"phone", "1"},
                                            {"card_no", "1"}});
  EXPECT_EQ(code(bad), "invalid_argument");
  auto missing = admin_post("/admin/v1/users", {{"user_id", "dave"}});
  EXPECT_EQ(code(missing), "invalid_argument");
}

TEST_P(AppBackendTest, PrivacyEndpointsAndAViolationInTheAdminList) {
  // Params: what an SDK needs to start.
  auto params = client_->get("/privacy/v1/params");
  ASSERT_TRUE(params.ok());
  ASSERT_EQ(params->status, 200);
  EXPECT_EQ(params->body["group"], std::string(crypto::service_test_group().name()));
  EXPECT_EQ(params->body["issuing_kid"], to_hex(pub().kid()));
  auto key_bytes = from_base64url(params->body["keys"][0].value("public_key", ""));
  ASSERT_TRUE(key_bytes.ok());
  auto decoded = crypto::IssuerPublicKey::decode(*key_bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->kid(), pub().kid());

  Rider alice = add_user("alice");
  ASSERT_EQ(admin_post("/admin/v1/whitelist/add", {{"user_id", "alice"}}).status, 200);
  auto started = begin_open("alice");
  crypto::Credential cred = finish(started, open(alice, started));

  auto violations = client_->get("/admin/v1/violations", std::string(kAdminToken));
  ASSERT_TRUE(violations.ok());
  EXPECT_EQ(violations->body, (json{{"violations", json::array()}}));

  // A show through the service endpoint, then the same credential again (a cloned phone).
  protocol::ShowContext ctx{crypto::ShowOp::kRequestCode,   "WALLETAAAAAAAAAAAAAAAAAA",
                            "1234567890123456789",          0,
                            std::string("\x00\x01\xff", 3), {}};
  json context = {{"op", 2},
                  {"wallet", ctx.wallet_b},
                  {"accountid", ctx.accountid},
                  {"amount", 0},
                  {"extra", to_base64url(as_bytes(ctx.extra))}};
  auto show_once = [&]() {
    auto nonce_reply = post("/privacy/v1/nonce", json::object());
    EXPECT_EQ(nonce_reply.status, 200);
    EXPECT_EQ(nonce_reply.body["expires_at"], now_ + 60'000);
    auto nonce_bytes = from_base64url(nonce_reply.body.value("nonce", ""));
    EXPECT_TRUE(nonce_bytes.ok() && nonce_bytes->size() == 32);
    crypto::Nonce nonce{};
    std::copy(nonce_bytes->begin(), nonce_bytes->end(), nonce.begin());
    auto shown = CredentialClient::show(cred, pub(), ctx.op, nonce, ctx.hash(), rng_);
    EXPECT_TRUE(shown.ok());
    return post("/privacy/v1/show",
                {{"request", to_base64url(shown->request.encode())}, {"context", context}},
                std::string(kServiceToken));
  };
  auto first = show_once();
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body["replayed"], false);
  auto clone = show_once();
  EXPECT_EQ(clone.status, 409);
  EXPECT_EQ(code(clone), "sn_reused");

  violations = client_->get("/admin/v1/violations", std::string(kAdminToken));
  ASSERT_TRUE(violations.ok());
  ASSERT_EQ(violations->body["violations"].size(), 1u) << violations->body;
  const json& v = violations->body["violations"][0];
  EXPECT_EQ(v["user_id"], "alice");
  EXPECT_EQ(v["wallet"], "WALLETAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(v["accountid"], "1234567890123456789");
  EXPECT_EQ(v["kind"], "clone");
  EXPECT_EQ(v["detected_at"], now_);
  // DESIGN §3.6 rule 7: its evidence, checked against the published key sets (none yet: the
  // server's secret keys are not what the mark relies on).
  EXPECT_EQ(v["evidence"], "invalid");
  const std::string id = v["id"];  // `v` points into the reply replaced next
  auto root = crypto::Sm2PrivateKey::generate();
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(privacy_->publish_keyset(*root, now_, 365LL * 86'400'000).ok());
  violations = client_->get("/admin/v1/violations", std::string(kAdminToken));
  ASSERT_TRUE(violations.ok());
  EXPECT_EQ(violations->body["violations"][0]["evidence"], "verified");
  auto evidence = client_->get("/admin/v1/violations/evidence?id=" + id, std::string(kAdminToken));
  ASSERT_TRUE(evidence.ok());
  ASSERT_EQ(evidence->status, 200) << evidence->body;
  EXPECT_EQ(evidence->body["status"], "verified");
  EXPECT_EQ(evidence->body["user_id"], "alice");
  auto checked = protocol::verify_evidence(evidence->body["evidence"], privacy_->public_keys());
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(checked->j, *privacy_->identity_of("alice"));
  auto unknown =
      client_->get("/admin/v1/violations/evidence?id=nosuchid", std::string(kAdminToken));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(code(*unknown), "not_found");
  auto no_id = client_->get("/admin/v1/violations/evidence", std::string(kAdminToken));
  ASSERT_TRUE(no_id.ok());
  EXPECT_EQ(code(*no_id), "invalid_argument");

  // A show bound to another context (here: another amount) is refused.
  auto nonce_reply = post("/privacy/v1/nonce", json::object());
  auto nonce_bytes = from_base64url(nonce_reply.body.value("nonce", ""));
  ASSERT_TRUE(nonce_bytes.ok());
  crypto::Nonce nonce{};
  std::copy(nonce_bytes->begin(), nonce_bytes->end(), nonce.begin());
  auto shown = CredentialClient::show(cred, pub(), ctx.op, nonce, ctx.hash(), rng_);
  ASSERT_TRUE(shown.ok());
  context["amount"] = 5;
  auto misbound = post("/privacy/v1/show",
                       {{"request", to_base64url(shown->request.encode())}, {"context", context}},
                       std::string(kServiceToken));
  EXPECT_EQ(misbound.status, 403);
  EXPECT_EQ(code(misbound), "verification_failed");

  auto bad_extra =
      post("/privacy/v1/show",
           {{"request", "AAAA"},
            {"context", {{"op", 2}, {"wallet", ""}, {"accountid", ""}, {"extra", "!!"}}}},
           std::string(kServiceToken));
  EXPECT_EQ(code(bad_extra), "malformed");
  auto bad_op =
      post("/privacy/v1/show",
           {{"request", "AAAA"}, {"context", {{"op", 9}, {"wallet", ""}, {"accountid", ""}}}},
           std::string(kServiceToken));
  EXPECT_EQ(code(bad_op), "invalid_argument");
}

}  // namespace
}  // namespace anoncode::app
