// The HTTP/JSON server every service runs in (DESIGN §5): an event-driven HTTP/1.1 server on
// Boost.Beast/Asio (docs/OPERATIONS.md "Connections and limits") that owns the conventions of
// docs/API.md once, so the handlers only say what they do:
//  - a handler takes a Request and returns Result<json>: a value is 200 with that body, an Error
//    is `{"error":{"code","message"}}` with the code's HTTP status (error_code_http_status);
//  - a handler that must send more with an error (the next credential after a spent show,
//    docs/API.md) returns `error_body(err, extra)`: a JSON object whose "error" member names a
//    code is rendered with that code's status;
//  - an exception is a bug: 500 `internal` with a generic message, the detail logged (never the
//    body); unknown routes are 404 `not_found`; a body over the limit is 413 `invalid_argument`;
//  - query parameters that are not UTF-8 are 400 `invalid_argument` before the handler runs, and
//    answers are serialized with ill-formed UTF-8 (stored before it was checked) as U+FFFD;
//  - `X-Request-Id` is echoed (or made) on every response and in the request's log line;
//  - one JSON log line per request (time, request id, method, route, status, duration — never
//    bodies, tokens or personal data), request counts and a latency histogram for /metrics;
//  - `GET /healthz` and `GET /metrics` are always there;
//  - HEAD is answered as GET is (the same handler, status and headers), without the body;
//  - /metrics labels are bounded: a known method (GET, POST, HEAD, PUT, DELETE, OPTIONS, PATCH)
//    or "other", a registered route or "unmatched";
//  - a few I/O threads read and write every connection; a request reaches a handler only once it
//    is complete, so a slow or idle client holds no worker. Handlers run on a bounded pool: when
//    its queue is full the answer is 503 `unavailable` with `Retry-After`. A connection must
//    send its TLS handshake and request header within ServerOptions::header_timeout (counted
//    from the accept or the request's first byte, not reset per byte), its body within
//    body_timeout; an idle kept-alive connection is closed after idle_timeout; a header over
//    max_header_bytes is 431, an unparsable request 400 `malformed`.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"
#include "protocol/errors.h"
#include "server/clock.h"
#include "server/metrics.h"

namespace anoncode::server {

// A request as the server read it off the wire, before any handler sees it (Request reads it).
struct RequestData {
  std::string method = {};  // as sent (HEAD included)
  std::string path = {};    // percent-decoded, without the query string
  std::vector<std::pair<std::string, std::string>> headers = {};  // in order, names as sent
  std::vector<std::pair<std::string, std::string>> query = {};    // decoded ('+' is a space)
  std::string body = {};
  std::string remote_address = {};  // the peer's IP address
};

// What a handler sees of a request.
class Request {
 public:
  Request(const RequestData& raw, std::string route, std::string request_id,
          std::string client_address = "")
      : raw_(raw),
        route_(std::move(route)),
        request_id_(std::move(request_id)),
        client_address_(std::move(client_address)) {}

  const std::string& method() const;  // "GET" for a HEAD request (answered as GET is)
  const std::string& path() const;
  const std::string& route() const { return route_; }  // the registered path it matched
  const std::string& request_id() const { return request_id_; }
  // The client's IP address (text, e.g. "203.0.113.7" or "2001:db8::1"): the peer's, or — when
  // the peer is a trusted proxy (ServerOptions::trusted_proxies) — the address that proxy saw,
  // the last one in X-Forwarded-For that is not itself a trusted proxy.
  const std::string& client_address() const { return client_address_; }
  const std::string& body() const;
  // A header's value (the first, if sent more than once), or nullopt (names are
  // case-insensitive).
  std::optional<std::string> header(std::string_view name) const;
  // A query-string parameter (the first, if given more than once), or nullopt.
  std::optional<std::string> query(std::string_view name) const;
  // The body as a JSON object: `malformed` if it is not JSON, `invalid_argument` if it is JSON
  // but not an object. An empty body is `{}`.
  Result<nlohmann::json> json_body() const;

  // A header to send with the response, whatever the handler returns (e.g. Set-Cookie). The
  // request is handed to handlers as const; this is the one thing they may add to it.
  void add_response_header(std::string name, std::string value) const {
    response_headers_.emplace_back(std::move(name), std::move(value));
  }
  const std::vector<std::pair<std::string, std::string>>& response_headers() const {
    return response_headers_;
  }

 private:
  const RequestData& raw_;
  std::string route_;
  std::string request_id_;
  std::string client_address_;
  mutable std::vector<std::pair<std::string, std::string>> response_headers_;
};

using Handler = std::function<Result<nlohmann::json>(const Request&)>;

// The handler of a route that reads nothing of the request but its JSON body:
// `fn(service, body, now_ms)`, a plain function a test calls without HTTP. Its reply is a
// Result<json>, or a value whose body() is the JSON to send (platform::JsonReply). The body must
// be a JSON object (Request::json_body).
template <typename Service, typename Reply>
Handler body_route(Service& service, NowMs now,
                   Reply (*fn)(Service&, const nlohmann::json& body, int64_t now_ms)) {
  return [&service, now = std::move(now), fn](const Request& req) -> Result<nlohmann::json> {
    ANONCODE_TRY(nlohmann::json body, req.json_body());
    Reply reply = fn(service, body, now());
    if constexpr (requires { reply.body(); }) {
      return reply.body();
    } else {
      return reply;
    }
  };
}

// `{"error":{"code","message"}}` plus `extra`'s members, for a handler to return as its value
// when the error must carry more (e.g. the rider's next credential): protocol/errors.h.
using protocol::error_body;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (tests); see HttpServer::port()
  size_t threads = 8;
  size_t max_body_bytes = 64 * 1024;  // per request, unless its route allows more
  // Peers whose X-Forwarded-For is believed (Request::client_address): the TLS-terminating
  // proxies in front of the server. Loopback by default, where such a proxy usually runs.
  std::vector<std::string> trusted_proxies = {"127.0.0.1", "::1"};
  // TLS (DESIGN §3.6 rule 5): the certificate chain (PEM, the server's first) and its private key
  // (PEM). Both empty: plain HTTP, which only a caller that checked the operator asked for it on
  // loopback may choose (anoncode serve). TLS 1.2 or 1.3, forward-secret AEAD suites only.
  std::string tls_cert_file = {};
  std::string tls_key_file = {};
  // Connections and limits (docs/OPERATIONS.md "Connections and limits"). `threads` above is the
  // handler pool; the I/O threads only read, write and do TLS handshakes.
  size_t io_threads = 2;
  size_t max_queued_requests = 1024;  // waiting for a handler; beyond: 503 with Retry-After
  size_t max_connections = 4096;      // open at once; a connection beyond is closed at once
  // Open at once from one client address; trusted proxies (above) are exempt, since every client
  // behind them shares their address.
  size_t max_connections_per_address = 256;
  size_t max_header_bytes = 16 * 1024;  // request line and headers; beyond: 431
  // From the accept (TLS handshake included) or a kept-alive request's first byte to the end of
  // its header; not reset by each byte, so a client trickling its header is cut here.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds body_timeout = std::chrono::seconds(30);  // from the header's end
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(5);   // between kept-alive requests
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);  // for each response
  int retry_after_seconds = 1;  // the Retry-After of a 503 for a full queue
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers `handler` for an exact method ("GET" or "POST") and path. Routes must be
  // registered before the server starts; a duplicate is a bug (throws). `max_body_bytes` (0:
  // the server's) lets a route take larger bodies, e.g. a POS batch of up to 1000 rides.
  void route(std::string_view method, std::string_view path, Handler handler,
             size_t max_body_bytes = 0);
  // Serves `body` (static content such as the admin console's files; it must outlive the
  // server) for GET `path`, with its content type and extra response headers.
  void static_route(std::string_view path, std::string content_type, std::string_view body,
                    std::vector<std::pair<std::string, std::string>> headers = {});
  // What `GET /healthz` asks before answering 200 (e.g. that the database answers); a failure
  // is 503 `unavailable`. Without one, /healthz answers 200 while the process serves.
  void set_health_check(std::function<Status()> check);

  // Binds the listening socket; the bound port (useful with port 0). `unavailable` if the
  // address cannot be bound, `invalid_argument` if the TLS certificate or key do not load.
  Result<int> bind();
  // Serves on the bound socket until stop(); blocks. Binds first if bind() was not called.
  Status serve();
  // serve() on a background thread, returning once the socket is bound (tests).
  Status start();
  // Stops accepting, lets the requests in progress finish, returns when serving has ended
  // (when started with start()). Safe to call from any thread, more than once.
  void stop();

  int port() const { return port_; }
  std::string url() const;  // https://host:port (http:// without TLS)
  bool tls() const { return !options_.tls_cert_file.empty(); }
  const Metrics& metrics() const { return *metrics_; }
  // Registers a gauge for /metrics (Metrics::add_gauge); before serving.
  void add_gauge(std::string name, std::string help, std::function<std::optional<double>()> read) {
    metrics_->add_gauge(std::move(name), std::move(help), std::move(read));
  }

 private:
  struct Route {
    std::string path;
    Handler handler;
    size_t max_body_bytes;
  };
  struct Impl;  // the sockets, the I/O threads and the worker pools (http_server.cpp)

  ServerOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Impl> impl_;
  std::map<std::pair<std::string, std::string>, Route> routes_;
  struct StaticRoute {
    std::string content_type;
    std::string_view body;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::map<std::string, StaticRoute, std::less<>> static_routes_;
  std::function<Status()> health_check_;
  size_t largest_body_ = 0;
  int port_ = -1;
  std::thread thread_;
  std::mutex state_mu_;
  bool serving_ = false;
  bool stop_requested_ = false;
};

// Raises this process's soft limit on open files to its hard limit (a server holds a descriptor
// per connection, ServerOptions::max_connections); returns the soft limit now in force.
size_t raise_open_files_limit();

}  // namespace anoncode::server
