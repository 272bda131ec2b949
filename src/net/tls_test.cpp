#include "net/tls.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace anoncode::net {
namespace {

namespace fs = std::filesystem;

std::string text_of(const SecretBytes& s) {
  auto v = s.expose_secret();
  return std::string(v.begin(), v.end());
}

fs::path write(const fs::path& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name) << text;
  return dir / name;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("anoncode-net-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    fs::remove_all(dir_);
  }

  // A real TLS server (cpp-httplib) on 127.0.0.1 with `cert` (chain) and its key; GET /ping.
  void serve(const KeyAndCertificate& cert, const std::string& host = "127.0.0.1") {
    auto chain = write(dir_, "chain.pem", cert.cert_pem);
    auto key = write(dir_, "key.pem", text_of(cert.key_pem));
    server_ = std::make_unique<httplib::SSLServer>(chain.c_str(), key.c_str());
    ASSERT_TRUE(server_->is_valid());
    server_->Get("/ping", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"pong\":true}", "application/json");
    });
    port_ = server_->bind_to_any_port(host);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  httplib::Result ping(const std::string& host, const TlsTrust& trust) {
    auto client = make_client({"https://" + host + ":" + std::to_string(port_), trust});
    EXPECT_TRUE(client.ok());
    return (*client)->Get("/ping");
  }

  fs::path dir_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(TlsTest, TheCaIsACaAndTheServerCertificateNamesLoopbackAndTheGivenHosts) {
  auto ca = create_ca("anoncode", 3650);
  ASSERT_TRUE(ca.ok());
  auto ca_info = certificate_info(ca->cert_pem);
  ASSERT_TRUE(ca_info.ok());
  EXPECT_NE(ca_info->subject.find("anoncode operator CA"), std::string::npos);
  EXPECT_EQ(ca_info->sha256_fingerprint.size(), 64u);
  // The key is PKCS#8 PEM, never in the certificate text.
  EXPECT_NE(text_of(ca->key_pem).find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(ca->cert_pem.find("PRIVATE"), std::string::npos);

  auto cert = issue_server_certificate(*ca, {"transit.example.org", "10.1.2.3"}, 365);
  ASSERT_TRUE(cert.ok());
  auto info = certificate_info(cert->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->names, (std::vector<std::string>{"localhost", "127.0.0.1", "::1",
                                                   "transit.example.org", "10.1.2.3"}));
  int64_t now = static_cast<int64_t>(::time(nullptr));
  EXPECT_GT(info->not_after, now + 364LL * 86400);
  EXPECT_LT(info->not_after, now + 366LL * 86400);
  // The chain a server sends: its certificate, then the CA's.
  EXPECT_NE(cert->cert_pem.find(ca->cert_pem), std::string::npos);
}

TEST_F(TlsTest, ANameThatIsNeitherAHostNorAnAddressIsRefused) {
  auto ca = create_ca("anoncode", 30);
  ASSERT_TRUE(ca.ok());
  for (const char* bad : {"a,DNS:evil.example", "", "bad host", "x\ny"}) {
    auto cert = issue_server_certificate(*ca, {bad}, 30);
    ASSERT_FALSE(cert.ok()) << bad;
    EXPECT_EQ(cert.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(create_ca("anoncode", 0).ok());
}

TEST_F(TlsTest, AClientVerifiesTheChainAndTheHostNameAgainstTheOperatorCa) {
  auto ca = create_ca("anoncode", 30);
  ASSERT_TRUE(ca.ok());
  auto cert = issue_server_certificate(*ca, {}, 30);
  ASSERT_TRUE(cert.ok());
  serve(*cert);
  TlsTrust trust{write(dir_, "ca.pem", ca->cert_pem).string()};

  auto ok = ping("127.0.0.1", trust);
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);
  EXPECT_TRUE(ping("localhost", trust));

  // Another CA (an attacker's, or a stale one): the handshake is refused.
  auto other = create_ca("someone else", 30);
  ASSERT_TRUE(other.ok());
  auto refused = ping("127.0.0.1", TlsTrust{write(dir_, "other.pem", other->cert_pem).string()});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), httplib::Error::SSLServerVerification);
  EXPECT_NE(failure_text(refused).find("tls_ca.pem"), std::string::npos);

  // The system's trust store does not know the operator CA.
  EXPECT_FALSE(ping("127.0.0.1", TlsTrust{}));
}

TEST_F(TlsTest, ACertificateForAnotherHostIsRefusedEvenFromTheRightCa) {
  auto ca = create_ca("anoncode", 30);
  ASSERT_TRUE(ca.ok());
  TlsTrust trust{write(dir_, "ca.pem", ca->cert_pem).string()};
  {
    // A server on 127.0.0.2 whose certificate names only the usual loopback names.
    auto cert = issue_server_certificate(*ca, {"transit.example.org"}, 30);
    ASSERT_TRUE(cert.ok());
    serve(*cert, "127.0.0.2");
    auto wrong = ping("127.0.0.2", trust);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error(), httplib::Error::SSLServerVerification);
    server_->stop();
    thread_.join();
  }
  auto named = issue_server_certificate(*ca, {"127.0.0.2"}, 30);
  ASSERT_TRUE(named.ok());
  serve(*named, "127.0.0.2");
  EXPECT_TRUE(ping("127.0.0.2", trust));
}

TEST_F(TlsTest, ASelfSignedServerCertificateIsNotACa) {
  // A server certificate is not allowed to sign (CA:FALSE): one used as a CA signs nothing.
  auto ca = create_ca("anoncode", 30);
  ASSERT_TRUE(ca.ok());
  auto cert = issue_server_certificate(*ca, {}, 30);
  ASSERT_TRUE(cert.ok());
  auto forged = issue_server_certificate(*cert, {}, 30);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, ErrorCode::kInvalidArgument);
  std::string leaf = cert->cert_pem.substr(0, cert->cert_pem.find(ca->cert_pem));
  serve(*cert);
  auto refused = ping("127.0.0.1", TlsTrust{write(dir_, "leaf.pem", leaf).string()});
  EXPECT_FALSE(refused);
}

TEST_F(TlsTest, PlainHttpOnlyToLoopbackAndOnlyHttpUrls) {
  EXPECT_TRUE(make_client({"http://127.0.0.1:8080", {}}).ok());
  EXPECT_TRUE(make_client({"http://localhost:8080", {}}).ok());
  EXPECT_TRUE(make_client({"http://[::1]:8080", {}}).ok());
  EXPECT_TRUE(make_client({"https://transit.example.org", {}}).ok());
  EXPECT_TRUE(make_client({"https://10.0.0.1:8443/", {}}).ok());
  for (const char* bad : {"http://transit.example.org:8080", "http://10.0.0.1:80", "ftp://x",
                          "https://", "127.0.0.1:8080", "https://a b", "https://x:8080/path",
                          "http://127.0.0.1.evil.example:80"}) {
    auto c = make_client({bad, {}});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(is_loopback_host("127.8.9.10"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(is_loopback_host("localhost.example"));
}

// A write to a socket the peer closed raises SIGPIPE (fatal by default): under the guard it is an
// EPIPE error and the signal is gone when the guard ends; the thread's mask is restored.
TEST(SigpipeGuard, AWriteToAClosedPeerIsAnErrorNotADeath) {
  ::signal(SIGPIPE, SIG_DFL);  // the default: the process dies, unless the guard holds
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ::close(fds[1]);
  {
    SigpipeGuard guard;
    errno = 0;
    EXPECT_EQ(::write(fds[0], "x", 1), -1);
    EXPECT_EQ(errno, EPIPE);
  }
  sigset_t pending, mask;
  sigemptyset(&pending);
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_EQ(sigismember(&mask, SIGPIPE), 0);
  ::close(fds[0]);
}

TEST_F(TlsTest, TheCaFileMustHoldACertificate) {
  EXPECT_TRUE(tls_trust_from("").ok());  // the system's trust store
  auto missing = tls_trust_from((dir_ / "none.pem").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto garbage = tls_trust_from(write(dir_, "garbage.pem", "not a certificate").string());
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, ErrorCode::kMalformed);
  EXPECT_FALSE(
      certificate_info("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").ok());
}

}  // namespace
}  // namespace anoncode::net
