// The console's security as a browser and an attacker meet it: over real HTTP on 127.0.0.1
// against a server started in this process with every /admin/v1 route, on SQLite and on
// PostgreSQL. Each test reads as steps, including the attacks (STYLE.md, after GNU Taler).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

#include "app/app_backend.h"
#include "app/app_http.h"
#include "console/admin_accounts.h"
#include "console/admin_auth.h"
#include "console/audit_log.h"
#include "console/console_api.h"
#include "console/console_http.h"
#include "crypto/sm3.h"
#include "crypto/test_util.h"
#include "platform/platform.h"
#include "posfront/posfront_http.h"
#include "server/auth.h"
#include "server/log.h"
#include "storage/test_databases.h"

namespace anoncode::console {
namespace {

using nlohmann::json;
using storage::Tx;

constexpr const char* kAdminToken = "admin-token-for-the-console-test-00000000000";
constexpr const char* kPassword = "correct horse battery staple";
constexpr int64_t kT0 = 1'764'000'000'000;  // 2025-11-24T16:00:00Z
constexpr int64_t kHourMs = 3'600'000;

struct Reply {
  int status = 0;
  json body;
  std::string set_cookie;
  std::string cache_control;
  std::string code() const {
    return body.is_object() && body.contains("error") ? body["error"].value("code", "") : "";
  }
};

// A logged-in browser: the cookie's value and the CSRF token the login returned.
struct Browser {
  std::string cookie;
  std::string csrf;
};

std::string cookie_value(const std::string& set_cookie) {
  const std::string prefix = "anoncode_session=";
  if (set_cookie.rfind(prefix, 0) != 0) return "";
  return set_cookie.substr(prefix.size(), set_cookie.find(';') - prefix.size());
}

class ConsoleTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ANONCODE_REQUIRE_BACKEND(GetParam());
    server::set_log_level(server::LogLevel::kError);
    auto db = storage::Db::open(storage::testing::fresh_database_url(GetParam()));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    std::vector<crypto::IssuerKey> keys;
    keys.push_back(crypto::IssuerKey::generate(crypto::service_test_group(), rng_));
    privacy_ = std::make_unique<privacy::PrivacyBackend>(*db_, crypto::service_test_group(),
                                                         std::move(keys), rng_);
    SecretBytes pii_key(32);
    rng_.fill(pii_key.expose_secret_mut());
    auto app = app::AppBackend::create(*db_, *privacy_, pii_key, rng_);
    ASSERT_TRUE(app.ok()) << app.error().message;
    app_ = std::move(*app);
    platform_key_.emplace(*crypto::Sm2PrivateKey::generate());
    platform_ = std::make_unique<platform::CodePlatform>(
        *db_, *privacy_, *platform_key_, platform::PaymentChannels::simulated(), directory_,
        *crypto::Sm4Aead::create(pii_key));
    ASSERT_TRUE(platform_->publish_signing_key(kT0 - kHourMs, kT0 + 365 * 24 * kHourMs).ok());

    audit_ = std::make_unique<AuditLog>(*db_);
    accounts_ = std::make_unique<AdminAccounts>(*db_);
    auto now = [this] { return now_.load(); };
    auth_ = std::make_unique<AdminAuth>(*accounts_, *audit_,
                                        server::token_hash(std::string_view(kAdminToken)), now);
    server_ = std::make_unique<server::HttpServer>(
        server::ServerOptions{.host = "127.0.0.1", .port = 0, .threads = 4});
    register_console_routes(*server_, *auth_);
    app::register_admin_routes(*server_, *app_, *auth_, now);
    register_console_api_routes(*server_, *auth_, *db_, *app_, *platform_, *privacy_);
    pos_front_ =
        std::make_unique<posfront::PosFront>(*db_, *platform_, *crypto::Sm4Aead::create(pii_key));
    posfront::register_posfront_admin_routes(*server_, *pos_front_, *auth_, now);
    ASSERT_TRUE(server_->start().ok());
    client_ = std::make_unique<httplib::Client>(server_->url());
  }
  void TearDown() override {
    client_.reset();
    if (server_) server_->stop();
  }

  Reply send(const std::string& method, const std::string& path, const json* body,
             const httplib::Headers& headers) {
    httplib::Result res = method == "GET" ? client_->Get(path, headers)
                                          : client_->Post(path, headers, body ? body->dump() : "{}",
                                                          "application/json");
    Reply r;
    EXPECT_TRUE(res) << "no answer for " << method << " " << path;
    if (!res) return r;
    r.status = res->status;
    r.body = json::parse(res->body, nullptr, false);
    r.set_cookie = res->get_header_value("Set-Cookie");
    r.cache_control = res->get_header_value("Cache-Control");
    return r;
  }
  // With the admin token (the CLI).
  Reply token_get(const std::string& path) {
    return send("GET", path, nullptr, {{"Authorization", std::string("Bearer ") + kAdminToken}});
  }
  Reply token_post(const std::string& path, const json& body) {
    return send("POST", path, &body, {{"Authorization", std::string("Bearer ") + kAdminToken}});
  }
  // As a browser: the cookie, and the CSRF header on a POST unless told otherwise.
  Reply get(const Browser& b, const std::string& path) {
    return send("GET", path, nullptr, {{"Cookie", "anoncode_session=" + b.cookie}});
  }
  Reply post(const Browser& b, const std::string& path, const json& body,
             std::optional<std::string> csrf = std::nullopt, bool send_csrf = true) {
    httplib::Headers h{{"Cookie", "theme=dark; anoncode_session=" + b.cookie}};
    if (send_csrf) h.emplace("X-CSRF-Token", csrf.value_or(b.csrf));
    return send("POST", path, &body, h);
  }
  Reply login_reply(const std::string& username, const std::string& password,
                    const httplib::Headers& headers = {}) {
    json body = {{"username", username}, {"password", password}};
    return send("POST", "/admin/v1/session/login", &body, headers);
  }
  Browser login(const std::string& username, const std::string& password = kPassword) {
    Reply r = login_reply(username, password);
    EXPECT_EQ(r.status, 200) << r.body;
    return Browser{cookie_value(r.set_cookie), r.body.value("csrf_token", "")};
  }
  void add_account(const std::string& username, const std::string& role) {
    Reply r = token_post("/admin/v1/accounts",
                         {{"username", username}, {"role", role}, {"password", kPassword}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  int64_t scalar(const std::string& sql, const std::vector<storage::Value>& params = {}) {
    int64_t v = 0;
    auto s = db_->transact([&](Tx& tx) -> Status {
      ANONCODE_TRY(auto row, tx.query_one(sql, params));
      v = (!row || row->is_null(0)) ? 0 : row->i64(0);
      return {};
    });
    EXPECT_TRUE(s.ok()) << s.error().message;
    return v;
  }
  void exec(const std::string& sql, const std::vector<storage::Value>& params = {}) {
    auto s = db_->transact([&](Tx& tx) -> Status {
      ANONCODE_CHECK(tx.exec(sql, params));
      return {};
    });
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  int64_t audited(const std::string& action) {
    return scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1", {action});
  }
  // Every audit entry's text, to check that nothing personal or secret is in it.
  std::string audit_text() {
    std::string all;
    auto s = db_->transact([&](Tx& tx) -> Status {
      ANONCODE_TRY(auto rows, tx.query("SELECT actor, action, target, details FROM audit_log"));
      for (const auto& r : rows) {
        all += r.text(0) + "|" + r.text(1) + "|" + r.text(2) + "|" + r.text(3) + "\n";
      }
      return {};
    });
    EXPECT_TRUE(s.ok());
    return all;
  }
  json whitelist() { return token_get("/admin/v1/whitelist").body; }

  // A registered rider who opens and then clones the credential: the privacy backend traces
  // the second show to the user id and writes the violation (seed 000 §2.7).
  void register_and_clone(const std::string& user_id) {
    Reply u = token_post("/admin/v1/users", {{"user_id", user_id},
                                             {"name", "张三"},
                                             {"id_number", "11010519491231002X"},
                                             {"phone", "13800138000"},
                                             {"card_no", "3104000012345678"}});
    ASSERT_EQ(u.status, 200) << u.body;
    const auto& issuer = privacy_->issuing_key();
    auto started =
        crypto::CredentialClient::begin_open(issuer, protocol::open_context_hash(user_id), rng_);
    auto resp = privacy_->open(user_id, started.request.encode(), now_);
    ASSERT_TRUE(resp.ok()) << resp.error().message;
    auto cred = crypto::CredentialClient::finish_issue(
        started.pending, *crypto::IssueResponse::decode(*resp), issuer);
    ASSERT_TRUE(cred.ok());
    for (int copy = 0; copy < 2; ++copy) {
      protocol::ShowContext ctx;
      ctx.op = crypto::ShowOp::kRecharge;
      ctx.wallet_b = "AAAAAAAAAAAAAAAAAAAAAAA" + std::to_string(copy);
      ctx.amount = 100;
      auto nonce = privacy_->new_nonce(now_);
      ASSERT_TRUE(nonce.ok());
      auto shown = crypto::CredentialClient::show(*cred, issuer, ctx.op, *nonce, ctx.hash(), rng_);
      ASSERT_TRUE(shown.ok());
      auto out = privacy_->show(shown->request.encode(), ctx, now_);
      if (copy == 0) {
        ASSERT_TRUE(out.ok()) << out.error().message;
      } else {
        ASSERT_FALSE(out.ok());
        EXPECT_EQ(out.error().code, ErrorCode::kSnReused);
      }
    }
    ASSERT_EQ(scalar("SELECT COUNT(*) FROM violations WHERE user_id = $1", {user_id}), 1);
  }

  crypto::SeededRng rng_{"console-test"};
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<privacy::PrivacyBackend> privacy_;
  std::unique_ptr<app::AppBackend> app_;
  platform::MemoryIdentityDirectory directory_;
  std::optional<crypto::Sm2PrivateKey> platform_key_;
  std::unique_ptr<platform::CodePlatform> platform_;
  std::unique_ptr<posfront::PosFront> pos_front_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<AdminAccounts> accounts_;
  std::unique_ptr<AdminAuth> auth_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::atomic<int64_t> now_{kT0};
};

// --- login, cookie, session -------------------------------------------------------------------

TEST_P(ConsoleTest, LoginSetsAnHttpOnlyStrictCookieAndKeepsNoSecretInTheDatabase) {
  add_account("olga", "operator");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM admin_accounts WHERE username = 'olga' AND "
                   "password_hash LIKE '$argon2id$%'"),
            1);

  Reply r = login_reply("olga", kPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["username"], "olga");
  EXPECT_EQ(r.body["role"], "operator");
  const std::string csrf = r.body.value("csrf_token", "");
  EXPECT_EQ(csrf.size(), 43u);
  EXPECT_EQ(r.cache_control, "no-store");
  const std::string id = cookie_value(r.set_cookie);
  EXPECT_EQ(id.size(), 43u) << r.set_cookie;
  for (const char* attr : {"; HttpOnly", "; SameSite=Strict", "; Path=/admin", "; Max-Age=28800"}) {
    EXPECT_NE(r.set_cookie.find(attr), std::string::npos) << attr << " in " << r.set_cookie;
  }
  EXPECT_EQ(r.set_cookie.find("Secure"), std::string::npos);
  // Behind a TLS proxy the cookie is Secure too.
  Reply tls = login_reply("olga", kPassword, {{"X-Forwarded-Proto", "https"}});
  EXPECT_NE(tls.set_cookie.find("; Secure"), std::string::npos) << tls.set_cookie;

  // The session answers with the same, and the database holds only the id's SM3.
  Reply s = get(Browser{id, csrf}, "/admin/v1/session");
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.body, (json{{"username", "olga"}, {"role", "operator"}, {"csrf_token", csrf}}));
  auto h = crypto::sm3(std::string_view(id));
  EXPECT_EQ(
      scalar("SELECT COUNT(*) FROM admin_sessions WHERE id_hash = $1", {Bytes(h.begin(), h.end())}),
      1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM admin_sessions WHERE id_hash = $1", {to_bytes(id)}), 0);
  EXPECT_EQ(audited("login"), 2);
  EXPECT_EQ(audit_text().find(kPassword), std::string::npos);

  // No cookie, a made-up cookie: 401.
  EXPECT_EQ(send("GET", "/admin/v1/session", nullptr, {}).status, 401);
  EXPECT_EQ(get(Browser{std::string(43, 'A'), ""}, "/admin/v1/session").status, 401);
  EXPECT_EQ(get(Browser{"nonsense", ""}, "/admin/v1/session").status, 401);
}

TEST_P(ConsoleTest, AWrongPasswordAndAnUnknownUserGetTheSameAnswer) {
  add_account("olga", "operator");
  Reply wrong = login_reply("olga", "not the password at all");
  Reply unknown = login_reply("nobody", "not the password at all");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.code(), "unauthorized");
  EXPECT_EQ(wrong.status, unknown.status);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(wrong.set_cookie, "");
  EXPECT_EQ(unknown.set_cookie, "");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM admin_sessions"), 0);
  // Both are audited; an unknown username is not written down (it may be a mistyped password).
  EXPECT_EQ(audited("login.failed"), 2);
  const std::string text = audit_text();
  EXPECT_NE(text.find("olga|login.failed"), std::string::npos) << text;
  EXPECT_EQ(text.find("nobody"), std::string::npos) << text;
  EXPECT_EQ(text.find("not the password"), std::string::npos) << text;
  // A malformed body is no login either.
  json no_password = {{"username", "olga"}};
  EXPECT_EQ(send("POST", "/admin/v1/session/login", &no_password, {}).code(), "invalid_argument");
}

TEST_P(ConsoleTest, FiveFailedLoginsWithinFifteenMinutesLockTheUsername) {
  add_account("olga", "operator");
  add_account("sam", "security_officer");
  for (int i = 0; i < 5; ++i) {
    now_ += 60'000;
    EXPECT_EQ(login_reply("olga", "guess number " + std::to_string(i)).status, 401);
  }
  // The sixth attempt is refused without looking at the password, even the right one.
  Reply limited = login_reply("olga", kPassword);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.code(), "rate_limited");
  EXPECT_EQ(limited.set_cookie, "");
  EXPECT_GE(audited("login.refused"), 1);
  // Another username is not affected; an unknown one is limited the same way.
  EXPECT_EQ(login_reply("sam", kPassword).status, 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(login_reply("ghost", "x" + std::to_string(i)).status, 401);
  EXPECT_EQ(login_reply("ghost", "x").status, 429);
  // 15 minutes after the first failures have aged out, the right password works again.
  now_ += 15 * 60'000;
  EXPECT_EQ(login_reply("olga", kPassword).status, 200);
}

TEST_P(ConsoleTest, ASessionEndsAfterEightIdleHoursAndAtLogout) {
  add_account("olga", "operator");
  Browser b = login("olga");
  now_ += 7 * kHourMs;
  EXPECT_EQ(get(b, "/admin/v1/session").status, 200);  // used: the idle clock restarts
  now_ += 7 * kHourMs;
  EXPECT_EQ(get(b, "/admin/v1/session").status, 200);
  now_ += 8 * kHourMs;
  Reply expired = get(b, "/admin/v1/session");
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.code(), "unauthorized");

  Browser c = login("olga");
  // Logout is a change: it needs the CSRF token.
  EXPECT_EQ(post(c, "/admin/v1/session/logout", json::object(), std::nullopt, false).status, 403);
  Reply out = post(c, "/admin/v1/session/logout", json::object());
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.set_cookie.find("Max-Age=0"), std::string::npos) << out.set_cookie;
  EXPECT_EQ(get(c, "/admin/v1/session").status, 401);
  EXPECT_EQ(post(c, "/admin/v1/whitelist/add", {{"user_id", "u1"}}).status, 401);
  EXPECT_EQ(audited("logout"), 1);
}

TEST_P(ConsoleTest, ADisabledAccountCanNeitherLogInNorUseItsSession) {
  add_account("olga", "operator");
  Browser b = login("olga");
  exec("UPDATE admin_accounts SET disabled = '1' WHERE username = 'olga'");
  EXPECT_EQ(get(b, "/admin/v1/session").status, 401);
  EXPECT_EQ(login_reply("olga", kPassword).status, 401);
}

// --- CSRF and roles ---------------------------------------------------------------------------

TEST_P(ConsoleTest, AChangeWithoutTheRightCsrfTokenIsForbiddenAndChangesNothing) {
  add_account("olga", "operator");
  Browser b = login("olga");
  Reply missing = post(b, "/admin/v1/whitelist/add", {{"user_id", "u1"}}, std::nullopt, false);
  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(missing.code(), "forbidden");
  Reply wrong = post(b, "/admin/v1/whitelist/add", {{"user_id", "u1"}}, std::string(43, 'x'));
  EXPECT_EQ(wrong.status, 403);
  // Another session's token is no good either.
  Browser other = login("olga");
  EXPECT_EQ(post(b, "/admin/v1/whitelist/all", {{"on", true}}, other.csrf).status, 403);
  EXPECT_EQ(whitelist()["whitelist"], (json{{"all", false}, {"users", json::array()}}));
  EXPECT_EQ(audited("whitelist.add"), 0);
  EXPECT_EQ(audited("whitelist.all"), 0);
  EXPECT_EQ(audited("access.denied"), 3);

  Reply ok = post(b, "/admin/v1/whitelist/add", {{"user_id", "u1"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body["whitelist"]["users"], json::array({"u1"}));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'whitelist.add' AND "
                   "actor = 'olga'"),
            1);
}

TEST_P(ConsoleTest, AnAuditorReadsButCannotWhitelistOrDecrypt) {
  register_and_clone("cheater");
  add_account("ann", "auditor");
  Browser b = login("ann");
  const int64_t entries_before = scalar("SELECT COUNT(*) FROM audit_log");

  Reply wl = post(b, "/admin/v1/whitelist/add", {{"user_id", "u1"}});
  EXPECT_EQ(wl.status, 403);
  EXPECT_EQ(wl.code(), "forbidden");
  Reply id = post(b, "/admin/v1/trace/identity", {{"user_id", "cheater"}});
  EXPECT_EQ(id.status, 403);
  EXPECT_FALSE(id.body.contains("name"));
  EXPECT_EQ(post(b, "/admin/v1/refill/run", json::object()).status, 403);
  EXPECT_EQ(post(b, "/admin/v1/terminals", {{"terminal", "T1"}, {"merchant", "M1"}}).status, 403);
  EXPECT_EQ(post(b, "/admin/v1/users", {{"user_id", "x"}}).status, 403);
  EXPECT_EQ(post(b, "/admin/v1/accounts",
                 {{"username", "evil"}, {"role", "security_officer"}, {"password", kPassword}})
                .status,
            403);
  // Nothing changed: the whitelist, the accounts, and the log has only the refusals.
  EXPECT_EQ(whitelist()["whitelist"]["users"], json::array());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM admin_accounts"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log"), entries_before + 6);
  EXPECT_EQ(audited("access.denied"), 6);
  EXPECT_EQ(audited("whitelist.add") + audited("identity.decrypt") + audited("refill.run"), 0);

  // What an auditor may read.
  for (const char* path : {"/admin/v1/dashboard", "/admin/v1/violations", "/admin/v1/whitelist",
                           "/admin/v1/keys", "/admin/v1/refill", "/admin/v1/audit",
                           "/admin/v1/audit/verify", "/admin/v1/trace?user_id=cheater"}) {
    Reply r = get(b, path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  }
  EXPECT_EQ(get(b, "/admin/v1/audit/verify").body["ok"], true);
}

TEST_P(ConsoleTest, AnOperatorChangesWhatOperatorsChangeAndNothingElse) {
  register_and_clone("cheater");
  add_account("olga", "operator");
  Browser b = login("olga");
  EXPECT_EQ(post(b, "/admin/v1/whitelist/add", {{"user_ids", {"u2", "u1"}}}).status, 200);
  EXPECT_EQ(post(b, "/admin/v1/whitelist/remove", {{"user_id", "u2"}}).status, 200);
  EXPECT_EQ(post(b, "/admin/v1/whitelist/all", {{"on", true}}).status, 200);
  EXPECT_EQ(whitelist()["whitelist"], (json{{"all", true}, {"users", {"u1"}}}));
  Reply t = post(b, "/admin/v1/terminals", {{"terminal", "T1"}, {"merchant", "M1"}});
  EXPECT_EQ(t.status, 200) << t.body;
  Reply refill = post(b, "/admin/v1/refill/run", json::object());
  EXPECT_EQ(refill.status, 200) << refill.body;
  EXPECT_EQ(refill.body, (json{{"moved", 0}}));
  // Not an operator's: tracing, decrypting, the audit log.
  EXPECT_EQ(get(b, "/admin/v1/trace?user_id=cheater").status, 403);
  EXPECT_EQ(post(b, "/admin/v1/trace/identity", {{"user_id", "cheater"}}).status, 403);
  EXPECT_EQ(get(b, "/admin/v1/audit").status, 403);
  // Every change is in the log under the operator's name, and no terminal key is.
  for (const char* action :
       {"whitelist.add", "whitelist.remove", "whitelist.all", "terminal.add", "refill.run"}) {
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND actor = 'olga'",
                     {std::string(action)}),
              1)
        << action;
  }
  EXPECT_EQ(audit_text().find(t.body.value("terminal_key", "?")), std::string::npos);
  auto v = audit_->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->reason;
}

TEST_P(ConsoleTest, ASecurityOfficerDecryptsATracedUserOnlyAndIsAudited) {
  register_and_clone("cheater");
  Reply innocent = token_post("/admin/v1/users", {{"user_id", "innocent"},
                                                  {"name", "李四"},
                                                  {"id_number", "110105199001011234"},
                                                  {"phone", "13900139000"},
                                                  {"card_no", "3104000099999999"}});
  ASSERT_EQ(innocent.status, 200);
  add_account("sol", "security_officer");
  Browser b = login("sol");

  Reply id = post(b, "/admin/v1/trace/identity", {{"user_id", "cheater"}});
  ASSERT_EQ(id.status, 200) << id.body;
  EXPECT_EQ(id.body, (json{{"user_id", "cheater"},
                           {"name", "张三"},
                           {"id_number", "11010519491231002X"},
                           {"phone", "13800138000"},
                           {"card_no", "3104000012345678"}}));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'identity.decrypt' AND "
                   "actor = 'sol' AND target = 'cheater'"),
            1);
  // The log names who and whom, never what was revealed.
  const std::string text = audit_text();
  for (const char* pii : {"张三", "11010519491231002X", "13800138000", "3104000012345678"}) {
    EXPECT_EQ(text.find(pii), std::string::npos) << pii;
  }

  // A user no violation names is not decrypted (nor is anybody unknown).
  Reply refused = post(b, "/admin/v1/trace/identity", {{"user_id", "innocent"}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_FALSE(refused.body.contains("name"));
  EXPECT_EQ(post(b, "/admin/v1/trace/identity", {{"user_id", "nobody"}}).status, 403);
  EXPECT_EQ(audited("identity.decrypt"), 1);
  // Without the CSRF token, not even a traced one.
  EXPECT_EQ(
      post(b, "/admin/v1/trace/identity", {{"user_id", "cheater"}}, std::nullopt, false).status,
      403);
  EXPECT_EQ(audited("identity.decrypt"), 1);
  // A security officer reads, traces, but does not change the whitelist.
  EXPECT_EQ(get(b, "/admin/v1/trace?user_id=cheater").status, 200);
  EXPECT_EQ(audited("trace.view"), 1);
  EXPECT_EQ(post(b, "/admin/v1/whitelist/all", {{"on", true}}).status, 403);
  // The admin token may decrypt too (the CLI), audited as admin-token.
  EXPECT_EQ(token_post("/admin/v1/trace/identity", {{"user_id", "cheater"}}).status, 200);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'identity.decrypt' AND "
                   "actor = 'admin-token'"),
            1);
}

// DESIGN §3.6 rule 2: a re-open is a security officer's audited action that retires the old J.
TEST_P(ConsoleTest, OnlyASecurityOfficerRetiresAnIdentityAndItIsAudited) {
  register_and_clone("lost");
  add_account("ops", "operator");
  add_account("aud", "auditor");
  add_account("sol", "security_officer");
  const json body = {{"user_id", "lost"}, {"reason", "phone lost, no backup"}};
  EXPECT_EQ(post(login("ops"), "/admin/v1/identity/retire", body).status, 403);
  EXPECT_EQ(post(login("aud"), "/admin/v1/identity/retire", body).status, 403);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM retired_identities"), 0);
  Browser b = login("sol");
  EXPECT_EQ(post(b, "/admin/v1/identity/retire", {{"user_id", "lost"}}).status, 400);
  EXPECT_EQ(post(b, "/admin/v1/identity/retire", body, std::nullopt, false).status, 403);
  Reply ok = post(b, "/admin/v1/identity/retire", body);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, (json{{"user_id", "lost"}, {"status", "retired"}}));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'identity.retire' AND "
                   "actor = 'sol' AND target = 'lost'"),
            1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM retired_identities WHERE user_id = 'lost'"), 1);
  // Nothing left to retire: refused, and not audited twice.
  EXPECT_EQ(post(b, "/admin/v1/identity/retire", body).status, 404);
  EXPECT_EQ(audited("identity.retire"), 1);
  // The user opens again, with a new J; once.
  const auto& issuer = privacy_->issuing_key();
  auto again =
      crypto::CredentialClient::begin_open(issuer, protocol::open_context_hash("lost"), rng_);
  EXPECT_TRUE(privacy_->open("lost", again.request.encode(), now_).ok());
  auto third =
      crypto::CredentialClient::begin_open(issuer, protocol::open_context_hash("lost"), rng_);
  EXPECT_EQ(privacy_->open("lost", third.request.encode(), now_).error().code,
            ErrorCode::kAlreadyOpened);
}

TEST_P(ConsoleTest, TheAdminTokenStillDoesEverythingAndOnlyItManagesAccounts) {
  Reply wl = token_post("/admin/v1/whitelist/add", {{"user_id", "u1"}});
  EXPECT_EQ(wl.status, 200);
  EXPECT_EQ(wl.cache_control, "no-store");
  EXPECT_EQ(wl.set_cookie, "");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'whitelist.add' AND "
                   "actor = 'admin-token'"),
            1);
  EXPECT_EQ(token_get("/admin/v1/session").body["username"], "admin-token");
  // A wrong token is 401, whatever cookie comes with it; no credentials at all is 401.
  add_account("olga", "operator");
  Browser b = login("olga");
  Reply wrong =
      send("GET", "/admin/v1/whitelist", nullptr,
           {{"Authorization", "Bearer wrong"}, {"Cookie", "anoncode_session=" + b.cookie}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(send("GET", "/admin/v1/whitelist", nullptr, {}).status, 401);

  // Accounts: validated, unique, and created with the token only.
  EXPECT_EQ(token_post("/admin/v1/accounts",
                       {{"username", "olga"}, {"role", "auditor"}, {"password", kPassword}})
                .code(),
            "conflict");
  EXPECT_EQ(token_post("/admin/v1/accounts",
                       {{"username", "root"}, {"role", "superuser"}, {"password", kPassword}})
                .code(),
            "invalid_argument");
  EXPECT_EQ(token_post("/admin/v1/accounts",
                       {{"username", "shorty"}, {"role", "auditor"}, {"password", "short"}})
                .code(),
            "invalid_argument");
  EXPECT_EQ(token_post("/admin/v1/accounts",
                       {{"username", "admin-token"}, {"role", "auditor"}, {"password", kPassword}})
                .code(),
            "invalid_argument");
  EXPECT_EQ(post(b, "/admin/v1/accounts",
                 {{"username", "x"}, {"role", "auditor"}, {"password", kPassword}})
                .status,
            403);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'account.add'"), 1);
}

TEST_P(ConsoleTest, TheTokenDisablesAnAccountAndItsSessionsAndEnablesItAgain) {
  add_account("olga", "operator");
  add_account("ann", "auditor");
  Browser b = login("olga");
  Reply off = token_post("/admin/v1/accounts/disable", {{"username", "olga"}, {"disabled", true}});
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(get(b, "/admin/v1/session").status, 401);
  EXPECT_EQ(login_reply("olga", kPassword).status, 401);
  EXPECT_EQ(
      token_post("/admin/v1/accounts/disable", {{"username", "nobody"}, {"disabled", true}}).code(),
      "not_found");
  // Only the token manages accounts; auditors (and security officers) may list them.
  Browser a = login("ann");
  EXPECT_EQ(
      post(a, "/admin/v1/accounts/disable", {{"username", "olga"}, {"disabled", false}}).status,
      403);
  Reply listed = get(a, "/admin/v1/accounts");
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.body["accounts"].size(), 2u);
  EXPECT_EQ(
      listed.body["accounts"][1],
      (json{{"username", "olga"}, {"role", "operator"}, {"created_at", kT0}, {"disabled", true}}));
  EXPECT_EQ(listed.body.dump().find("argon2"), std::string::npos);

  EXPECT_EQ(
      token_post("/admin/v1/accounts/disable", {{"username", "olga"}, {"disabled", false}}).status,
      200);
  Browser again = login("olga");
  EXPECT_EQ(get(again, "/admin/v1/session").status, 200);
  EXPECT_EQ(get(again, "/admin/v1/accounts").status, 403);  // not an operator's
  EXPECT_EQ(audited("account.disable"), 1);
  EXPECT_EQ(audited("account.enable"), 1);
}

// --- what the console reads -------------------------------------------------------------------

TEST_P(ConsoleTest, DashboardSearchRefillAndKeys) {
  const int64_t yesterday = kT0 - 24 * kHourMs;
  const std::string acc = "6200000000000000001", b1 = "ABCDEFGHIJKLMNOPQRSTUVWX",
                    b2 = "ABCDEFGHIJKLMNOPQRSTUVW2", seq = "nm12345678901234";
  exec(
      "INSERT INTO anonymous_wallet_accounts (b, balance, total_recharge_amount, accountid, "
      "creation_date, wallet_public_key, is_deactivated, superseded_by) "
      "VALUES ($1, 1000, 1000, $2, $3, $4, '1', $5)",
      {b1, acc, yesterday, Bytes(65, 4), b2});
  exec(
      "INSERT INTO anonymous_wallet_accounts (b, balance, total_recharge_amount, accountid, "
      "creation_date, wallet_public_key, previous_b) VALUES ($1, 1300, 1500, $2, $3, $4, $5)",
      {b2, acc, kT0, Bytes(65, 4), b1});
  auto txn = [&](const std::string& id, const std::string& type, int64_t amount, int64_t at,
                 const std::string& state) {
    exec(
        "INSERT INTO wallet_transactions (txn_id, b, accountid, transaction_date, amount, "
        "transaction_type, state) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {id, b2, acc, at, amount, type, state});
  };
  txn("T1", "01", 1000, yesterday, "02");
  txn("T2", "01", 500, kT0, "02");
  txn("T3", "02", 200, kT0 + 1, "00");
  txn("T4", "04", 300, kT0 + 2, "01");
  txn("T5", "04", 50, kT0 + 3, "09");  // reversed: not counted
  exec(
      "INSERT INTO code_requests (sequence, b, accountid, issued_at, expires_at, used_count) "
      "VALUES ($1, $2, $3, $4, $5, 2)",
      {seq, b2, acc, kT0, kT0 + 120'000});
  exec(
      "INSERT INTO rides (terminal, counter, merchant, sequence, accountid, b, amount, "
      "scanned_at, settled_at, copy_risk, txn_id) VALUES ('T001', 1, 'M1', $1, $2, $3, 200, $4, "
      "$4, '0', 'T3'), ('T002', 7, 'M1', $1, $2, $3, 200, $4, $5, '1', NULL)",
      {seq, acc, b2, kT0, yesterday});
  exec(
      "INSERT INTO terminals (terminal, merchant, key_sealed, created_at, last_seen_at) VALUES "
      "('T001', 'M1', $1, $2, $3), ('T002', 'M1', $1, $2, NULL)",
      {Bytes(48, 1), yesterday, kT0});
  exec(
      "INSERT INTO violations (id, kind, b, accountid, detected_at) VALUES "
      "('V1', 'copy', $1, $2, $3)",
      {b2, acc, kT0});
  exec(
      "INSERT INTO purse_refund_record (id, register_date, accountid_old, accountid_new, due_at, "
      "modify_date, state) VALUES ('PR1', $1, $2, '6200000000000000002', $3, $1, '00')",
      {yesterday, acc, kT0 + 6 * 24 * kHourMs});
  exec(
      "INSERT INTO purse_refund_record (id, register_date, accountid_old, accountid_new, due_at, "
      "transaction_date, amount, modify_date, state) VALUES ('PR0', $1, '6200000000000000009', "
      "$2, $1, $1, 70, $1, '01')",
      {yesterday - 8 * 24 * kHourMs, acc});

  add_account("ann", "auditor");
  Browser b = login("ann");
  Reply d = get(b, "/admin/v1/dashboard");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(d.body["day_start"], kT0 - 16 * kHourMs);  // 2025-11-24T00:00:00Z
  EXPECT_EQ(d.body["recharges"], (json{{"count", 1}, {"amount", 500}}));
  EXPECT_EQ(d.body["rides"], (json{{"count", 1}, {"amount", 200}}));
  EXPECT_EQ(d.body["refunds"], (json{{"count", 1}, {"amount", 300}}));
  EXPECT_EQ(d.body["open_violations"], 1);
  EXPECT_EQ(d.body["violations_by_kind"], (json{{"copy", 1}}));
  ASSERT_EQ(d.body["terminals"].size(), 2u);
  EXPECT_EQ(d.body["terminals"][0]["last_seen_at"], kT0);
  EXPECT_TRUE(d.body["terminals"][1]["last_seen_at"].is_null());

  for (const std::string& q : {acc, b1, seq}) {
    Reply s = get(b, "/admin/v1/search?q=" + q);
    ASSERT_EQ(s.status, 200) << q << ": " << s.body;
    EXPECT_EQ(s.body["found"], true) << q;
    EXPECT_EQ(s.body["accountid"], acc);
    ASSERT_EQ(s.body["wallets"].size(), 2u) << q;
    EXPECT_EQ(s.body["wallets"][0]["wallet"], b1);
    EXPECT_EQ(s.body["wallets"][1]["balance"], 1300);
    ASSERT_EQ(s.body["transactions"].size(), 5u);
    EXPECT_EQ(s.body["transactions"][0]["txn_id"], "T1");  // oldest first
    EXPECT_EQ(s.body["transactions"][2]["kind"], "ride");
  }
  Reply by_seq = get(b, "/admin/v1/search?q=" + seq);
  EXPECT_EQ(by_seq.body["kind"], "sequence");
  EXPECT_EQ(by_seq.body["code"]["used_count"], 2);
  ASSERT_EQ(by_seq.body["rides"].size(), 2u);
  EXPECT_EQ(get(b, "/admin/v1/search?q=6200000000000000777").body["found"], false);
  EXPECT_EQ(get(b, "/admin/v1/search?q=robert%27%29%3B%20DROP%20TABLE%20rides%3B--").code(),
            "invalid_argument");
  EXPECT_EQ(get(b, "/admin/v1/search").code(), "invalid_argument");

  Reply r = get(b, "/admin/v1/refill");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.body["pending"].size(), 1u);
  EXPECT_EQ(r.body["pending"][0]["id"], "PR1");
  EXPECT_EQ(r.body["pending"][0]["state"], "pending");
  EXPECT_TRUE(r.body["pending"][0]["amount"].is_null());
  ASSERT_EQ(r.body["done"].size(), 1u);
  EXPECT_EQ(r.body["done"][0]["amount"], 70);

  Reply k = get(b, "/admin/v1/keys");
  ASSERT_EQ(k.status, 200) << k.body;
  ASSERT_EQ(k.body["issuer_keys"].size(), 1u);
  EXPECT_EQ(k.body["issuer_keys"][0]["kid"], to_hex(privacy_->issuing_key().kid()));
  EXPECT_EQ(k.body["issuer_keys"][0]["active"], true);
  EXPECT_EQ(k.body["issuer_keys"][0]["group"], std::string(crypto::service_test_group().name()));
  ASSERT_EQ(k.body["platform_keys"].size(), 1u);
  EXPECT_EQ(k.body["platform_keys"][0]["valid_from"], kT0 - kHourMs);
}

TEST_P(ConsoleTest, TheAuditLogOverHttpNewestFirstAndItsVerification) {
  add_account("ann", "auditor");
  for (int i = 0; i < 4; ++i)
    token_post("/admin/v1/whitelist/add", {{"user_id", "u" + std::to_string(i)}});
  Browser b = login("ann");  // entries: account.add, 4 × whitelist.add, login = 6
  Reply page = get(b, "/admin/v1/audit?limit=2");
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_EQ(page.body["entries"].size(), 2u);
  EXPECT_EQ(page.body["entries"][0]["seq"], 6);
  EXPECT_EQ(page.body["entries"][0]["action"], "login");
  EXPECT_EQ(page.body["entries"][1]["details"], (json{{"user_ids", {"u3"}}}));
  EXPECT_EQ(page.body["next_before_seq"], 5);
  Reply older = get(b, "/admin/v1/audit?limit=10&before_seq=5");
  ASSERT_EQ(older.body["entries"].size(), 4u);
  EXPECT_EQ(older.body["entries"][3]["action"], "account.add");
  EXPECT_TRUE(older.body["next_before_seq"].is_null());
  EXPECT_EQ(get(b, "/admin/v1/audit?limit=0").code(), "invalid_argument");
  EXPECT_EQ(get(b, "/admin/v1/audit?limit=abc").code(), "invalid_argument");

  Reply v = get(b, "/admin/v1/audit/verify");
  EXPECT_EQ(v.body["ok"], true);
  EXPECT_EQ(v.body["entries"], 6);
  EXPECT_TRUE(v.body["first_broken_seq"].is_null());
  exec("UPDATE audit_log SET details = '{\"user_ids\":[\"someone else\"]}' WHERE seq = 3");
  v = token_get("/admin/v1/audit/verify");
  EXPECT_EQ(v.body["ok"], false);
  EXPECT_EQ(v.body["first_broken_seq"], 3);
}

TEST_P(ConsoleTest, TextThatIsNotUtf8IsRefusedAndStoredTextStillRenders) {
  add_account("ann", "security_officer");
  Browser b = login("ann");
  const int64_t entries = scalar("SELECT COUNT(*) FROM audit_log");
  // A trace query that is not UTF-8 is refused before the handler runs: nothing is audited.
  for (const char* path : {"/admin/v1/trace?user_id=%FF", "/admin/v1/trace?user_id=a%C0%AFb"}) {
    Reply r = get(b, path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.code(), "invalid_argument") << path;
    EXPECT_EQ(token_get(path).code(), "invalid_argument") << path;
  }
  // So is a body holding such text.
  auto raw = client_->Post("/admin/v1/trace/identity",
                           {{"Authorization", std::string("Bearer ") + kAdminToken}},
                           "{\"user_id\":\"\xff\"}", "application/json");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 400);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log"), entries);
  EXPECT_EQ(get(b, "/admin/v1/audit?limit=1000").status, 200);

  // An entry with ill-formed bytes that got in some other way (an older version, a hand edit):
  // the audit pages still answer, with U+FFFD in their place. PostgreSQL cannot hold such text.
  if (db_->dialect() == "sqlite") {
    const int64_t seq = entries + 1;
    exec(
        "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        {seq, now_.load(), std::string("ann"), std::string("trace.view"), std::string("u\xff"),
         std::string("{\"note\":\"\xc0\xaf\"}"), Bytes(32, 0), Bytes(32, 0)});
    Reply page = get(b, "/admin/v1/audit?limit=1000");
    ASSERT_EQ(page.status, 200) << page.body;
    ASSERT_EQ(page.body["entries"][0]["seq"], seq);
    EXPECT_EQ(page.body["entries"][0]["target"], "u\xef\xbf\xbd");
    EXPECT_NE(page.body["entries"][0]["details"].get<std::string>().find("\xef\xbf\xbd"),
              std::string::npos);
    Reply verified = get(b, "/admin/v1/audit/verify");
    ASSERT_EQ(verified.status, 200);
    EXPECT_EQ(verified.body["ok"], false);  // the hand-made entry does not chain
    EXPECT_EQ(verified.body["first_broken_seq"], seq);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsoleTest,
                         ::testing::ValuesIn(storage::testing::test_backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace anoncode::console
