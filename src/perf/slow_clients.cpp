#include "perf/slow_clients.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include "perf/flows.h"
#include "perf/latency.h"
#include "protocol/api_client.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/log.h"

namespace anoncode::perf {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr auto kProbePeriod = std::chrono::milliseconds(50);

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// "http://127.0.0.1:8080" → its IPv4 loopback address and port; anything else is refused.
Result<sockaddr_in> loopback_address(const std::string& url) {
  const std::string prefix = "http://";
  auto refuse = [&url] {
    return make_error(ErrorCode::kInvalidArgument,
                      "slow-clients needs a plain http:// URL on an IPv4 loopback address "
                      "(e.g. `serve --plain-http --listen 127.0.0.1:PORT`), not " +
                          url);
  };
  if (!url.starts_with(prefix)) return refuse();
  std::string rest = url.substr(prefix.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return refuse();
  std::string host = rest.substr(0, colon);
  int port = std::atoi(rest.substr(colon + 1).c_str());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (host == "localhost") host = "127.0.0.1";
  if (port <= 0 || port > 65535 || !net::is_loopback_host(host) ||
      ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return refuse();
  }
  return addr;
}

// The misbehaving connections, driven by one thread with poll(2): slow ones send their header
// a byte at a time, idle ones sent one request and then nothing. One the server closes is
// opened again, so the numbers hold for the whole measurement.
class Load {
 public:
  Load(sockaddr_in addr, int slow, int idle, double interval)
      : addr_(addr),
        interval_(
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval))) {
    auto now = Clock::now();
    for (int i = 0; i < idle; ++i) conns_.push_back(Conn{-1, false, 0, now});
    for (int i = 0; i < slow; ++i) {
      // Spread over one interval, so bytes arrive steadily rather than in bursts.
      conns_.push_back(Conn{-1, true, 0, now + interval_ * i / std::max(slow, 1)});
    }
    for (auto& c : conns_) open(c);
    thread_ = std::thread([this] { run(); });
  }
  ~Load() {
    done_ = true;
    thread_.join();
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
  }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  int64_t reopened_slow() const { return reopened_slow_; }
  int64_t reopened_idle() const { return reopened_idle_; }
  int open_now() const { return open_now_; }

 private:
  struct Conn {
    int fd;
    bool slow;
    size_t sent;  // header bytes sent (slow)
    Clock::time_point next;
  };
  static constexpr std::string_view kSlowHeader =
      "GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: ";
  static constexpr std::string_view kIdleRequest = "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n";

  void open(Conn& c) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    c.sent = 0;
    if (c.fd < 0) return;
    timeval tv{2, 0};
    ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // bounds connect(2)
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) != 0) {
      ::close(c.fd);
      c.fd = -1;
      return;
    }
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    if (!c.slow) {
      (void)::send(c.fd, kIdleRequest.data(), kIdleRequest.size(), MSG_NOSIGNAL);
    }
  }

  void reopen(Conn& c) {
    ++(c.slow ? reopened_slow_ : reopened_idle_);
    open(c);
    if (c.slow) c.next = Clock::now() + interval_;
  }

  void run() {
    std::vector<pollfd> fds(conns_.size());
    while (!done_) {
      auto now = Clock::now();
      int open_count = 0;
      for (size_t i = 0; i < conns_.size(); ++i) {
        Conn& c = conns_[i];
        if (c.fd < 0) {
          reopen(c);
        } else if (c.slow && now >= c.next) {
          char byte = c.sent < kSlowHeader.size() ? kSlowHeader[c.sent] : 'a';
          if (::send(c.fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
            ++c.sent;
            c.next += interval_;
          } else if (errno != EAGAIN) {
            reopen(c);
          }
        }
        fds[i] = pollfd{c.fd, POLLIN, 0};
        open_count += c.fd >= 0 ? 1 : 0;
      }
      open_now_ = open_count;
      if (::poll(fds.data(), fds.size(), 20) > 0) {
        for (size_t i = 0; i < conns_.size(); ++i) {
          if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
          char buf[4096];
          ssize_t n = ::recv(conns_[i].fd, buf, sizeof buf, MSG_DONTWAIT);  // answers: dropped
          if (n == 0 || (n < 0 && errno != EAGAIN)) reopen(conns_[i]);
        }
      }
    }
  }

  sockaddr_in addr_;
  Clock::duration interval_;
  std::vector<Conn> conns_;
  std::atomic<bool> done_{false};
  std::atomic<int64_t> reopened_slow_{0}, reopened_idle_{0};
  std::atomic<int> open_now_{0};
  std::thread thread_;
};

// Latencies of requests (ms): answered ones, and how long the unanswered ones waited before the
// client gave up (at least the timeout; a lower bound of their latency).
struct Samples {
  std::mutex mu;
  std::vector<double> answered, unanswered;
  void add(bool ok, double ms) {
    std::lock_guard lock(mu);
    (ok ? answered : unanswered).push_back(ms);
  }
  json figures() {
    std::lock_guard lock(mu);
    std::vector<double> all = answered;
    all.insert(all.end(), unanswered.begin(), unanswered.end());
    return json{{"answered", answered.size()},
                {"no_answer", unanswered.size()},
                {"p50_ms", percentile(all, 0.50)},
                {"p99_ms", percentile(all, 0.99)},
                {"max_ms", all.empty() ? 0.0 : *std::max_element(all.begin(), all.end())}};
  }
};

}  // namespace

Result<json> measure_slow_clients(const SlowClientsOptions& o) {
  if (o.slow < 0 || o.idle < 0 || o.interval <= 0 || o.seconds <= 0 || o.probes < 1 ||
      o.timeout <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "slow and idle must be >= 0; interval, seconds, probes, timeout > 0");
  }
  // Both ends of every connection are in this process when it starts the server itself.
  size_t fd_limit = server::raise_open_files_limit();
  size_t needed = static_cast<size_t>(o.slow + o.idle) * (o.server.url.empty() ? 2 : 1) + 64;
  if (fd_limit < needed) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the open files limit (" + std::to_string(fd_limit) +
                          ") is too low for that many connections: raise it (ulimit -n)");
  }

  // The server: the one given, or one of our own with an authenticated cheap route.
  std::unique_ptr<server::HttpServer> own;
  net::Endpoint endpoint = o.server;
  const SecretBytes token = server::new_token();
  const std::string route_token(token.expose_secret().begin(), token.expose_secret().end());
  if (endpoint.url.empty()) {
    server::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    server::set_log_level(server::LogLevel::kWarn);  // no line per request on our own stderr
    own = std::make_unique<server::HttpServer>(so);
    own->set_health_check([]() -> Status { return {}; });  // on the probes' worker, as serve's
    server::TokenHash expected = server::token_hash(std::string_view(route_token));
    own->route("GET", "/bench/v1/ping", [expected](const server::Request& req) -> Result<json> {
      ANONCODE_CHECK(server::require_bearer(req, expected));
      return json{{"pong", true}};
    });
    ANONCODE_CHECK(own->start());
    endpoint = net::Endpoint{own->url(), {}};
  }
  ANONCODE_TRY(sockaddr_in addr, loopback_address(endpoint.url));
  const int timeout_s = static_cast<int>(std::ceil(o.timeout));
  const net::ClientTimeouts timeouts{timeout_s, timeout_s, timeout_s};

  // The measured request besides /healthz: a code request (rider SDK) on a server given with
  // its admin token and trust root, or the authenticated route of our own server. Set up before
  // the load starts.
  std::unique_ptr<Rider> rider;
  std::string work_name;
  if (!own && !o.admin_token.empty() && !o.trust_root.empty()) {
    std::filesystem::create_directories(o.work_dir);
    ANONCODE_TRY(Operator op, Operator::create(endpoint, o.admin_token));
    std::string id =
        "slowbench-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
    ANONCODE_TRY(rider, Rider::open(op, id, o.work_dir / (id + ".json"), endpoint, o.trust_root));
    ANONCODE_CHECK(rider->wallet().recharge(10'000'000, "010001", false));
    work_name = "code_request";
  } else if (own) {
    work_name = "authenticated_route";
  }
  std::optional<protocol::ApiClient> route_client;
  if (own) {
    ANONCODE_TRY(protocol::ApiClient c, protocol::ApiClient::create(endpoint, timeouts));
    route_client.emplace(std::move(c));
  }

  auto load = std::make_unique<Load>(addr, o.slow, o.idle, o.interval);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // every connection open and sending

  Samples healthz, work;
  std::optional<Error> work_error;
  const auto t0 = Clock::now();
  const auto end =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < o.probes; ++i) {
    threads.emplace_back([&] {
      while (Clock::now() < end) {
        // A new connection per probe, as a load balancer's health check makes.
        auto start = Clock::now();
        auto client = protocol::ApiClient::create(endpoint, timeouts);
        auto r = client ? client->get("/healthz") : Result<protocol::ApiReply>(client.error());
        bool ok = r.ok() && r->status == 200;
        healthz.add(ok, ms_between(start, Clock::now()));
        // 20 probes a second each: enough samples, and few sockets left in TIME_WAIT.
        std::this_thread::sleep_until(start + kProbePeriod);
      }
    });
  }
  if (!work_name.empty()) {
    threads.emplace_back([&] {
      while (Clock::now() < end) {
        auto start = Clock::now();
        bool ok = false;
        if (rider) {
          auto code = rider->wallet().code();
          ok = code.ok();
          if (!code.ok() && !work_error) work_error = code.error();
        } else {
          auto r = route_client->get("/bench/v1/ping", route_token);
          ok = r.ok() && r->status == 200;
        }
        work.add(ok, ms_between(start, Clock::now()));
        std::this_thread::sleep_until(start + kProbePeriod);
      }
    });
  }
  for (auto& t : threads) t.join();
  double measured_s = ms_between(t0, Clock::now()) / 1000;
  int open_at_end = load->open_now();
  int64_t reopened_slow = load->reopened_slow(), reopened_idle = load->reopened_idle();
  load.reset();

  json out{{"server", own ? std::string("started by the bench (HTTP layer only)") : endpoint.url},
           {"slow_connections", o.slow},
           {"slow_interval_s", o.interval},
           {"idle_connections", o.idle},
           {"open_connections_at_end", open_at_end},
           {"reopened_slow", reopened_slow},
           {"reopened_idle", reopened_idle},
           {"measured_s", measured_s},
           {"probes", o.probes},
           {"timeout_s", o.timeout},
           {"healthz", healthz.figures()}};
  if (!work_name.empty()) out[work_name] = work.figures();
  if (work_error) out["code_request_first_error"] = work_error->code_name();
  if (own) own->stop();
  return out;
}

}  // namespace anoncode::perf
