// The data directory: init writes the configuration and secrets (mode 0600) and never
// overwrites; load reads them back and refuses what it should.
#include "datadir/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "crypto/credential.h"
#include "crypto/sm2.h"
#include "protocol/qr_payload.h"

namespace anoncode::datadir {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("anoncode-config-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path root_;
};

TEST_F(ConfigTest, InitWritesConfigAndSecretsWithMode0600) {
  fs::path dir = root_ / "data";
  auto r = init_data_dir({dir, std::nullopt, "ristretto255"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(mode_of(dir), 0700u);
  for (const char* f : {kConfigFile, kAdminTokenFile, kServiceTokenFile, kIssuerKeyFile,
                        kPlatformKeyFile, kPiiKeyFile}) {
    EXPECT_EQ(mode_of(dir / f), 0600u) << f;
  }
  EXPECT_EQ(r->issuer_kid.size(), 16u);
  EXPECT_EQ(r->platform_kid.size(), 16u);
  EXPECT_EQ(r->config.db_url, "sqlite:" + (dir / "anoncode.db").string());
  // No secret reaches the configuration.
  std::string config_text = read(dir / kConfigFile);
  std::string admin(reinterpret_cast<const char*>(r->admin_token.expose_secret().data()),
                    r->admin_token.size());
  EXPECT_EQ(config_text.find(admin), std::string::npos);
  EXPECT_EQ(read(dir / kAdminTokenFile), admin);
  // No temporary directory is left beside it.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(root_)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(ConfigTest, LoadReadsBackWhatInitWrote) {
  fs::path dir = root_ / "data";
  auto r = init_data_dir({dir, std::string("postgresql://db.example/anoncode"), "sm2"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto c = load_config(dir);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->db_url, "postgresql://db.example/anoncode");
  EXPECT_EQ(c->group, "sm2");
  EXPECT_EQ(c->code_validity_seconds, 120);
  EXPECT_EQ(c->refill_delay_seconds, 7 * 24 * 3600);
  EXPECT_EQ(c->clock_skew_seconds, 30);
  EXPECT_EQ(c->trusted_proxies, (std::vector<std::string>{"127.0.0.1", "::1"}));

  auto s = load_secrets(dir);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->admin_token.equals(r->admin_token));
  EXPECT_EQ(s->pii_key.size(), 32u);
  auto issuer = crypto::IssuerKey::decode_secret(s->issuer_key);
  ASSERT_TRUE(issuer.ok());
  EXPECT_EQ(to_hex(issuer->kid()), r->issuer_kid);
  EXPECT_EQ(issuer->public_key().group().name(), "sm2");
  auto platform = crypto::Sm2PrivateKey::from_pem(s->platform_key_pem);
  ASSERT_TRUE(platform.ok());
  EXPECT_EQ(to_hex(protocol::platform_key_id(platform->public_key())), r->platform_kid);
  EXPECT_FALSE(s->service_token.equals(s->admin_token));
}

TEST_F(ConfigTest, InitNeverOverwrites) {
  fs::path dir = root_ / "data";
  auto first = init_data_dir({dir, std::nullopt, "ristretto255"});
  ASSERT_TRUE(first.ok());
  std::string token_before = read(dir / kAdminTokenFile);
  auto second = init_data_dir({dir, std::nullopt, "ristretto255"});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  EXPECT_EQ(read(dir / kAdminTokenFile), token_before);

  // A non-empty directory of something else, and a plain file, are refused too.
  fs::create_directories(root_ / "other");
  std::ofstream(root_ / "other" / "x") << "x";
  EXPECT_EQ(init_data_dir({root_ / "other", std::nullopt, "ristretto255"}).error().code,
            ErrorCode::kConflict);
  std::ofstream(root_ / "file") << "x";
  EXPECT_EQ(init_data_dir({root_ / "file", std::nullopt, "ristretto255"}).error().code,
            ErrorCode::kConflict);
}

TEST_F(ConfigTest, InitFillsAnEmptyDirectory) {
  fs::create_directories(root_ / "empty");
  auto r = init_data_dir({root_ / "empty", std::nullopt, "ristretto255"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(fs::exists(root_ / "empty" / kConfigFile));
}

TEST_F(ConfigTest, AnUnknownGroupIsInvalidArgument) {
  auto r = init_data_dir({root_ / "data", std::nullopt, "p256"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(root_ / "data"));
}

TEST_F(ConfigTest, SecretsReadableByOthersAreRefused) {
  fs::path dir = root_ / "data";
  ASSERT_TRUE(init_data_dir({dir, std::nullopt, "ristretto255"}).ok());
  fs::permissions(dir / kPiiKeyFile, fs::perms::owner_read | fs::perms::others_read);
  auto s = load_secrets(dir);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kForbidden);
}

TEST_F(ConfigTest, BadConfigurationsAreRefused) {
  fs::path dir = root_ / "data";
  ASSERT_TRUE(init_data_dir({dir, std::nullopt, "ristretto255"}).ok());
  EXPECT_EQ(load_config(root_ / "absent").error().code, ErrorCode::kNotFound);

  std::ofstream(dir / kConfigFile, std::ios::trunc) << "[server\nlisten = ";
  EXPECT_EQ(load_config(dir).error().code, ErrorCode::kMalformed);

  std::ofstream(dir / kConfigFile, std::ios::trunc) << "[server]\nlisten = 8080\n";
  EXPECT_EQ(load_config(dir).error().code, ErrorCode::kInvalidArgument);

  std::ofstream(dir / kConfigFile, std::ios::trunc) << "[privacy]\ngroup = \"p256\"\n";
  EXPECT_EQ(load_config(dir).error().code, ErrorCode::kInvalidArgument);

  std::ofstream(dir / kConfigFile, std::ios::trunc) << "[platform]\ncode_validity_seconds = 0\n";
  EXPECT_EQ(load_config(dir).error().code, ErrorCode::kInvalidArgument);

  for (const char* proxies : {"\"10.0.0.1\"", "[\"proxy.example\"]", "[1]"}) {
    std::ofstream(dir / kConfigFile, std::ios::trunc)
        << "[server]\ntrusted_proxies = " << proxies << "\n";
    EXPECT_EQ(load_config(dir).error().code, ErrorCode::kInvalidArgument) << proxies;
  }
  std::ofstream(dir / kConfigFile, std::ios::trunc)
      << "[server]\ntrusted_proxies = [\"10.0.0.1\", \"fd00::1\"]\n";
  auto proxies = load_config(dir);
  ASSERT_TRUE(proxies.ok()) << proxies.error().message;
  EXPECT_EQ(proxies->trusted_proxies, (std::vector<std::string>{"10.0.0.1", "fd00::1"}));

  // The connection limits: positive integers within their bounds.
  for (const char* limit : {"max_connections = 0", "max_connections_per_address = -1",
                            "max_queued_requests = \"8\"", "header_timeout_seconds = 301",
                            "idle_timeout_seconds = 0", "write_timeout_seconds = 1.5"}) {
    std::ofstream(dir / kConfigFile, std::ios::trunc) << "[server]\n" << limit << "\n";
    EXPECT_EQ(load_config(dir).error().code, ErrorCode::kInvalidArgument) << limit;
  }
  std::ofstream(dir / kConfigFile, std::ios::trunc)
      << "[server]\nmax_connections = 20000\nmax_connections_per_address = 64\n"
      << "max_queued_requests = 100\nheader_timeout_seconds = 5\nbody_timeout_seconds = 60\n"
      << "idle_timeout_seconds = 15\nwrite_timeout_seconds = 20\n";
  auto limits = load_config(dir);
  ASSERT_TRUE(limits.ok()) << limits.error().message;
  EXPECT_EQ(limits->max_connections, 20000);
  EXPECT_EQ(limits->max_connections_per_address, 64);
  EXPECT_EQ(limits->max_queued_requests, 100);
  EXPECT_EQ(limits->header_timeout_seconds, 5);
  EXPECT_EQ(limits->body_timeout_seconds, 60);
  EXPECT_EQ(limits->idle_timeout_seconds, 15);
  EXPECT_EQ(limits->write_timeout_seconds, 20);

  // Every key is optional: defaults fill in.
  std::ofstream(dir / kConfigFile, std::ios::trunc) << "";
  auto c = load_config(dir);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->db_url, "sqlite:" + (dir / "anoncode.db").string());
  EXPECT_EQ(c->max_connections, 4096);
  EXPECT_EQ(c->idle_timeout_seconds, 5);
}

TEST(ParseListen, HostAndPort) {
  EXPECT_EQ(*parse_listen("127.0.0.1:8080"), (std::pair<std::string, int>{"127.0.0.1", 8080}));
  EXPECT_EQ(*parse_listen("0.0.0.0:0"), (std::pair<std::string, int>{"0.0.0.0", 0}));
  EXPECT_EQ(*parse_listen("[::1]:443"), (std::pair<std::string, int>{"::1", 443}));
  for (const char* bad : {"8080", ":8080", "host:", "host:65536", "host:80a", "host:-1"}) {
    EXPECT_FALSE(parse_listen(bad).ok()) << bad;
  }
}

// DESIGN §3.6 rule 5: init makes the operator CA and a server certificate for the configured
// names; serve reissues it when it is missing or near its end, from the CA in the directory.
TEST_F(ConfigTest, InitMakesTheTlsCaAndAServerCertificateThatServeRenewsNearItsEnd) {
  fs::path dir = root_ / "data";
  InitOptions opts{dir, std::nullopt, "ristretto255", {"transit.example.org"}};
  auto r = init_data_dir(opts);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tls_ca_file, (dir / kTlsCaFile).string());
  EXPECT_EQ(r->tls_ca_fingerprint.size(), 64u);
  EXPECT_EQ(mode_of(dir / kTlsCaKeyFile), 0600u);
  EXPECT_EQ(mode_of(dir / kTlsKeyFile), 0600u);
  EXPECT_EQ(mode_of(dir / kTlsCaFile), 0644u);
  EXPECT_EQ(mode_of(dir / kTlsCertFile), 0644u);
  auto c = load_config(dir);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->tls);
  EXPECT_EQ(c->tls_hostnames, (std::vector<std::string>{"transit.example.org"}));

  // A valid certificate is kept as it is.
  const std::string cert = read(dir / kTlsCertFile);
  auto kept = ensure_tls_files(dir, c->tls_hostnames);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_FALSE(kept->issued_certificate);
  EXPECT_FALSE(kept->created_ca);
  EXPECT_EQ(kept->ca_fingerprint, r->tls_ca_fingerprint);
  EXPECT_EQ(kept->names,
            (std::vector<std::string>{"localhost", "127.0.0.1", "::1", "transit.example.org"}));
  EXPECT_EQ(read(dir / kTlsCertFile), cert);

  // Within kTlsRenewBeforeDays of its end it is reissued, from the same CA.
  int64_t near_end = kept->not_after - (kTlsRenewBeforeDays - 1) * 86400LL;
  auto renewed = ensure_tls_files(dir, c->tls_hostnames, false, near_end);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_TRUE(renewed->issued_certificate);
  EXPECT_EQ(renewed->ca_fingerprint, r->tls_ca_fingerprint);
  EXPECT_NE(read(dir / kTlsCertFile), cert);

  // The CA key kept offline: a certificate that must be reissued cannot be, and says why.
  fs::rename(dir / kTlsCaKeyFile, root_ / "ca_key_offline.pem");
  auto blocked = ensure_tls_files(dir, c->tls_hostnames, true);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::kNotFound);
  EXPECT_NE(blocked.error().message.find(kTlsCaKeyFile), std::string::npos);
  // … while a valid one is still served without it.
  EXPECT_TRUE(ensure_tls_files(dir, c->tls_hostnames).ok());

  // A key others may read is refused.
  ::chmod((dir / kTlsKeyFile).c_str(), 0644);
  auto exposed = ensure_tls_files(dir, c->tls_hostnames);
  ASSERT_FALSE(exposed.ok());
  EXPECT_EQ(exposed.error().code, ErrorCode::kForbidden);
}

TEST_F(ConfigTest, TlsSettingsMustHaveTheirTypes) {
  fs::path dir = root_ / "data";
  ASSERT_TRUE(init_data_dir({dir, std::nullopt, "ristretto255"}).ok());
  std::string text = read(dir / kConfigFile);
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"enabled = true", "enabled = \"yes\""},
           {"hostnames = []", "hostnames = \"transit.example.org\""},
           {"hostnames = []", "hostnames = [1]"}}) {
    std::string edited = text;
    size_t at = edited.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    edited.replace(at, from.size(), to);
    std::ofstream(dir / kConfigFile) << edited;
    auto c = load_config(dir);
    ASSERT_FALSE(c.ok()) << to;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument) << to;
  }
  std::string plain = text;
  plain.replace(plain.find("enabled = true"), 14, "enabled = false");
  std::ofstream(dir / kConfigFile) << plain;
  auto c = load_config(dir);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->tls);
}

}  // namespace
}  // namespace anoncode::datadir
