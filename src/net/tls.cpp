#include "net/tls.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>

#include <cctype>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

namespace anoncode::net {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

Error openssl_failed(std::string_view what) {
  return make_error(ErrorCode::kInternal, "OpenSSL could not " + std::string(what));
}

bool is_ip_address(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// A host name a certificate may carry: letters, digits, '-', '.', and a leading "*." wildcard.
bool is_dns_name(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = host.rfind("*.", 0) == 0 ? 2 : 0;
  if (start == host.size()) return false;
  for (size_t i = start; i < host.size(); ++i) {
    char c = host[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return true;
}

Result<std::string> bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n < 0 || data == nullptr) return openssl_failed("write PEM");
  return std::string(data, static_cast<size_t>(n));
}

Result<SecretBytes> key_pem(EVP_PKEY* key) {
  // A secure-memory BIO: the PEM text is cleared when it is freed.
  Owned<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return openssl_failed("write the private key");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr) return openssl_failed("write the private key");
  return SecretBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(n)));
}

Result<std::string> cert_pem(X509* cert) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return openssl_failed("write a certificate");
  return bio_text(bio.get());
}

Result<Owned<X509>> read_cert(std::string_view pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Owned<X509> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return make_error(ErrorCode::kMalformed, "not a PEM certificate");
  return cert;
}

Result<Owned<EVP_PKEY>> read_key(const SecretBytes& pem) {
  auto text = pem.expose_secret();
  Owned<BIO> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  Owned<EVP_PKEY> key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                          : nullptr);
  if (!key) return make_error(ErrorCode::kMalformed, "not a PEM private key");
  return key;
}

Status add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return openssl_failed("make the extension " + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return openssl_failed("add the extension " + value);
  return {};
}

// A v3 certificate for `key` with a random 127-bit serial, valid from an hour ago (clocks
// differ) for `validity_days`.
Result<Owned<X509>> new_certificate(EVP_PKEY* key, std::string_view common_name,
                                    int validity_days) {
  if (validity_days <= 0)
    return make_error(ErrorCode::kInvalidArgument, "validity must be positive");
  Owned<X509> cert(X509_new());
  Owned<BIGNUM> serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * validity_days) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return openssl_failed("make a certificate");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn(common_name);
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("anoncode"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return openssl_failed("name a certificate");
  }
  return cert;
}

Result<KeyAndCertificate> sign_and_export(X509* cert, EVP_PKEY* key, EVP_PKEY* signer,
                                          const std::string& chain_tail) {
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) return openssl_failed("sign a certificate");
  ANONCODE_TRY(SecretBytes k, key_pem(key));
  ANONCODE_TRY(std::string c, cert_pem(cert));
  return KeyAndCertificate{std::move(k), c + chain_tail};
}

}  // namespace

Result<TlsTrust> tls_trust_from(const std::string& ca_file) {
  if (ca_file.empty()) return TlsTrust{};
  std::ifstream in(ca_file);
  if (!in) return make_error(ErrorCode::kNotFound, "cannot read the CA file " + ca_file);
  std::stringstream text;
  text << in.rdbuf();
  if (!read_cert(text.str())) {
    return make_error(ErrorCode::kMalformed, ca_file + " holds no PEM certificate");
  }
  return TlsTrust{ca_file};
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  unsigned char v4[4];
  std::string h(host);
  return ::inet_pton(AF_INET, h.c_str(), v4) == 1 && v4[0] == 127;
}

Result<std::unique_ptr<httplib::Client>> make_client(const Endpoint& server,
                                                     const ClientTimeouts& timeouts) {
  const std::string& url = server.url;
  static const std::regex kUrl(
      R"(^(https?)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?/?$)");
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) {
    return make_error(ErrorCode::kInvalidArgument, "server URL must be https://host:port");
  }
  const bool tls = m[1] == "https";
  std::string host = m[2];
  if (!tls && !is_loopback_host(host)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "plain http:// only to a loopback address; use https://");
  }
  std::string base = url.back() == '/' ? url.substr(0, url.size() - 1) : url;
  auto client = std::make_unique<httplib::Client>(base);
  if (!client->is_valid()) return make_error(ErrorCode::kInvalidArgument, "bad server URL");
  if (tls) {
    client->enable_server_certificate_verification(true);
    if (!server.trust.ca_file.empty()) client->set_ca_cert_path(server.trust.ca_file);
    // The name is checked by OpenSSL as part of the chain's verification, not only by
    // cpp-httplib: its own check (0.11.4) compares an IPv4 host with the first 4 bytes of every
    // IP address in the certificate, so "::1" in it matched any IPv4 address.
    SSL_CTX* ctx = client->ssl_context();
    if (ctx == nullptr) return openssl_failed("make a TLS context");
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    std::string bare = host.front() == '[' ? host.substr(1, host.size() - 2) : host;
    int named = is_ip_address(bare) ? X509_VERIFY_PARAM_set1_ip_asc(param, bare.c_str())
                                    : X509_VERIFY_PARAM_set1_host(param, bare.c_str(), 0);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (named != 1 || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
      return openssl_failed("set the name to verify");
    }
  }
  client->set_tcp_nodelay(true);
  client->set_keep_alive(true);
  client->set_connection_timeout(timeouts.connect_seconds, 0);
  client->set_read_timeout(timeouts.read_seconds, 0);
  client->set_write_timeout(timeouts.write_seconds, 0);
  return client;
}

SigpipeGuard::SigpipeGuard() {
  sigset_t pipe, pending;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  sigemptyset(&pending);
  sigpending(&pending);
  was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe, &old_mask_);
}

SigpipeGuard::~SigpipeGuard() {
  sigset_t pipe, pending;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  if (!was_pending_) {  // one raised by our own writes: take it, so unblocking does not deliver it
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) {
      struct timespec zero {};
      sigtimedwait(&pipe, nullptr, &zero);
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void ignore_sigpipe_in_this_process() {
  ::signal(SIGPIPE, SIG_IGN);
}

httplib::Result send_request(httplib::Client& client,
                             const std::function<httplib::Result(httplib::Client&)>& call) {
  SigpipeGuard guard;
  httplib::Result result = call(client);
  if (!result && result.error() == httplib::Error::Write) result = call(client);
  return result;
}

std::string failure_text(const httplib::Result& result) {
  std::string text = httplib::to_string(result.error());
  if (result.error() == httplib::Error::SSLServerVerification) {
    text +=
        " (the server's certificate is not signed by the CA this client trusts — --ca, the "
        "operator's DIR/tls_ca.pem — or does not name this host)";
  } else if (result.error() == httplib::Error::SSLConnection) {
    text += " (is the server speaking TLS? plain servers take http:// on loopback only)";
  }
  return text;
}

Result<KeyAndCertificate> create_ca(std::string_view operator_name, int validity_days) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return openssl_failed("generate a P-256 key");
  ANONCODE_TRY(
      Owned<X509> cert,
      new_certificate(key.get(), std::string(operator_name) + " operator CA", validity_days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  ANONCODE_CHECK(
      add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  ANONCODE_CHECK(
      add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  ANONCODE_CHECK(add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  return sign_and_export(cert.get(), key.get(), key.get(), "");
}

Result<KeyAndCertificate> issue_server_certificate(const KeyAndCertificate& ca,
                                                   const std::vector<std::string>& hostnames,
                                                   int validity_days) {
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  for (const auto& h : hostnames) {
    if (!is_ip_address(h) && !is_dns_name(h)) {
      return make_error(ErrorCode::kInvalidArgument, "not a host name or IP address: " + h);
    }
    if (std::find(names.begin(), names.end(), h) == names.end()) names.push_back(h);
  }
  std::string san;
  for (const auto& n : names) {
    if (!san.empty()) san += ",";
    san += (is_ip_address(n) ? "IP:" : "DNS:") + n;
  }

  ANONCODE_TRY(Owned<X509> ca_cert, read_cert(ca.cert_pem));
  ANONCODE_TRY(Owned<EVP_PKEY> ca_key, read_key(ca.key_pem));
  if (X509_check_ca(ca_cert.get()) != 1) {
    return make_error(ErrorCode::kInvalidArgument, "the issuer is not a CA certificate");
  }
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    return make_error(ErrorCode::kInvalidArgument, "the CA key does not match its certificate");
  }
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return openssl_failed("generate a P-256 key");
  const std::string& cn = hostnames.empty() ? names.front() : hostnames.front();
  ANONCODE_TRY(Owned<X509> cert, new_certificate(key.get(), cn, validity_days));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1) {
    return openssl_failed("name the issuer");
  }
  ANONCODE_CHECK(
      add_extension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  ANONCODE_CHECK(
      add_extension(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature"));
  ANONCODE_CHECK(add_extension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth"));
  ANONCODE_CHECK(add_extension(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash"));
  ANONCODE_CHECK(
      add_extension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always"));
  ANONCODE_CHECK(add_extension(cert.get(), ca_cert.get(), NID_subject_alt_name, san));
  ANONCODE_TRY(std::string ca_text, cert_pem(ca_cert.get()));
  return sign_and_export(cert.get(), key.get(), ca_key.get(), ca_text);
}

Result<CertificateInfo> certificate_info(std::string_view pem) {
  ANONCODE_TRY(Owned<X509> cert, read_cert(pem));
  CertificateInfo info;
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253) < 0) {
    return openssl_failed("print a name");
  }
  ANONCODE_TRY(info.subject, bio_text(bio.get()));
  Owned<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans.get(), i);
    if (n->type == GEN_DNS) {
      const ASN1_IA5STRING* s = n->d.dNSName;
      info.names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                              static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16) {
        ::inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
        info.names.emplace_back(text);
      }
    }
  }
  struct tm t {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &t) != 1) {
    return openssl_failed("read notAfter");
  }
  info.not_after = static_cast<int64_t>(timegm(&t));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &md_len) != 1) return openssl_failed("digest");
  static const char* kHex = "0123456789abcdef";
  for (unsigned int i = 0; i < md_len; ++i) {
    info.sha256_fingerprint += kHex[md[i] >> 4];
    info.sha256_fingerprint += kHex[md[i] & 15];
  }
  return info;
}

}  // namespace anoncode::net
