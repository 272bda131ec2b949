// TLS on every hop (DESIGN §3.6 rule 5, docs/OPERATIONS.md "TLS"): the operator's certificate
// authority, the server certificate it signs, and the one way every client of ours (SDK, POS,
// admin CLI, bench, demo, tests) connects to a server.
//
// The certificates are ECDSA P-256 with SHA-256, not SM2: the browser that runs the admin console
// and the TLS stacks of phones do not negotiate SM2 cipher suites (GB/T 38636 TLCP, RFC 8998).
// What SM2/SM3/SM4 protect above the transport is the rider's channel (docs/CHANNEL.md).
//
// A client verifies the server's chain and host name against the operator CA it was given (the
// CA's PEM, as an app build ships it), or, given none, against the system's trust store (a
// deployment whose server certificate comes from a public CA). Plain http:// is refused except to
// a loopback address, where an operator may run the server without TLS on purpose.
#pragma once

#include <signal.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace httplib {
class Client;
class Result;
}  // namespace httplib

namespace anoncode::net {

// Whom a client trusts for https:// servers: only the certificates in `ca_file` (PEM; the
// operator CA, DIR/tls_ca.pem), or — empty — the system's trust store.
struct TlsTrust {
  std::string ca_file;
};

// A server and how to trust it: "https://host:port" (or "http://" to loopback) and the CA.
struct Endpoint {
  std::string url;
  TlsTrust trust;
};

// The trust of `--ca FILE`: `not_found` for a missing file, `malformed` for a file that holds no
// PEM certificate. An empty path is the system's trust store.
Result<TlsTrust> tls_trust_from(const std::string& ca_file);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

struct ClientTimeouts {
  int connect_seconds = 5;
  int read_seconds = 30;
  int write_seconds = 30;
};

// A cpp-httplib client for "https://host[:port]" that verifies the server's certificate chain
// and its host name against `server.trust`, or for "http://host[:port]" when host is a loopback
// address; TCP_NODELAY and keep-alive. `invalid_argument` for any other URL (plain HTTP to
// another host included), `malformed` for a CA that does not load.
Result<std::unique_ptr<httplib::Client>> make_client(const Endpoint& server,
                                                     const ClientTimeouts& timeouts = {});

// Blocks SIGPIPE for the calling thread while it lives, and discards one raised meanwhile.
// OpenSSL writes to a socket with write(2), which raises SIGPIPE — fatal by default — when the
// peer has closed it (a server closing an idle keep-alive connection); a plain socket write uses
// MSG_NOSIGNAL instead. A library cannot ignore the signal for the whole process it is linked
// into (a rider's app), so every client request of ours runs under one of these.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// A server cannot block the signal in threads it does not own (its connection pool): it ignores
// SIGPIPE for the process, as servers do. Called by a TLS server before it serves.
void ignore_sigpipe_in_this_process();

// Sends one request: `call` on `client`, under a SigpipeGuard; once more, on a new connection,
// when it failed while writing. A server closes a kept-alive connection it found idle (5 s); a
// TLS client cannot see that close before it writes, so the write fails — and a request that was
// not written whole was not received, so sending it again is safe for any request.
httplib::Result send_request(httplib::Client& client,
                             const std::function<httplib::Result(httplib::Client&)>& call);

// Why a request got no answer, for an error message; for a certificate that did not verify,
// what to check.
std::string failure_text(const httplib::Result& result);

// --- the operator's certificates (`anoncode init`, `anoncode tls renew`) ---

// A private key as PKCS#8 PEM (secret) and a certificate as PEM (public).
struct KeyAndCertificate {
  SecretBytes key_pem;
  std::string cert_pem;
};

// A new operator CA: a P-256 key and a self-signed certificate ("anoncode operator CA", CN with
// `operator_name`), valid for `validity_days`, allowed to sign server certificates only
// (pathlen 0).
Result<KeyAndCertificate> create_ca(std::string_view operator_name, int validity_days);

// A server certificate signed by `ca` for `hostnames` (DNS names or IP addresses, each a
// subjectAltName; "localhost", 127.0.0.1 and ::1 are always added), valid for `validity_days`,
// for TLS server authentication only. `cert_pem` holds the certificate and then the CA's, the
// chain a server sends.
Result<KeyAndCertificate> issue_server_certificate(const KeyAndCertificate& ca,
                                                   const std::vector<std::string>& hostnames,
                                                   int validity_days);

// What an operator is told about a certificate (the first in `pem`): its subject, names,
// notAfter as Unix seconds and SHA-256 fingerprint (hex). `malformed` if it does not parse.
struct CertificateInfo {
  std::string subject;
  std::vector<std::string> names;
  int64_t not_after = 0;
  std::string sha256_fingerprint;
};
Result<CertificateInfo> certificate_info(std::string_view pem);

}  // namespace anoncode::net
