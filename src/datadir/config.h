// The data directory (DESIGN §5, docs/OPERATIONS.md): one TOML configuration and, beside it, one
// file per secret with mode 0600 — secrets are never in the configuration, never in logs.
//
//   DIR/                  mode 0700
//     config.toml         listen address, database URL, group, platform timings
//     admin_token         bearer token of /admin/v1/* (base64url text)
//     service_token       bearer token of /privacy/v1/open|show between services (base64url text)
//     issuer_key          the privacy backend's issuer key, IssuerKey::encode_secret, base64url
//     platform_key.pem    the platform's SM2 QR-signing key, PKCS#8 PEM
//     pii_key             32 random bytes: the Sm4Aead key of personal data and terminal keys
//     tls_ca.pem          the operator CA's certificate: what every client is given (public)
//     tls_ca_key.pem      its private key, PKCS#8 PEM (issues the server certificate)
//     tls_cert.pem        the server certificate and then the CA's (public)
//     tls_key.pem         the server certificate's private key, PKCS#8 PEM
//     anoncode.db         the SQLite database (default; PostgreSQL by URL instead)
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "crypto/sm2.h"

namespace anoncode::datadir {

constexpr const char* kConfigFile = "config.toml";
constexpr const char* kAdminTokenFile = "admin_token";
constexpr const char* kServiceTokenFile = "service_token";
constexpr const char* kIssuerKeyFile = "issuer_key";
constexpr const char* kPlatformKeyFile = "platform_key.pem";
constexpr const char* kPiiKeyFile = "pii_key";
// The operator's SM2 root key (DESIGN §3.6 rule 4; secret, 0600) and its public part as clients
// are given it: base64url of the 65-byte key (public, 0644), the `trust_root` of `init`.
constexpr const char* kRootKeyFile = "root_key.pem";
constexpr const char* kTrustRootFile = "trust_root";
// TLS on every hop (DESIGN §3.6 rule 5; net/tls.h).
constexpr const char* kTlsCaFile = "tls_ca.pem";
constexpr const char* kTlsCaKeyFile = "tls_ca_key.pem";
constexpr const char* kTlsCertFile = "tls_cert.pem";
constexpr const char* kTlsKeyFile = "tls_key.pem";
constexpr int kTlsCaValidityDays = 3650;
constexpr int kTlsServerValidityDays = 365;
// `serve` issues a new server certificate when the one it finds ends within this many days.
constexpr int kTlsRenewBeforeDays = 30;

struct Config {
  std::filesystem::path data_dir;
  std::string listen = "127.0.0.1:8080";  // [server] listen
  int64_t threads = 8;                    // [server] threads
  // [server] trusted_proxies: peers whose X-Forwarded-For names the client (IP addresses)
  std::vector<std::string> trusted_proxies = {"127.0.0.1", "::1"};
  // [server] connection limits (server::ServerOptions; docs/OPERATIONS.md "Connections and
  // limits"): absent keys keep the server's defaults.
  int64_t max_connections = 4096;                // [server] max_connections
  int64_t max_connections_per_address = 256;     // [server] max_connections_per_address
  int64_t max_queued_requests = 1024;            // [server] max_queued_requests
  int64_t header_timeout_seconds = 10;           // [server] header_timeout_seconds
  int64_t body_timeout_seconds = 30;             // [server] body_timeout_seconds
  int64_t idle_timeout_seconds = 5;              // [server] idle_timeout_seconds
  int64_t write_timeout_seconds = 10;            // [server] write_timeout_seconds
  std::string db_url;                            // [database] url
  std::string group = "ristretto255";            // [privacy] group
  int64_t code_validity_seconds = 120;           // [platform] code_validity_seconds
  int64_t clock_skew_seconds = 30;               // [platform] clock_skew_seconds
  int64_t refill_delay_seconds = 7 * 24 * 3600;  // [platform] refill_delay_seconds
  // How long after a code expires an offline POS may still upload its rides: a refund keeps
  // max_fare_fen back per unused code within it, and a close waits for it (DESIGN §3.6 rule 8).
  int64_t upload_window_seconds = 3 * 24 * 3600;  // [platform] upload_window_seconds
  int64_t max_fare_fen = 10'000;                  // [platform] max_fare_fen: the largest ride
  // [tls] enabled: HTTPS (the default). false is plain HTTP, refused unless `listen` is loopback.
  bool tls = true;
  // [tls] hostnames: the names (DNS or IP) the server certificate carries besides localhost,
  // 127.0.0.1 and ::1 — the names clients reach this server by.
  std::vector<std::string> tls_hostnames;
};

// The secrets of a data directory, read from their files.
struct Secrets {
  SecretBytes admin_token;       // the token's text
  SecretBytes service_token;     // the token's text
  SecretBytes issuer_key;        // IssuerKey::encode_secret bytes (the file's base64url, decoded)
  SecretBytes platform_key_pem;  // PKCS#8 PEM text
  SecretBytes pii_key;           // 32 bytes
  std::optional<SecretBytes> root_key_pem;  // PKCS#8 PEM text; absent in a data dir from before
};

// The data directory's root key, created (with its trust_root file) if the directory predates it.
Result<crypto::Sm2PrivateKey> load_or_create_root_key(const std::filesystem::path& data_dir,
                                                      bool* created);

struct InitOptions {
  std::filesystem::path data_dir;
  std::optional<std::string> db_url;  // default sqlite:DIR/anoncode.db
  std::string group = "ristretto255";
  std::vector<std::string> tls_hostnames = {};  // [tls] hostnames
};

struct InitResult {
  Config config;
  SecretBytes admin_token;
  std::string issuer_kid;    // hex
  std::string platform_kid;  // hex of protocol::platform_key_id
  std::string trust_root;    // base64url of the root public key, for clients (DESIGN §3.6 rule 4)
  std::string tls_ca_file;   // DIR/tls_ca.pem: what clients verify the server with (`--ca`)
  std::string tls_ca_fingerprint;  // its SHA-256, hex, to compare out of band
};

// Creates DIR with the configuration and fresh secrets. DIR must not exist or be an empty
// directory (`conflict` otherwise: init never overwrites). The directory appears complete or
// not at all (it is built beside DIR and renamed into place).
Result<InitResult> init_data_dir(const InitOptions& options);

// Reads DIR/config.toml: `not_found` without one, `malformed` for bad TOML, `invalid_argument`
// for bad values.
Result<Config> load_config(const std::filesystem::path& data_dir);

// Reads the secret files; `forbidden` if one is readable by group or others.
Result<Secrets> load_secrets(const std::filesystem::path& data_dir);

// "HOST:PORT" (or "[v6]:PORT") → (host, port); port 0 means any free port.
Result<std::pair<std::string, int>> parse_listen(std::string_view listen);

// The data directory's TLS files, made when missing (a directory from before TLS, or a server
// certificate deleted to be reissued): the CA if there is none, and a server certificate for
// `hostnames` if there is none, it ends within kTlsRenewBeforeDays, or `renew` asks for one.
struct TlsFiles {
  std::filesystem::path ca, cert, key;
  bool created_ca = false;
  bool issued_certificate = false;
  std::string ca_fingerprint = {};  // SHA-256 of the CA certificate, hex
  std::vector<std::string> names = {};
  int64_t not_after = 0;  // the server certificate's, Unix seconds
};
Result<TlsFiles> ensure_tls_files(const std::filesystem::path& data_dir,
                                  const std::vector<std::string>& hostnames, bool renew = false,
                                  int64_t now_seconds = 0);

}  // namespace anoncode::datadir
