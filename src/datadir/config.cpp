#include "datadir/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <tuple>

#include "crypto/credential.h"
#include "crypto/group.h"
#include "crypto/sm2.h"
#include "net/tls.h"
#include "protocol/qr_payload.h"
#include "server/auth.h"

namespace anoncode::datadir {

namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const fs::path& path) {
  return make_error(ErrorCode::kInternal, what + " " + path.string() + ": " + std::strerror(errno));
}

// Writes a new file (never an existing one) with `mode`, whatever the umask, and syncs it.
Status write_new_file(const fs::path& path, std::span<const uint8_t> data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_error("cannot create", path);
  Status st;
  if (::fchmod(fd, mode) != 0) st = io_error("cannot chmod", path);
  size_t off = 0;
  while (st.ok() && off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      st = io_error("cannot write", path);
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = io_error("cannot sync", path);
  ::close(fd);
  return st;
}

// Replaces `path` (or creates it) atomically: a new file beside it, renamed over it.
Status replace_file(const fs::path& path, std::span<const uint8_t> data, mode_t mode) {
  fs::path tmp = path;
  tmp += ".new";
  std::error_code ec;
  fs::remove(tmp, ec);
  ANONCODE_CHECK(write_new_file(tmp, data, mode));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename onto", path);
  return {};
}

Status write_secret_text(const fs::path& path, std::string& text) {
  Status st = write_new_file(path, as_bytes(text), 0600);
  sodium_memzero(text.data(), text.size());
  return st;
}

// Reads a secret file whole, refusing files other users could read.
Result<SecretBytes> read_secret_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return make_error(ErrorCode::kNotFound, "missing secret file " + path.string());
    }
    return io_error("cannot open", path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return io_error("cannot stat", path);
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return make_error(ErrorCode::kForbidden,
                      "secret file " + path.string() + " is readable by others; chmod 0600 it");
  }
  if (st.st_size > 64 * 1024) {
    ::close(fd);
    return make_error(ErrorCode::kInvalidArgument,
                      "secret file " + path.string() + " is too large");
  }
  SecretBytes out(static_cast<size_t>(st.st_size));
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::read(fd, out.expose_secret_mut().data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(off);
  return out;
}

// A token or base64url file: its text without trailing whitespace.
SecretBytes trim_trailing_space(const SecretBytes& s) {
  auto v = s.expose_secret();
  size_t n = v.size();
  while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r' || v[n - 1] == ' ')) --n;
  return SecretBytes(v.first(n));
}

Result<SecretBytes> decode_base64url_secret(const SecretBytes& text, const char* file) {
  SecretBytes trimmed = trim_trailing_space(text);
  std::string_view sv(reinterpret_cast<const char*>(trimmed.expose_secret().data()),
                      trimmed.size());
  auto bytes = from_base64url(sv);
  if (!bytes) {
    return make_error(ErrorCode::kMalformed,
                      std::string("secret file ") + file + " is not base64url");
  }
  SecretBytes out(*bytes);
  sodium_memzero(bytes->data(), bytes->size());
  return out;
}

std::string render_config(const Config& c) {
  toml::array proxies;
  for (const auto& p : c.trusted_proxies) proxies.push_back(p);
  toml::array hostnames;
  for (const auto& h : c.tls_hostnames) hostnames.push_back(h);
  toml::table t{
      {"server",
       toml::table{
           {"listen", c.listen}, {"threads", c.threads}, {"trusted_proxies", std::move(proxies)}}},
      {"database", toml::table{{"url", c.db_url}}},
      {"privacy", toml::table{{"group", c.group}}},
      {"tls", toml::table{{"enabled", c.tls}, {"hostnames", std::move(hostnames)}}},
      {"platform", toml::table{{"code_validity_seconds", c.code_validity_seconds},
                               {"clock_skew_seconds", c.clock_skew_seconds},
                               {"refill_delay_seconds", c.refill_delay_seconds},
                               {"upload_window_seconds", c.upload_window_seconds},
                               {"max_fare_fen", c.max_fare_fen}}},
  };
  std::ostringstream os;
  os << "# anoncode configuration (docs/OPERATIONS.md). Secrets are not here: they are the files\n"
     << "# admin_token, service_token, issuer_key, platform_key.pem, pii_key, root_key.pem,\n"
     << "# tls_ca_key.pem and tls_key.pem beside this one.\n"
     << t << "\n";
  return os.str();
}

Status check_config(const Config& c) {
  ANONCODE_TRY(auto hp, parse_listen(c.listen));
  (void)hp;
  if (c.db_url.empty()) return make_error(ErrorCode::kInvalidArgument, "database url is empty");
  ANONCODE_TRY(const crypto::Group* g, crypto::group_by_name(c.group));
  (void)g;
  if (c.threads < 1 || c.threads > 1024) {
    return make_error(ErrorCode::kInvalidArgument, "server.threads must be 1 to 1024");
  }
  for (const auto& [key, value, most] :
       {std::tuple{"max_connections", c.max_connections, int64_t{1'000'000}},
        std::tuple{"max_connections_per_address", c.max_connections_per_address,
                   int64_t{1'000'000}},
        std::tuple{"max_queued_requests", c.max_queued_requests, int64_t{1'000'000}},
        std::tuple{"header_timeout_seconds", c.header_timeout_seconds, int64_t{300}},
        std::tuple{"body_timeout_seconds", c.body_timeout_seconds, int64_t{3600}},
        std::tuple{"idle_timeout_seconds", c.idle_timeout_seconds, int64_t{3600}},
        std::tuple{"write_timeout_seconds", c.write_timeout_seconds, int64_t{3600}}}) {
    if (value < 1 || value > most) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string("server.") + key + " must be 1 to " + std::to_string(most));
    }
  }
  for (const auto& p : c.trusted_proxies) {
    unsigned char buf[sizeof(in6_addr)];
    if (::inet_pton(AF_INET, p.c_str(), buf) != 1 && ::inet_pton(AF_INET6, p.c_str(), buf) != 1) {
      return make_error(ErrorCode::kInvalidArgument,
                        "server.trusted_proxies must list IP addresses");
    }
  }
  if (c.code_validity_seconds < 1 || c.code_validity_seconds > 86400) {
    return make_error(ErrorCode::kInvalidArgument,
                      "platform.code_validity_seconds must be 1 to 86400");
  }
  if (c.clock_skew_seconds < 0 || c.clock_skew_seconds > 3600) {
    return make_error(ErrorCode::kInvalidArgument, "platform.clock_skew_seconds must be 0 to 3600");
  }
  if (c.refill_delay_seconds < 0 || c.refill_delay_seconds > 365LL * 86400) {
    return make_error(ErrorCode::kInvalidArgument,
                      "platform.refill_delay_seconds must be 0 to 31536000");
  }
  if (c.upload_window_seconds < 0 || c.upload_window_seconds > 365LL * 86400) {
    return make_error(ErrorCode::kInvalidArgument,
                      "platform.upload_window_seconds must be 0 to 31536000");
  }
  if (c.max_fare_fen < 1 || c.max_fare_fen > 1'000'000) {
    return make_error(ErrorCode::kInvalidArgument, "platform.max_fare_fen must be 1 to 1000000");
  }
  return {};
}

bool is_nonempty_or_not_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return false;
  if (!fs::is_directory(dir, ec)) return true;
  return !fs::is_empty(dir, ec);
}

}  // namespace

Result<std::pair<std::string, int>> parse_listen(std::string_view listen) {
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "listen address must be HOST:PORT, e.g. 127.0.0.1:8080");
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= listen.size()) return bad();
  std::string host(listen.substr(0, colon));
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return bad();
  std::string_view port_text = listen.substr(colon + 1);
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || port > 65535) return bad();
    port = port * 10 + (c - '0');
  }
  if (port > 65535 || port_text.size() > 5) return bad();
  return std::pair{host, port};
}

Result<InitResult> init_data_dir(const InitOptions& options) {
  if (options.data_dir.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--data must name a directory");
  }
  ANONCODE_TRY(const crypto::Group* group, crypto::group_by_name(options.group));
  fs::path dir = fs::absolute(options.data_dir).lexically_normal();
  if (dir.has_filename() == false) dir = dir.parent_path();  // "dir/" → "dir"
  if (is_nonempty_or_not_dir(dir)) {
    return make_error(ErrorCode::kConflict,
                      "data directory " + dir.string() + " already exists and is not empty");
  }
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);

  Config config;
  config.data_dir = dir;
  config.db_url = options.db_url.value_or("sqlite:" + (dir / "anoncode.db").string());
  config.group = std::string(group->name());
  config.tls_hostnames = options.tls_hostnames;
  ANONCODE_CHECK(check_config(config));

  // Built in a sibling temporary directory, then renamed onto DIR: rename(2) replaces an empty
  // directory and refuses a non-empty one, so a concurrent init cannot be overwritten either.
  std::string tmpl = dir.string() + ".init-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return io_error("cannot create a directory beside", dir);
  fs::path tmp = tmpl;
  auto fail = [&](Error e) -> Result<InitResult> {
    fs::remove_all(tmp, ec);
    return e;
  };

  InitResult out;
  out.config = config;

  SecretBytes admin = server::new_token();
  SecretBytes service = server::new_token();
  auto issuer = crypto::IssuerKey::generate(*group, crypto::OsRng::instance());
  out.issuer_kid = to_hex(issuer.kid());
  auto platform = crypto::Sm2PrivateKey::generate();
  if (!platform) return fail(platform.error());
  out.platform_kid = to_hex(protocol::platform_key_id(platform->public_key()));
  SecretBytes pii(32);
  randombytes_buf(pii.expose_secret_mut().data(), pii.size());
  auto root = crypto::Sm2PrivateKey::generate();
  if (!root) return fail(root.error());
  out.trust_root = to_base64url(root->public_key().to_bytes());

  std::string issuer_text = to_base64url(issuer.encode_secret().expose_secret());
  Status st = write_new_file(tmp / kAdminTokenFile, admin.expose_secret(), 0600);
  if (st.ok()) st = write_new_file(tmp / kServiceTokenFile, service.expose_secret(), 0600);
  if (st.ok()) st = write_secret_text(tmp / kIssuerKeyFile, issuer_text);
  if (st.ok()) {
    st =
        write_new_file(tmp / kPlatformKeyFile, platform->export_pem_secret().expose_secret(), 0600);
  }
  if (st.ok()) st = write_new_file(tmp / kPiiKeyFile, pii.expose_secret(), 0600);
  if (st.ok())
    st = write_new_file(tmp / kRootKeyFile, root->export_pem_secret().expose_secret(), 0600);
  if (st.ok()) st = write_new_file(tmp / kTrustRootFile, as_bytes(out.trust_root + "\n"), 0644);
  if (st.ok()) {
    std::string text = render_config(config);
    st = write_new_file(tmp / kConfigFile, as_bytes(text), 0600);
  }
  sodium_memzero(issuer_text.data(), issuer_text.size());
  if (!st.ok()) return fail(st.error());
  auto tls = ensure_tls_files(tmp, config.tls_hostnames);
  if (!tls) return fail(tls.error());
  out.tls_ca_file = (dir / kTlsCaFile).string();
  out.tls_ca_fingerprint = tls->ca_fingerprint;

  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR || errno == EISDIR) {
      return fail(make_error(ErrorCode::kConflict, "data directory " + dir.string() +
                                                       " already exists and is not empty"));
    }
    return fail(io_error("cannot move the new data directory to", dir));
  }
  // Persist the rename.
  int pfd = ::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd >= 0) {
    ::fsync(pfd);
    ::close(pfd);
  }
  out.admin_token = std::move(admin);
  return out;
}

Result<Config> load_config(const fs::path& data_dir) {
  fs::path dir = fs::absolute(data_dir).lexically_normal();
  fs::path file = dir / kConfigFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return make_error(ErrorCode::kNotFound,
                      "no " + file.string() + " (create the data directory with anoncode init)");
  }
  toml::table t;
  try {
    t = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << file.string() << ":" << e.source().begin.line << ": " << e.description();
    return make_error(ErrorCode::kMalformed, os.str());
  }
  Config c;
  c.data_dir = dir;
  auto str = [&](std::string_view table, std::string_view key, std::string& into) -> Status {
    auto node = t[table][key];
    if (!node) return {};
    auto v = node.value<std::string>();
    if (!v) {
      return make_error(ErrorCode::kInvalidArgument, "config: " + std::string(table) + "." +
                                                         std::string(key) + " must be a string");
    }
    into = *v;
    return {};
  };
  auto num = [&](std::string_view table, std::string_view key, int64_t& into) -> Status {
    auto node = t[table][key];
    if (!node) return {};
    auto v = node.value<int64_t>();
    if (!node.is_integer() || !v) {
      return make_error(ErrorCode::kInvalidArgument, "config: " + std::string(table) + "." +
                                                         std::string(key) + " must be an integer");
    }
    into = *v;
    return {};
  };
  ANONCODE_CHECK(str("server", "listen", c.listen));
  ANONCODE_CHECK(num("server", "threads", c.threads));
  ANONCODE_CHECK(num("server", "max_connections", c.max_connections));
  ANONCODE_CHECK(num("server", "max_connections_per_address", c.max_connections_per_address));
  ANONCODE_CHECK(num("server", "max_queued_requests", c.max_queued_requests));
  ANONCODE_CHECK(num("server", "header_timeout_seconds", c.header_timeout_seconds));
  ANONCODE_CHECK(num("server", "body_timeout_seconds", c.body_timeout_seconds));
  ANONCODE_CHECK(num("server", "idle_timeout_seconds", c.idle_timeout_seconds));
  ANONCODE_CHECK(num("server", "write_timeout_seconds", c.write_timeout_seconds));
  // An array of strings, which replaces the default when given.
  auto strings = [&](std::string_view table, std::string_view key,
                     std::vector<std::string>& into) -> Status {
    auto node = t[table][key];
    if (!node) return {};
    const toml::array* list = node.as_array();
    auto bad = [&] {
      return make_error(ErrorCode::kInvalidArgument, "config: " + std::string(table) + "." +
                                                         std::string(key) +
                                                         " must be an array of strings");
    };
    if (list == nullptr) return bad();
    std::vector<std::string> values;
    for (const auto& item : *list) {
      auto v = item.value<std::string>();
      if (!item.is_string() || !v) return bad();
      values.push_back(*v);
    }
    into = std::move(values);
    return {};
  };
  ANONCODE_CHECK(strings("server", "trusted_proxies", c.trusted_proxies));
  if (auto node = t["tls"]["enabled"]) {
    auto v = node.value<bool>();
    if (!node.is_boolean() || !v) {
      return make_error(ErrorCode::kInvalidArgument, "config: tls.enabled must be true or false");
    }
    c.tls = *v;
  }
  ANONCODE_CHECK(strings("tls", "hostnames", c.tls_hostnames));
  ANONCODE_CHECK(str("database", "url", c.db_url));
  ANONCODE_CHECK(str("privacy", "group", c.group));
  ANONCODE_CHECK(num("platform", "code_validity_seconds", c.code_validity_seconds));
  ANONCODE_CHECK(num("platform", "clock_skew_seconds", c.clock_skew_seconds));
  ANONCODE_CHECK(num("platform", "refill_delay_seconds", c.refill_delay_seconds));
  ANONCODE_CHECK(num("platform", "upload_window_seconds", c.upload_window_seconds));
  ANONCODE_CHECK(num("platform", "max_fare_fen", c.max_fare_fen));
  if (c.db_url.empty()) c.db_url = "sqlite:" + (dir / "anoncode.db").string();
  ANONCODE_CHECK(check_config(c));
  return c;
}

Result<crypto::Sm2PrivateKey> load_or_create_root_key(const fs::path& data_dir, bool* created) {
  fs::path dir = fs::absolute(data_dir).lexically_normal();
  *created = false;
  std::error_code ec;
  if (fs::exists(dir / kRootKeyFile, ec)) {
    ANONCODE_TRY(SecretBytes pem, read_secret_file(dir / kRootKeyFile));
    return crypto::Sm2PrivateKey::from_pem(pem);
  }
  ANONCODE_TRY(crypto::Sm2PrivateKey root, crypto::Sm2PrivateKey::generate());
  ANONCODE_CHECK(
      write_new_file(dir / kRootKeyFile, root.export_pem_secret().expose_secret(), 0600));
  const std::string trust_root = to_base64url(root.public_key().to_bytes()) + "\n";
  fs::remove(dir / kTrustRootFile, ec);
  ANONCODE_CHECK(write_new_file(dir / kTrustRootFile, as_bytes(trust_root), 0644));
  *created = true;
  return root;
}

Result<TlsFiles> ensure_tls_files(const fs::path& data_dir,
                                  const std::vector<std::string>& hostnames, bool renew,
                                  int64_t now_seconds) {
  fs::path dir = fs::absolute(data_dir).lexically_normal();
  TlsFiles out{dir / kTlsCaFile, dir / kTlsCertFile, dir / kTlsKeyFile};
  if (now_seconds == 0) now_seconds = static_cast<int64_t>(::time(nullptr));
  auto read_text = [](const fs::path& path) -> Result<std::string> {
    std::ifstream in(path);
    if (!in) return io_error("cannot read", path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  std::error_code ec;
  std::optional<net::KeyAndCertificate> ca;
  if (!fs::exists(out.ca, ec)) {
    // A CA of its own: any server certificate beside it was signed by another and is reissued.
    ANONCODE_TRY(auto made, net::create_ca("anoncode", kTlsCaValidityDays));
    ANONCODE_CHECK(replace_file(dir / kTlsCaKeyFile, made.key_pem.expose_secret(), 0600));
    ANONCODE_CHECK(replace_file(out.ca, as_bytes(made.cert_pem), 0644));
    ca = std::move(made);
    out.created_ca = true;
  }
  ANONCODE_TRY(std::string ca_text, read_text(out.ca));
  ANONCODE_TRY(net::CertificateInfo ca_info, net::certificate_info(ca_text));
  out.ca_fingerprint = ca_info.sha256_fingerprint;

  bool issue = renew || out.created_ca || !fs::exists(out.cert, ec) || !fs::exists(out.key, ec);
  if (!issue) {
    ANONCODE_TRY(std::string cert_text, read_text(out.cert));
    ANONCODE_TRY(net::CertificateInfo info, net::certificate_info(cert_text));
    issue = info.not_after - now_seconds < int64_t{kTlsRenewBeforeDays} * 86400;
    ANONCODE_TRY(SecretBytes key, read_secret_file(out.key));  // refuses a key others can read
    (void)key;
    out.names = info.names;
    out.not_after = info.not_after;
  }
  if (issue) {
    if (!ca) {
      if (!fs::exists(dir / kTlsCaKeyFile, ec)) {
        return make_error(ErrorCode::kNotFound,
                          std::string(kTlsCaKeyFile) +
                              " is not in the data directory: put it back (from where it is "
                              "kept offline) to issue a server certificate");
      }
      ANONCODE_TRY(SecretBytes key, read_secret_file(dir / kTlsCaKeyFile));
      ca = net::KeyAndCertificate{std::move(key), ca_text};
    }
    ANONCODE_TRY(auto cert, net::issue_server_certificate(*ca, hostnames, kTlsServerValidityDays));
    ANONCODE_CHECK(replace_file(out.key, cert.key_pem.expose_secret(), 0600));
    ANONCODE_CHECK(replace_file(out.cert, as_bytes(cert.cert_pem), 0644));
    ANONCODE_TRY(net::CertificateInfo info, net::certificate_info(cert.cert_pem));
    out.names = info.names;
    out.not_after = info.not_after;
    out.issued_certificate = true;
  }
  return out;
}

Result<Secrets> load_secrets(const fs::path& data_dir) {
  fs::path dir = fs::absolute(data_dir).lexically_normal();
  Secrets s;
  ANONCODE_TRY(SecretBytes admin, read_secret_file(dir / kAdminTokenFile));
  s.admin_token = trim_trailing_space(admin);
  ANONCODE_TRY(SecretBytes service, read_secret_file(dir / kServiceTokenFile));
  s.service_token = trim_trailing_space(service);
  ANONCODE_TRY(SecretBytes issuer_text, read_secret_file(dir / kIssuerKeyFile));
  ANONCODE_TRY(s.issuer_key, decode_base64url_secret(issuer_text, kIssuerKeyFile));
  ANONCODE_TRY(s.platform_key_pem, read_secret_file(dir / kPlatformKeyFile));
  ANONCODE_TRY(s.pii_key, read_secret_file(dir / kPiiKeyFile));
  std::error_code ec;
  if (fs::exists(dir / kRootKeyFile, ec)) {
    ANONCODE_TRY(SecretBytes root, read_secret_file(dir / kRootKeyFile));
    s.root_key_pem = std::move(root);
  }
  if (s.admin_token.size() < 16 || s.service_token.size() < 16) {
    return make_error(ErrorCode::kInvalidArgument, "a token file is shorter than 16 characters");
  }
  if (s.pii_key.size() != 32) {
    return make_error(ErrorCode::kInvalidArgument, "pii_key must be exactly 32 bytes");
  }
  return s;
}

}  // namespace anoncode::datadir
