// `anoncode serve --data DIR [--listen HOST:PORT] [--db URL] [--services LIST]`: every service in
// one process, or a chosen subset, on one database (DESIGN §5). Logs JSON lines on stderr; stops
// gracefully on SIGINT or SIGTERM (requests in progress finish) and then prints
// {"status":"stopped"}.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "app/app_backend.h"
#include "app/app_http.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "console/admin_accounts.h"
#include "console/admin_auth.h"
#include "console/audit_log.h"
#include "console/console_api.h"
#include "console/console_http.h"
#include "crypto/credential.h"
#include "crypto/sm2.h"
#include "crypto/sm3.h"
#include "datadir/config.h"
#include "net/tls.h"
#include "platform/platform.h"
#include "platform/platform_http.h"
#include "posfront/posfront.h"
#include "posfront/posfront_http.h"
#include "privacy/privacy_backend.h"
#include "privacy/privacy_http.h"
#include "privacy/privacy_store.h"
#include "server/auth.h"
#include "server/clock.h"
#include "server/http_server.h"
#include "server/log.h"
#include "storage/db.h"
#include "web/console.h"

namespace anoncode::cli {

namespace {

const std::set<std::string>& known_services() {
  static const std::set<std::string> all = {"privacy", "app", "platform", "posfront", "admin"};
  return all;
}

Result<std::set<std::string>> parse_services(const std::string& list) {
  if (list.empty() || list == "all") return known_services();
  std::set<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    if (known_services().count(item) == 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown service '" + item + "' (privacy, app, platform, posfront, admin)");
    }
    out.insert(item);
  }
  if (out.empty()) return make_error(ErrorCode::kInvalidArgument, "--services names no service");
  return out;
}

// The platform finds a refund's user through the app backend's registered riders.
class AppIdentityDirectory final : public platform::IdentityDirectory {
 public:
  explicit AppIdentityDirectory(app::AppBackend& app) : app_(app) {}
  Result<std::string> user_for(std::string_view name, std::string_view id_number) override {
    return app_.resolve_user(name, id_number);
  }

 private:
  app::AppBackend& app_;
};

// Publishes the platform's QR key for POS terminals: valid from its first publication (kept
// across restarts, so codes signed before a restart stay valid) for a year from now.
Status publish_platform_key(platform::CodePlatform& p, const crypto::Sm2PrivateKey& key) {
  constexpr int64_t kYearMs = 365LL * 86'400'000;
  auto digest = crypto::sm3(ByteView(key.public_key().to_bytes()));
  int64_t now = server::system_now_ms();
  int64_t valid_from = now;
  ANONCODE_TRY(auto published, p.keys());
  for (const auto& k : published) {
    if (std::equal(k.kid.begin(), k.kid.end(), digest.begin())) valid_from = k.valid_from;
  }
  return p.publish_signing_key(valid_from, now + kYearMs);
}

struct ServeOptions {
  std::string data, listen, db, services = "all";
  bool plain_http = false;
};

// DESIGN §3.6 rule 5: HTTPS unless the operator asked for plain HTTP, and then on loopback only.
// The certificate is (re)issued here when missing or near its end, and said so in the log.
Status configure_tls(const datadir::Config& c, bool plain_http, server::ServerOptions& opts) {
  if (plain_http || !c.tls) {
    if (!net::is_loopback_host(opts.host)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "plain HTTP is only allowed on a loopback address (listen is " + c.listen +
                            "); enable [tls] or listen on 127.0.0.1");
    }
    server::log_warn("plain_http", {{"note",
                                     "TLS is off: every request, token and reply travels in "
                                     "clear; only for a TLS-terminating proxy on this host"}});
    return {};
  }
  ANONCODE_TRY(datadir::TlsFiles tls, datadir::ensure_tls_files(c.data_dir, c.tls_hostnames));
  if (tls.created_ca) {
    server::log_warn("tls_ca_created", {{"ca_sha256", tls.ca_fingerprint},
                                        {"note",
                                         "this data directory had no TLS CA: a new one was made; "
                                         "give clients its tls_ca.pem"}});
  }
  if (tls.issued_certificate) {
    server::log_info("tls_certificate_issued",
                     {{"names", tls.names}, {"not_after", tls.not_after}});
  }
  opts.tls_cert_file = tls.cert.string();
  opts.tls_key_file = tls.key.string();
  return {};
}

// Stops the server on SIGINT/SIGTERM. The signals are blocked in every thread (set before any
// thread starts) and taken by sigwait here, so the stop runs as ordinary code, not in a handler.
class SignalStopper {
 public:
  explicit SignalStopper(server::HttpServer& http) : http_(http) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (!done_) {
        server::log_info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
        http_.stop();
      }
    });
  }
  ~SignalStopper() {
    // Serving ended by itself: wake the waiting thread.
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }

 private:
  server::HttpServer& http_;
  sigset_t set_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int serve(const ServeOptions& o) {
  auto config = datadir::load_config(o.data);
  if (!config) return print_error(config.error());
  datadir::Config c = *config;
  if (!o.listen.empty()) c.listen = o.listen;
  if (!o.db.empty()) c.db_url = o.db;
  auto services = parse_services(o.services);
  if (!services) return print_error(services.error());
  auto listen = datadir::parse_listen(c.listen);
  if (!listen) return print_error(listen.error());
  auto secrets = datadir::load_secrets(c.data_dir);
  if (!secrets) return print_error(secrets.error());

  auto group = crypto::group_by_name(c.group);
  if (!group) return print_error(group.error());
  auto issuer = crypto::IssuerKey::decode_secret(secrets->issuer_key);
  if (!issuer) return print_error(make_error(ErrorCode::kMalformed, "issuer_key does not decode"));
  if (&issuer->public_key().group() != *group) {
    return print_error(make_error(ErrorCode::kInvalidArgument,
                                  "issuer_key is for group " +
                                      std::string(issuer->public_key().group().name()) +
                                      " but the configuration says " + c.group));
  }

  auto db = storage::Db::open(c.db_url);
  if (!db) return print_error(db.error());
  storage::Db& database = **db;

  std::vector<crypto::IssuerKey> keys;
  keys.push_back(*issuer);
  privacy::PrivacyBackend privacy(database, **group, std::move(keys));
  auto app = app::AppBackend::create(database, privacy, secrets->pii_key);
  if (!app) return print_error(app.error());

  // A descriptor per connection: up to max_connections of them.
  const size_t open_files = server::raise_open_files_limit();
  server::ServerOptions opts;
  opts.host = listen->first;
  opts.port = listen->second;
  opts.threads = static_cast<size_t>(c.threads);
  opts.trusted_proxies = c.trusted_proxies;
  opts.max_connections = static_cast<size_t>(c.max_connections);
  opts.max_connections_per_address = static_cast<size_t>(c.max_connections_per_address);
  opts.max_queued_requests = static_cast<size_t>(c.max_queued_requests);
  opts.header_timeout = std::chrono::seconds(c.header_timeout_seconds);
  opts.body_timeout = std::chrono::seconds(c.body_timeout_seconds);
  opts.idle_timeout = std::chrono::seconds(c.idle_timeout_seconds);
  opts.write_timeout = std::chrono::seconds(c.write_timeout_seconds);
  if (auto st = configure_tls(c, o.plain_http, opts); !st) return print_error(st.error());
  server::HttpServer http(opts);
  http.set_health_check([&database]() -> Status {
    return database.transact([](storage::Tx& tx) -> Status {
      ANONCODE_CHECK(tx.query("SELECT 1"));
      return {};
    });
  });

  const auto& s = *services;
  if (s.count("privacy")) {
    // DESIGN §3.6 rule 4: the issuer keys in force, signed by the operator's root key.
    // A root key is made only for a data directory that never published a key set: once one was,
    // a missing root key is an operator's mistake, and a second root would split the clients.
    std::error_code ec;
    if (!std::filesystem::exists(c.data_dir / datadir::kRootKeyFile, ec) &&
        privacy.latest_keyset().ok()) {
      return print_error(make_error(ErrorCode::kConflict,
                                    std::string(datadir::kRootKeyFile) +
                                        " is missing but issuer key sets were published with it: "
                                        "restore it from the backup"));
    }
    bool created = false;
    auto root = datadir::load_or_create_root_key(c.data_dir, &created);
    if (!root) return print_error(root.error());
    if (created) {
      server::log_warn("root_key_created",
                       {{"note",
                         "this data directory had no root key: a new one was made; give "
                         "clients its trust_root file"}});
    }
    constexpr int64_t kIssuerKeyValidityMs = 365LL * 86'400'000;
    auto published = privacy.publish_keyset(*root, server::system_now_ms(), kIssuerKeyValidityMs);
    if (!published) return print_error(published.error());
    privacy::register_privacy_routes(http, privacy, server::token_hash(secrets->service_token));
  }
  if (s.count("app")) app::register_app_routes(http, **app);
  // The console's accounts, sessions and audit log: one authorization path for /admin/v1.
  console::AuditLog audit(database);
  console::AdminAccounts accounts(database);
  console::AdminAuth admin_auth(accounts, audit, server::token_hash(secrets->admin_token));
  if (s.count("admin")) {
    console::register_console_routes(http, admin_auth);
    app::register_admin_routes(http, **app, admin_auth);
  }
  // The code platform and the POS front (which forwards rides to the platform in-process). The
  // payment channels are the bundled SIMULATOR (platform/payment_channel.h): a deployment plugs
  // in the real ones.
  auto signing_key = crypto::Sm2PrivateKey::from_pem(secrets->platform_key_pem);
  if (!signing_key) {
    return print_error(make_error(ErrorCode::kMalformed, "platform_key.pem does not decode"));
  }
  auto pii_aead = crypto::Sm4Aead::create(secrets->pii_key);
  if (!pii_aead) return print_error(pii_aead.error());
  AppIdentityDirectory identities(**app);
  platform::PlatformOptions platform_options;
  platform_options.refill_delay_ms = c.refill_delay_seconds * 1000;
  platform_options.code_lifetime_ms = c.code_validity_seconds * 1000;
  platform_options.clock_skew_ms = c.clock_skew_seconds * 1000;
  platform_options.upload_window_ms = c.upload_window_seconds * 1000;
  platform_options.max_ride_amount = c.max_fare_fen;
  platform::CodePlatform code_platform(database, privacy, *signing_key,
                                       platform::PaymentChannels::simulated(), identities,
                                       *pii_aead, platform_options);
  if (auto st = publish_platform_key(code_platform, *signing_key); !st) {
    return print_error(st.error());
  }
  posfront::PosFront pos_front(database, code_platform, *pii_aead);
  if (s.count("platform")) {
    platform::register_platform_routes(http, code_platform);
    server::log_warn("simulated_payment_channels",
                     {{"channels", {"020001", "010002", "010001"}},
                      {"note", "payments are simulated; plug in real channels to take money"}});
  }
  if (s.count("posfront")) posfront::register_posfront_routes(http, pos_front);
  if (s.count("admin")) {
    console::register_console_api_routes(http, admin_auth, database, **app, code_platform, privacy);
    posfront::register_posfront_admin_routes(http, pos_front, admin_auth);
    web::register_console(http);  // the admin console's pages, under /admin/
  }
  // Queue depths for /metrics, read from the database at each scrape.
  // A count from a service's store as a gauge: none when the database did not answer.
  auto count_of = [&database](Result<int64_t> (*count)(storage::Tx&)) {
    return [&database, count]() -> std::optional<double> {
      std::optional<double> n;
      auto st = database.transact([&](storage::Tx& tx) -> Status {
        ANONCODE_TRY(int64_t c, count(tx));
        n = static_cast<double>(c);
        return {};
      });
      return st.ok() ? n : std::nullopt;
    };
  };
  // A platform count as a gauge: none when the database did not answer.
  auto platform_count = [&code_platform](Result<int64_t> (platform::CodePlatform::*count)()) {
    return [&code_platform, count]() -> std::optional<double> {
      auto n = (code_platform.*count)();
      return n.ok() ? std::optional<double>(static_cast<double>(*n)) : std::nullopt;
    };
  };
  http.add_gauge("anoncode_refill_pending", "Strong-mode balances waiting for the refill job.",
                 platform_count(&platform::CodePlatform::pending_refill_count));
  http.add_gauge("anoncode_platform_requests_pending",
                 "Wallet requests claimed but not finished (should stay near 0; see OPERATIONS).",
                 platform_count(&platform::CodePlatform::pending_request_count));
  http.add_gauge("anoncode_violations", "Violations recorded (clones and copy risks).",
                 count_of(&privacy::store::count_violations));
  std::vector<std::string> running(s.begin(), s.end());

  auto port = http.bind();
  if (!port) return print_error(port.error());
  Status served;
  {
    SignalStopper stopper(http);
    server::log_info("listening", {{"url", http.url()},
                                   {"services", running},
                                   {"group", c.group},
                                   {"database", std::string(database.dialect())},
                                   {"open_files_limit", open_files}});
    served = http.serve();
  }
  if (!served) return print_error(served.error());
  server::log_info("stopped");
  return print_ok({{"status", "stopped"}});
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  static ServeOptions o;
  auto* cmd = app.add_subcommand("serve", "run the services (logs JSON lines on stderr)");
  cmd->add_option("--data", o.data, "the data directory (anoncode init)")->required();
  cmd->add_option("--listen", o.listen, "HOST:PORT (default: the configuration's)");
  cmd->add_option("--db", o.db, "database URL (default: the configuration's)");
  cmd->add_flag("--plain-http", o.plain_http,
                "serve plain HTTP instead of HTTPS (loopback only, e.g. behind a local TLS proxy)");
  cmd->add_option("--services", o.services,
                  "all, or a comma-separated subset of privacy,app,platform,posfront,admin");
  cmd->callback([&action] { action = [] { return serve(o); }; });
}

}  // namespace anoncode::cli
