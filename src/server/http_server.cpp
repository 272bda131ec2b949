#include "server/http_server.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <sys/resource.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

#include "net/tls.h"
#include "server/json_fields.h"
#include "server/log.h"

namespace anoncode::server {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kUnmatched = "unmatched";
constexpr const char* kOtherMethod = "other";
// What a connection that closes may still have sent (e.g. the body of a refused request) is read
// and dropped for up to this long before the socket closes, so the client reads its answer
// instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;

bool acceptable_request_id(std::string_view id) {
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

// The method as a metrics label: one of a fixed set, whatever the client wrote.
const char* method_label(std::string_view method) {
  for (const char* known : {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    if (method == known) return known;
  }
  return kOtherMethod;
}

// A JSON answer's text; ill-formed UTF-8 in a string becomes U+FFFD instead of an exception.
std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view view(beast::string_view v) {
  return {v.data(), v.size()};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX sequences decoded (a '%' not followed by two hex digits stays as it is); '+' is a space in
// a query string, itself in a path.
std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

// "a=1&b=x%20y&c" → {a,1}, {b,x y}, {c,""}; empty names are dropped.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view part = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    size_t eq = part.find('=');
    std::string name = percent_decode(part.substr(0, eq), true);
    if (name.empty()) continue;
    std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1), true);
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

bool is_ip_address(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool is_trusted(const std::vector<std::string>& trusted_proxies, const std::string& address) {
  return std::find(trusted_proxies.begin(), trusted_proxies.end(), address) !=
         trusted_proxies.end();
}

// Request::client_address(): X-Forwarded-For is read from its end (each proxy appends the
// address it saw), as long as the hop it names is trusted; an entry that is not an IP address
// ends the walk.
std::string client_address_of(const RequestData& req,
                              const std::vector<std::string>& trusted_proxies) {
  std::string address = req.remote_address;
  if (!is_trusted(trusted_proxies, address)) return address;
  std::vector<std::string> hops;
  for (const auto& [name, header] : req.headers) {
    if (!iequals(name, "X-Forwarded-For")) continue;
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
  for (auto hop = hops.rbegin(); hop != hops.rend() && is_trusted(trusted_proxies, address);
       ++hop) {
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

// The TLS context's settings: TLS 1.2 or later, forward-secret AEAD suites for 1.2 (1.3's are
// all such), no renegotiation, no compression, no session tickets in 1.2 or 1.3 (a server keeps
// no ticket key to rotate); the certificate chain `cert_file` and its key `key_file`. False when
// the certificate or key does not load (bind() says so).
bool configure_tls(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
         SSL_CTX_set_num_tickets(ctx, 0) == 1 &&
         SSL_CTX_set_cipher_list(ctx,
                                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                 "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
                                 "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305") == 1 &&
         SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) == 1 &&
         SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) == 1 &&
         SSL_CTX_check_private_key(ctx) == 1;
}

// A fixed set of threads taking tasks from a bounded queue: submit() refuses a task instead of
// queueing without end.
class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued, std::atomic<int64_t>* depth)
      : max_queued_(max_queued), depth_(depth) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
      threads_.emplace_back([this] { run(); });
    }
  }
  ~WorkerPool() { shutdown(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue holds max_queued tasks already.
  bool submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || queue_.size() >= max_queued_) return false;
      queue_.push_back(std::move(task));
      if (depth_ != nullptr) ++*depth_;
    }
    cv_.notify_one();
    return true;
  }

  // Runs what is queued, then joins the threads.
  void shutdown() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
        if (depth_ != nullptr) --*depth_;
      }
      task();
    }
  }

  size_t max_queued_;
  std::atomic<int64_t>* depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// An answer before it is written.
struct Reply {
  int status = 200;
  std::string content_type = {};
  std::string body = {};
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string route = kUnmatched;
};

Reply error_reply(ErrorCode code, std::string_view message, int status = 0) {
  Reply r;
  r.status = status != 0 ? status : error_code_http_status(code);
  r.content_type = kJson;
  r.body = dump_json(error_body(Error{code, std::string(message)}));
  return r;
}

// Where a complete request is answered: on the I/O thread (cheap, no blocking work), on the
// control worker (/healthz with a check, /metrics: both may ask the database, and neither may
// wait behind the handlers) or on the handler pool.
enum class Lane { kInline, kControl, kHandlers };

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
  for (const auto& [n, v] : raw_.headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

std::optional<std::string> Request::query(std::string_view name) const {
  for (const auto& [n, v] : raw_.query) {
    if (n == name) return v;
  }
  return std::nullopt;
}

Result<nlohmann::json> Request::json_body() const {
  return parse_json_object(raw_.body);
}

// --- the connections ---

struct HttpServer::Impl {
  class SessionBase {
   public:
    virtual ~SessionBase() = default;
    virtual void start() = 0;
    // Closes the connection unless a request on it is being read or answered (stop()).
    virtual void close_if_idle() = 0;
    virtual asio::any_io_executor executor() = 0;
  };
  template <class Stream>
  class Session;

  Impl(HttpServer& server, const ServerOptions& o) : server_(server), o_(o) {}

  // A request as it arrived → its answer, on whichever thread its lane runs.
  Reply dispatch(const RequestData& req, const std::string& request_id);
  Lane lane_of(const std::string& method, const std::string& path) const;

  Result<int> listen();
  void run();  // serve(): until stop() and every connection has ended
  void begin_stop();
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void session_ended(SessionBase* session, const std::string& peer);

  HttpServer& server_;
  const ServerOptions& o_;
  asio::io_context ioc_;
  // The acceptor's own strand: accepting and stop() (begin_stop) never run at once.
  asio::strand<asio::io_context::executor_type> strand_ = asio::make_strand(ioc_);
  std::optional<asio::ssl::context> ssl_;
  bool ssl_ok_ = true;
  tcp::acceptor acceptor_{strand_};
  asio::steady_timer accept_retry_{strand_};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<WorkerPool> handlers_;
  std::unique_ptr<WorkerPool> control_;
  std::mutex mu_;  // sessions_, per_address_, stopping_
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  std::unordered_map<std::string, size_t> per_address_;
  bool stopping_ = false;
  std::atomic<bool> stopping_flag_{false};
  bool accept_error_logged_ = false;
};

// One connection: TLS handshake, then requests one after the other (HTTP/1.1 keep-alive), every
// step asynchronous on the connection's strand and under a deadline.
template <class Stream>
class HttpServer::Impl::Session
    : public HttpServer::Impl::SessionBase,
      public std::enable_shared_from_this<HttpServer::Impl::Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(Impl& impl, std::string peer, Args&&... args)
      : impl_(impl), stream_(std::forward<Args>(args)...), peer_(std::move(peer)) {}
  ~Session() override {
    if (in_request_) --impl_.server_.metrics_->load().inflight_requests;
    impl_.session_ended(this, peer_);
  }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

  void start() override {
    lowest().expires_after(impl_.o_.header_timeout);
    if constexpr (kTls) {
      state_ = State::kHandshake;
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close_now();
                                self->read_header();
                              });
    } else {
      read_header();
    }
  }

  void close_if_idle() override {
    if (state_ == State::kHandshake || state_ == State::kIdle || state_ == State::kReadingHeader ||
        state_ == State::kClosing) {
      close_now();
    }
  }

 private:
  enum class State {
    kHandshake,
    kIdle,
    kReadingHeader,
    kReadingBody,
    kAnswering,
    kWriting,
    kClosing
  };

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read_header() {
    state_ = State::kReadingHeader;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(impl_.o_.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    // The body's size is checked once the header is complete (so the 413 has its request id).
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  // A failure to read that the client gets an answer for: the request did not parse.
  static bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      begin_request("", new_request_id());
      return finish(
          error_reply(ErrorCode::kInvalidArgument, "the request header is too large", 431), true);
    }
    if (is_parse_error(ec)) {
      begin_request("", new_request_id());
      return finish(error_reply(ErrorCode::kMalformed, "the HTTP request could not be parsed"),
                    true);
    }
    if (ec) return close_now();  // closed, timed out: nobody to answer

    auto& header = parser_->get();
    auto id = header.find("X-Request-Id");
    begin_request(std::string(header.method_string()),
                  id != header.end() && acceptable_request_id(view(id->value()))
                      ? std::string(id->value())
                      : new_request_id());
    keep_alive_ = header.keep_alive();
    if (auto length = parser_->content_length(); length && *length > impl_.server_.largest_body_) {
      // Over every route's limit: refused before routing, without reading the body.
      return finish(error_reply(ErrorCode::kInvalidArgument, "the request body is too large", 413),
                    true);
    }
    parser_->body_limit(impl_.server_.largest_body_);
    state_ = State::kReadingBody;
    lowest().expires_after(impl_.o_.body_timeout);
    if (parser_->is_done()) return on_body({});
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && iequals(view(expect->value()), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     header.version());
      return http::async_write(
          stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
            if (ec) return self->close_now();
            self->read_body();
          });
    }
    read_body();
  }

  void read_body() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return finish(error_reply(ErrorCode::kInvalidArgument, "the request body is too large", 413),
                    true);
    }
    if (is_parse_error(ec)) {
      return finish(error_reply(ErrorCode::kMalformed, "the HTTP request could not be parsed"),
                    true);
    }
    if (ec) return close_now();

    auto message = parser_->release();
    auto req = std::make_shared<RequestData>();
    req->method = std::string(message.method_string());
    std::string_view target = view(message.target());
    size_t question = target.find('?');
    req->path = percent_decode(target.substr(0, question), false);
    if (question != std::string_view::npos) req->query = parse_query(target.substr(question + 1));
    for (const auto& field : message) {
      req->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    req->body = std::move(message.body());
    req->remote_address = peer_;
    head_ = req->method == "HEAD";
    version_ = message.version();
    parser_.reset();
    started_ = Clock::now();
    state_ = State::kAnswering;
    // The deadline for the answer is the handler's own; the connection waits without one.
    lowest().expires_never();

    Lane lane = impl_.lane_of(head_ ? std::string("GET") : req->method, req->path);
    if (lane == Lane::kInline) return finish(impl_.dispatch(*req, request_id_), false);
    auto task = [self = this->shared_from_this(), req] {
      Reply reply = self->impl_.dispatch(*req, self->request_id_);
      asio::post(self->stream_.get_executor(), [self, reply = std::move(reply)]() mutable {
        self->finish(std::move(reply), false);
      });
    };
    WorkerPool& pool = lane == Lane::kControl ? *impl_.control_ : *impl_.handlers_;
    if (!pool.submit(std::move(task))) {
      Reply busy = error_reply(ErrorCode::kUnavailable, "the server is busy; retry later");
      busy.headers.emplace_back("Retry-After", std::to_string(impl_.o_.retry_after_seconds));
      busy.route = req->path;  // a registered route, /healthz or /metrics (lane_of)
      finish(std::move(busy), false);
    }
  }

  void begin_request(std::string method, std::string request_id) {
    if (!in_request_) ++impl_.server_.metrics_->load().inflight_requests;
    in_request_ = true;
    method_ = std::move(method);
    request_id_ = std::move(request_id);
    started_ = Clock::now();
    version_ = 11;
    head_ = method_ == "HEAD";
  }

  // Writes `reply`; `close` after it (a request that was not read whole).
  void finish(Reply reply, bool close) {
    state_ = State::kWriting;
    route_ = std::move(reply.route);
    status_ = reply.status;
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version_);
    if (!reply.content_type.empty()) res->set(http::field::content_type, reply.content_type);
    res->set("X-Request-Id", request_id_);
    for (auto& [name, value] : reply.headers) res->insert(name, value);
    keep_alive_ = keep_alive_ && !close && !impl_.stopping_flag_.load();
    res->keep_alive(keep_alive_);
    if (head_) {
      res->content_length(reply.body.size());  // the GET's length, without the body
    } else {
      res->body() = std::move(reply.body);
      res->prepare_payload();
    }
    lowest().expires_after(impl_.o_.write_timeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
                        self->on_written(ec);
                      });
  }

  void on_written(beast::error_code ec) {
    double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    const char* method = method_label(method_);
    impl_.server_.metrics_->record(method, route_, status_, seconds);
    log_info("request", {{"request_id", request_id_},
                         {"method", method},
                         {"route", route_},
                         {"status", status_},
                         {"duration_ms", seconds * 1000.0}});
    in_request_ = false;
    --impl_.server_.metrics_->load().inflight_requests;
    if (ec) return close_now();
    if (!keep_alive_) return close_gracefully();
    wait_for_next();
  }

  // Between kept-alive requests: the next one's first byte within idle_timeout, then its header
  // within header_timeout.
  void wait_for_next() {
    state_ = State::kIdle;
    keep_alive_ = false;
    if (impl_.stopping_flag_.load()) return close_gracefully();
    if (buffer_.size() > 0) {  // pipelined: the next request has begun
      lowest().expires_after(impl_.o_.header_timeout);
      return read_header();
    }
    lowest().expires_after(impl_.o_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->close_now();
                              self->buffer_.commit(n);
                              self->lowest().expires_after(self->impl_.o_.header_timeout);
                              self->read_header();
                            });
  }

  void close_gracefully() {
    state_ = State::kClosing;
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (impl_.stopping_flag_.load()) return close_now();
      lowest().expires_after(kLingerTime);
      linger();
    }
  }

  // Reads and drops what the client still sends until it closes (or the linger time ends).
  void linger() {
    lowest().async_read_some(asio::buffer(drain_),
                             [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                               self->drained_ += n;
                               if (ec || self->drained_ > kLingerBytes) return self->close_now();
                               self->linger();
                             });
  }

  void close_now() {
    state_ = State::kClosing;
    lowest().close();
  }

  Impl& impl_;
  Stream stream_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::kIdle;
  bool in_request_ = false;
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  std::string method_;
  std::string request_id_;
  std::string route_ = kUnmatched;
  int status_ = 0;
  Clock::time_point started_;
  std::array<char, 4096> drain_{};
  size_t drained_ = 0;
};

Lane HttpServer::Impl::lane_of(const std::string& method, const std::string& path) const {
  if (method == "GET" && path == "/healthz") {
    return server_.health_check_ ? Lane::kControl : Lane::kInline;
  }
  if (method == "GET" && path == "/metrics") return Lane::kControl;
  if (server_.routes_.count(std::pair{method, path}) != 0) return Lane::kHandlers;
  return Lane::kInline;  // static content, 404
}

Reply HttpServer::Impl::dispatch(const RequestData& req, const std::string& request_id) {
  const HttpServer& s = server_;
  const std::string& path = req.path;
  // HEAD is answered as GET is, without the body (the writer leaves it out).
  const std::string method = req.method == "HEAD" ? std::string("GET") : req.method;
  Reply res;
  res.content_type = kJson;
  if (method == "GET" && path == "/healthz") {
    if (s.health_check_) {
      Status healthy = s.health_check_();
      if (!healthy) {
        log_warn("unhealthy", {{"request_id", request_id}, {"code", healthy.error().code_name()}});
        res = error_reply(ErrorCode::kUnavailable, "not ready to serve");
        res.route = path;
        return res;
      }
    }
    res.route = path;
    res.body = R"({"status":"ok"})";
    return res;
  }
  if (method == "GET" && path == "/metrics") {
    res.route = path;
    res.content_type = "text/plain; version=0.0.4";
    res.body = s.metrics_->render();
    return res;
  }
  if (method == "GET") {
    if (auto st = s.static_routes_.find(path); st != s.static_routes_.end()) {
      res.route = st->first;
      res.headers = st->second.headers;
      res.content_type = st->second.content_type;
      res.body = std::string(st->second.body);
      return res;
    }
  }
  auto it = s.routes_.find(std::pair{method, path});
  if (it == s.routes_.end()) return error_reply(ErrorCode::kNotFound, "no such route");
  const std::string& route = it->second.path;
  auto with_route = [&route](Reply r) {
    r.route = route;
    return r;
  };
  if (req.body.size() > it->second.max_body_bytes) {
    return with_route(
        error_reply(ErrorCode::kInvalidArgument, "the request body is too large", 413));
  }
  // Query parameters are text a handler may store (e.g. in the audit log) and send back as JSON:
  // ill-formed UTF-8 is refused here, before any handler sees it.
  for (const auto& [name, value] : req.query) {
    if (!is_utf8(name) || !is_utf8(value)) {
      return with_route(
          error_reply(ErrorCode::kInvalidArgument, "query parameters must be UTF-8 text"));
    }
  }
  try {
    Request request(req, route, request_id, client_address_of(req, o_.trusted_proxies));
    Result<nlohmann::json> out = it->second.handler(request);
    if (out.ok()) {
      res.status = status_of(*out);
      // `replace`: text stored before it was checked (e.g. an old audit entry) is sent with
      // U+FFFD for its ill-formed bytes rather than failing the whole answer.
      res.body = dump_json(*out);
    } else {
      res = error_reply(out.error().code, out.error().message);
    }
    for (const auto& [name, value] : request.response_headers())
      res.headers.emplace_back(name, value);
  } catch (const std::exception& e) {
    // A bug: the detail goes to the log (no body, no headers), the client gets a generic 500.
    log_error("handler_exception",
              {{"request_id", request_id}, {"route", route}, {"what", e.what()}});
    res = error_reply(ErrorCode::kInternal, "internal error");
  } catch (...) {
    log_error("handler_exception", {{"request_id", request_id}, {"route", route}});
    res = error_reply(ErrorCode::kInternal, "internal error");
  }
  return with_route(std::move(res));
}

Result<int> HttpServer::Impl::listen() {
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(o_.host, ec);
  if (ec) {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(o_.host, "", ec);
    if (!ec && !results.empty()) address = results.begin()->endpoint().address();
  }
  if (!ec) {
    tcp::endpoint endpoint(address, static_cast<uint16_t>(o_.port));
    acceptor_.open(endpoint.protocol(), ec);
    // SO_REUSEADDR only (not SO_REUSEPORT, which would let a second server bind the same port
    // and silently share its traffic instead of failing to start).
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return make_error(ErrorCode::kUnavailable,
                      "cannot listen on " + o_.host + ":" + std::to_string(o_.port));
  }
  return static_cast<int>(acceptor_.local_endpoint().port());
}

void HttpServer::Impl::run() {
  handlers_ = std::make_unique<WorkerPool>(o_.threads, o_.max_queued_requests,
                                           &server_.metrics_->load().queue_depth);
  // /healthz and /metrics: one thread of their own, so a probe never waits behind the handlers.
  control_ = std::make_unique<WorkerPool>(1, 64, nullptr);
  std::vector<std::thread> io;
  for (size_t i = 1; i < std::max<size_t>(o_.io_threads, 1); ++i) {
    io.emplace_back([this] { ioc_.run(); });
  }
  ioc_.run();
  for (auto& t : io) t.join();
  handlers_->shutdown();
  control_->shutdown();
}

void HttpServer::Impl::do_accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
    on_accept(ec, std::move(s));
  });
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of file descriptors, most likely: wait a moment instead of spinning.
    if (!accept_error_logged_) log_warn("accept_failed", {{"error", ec.message()}});
    accept_error_logged_ = true;
    accept_retry_.expires_after(std::chrono::milliseconds(50));
    accept_retry_.async_wait([this](beast::error_code e) {
      if (!e && acceptor_.is_open()) do_accept();
    });
    return;
  }
  do_accept();
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // else small answers wait for delayed ACKs
  auto remote = socket.remote_endpoint(ec);
  if (ec) return;
  asio::ip::address address = remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  std::string peer = address.to_string();
  std::shared_ptr<SessionBase> session;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || sessions_.size() >= o_.max_connections) return;  // closed at once
    size_t& from_peer = per_address_[peer];
    if (from_peer >= o_.max_connections_per_address && !is_trusted(o_.trusted_proxies, peer)) {
      if (from_peer == 0) per_address_.erase(peer);
      return;
    }
    ++from_peer;
    ++server_.metrics_->load().open_connections;
    if (ssl_) {
      session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          *this, peer, std::move(socket), *ssl_);
    } else {
      session = std::make_shared<Session<beast::tcp_stream>>(*this, peer, std::move(socket));
    }
    sessions_.emplace(session.get(), session);
  }
  asio::dispatch(session->executor(), [session] { session->start(); });
}

void HttpServer::Impl::session_ended(SessionBase* session, const std::string& peer) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
  if (auto it = per_address_.find(peer); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
  --server_.metrics_->load().open_connections;
  if (stopping_ && sessions_.empty() && work_) work_->reset();
}

void HttpServer::Impl::begin_stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  std::vector<std::shared_ptr<SessionBase>> open;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    stopping_flag_ = true;
    for (auto& [raw, weak] : sessions_) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
    if (sessions_.empty() && work_) work_->reset();
  }
  for (auto& s : open) {
    asio::post(s->executor(), [s] { s->close_if_idle(); });
  }
}

// --- HttpServer ---

HttpServer::HttpServer(ServerOptions options)
    : options_(std::move(options)), metrics_(std::make_unique<Metrics>()) {
  impl_ = std::make_unique<Impl>(*this, options_);
  if (tls()) {
    net::ignore_sigpipe_in_this_process();  // as any server; our writes use MSG_NOSIGNAL anyway
    impl_->ssl_.emplace(asio::ssl::context::tls_server);
    impl_->ssl_ok_ =
        configure_tls(impl_->ssl_->native_handle(), options_.tls_cert_file, options_.tls_key_file);
  }
  largest_body_ = options_.max_body_bytes;
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
  // A body up to this is read before routing; dispatch() holds each route to its own.
  largest_body_ = std::max(largest_body_, limit);
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

Result<int> HttpServer::bind() {
  if (port_ >= 0) return port_;
  if (!impl_->ssl_ok_) {
    return make_error(ErrorCode::kInvalidArgument, "the TLS certificate " + options_.tls_cert_file +
                                                       " or its key " + options_.tls_key_file +
                                                       " does not load (or they do not match)");
  }
  ANONCODE_TRY(int port, impl_->listen());
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
    impl_->work_.emplace(impl_->ioc_.get_executor());
    impl_->do_accept();
  }
  impl_->run();
  std::lock_guard lock(state_mu_);
  serving_ = false;
  return {};
}

Status HttpServer::start() {
  ANONCODE_TRY(int port, bind());
  (void)port;
  {
    std::lock_guard lock(state_mu_);
    if (thread_.joinable()) throw std::logic_error("HttpServer::start called twice");
    if (stop_requested_) return make_error(ErrorCode::kUnavailable, "the server was stopped");
    serving_ = true;  // before the thread runs, so a stop() right away stops it
    impl_->work_.emplace(impl_->ioc_.get_executor());
    impl_->do_accept();
  }
  thread_ = std::thread([this] {
    impl_->run();
    std::lock_guard lock(state_mu_);
    serving_ = false;
  });
  return {};
}

void HttpServer::stop() {
  bool was_serving = false;
  {
    std::lock_guard lock(state_mu_);
    was_serving = serving_ && !stop_requested_;
    stop_requested_ = true;
  }
  if (was_serving) asio::post(impl_->strand_, [this] { impl_->begin_stop(); });
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

size_t raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<size_t>::max()
                                         : static_cast<size_t>(limit.rlim_cur);
}

std::string HttpServer::url() const {
  std::string host = options_.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return (tls() ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

}  // namespace anoncode::server
