#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>

#include "net/tls.h"
#include "server/json_fields.h"
#include "server/log.h"

namespace anoncode::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kJson = "application/json";
constexpr const char* kUnmatched = "unmatched";
constexpr const char* kOtherMethod = "other";

// What the logger needs of the request in progress. httplib runs a connection's requests start
// to finish on one worker thread, from the pre-routing handler to the logger, so thread-local
// state is per request.
struct RequestContext {
  bool active = false;
  Clock::time_point start;
  std::string request_id;
  std::string route;
};
thread_local RequestContext tl_request;

bool acceptable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  uint8_t raw[16];
  randombytes_buf(raw, sizeof raw);
  return to_hex(ByteView(raw, sizeof raw));
}

// The method as a metrics label: one of a fixed set, whatever the client wrote in its request
// line (httplib hands the logger the method of a request line it could not parse as it was).
const char* method_label(const std::string& method) {
  for (const char* known : {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    if (method == known) return known;
  }
  return kOtherMethod;
}

// A JSON answer's text; ill-formed UTF-8 in a string becomes U+FFFD instead of an exception.
std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void set_error(httplib::Response& res, ErrorCode code, std::string_view message, int status = 0) {
  res.status = status != 0 ? status : error_code_http_status(code);
  res.set_content(dump_json(error_body(Error{code, std::string(message)})), kJson);
}

bool is_ip_address(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// Request::client_address(): X-Forwarded-For is read from its end (each proxy appends the
// address it saw), as long as the hop it names is trusted; an entry that is not an IP address
// ends the walk.
std::string client_address_of(const httplib::Request& req,
                              const std::vector<std::string>& trusted_proxies) {
  auto trusted = [&](const std::string& a) {
    return std::find(trusted_proxies.begin(), trusted_proxies.end(), a) != trusted_proxies.end();
  };
  std::string address = req.remote_addr;
  if (!trusted(address)) return address;
  std::vector<std::string> hops;
  for (size_t i = 0, n = req.get_header_value_count("X-Forwarded-For"); i < n; ++i) {
    const std::string header = req.get_header_value("X-Forwarded-For", i);
    std::string_view value = header;
    while (!value.empty()) {
      size_t comma = value.find(',');
      std::string_view hop = value.substr(0, comma);
      while (!hop.empty() && (hop.front() == ' ' || hop.front() == '\t')) hop.remove_prefix(1);
      while (!hop.empty() && (hop.back() == ' ' || hop.back() == '\t')) hop.remove_suffix(1);
      hops.emplace_back(hop);
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  }
  for (auto hop = hops.rbegin(); hop != hops.rend() && trusted(address); ++hop) {
    if (!is_ip_address(*hop)) break;
    address = *hop;
  }
  return address;
}

// The status of a body returned as a value: 200, unless it is an error_body().
int status_of(const nlohmann::json& body) {
  auto e = protocol::error_in(body);  // an unknown code is `internal`: 500
  return e ? error_code_http_status(e->code) : 200;
}

// A plain server, or a TLS one that loads `cert_file` (the chain) and `key_file` into its context:
// TLS 1.2 or later, forward-secret AEAD suites for 1.2 (1.3's are all such), no renegotiation, no
// compression, no session tickets in 1.2 or 1.3 (a server keeps no ticket key to rotate). A
// certificate or key that does not load leaves the server invalid: bind() says so.
std::unique_ptr<httplib::Server> make_server(const ServerOptions& o) {
  if (o.tls_cert_file.empty()) return std::make_unique<httplib::Server>();
  net::ignore_sigpipe_in_this_process();  // SSL_write to a client that went away
  std::string cert = o.tls_cert_file, key = o.tls_key_file;
  return std::make_unique<httplib::SSLServer>([cert, key](SSL_CTX& ctx) {
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
    return SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) == 1 &&
           SSL_CTX_set_num_tickets(&ctx, 0) == 1 &&
           SSL_CTX_set_cipher_list(&ctx,
                                   "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                   "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
                                   "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305") ==
               1 &&
           SSL_CTX_use_certificate_chain_file(&ctx, cert.c_str()) == 1 &&
           SSL_CTX_use_PrivateKey_file(&ctx, key.c_str(), SSL_FILETYPE_PEM) == 1 &&
           SSL_CTX_check_private_key(&ctx) == 1;
  });
}

}  // namespace

// --- Request ---

const std::string& Request::method() const {
  static const std::string kGet = "GET";
  return raw_.method == "HEAD" ? kGet : raw_.method;  // HEAD is answered as GET is
}
const std::string& Request::path() const {
  return raw_.path;
}
const std::string& Request::body() const {
  return raw_.body;
}

std::optional<std::string> Request::header(std::string_view name) const {
  std::string key(name);
  if (!raw_.has_header(key.c_str())) return std::nullopt;
  return raw_.get_header_value(key.c_str());
}

std::optional<std::string> Request::query(std::string_view name) const {
  std::string key(name);
  if (!raw_.has_param(key.c_str())) return std::nullopt;
  return raw_.get_param_value(key.c_str());
}

Result<nlohmann::json> Request::json_body() const {
  return parse_json_object(raw_.body);
}

// --- HttpServer ---

HttpServer::HttpServer(ServerOptions options)
    : options_(std::move(options)),
      http_(make_server(options_)),
      metrics_(std::make_unique<Metrics>()) {
  auto& s = *http_;
  // Without TCP_NODELAY every small response waits for the peer's delayed ACK (~40 ms).
  s.set_tcp_nodelay(true);
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second server
  // bind the same port and silently share its traffic instead of failing to start.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
  });
  size_t threads = options_.threads == 0 ? 1 : options_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  largest_body_ = options_.max_body_bytes;
  s.set_payload_max_length(largest_body_);
  // An idle keep-alive connection holds a worker, and a graceful stop waits for it: keep it short.
  s.set_keep_alive_timeout(2);
  s.set_read_timeout(10);
  s.set_write_timeout(10);

  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    tl_request.active = true;
    tl_request.start = Clock::now();
    std::string id = req.get_header_value("X-Request-Id");
    tl_request.request_id = acceptable_request_id(id) ? id : new_request_id();
    tl_request.route = kUnmatched;
    res.set_header("X-Request-Id", tl_request.request_id);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
    this->dispatch(req, &res);
  };
  // One catch-all per method: routing, 404s and metrics labels stay ours.
  s.Get(".*", dispatch);
  s.Post(".*", dispatch);
  s.Put(".*", dispatch);
  s.Patch(".*", dispatch);
  s.Delete(".*", dispatch);
  s.Options(".*", dispatch);

  // Called for every response with status >= 400; fills in bodies httplib left empty (a body over
  // the limit, a request it could not parse) and keeps ours.
  s.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        switch (res.status) {
          case 413:
            set_error(res, ErrorCode::kInvalidArgument, "the request body is too large", 413);
            break;
          case 404:
            set_error(res, ErrorCode::kNotFound, "no such route");
            break;
          case 400:
            set_error(res, ErrorCode::kMalformed, "the HTTP request could not be parsed");
            break;
          default:
            if (res.status >= 500) {
              set_error(res, ErrorCode::kInternal, "internal error", 500);
            } else {
              set_error(res, ErrorCode::kInvalidArgument, "the request was refused", res.status);
            }
        }
        if (tl_request.active && !res.has_header("X-Request-Id")) {
          res.set_header("X-Request-Id", tl_request.request_id);
        }
        return httplib::Server::HandlerResponse::Handled;
      }));

  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    // dispatch() catches everything; this is the net under httplib's own code.
    log_error("unexpected_exception", {{"request_id", tl_request.request_id}});
    set_error(res, ErrorCode::kInternal, "internal error");
  });

  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    double seconds = 0;
    std::string route = kUnmatched;
    std::string request_id;
    if (tl_request.active) {
      seconds = std::chrono::duration<double>(Clock::now() - tl_request.start).count();
      route = tl_request.route;
      request_id = tl_request.request_id;
    }
    tl_request.active = false;
    // Bounded labels: a known method or "other", a registered route or "unmatched".
    const std::string method = method_label(req.method);
    metrics_->record(method, route, res.status, seconds);
    log_info("request", {{"request_id", request_id},
                         {"method", method},
                         {"route", route},
                         {"status", res.status},
                         {"duration_ms", seconds * 1000.0}});
  });
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string_view method, std::string_view path, Handler handler,
                       size_t max_body_bytes) {
  std::string m(method), p(path);
  if (m != "GET" && m != "POST") throw std::invalid_argument("route: method must be GET or POST");
  size_t limit = max_body_bytes == 0 ? options_.max_body_bytes : max_body_bytes;
  if (p == "/healthz" || p == "/metrics" ||
      !routes_.emplace(std::pair{m, p}, Route{p, std::move(handler), limit}).second) {
    throw std::invalid_argument("route registered twice: " + m + " " + p);
  }
  // httplib reads a body up to this before routing; dispatch() holds each route to its own.
  largest_body_ = std::max(largest_body_, limit);
  http_->set_payload_max_length(largest_body_);
}

void HttpServer::static_route(std::string_view path, std::string content_type,
                              std::string_view body,
                              std::vector<std::pair<std::string, std::string>> headers) {
  std::string p(path);
  if (routes_.count(std::pair{std::string("GET"), p}) != 0 ||
      !static_routes_.emplace(p, StaticRoute{std::move(content_type), body, std::move(headers)})
           .second) {
    throw std::invalid_argument("route registered twice: GET " + p);
  }
}

void HttpServer::set_health_check(std::function<Status()> check) {
  health_check_ = std::move(check);
}

void HttpServer::dispatch(const httplib::Request& req, void* res_ptr) {
  auto& res = *static_cast<httplib::Response*>(res_ptr);
  const std::string& path = req.path;
  // HEAD is answered as GET is, without the body (httplib sends the headers only).
  const std::string method = req.method == "HEAD" ? std::string("GET") : req.method;
  if (method == "GET" && path == "/healthz") {
    tl_request.route = path;
    if (health_check_) {
      Status healthy = health_check_();
      if (!healthy) {
        log_warn("unhealthy",
                 {{"request_id", tl_request.request_id}, {"code", healthy.error().code_name()}});
        set_error(res, ErrorCode::kUnavailable, "not ready to serve");
        return;
      }
    }
    res.set_content(R"({"status":"ok"})", kJson);
    return;
  }
  if (method == "GET" && path == "/metrics") {
    tl_request.route = path;
    res.set_content(metrics_->render(), "text/plain; version=0.0.4");
    return;
  }
  if (method == "GET") {
    if (auto st = static_routes_.find(path); st != static_routes_.end()) {
      tl_request.route = st->first;
      for (const auto& [name, value] : st->second.headers) res.set_header(name, value);
      res.set_content(std::string(st->second.body), st->second.content_type);
      return;
    }
  }
  auto it = routes_.find(std::pair{method, path});
  if (it == routes_.end()) {
    set_error(res, ErrorCode::kNotFound, "no such route");
    return;
  }
  tl_request.route = it->second.path;
  if (req.body.size() > it->second.max_body_bytes) {
    set_error(res, ErrorCode::kInvalidArgument, "the request body is too large", 413);
    return;
  }
  // Query parameters are text a handler may store (e.g. in the audit log) and send back as JSON:
  // ill-formed UTF-8 is refused here, before any handler sees it.
  for (const auto& [name, value] : req.params) {
    if (!is_utf8(name) || !is_utf8(value)) {
      set_error(res, ErrorCode::kInvalidArgument, "query parameters must be UTF-8 text");
      return;
    }
  }
  try {
    Request request(req, it->second.path, tl_request.request_id,
                    client_address_of(req, options_.trusted_proxies));
    Result<nlohmann::json> out = it->second.handler(request);
    if (out.ok()) {
      res.status = status_of(*out);
      // `replace`: text stored before it was checked (e.g. an old audit entry) is sent with
      // U+FFFD for its ill-formed bytes rather than failing the whole answer.
      res.set_content(dump_json(*out), kJson);
    } else {
      set_error(res, out.error().code, out.error().message);
    }
    for (const auto& [name, value] : request.response_headers()) res.set_header(name, value);
  } catch (const std::exception& e) {
    // A bug: the detail goes to the log (no body, no headers), the client gets a generic 500.
    log_error(
        "handler_exception",
        {{"request_id", tl_request.request_id}, {"route", it->second.path}, {"what", e.what()}});
    set_error(res, ErrorCode::kInternal, "internal error");
  } catch (...) {
    log_error("handler_exception",
              {{"request_id", tl_request.request_id}, {"route", it->second.path}});
    set_error(res, ErrorCode::kInternal, "internal error");
  }
}

Result<int> HttpServer::bind() {
  if (port_ >= 0) return port_;
  if (!http_->is_valid()) {
    return make_error(ErrorCode::kInvalidArgument, "the TLS certificate " + options_.tls_cert_file +
                                                       " or its key " + options_.tls_key_file +
                                                       " does not load (or they do not match)");
  }
  int port = -1;
  if (options_.port == 0) {
    port = http_->bind_to_any_port(options_.host);
  } else if (http_->bind_to_port(options_.host, options_.port)) {
    port = options_.port;
  }
  if (port <= 0) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  }
  port_ = port;
  return port_;
}

Status HttpServer::serve() {
  ANONCODE_TRY(int port, bind());
  (void)port;
  {
    std::lock_guard lock(state_mu_);
    if (stop_requested_) return {};
    serving_ = true;
  }
  bool ok = http_->listen_after_bind();
  std::lock_guard lock(state_mu_);
  serving_ = false;
  if (!ok && !stop_requested_) {
    return make_error(ErrorCode::kUnavailable, "the server stopped accepting connections");
  }
  return {};
}

Status HttpServer::start() {
  ANONCODE_TRY(int port, bind());
  (void)port;
  {
    std::lock_guard lock(state_mu_);
    if (thread_.joinable()) throw std::logic_error("HttpServer::start called twice");
    serving_ = true;  // before the thread runs, so a stop() right away waits for it
  }
  thread_ = std::thread([this] {
    http_->listen_after_bind();
    std::lock_guard lock(state_mu_);
    serving_ = false;
  });
  for (int i = 0; i < 5000 && !http_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!http_->is_running()) return make_error(ErrorCode::kUnavailable, "the server did not start");
  return {};
}

void HttpServer::stop() {
  bool was_serving = false;
  {
    std::lock_guard lock(state_mu_);
    stop_requested_ = true;
    was_serving = serving_;
  }
  if (was_serving) {
    // serve() may be between taking the lock and entering its accept loop.
    for (int i = 0; i < 1000 && !http_->is_running(); ++i) {
      {
        std::lock_guard lock(state_mu_);
        if (!serving_) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  http_->stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::string HttpServer::url() const {
  std::string host = options_.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return (tls() ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

}  // namespace anoncode::server
