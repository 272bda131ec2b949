// The HTTP framework over real sockets on 127.0.0.1: routing, the JSON error contract of
// docs/API.md, request ids, bearer tokens, /healthz and /metrics, graceful stop.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "net/tls.h"
#include "protocol/api_client.h"
#include "server/auth.h"
#include "server/json_fields.h"
#include "server/log.h"

namespace anoncode::server {
namespace {

using nlohmann::json;

// Sends `request` as it is on a connection of its own and returns what came back (whatever a
// well-behaved client would refuse to send, e.g. a method HTTP does not have).
std::string raw_exchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    // Read one answer: its headers, then Content-Length bytes (the connection may stay open:
    // the server cannot read "Connection: close" from a request line it refused).
    char buf[4096];
    size_t expected = std::string::npos;
    for (ssize_t n; reply.size() < expected && (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
      reply.append(buf, static_cast<size_t>(n));
      size_t end = reply.find("\r\n\r\n");
      if (expected != std::string::npos || end == std::string::npos) continue;
      std::smatch m;
      std::string head = reply.substr(0, end);
      if (std::regex_search(head, m, std::regex("Content-Length: *([0-9]+)", std::regex::icase))) {
        expected = end + 4 + std::stoul(m[1]);
      } else {
        expected = end + 4;
      }
    }
  }
  ::close(fd);
  return reply;
}

// The request counters of a /metrics text: label set → count.
std::map<std::string, uint64_t> request_series(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  const std::string prefix = "anoncode_http_requests_total{";
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(prefix)) continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stoull(line.substr(space + 1));
  }
  return out;
}

uint64_t total_requests(const std::map<std::string, uint64_t>& series) {
  uint64_t n = 0;
  for (const auto& [labels, count] : series) n += count;
  return n;
}

constexpr const char* kGoodToken = "the-right-token-for-this-test-000000000000";

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_log_level(LogLevel::kWarn);
    ServerOptions opts;
    opts.port = 0;
    opts.threads = 4;
    opts.max_body_bytes = 4096;
    server_ = std::make_unique<HttpServer>(opts);
    server_->route("POST", "/echo", [](const Request& req) -> Result<json> {
      ANONCODE_TRY(json body, req.json_body());
      ANONCODE_TRY(std::string name, required_string(body, "name", 16));
      ANONCODE_TRY(int64_t n, required_int(body, "n", 0, 100));
      ANONCODE_TRY(Bytes data, required_bytes(body, "data", 8));
      return json{{"name", name}, {"n", n}, {"data", to_base64url(data)}};
    });
    server_->route("GET", "/boom", [](const Request&) -> Result<json> {
      throw std::runtime_error("detail that must stay in the log");
    });
    server_->route("GET", "/missing", [](const Request&) -> Result<json> {
      return make_error(ErrorCode::kNotFound, "no such thing");
    });
    server_->route("POST", "/spent", [](const Request&) -> Result<json> {
      return error_body(make_error(ErrorCode::kSnReused, "shown twice"), {{"response", "abc"}});
    });
    TokenHash good = token_hash(std::string_view(kGoodToken));
    server_->route("POST", "/secure", [good](const Request& req) -> Result<json> {
      ANONCODE_CHECK(require_bearer(req, good));
      return json{{"ok", true}};
    });
    server_->route(
        "POST", "/bulk",
        [](const Request& req) -> Result<json> {
          return json{{"bytes", req.body().size()}};
        },
        16384);
    server_->static_route("/page/", "text/html; charset=utf-8", "<p>hello</p>",
                          {{"Content-Security-Policy", "default-src 'none'"}});
    server_->route("GET", "/query", [](const Request& req) -> Result<json> {
      return json{{"user_id", req.query("user_id").value_or("")}};
    });
    server_->route("GET", "/cookie", [](const Request& req) -> Result<json> {
      req.add_response_header("Set-Cookie", "c=1; HttpOnly");
      if (req.query("fail")) return make_error(ErrorCode::kRateLimited, "slow down");
      return json{{"ok", true}};
    });
    server_->set_health_check([this]() -> Status {
      if (healthy_) return {};
      return make_error(ErrorCode::kUnavailable, "database down");
    });
    ASSERT_TRUE(server_->start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_tcp_nodelay(true);
  }
  void TearDown() override {
    client_.reset();  // closes its keep-alive connection, so the stop does not wait for it
    server_->stop();
  }

  httplib::Result post(const std::string& path, const std::string& body,
                       httplib::Headers headers = {}) {
    return client_->Post(path, headers, body, "application/json");
  }
  static json body_of(const httplib::Result& r) { return json::parse(r->body); }
  static std::string code_of(const httplib::Result& r) { return body_of(r)["error"]["code"]; }

  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::atomic<bool> healthy_{true};
};

TEST_F(HttpServerTest, AStaticRouteServesItsBytesAndHeadersOnGetOnly) {
  auto page = client_->Get("/page/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<p>hello</p>");
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page->get_header_value("Content-Security-Policy"), "default-src 'none'");
  EXPECT_FALSE(page->get_header_value("X-Request-Id").empty());
  auto posted = post("/page/", "{}");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 404);
  EXPECT_EQ(code_of(posted), "not_found");
  EXPECT_THROW(server_->static_route("/page/", "text/plain", "again"), std::invalid_argument);
  EXPECT_THROW(server_->static_route("/query", "text/plain", "clash"), std::invalid_argument);
}

TEST_F(HttpServerTest, ARouteGetsItsFieldsAndAnswersJson) {
  auto r = post("/echo", R"({"name":"ok","n":7,"data":"AQID","unknown":1})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(body_of(r), (json{{"name", "ok"}, {"n", 7}, {"data", "AQID"}}));
}

TEST_F(HttpServerTest, ABodyThatIsNotJsonIsMalformed) {
  auto r = post("/echo", R"({"name":"ok",)");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(code_of(r), "malformed");
  EXPECT_FALSE(body_of(r)["error"]["message"].get<std::string>().empty());
}

TEST_F(HttpServerTest, JsonThatIsNotAnObjectIsInvalidArgument) {
  auto r = post("/echo", "[1,2]");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(code_of(r), "invalid_argument");
}

TEST_F(HttpServerTest, MissingOrMistypedFieldsAreInvalidArgumentNamingTheField) {
  auto missing = post("/echo", R"({"n":7,"data":"AQID"})");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(code_of(missing), "invalid_argument");
  EXPECT_NE(body_of(missing)["error"]["message"].get<std::string>().find("'name'"),
            std::string::npos);

  auto mistyped = post("/echo", R"({"name":"ok","n":"7","data":"AQID"})");
  EXPECT_EQ(code_of(mistyped), "invalid_argument");
  auto fraction = post("/echo", R"({"name":"ok","n":7.5,"data":"AQID"})");
  EXPECT_EQ(code_of(fraction), "invalid_argument");
  auto out_of_range = post("/echo", R"({"name":"ok","n":101,"data":"AQID"})");
  EXPECT_EQ(code_of(out_of_range), "invalid_argument");
  auto too_long = post("/echo", R"({"name":"seventeen-chars-x","n":1,"data":"AQID"})");
  EXPECT_EQ(code_of(too_long), "invalid_argument");
  // The message names the field, never echoes the value.
  EXPECT_EQ(body_of(too_long)["error"]["message"].get<std::string>().find("seventeen"),
            std::string::npos);
}

TEST_F(HttpServerTest, BytesThatAreNotBase64urlAreMalformed) {
  auto padded = post("/echo", R"({"name":"ok","n":1,"data":"AQI="})");
  ASSERT_TRUE(padded);
  EXPECT_EQ(padded->status, 400);
  EXPECT_EQ(code_of(padded), "malformed");
  auto too_long = post("/echo", R"({"name":"ok","n":1,"data":"AQIDBAUGBwgJ"})");
  EXPECT_EQ(code_of(too_long), "malformed");
}

TEST_F(HttpServerTest, ARouteMayTakeLargerBodiesAndOnlyThatRoute) {
  std::string body(10000, 'x');
  auto bulk = post("/bulk", body);
  ASSERT_TRUE(bulk);
  EXPECT_EQ(bulk->status, 200);
  EXPECT_EQ(json::parse(bulk->body).value("bytes", 0), 10000);
  // The same body on a route with the server's limit (4096) is still refused, as is a body
  // over the larger route's own limit.
  auto echo = post("/echo", R"({"name":")" + std::string(9000, 'a') + R"("})");
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->status, 413);
  EXPECT_EQ(code_of(echo), "invalid_argument");
  auto huge = post("/bulk", std::string(20000, 'x'));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
}

TEST_F(HttpServerTest, ABodyOverTheLimitIs413InvalidArgument) {
  std::string big = R"({"name":")" + std::string(5000, 'a') + R"("})";
  auto r = post("/echo", big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(code_of(r), "invalid_argument");
  // Over every route's limit: httplib refuses it before routing ("unmatched"). Counted once the
  // response is written (the logger runs after the write): wait for it.
  auto huge = post("/echo", std::string(20000, 'x'));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  EXPECT_EQ(code_of(huge), "invalid_argument");
  for (int i = 0; i < 200 && (server_->metrics().count("POST", "unmatched", 413) == 0 ||
                              server_->metrics().count("POST", "/echo", 413) == 0);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server_->metrics().count("POST", "/echo", 413), 1u);
  EXPECT_EQ(server_->metrics().count("POST", "unmatched", 413), 1u);
  // The server still serves afterwards.
  auto ok = post("/echo", R"({"name":"ok","n":1,"data":"AQID"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, UnknownRoutesAndMethodsAre404NotFound) {
  auto r = client_->Get("/no/such/route");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(code_of(r), "not_found");
  auto wrong_method = client_->Get("/echo");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 404);
  EXPECT_EQ(code_of(wrong_method), "not_found");
  auto put = client_->Put("/echo", "{}", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 404);
  EXPECT_EQ(code_of(put), "not_found");
}

TEST_F(HttpServerTest, AHandlerErrorHasItsCodesStatus) {
  auto r = client_->Get("/missing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r), (json{{"error", {{"code", "not_found"}, {"message", "no such thing"}}}}));
}

TEST_F(HttpServerTest, AHandlerAddsResponseHeadersWhateverItReturns) {
  auto ok = client_->Get("/cookie");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Set-Cookie"), "c=1; HttpOnly");
  auto failed = client_->Get("/cookie?fail=1");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 429);
  EXPECT_EQ(code_of(failed), "rate_limited");
  EXPECT_EQ(failed->get_header_value("Set-Cookie"), "c=1; HttpOnly");
}

TEST_F(HttpServerTest, AnErrorBodyWithExtrasKeepsThemAndTheStatus) {
  auto r = post("/spent", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(code_of(r), "sn_reused");
  EXPECT_EQ(body_of(r)["response"], "abc");
}

TEST_F(HttpServerTest, AnExceptionIsAGeneric500) {
  auto r = client_->Get("/boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(code_of(r), "internal");
  EXPECT_EQ(r->body.find("detail that must stay"), std::string::npos);
}

TEST_F(HttpServerTest, BearerTokensAreChecked) {
  auto none = post("/secure", "{}");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(code_of(none), "unauthorized");
  auto wrong = post("/secure", "{}", {{"Authorization", "Bearer the-wrong-token"}});
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(code_of(wrong), "unauthorized");
  auto basic = post("/secure", "{}", {{"Authorization", std::string("Basic ") + kGoodToken}});
  EXPECT_EQ(basic->status, 401);
  auto right = post("/secure", "{}", {{"Authorization", std::string("Bearer ") + kGoodToken}});
  EXPECT_EQ(right->status, 200);
}

TEST_F(HttpServerTest, RequestIdsAreEchoedOrMade) {
  auto echoed = client_->Get("/healthz", {{"X-Request-Id", "abc-123.x"}});
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->get_header_value("X-Request-Id"), "abc-123.x");
  auto made = client_->Get("/healthz");
  EXPECT_TRUE(std::regex_match(made->get_header_value("X-Request-Id"), std::regex("[0-9a-f]{32}")));
  // An id with characters that could forge log lines is replaced.
  auto refused = client_->Get("/healthz", {{"X-Request-Id", "a\"b c"}});
  EXPECT_TRUE(
      std::regex_match(refused->get_header_value("X-Request-Id"), std::regex("[0-9a-f]{32}")));
  // Errors carry it too, including those httplib answers itself.
  auto not_found = client_->Get("/nope", {{"X-Request-Id", "nf-1"}});
  EXPECT_EQ(not_found->get_header_value("X-Request-Id"), "nf-1");
  EXPECT_EQ(not_found->get_header_value_count("X-Request-Id"), 1u);
  auto too_big = post("/echo", std::string(5000, ' '), {{"X-Request-Id", "big-1"}});
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->get_header_value("X-Request-Id"), "big-1");
  EXPECT_EQ(too_big->get_header_value_count("X-Request-Id"), 1u);
}

TEST_F(HttpServerTest, QueryParametersReachTheHandler) {
  auto r = client_->Get("/query?user_id=u%2D1");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r)["user_id"], "u-1");
}

TEST_F(HttpServerTest, TextThatIsNotUtf8IsRefusedAsInvalidArgument) {
  // A query parameter: refused before the handler runs (it might store it).
  for (const char* path : {"/query?user_id=%FF", "/query?user_id=a%C0%AFb", "/query?%ED%A0%80=x"}) {
    auto r = client_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path;
    EXPECT_EQ(code_of(r), "invalid_argument") << path;
  }
  auto chinese = client_->Get("/query?user_id=%E5%BC%A0%E4%B8%89");
  ASSERT_TRUE(chinese);
  EXPECT_EQ(body_of(chinese)["user_id"], "张三");
  // A body: JSON is UTF-8 text.
  auto body = post("/echo", "{\"name\":\"\xff\",\"n\":1,\"data\":\"AQID\"}");
  ASSERT_TRUE(body);
  EXPECT_EQ(body->status, 400);
  EXPECT_EQ(code_of(body), "invalid_argument");
}

TEST(Utf8, WellFormedOnly) {
  EXPECT_TRUE(is_utf8(""));
  EXPECT_TRUE(is_utf8("plain ASCII"));
  EXPECT_TRUE(is_utf8("张三 \xf0\x9f\x9a\x87 \xc2\xa0 \xf4\x8f\xbf\xbf"));
  for (std::string bad :
       {"\xff", "\x80", "a\xc3", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe5\xbc", "\xe5\x28\xa0"}) {
    EXPECT_FALSE(is_utf8(bad)) << to_hex(as_bytes(bad));
  }
  // A field of a json built by hand (not parsed) is checked too.
  json built = {{"name", std::string("\xff")}};
  auto field = required_string(built, "name");
  ASSERT_FALSE(field.ok());
  EXPECT_EQ(field.error().code, ErrorCode::kInvalidArgument);
  auto list = required_string_array(json{{"ids", {"ok", std::string("\xc0\xaf")}}}, "ids");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(HttpServerTest, HealthzFollowsTheHealthCheck) {
  auto ok = client_->Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(body_of(ok), (json{{"status", "ok"}}));
  healthy_ = false;
  auto down = client_->Get("/healthz");
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(code_of(down), "unavailable");
}

TEST_F(HttpServerTest, MetricsCountRequestsPerRouteAndStatus) {
  ASSERT_TRUE(post("/echo", R"({"name":"ok","n":1,"data":"AQID"})"));
  ASSERT_TRUE(post("/echo", R"({"name":"ok","n":1,"data":"AQID"})"));
  ASSERT_TRUE(post("/echo", "not json"));
  ASSERT_TRUE(client_->Get("/nope"));
  // httplib counts a request in its logger, after the reply is written: the counter may lag the
  // reply by a moment, so read the metrics until the last request shows (at most 2 s).
  const std::string last =
      R"(anoncode_http_requests_total{method="GET",route="unmatched",status="404"} 1)";
  int status = 0;
  std::string text;
  for (int i = 0; i < 200; ++i) {
    auto r = client_->Get("/metrics");
    ASSERT_TRUE(r);
    status = r->status;
    text = r->body;
    if (text.find(last) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200);
  EXPECT_NE(text.find("# TYPE anoncode_http_requests_total counter"), std::string::npos);
  EXPECT_NE(
      text.find(R"(anoncode_http_requests_total{method="POST",route="/echo",status="200"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(anoncode_http_requests_total{method="POST",route="/echo",status="400"} 1)"),
      std::string::npos);
  EXPECT_NE(
      text.find(R"(anoncode_http_requests_total{method="GET",route="unmatched",status="404"} 1)"),
      std::string::npos);
  EXPECT_NE(text.find("# TYPE anoncode_http_request_duration_seconds histogram"),
            std::string::npos);
  EXPECT_NE(text.find("\nprocess_cpu_seconds_total "), std::string::npos);
  EXPECT_NE(
      text.find(
          R"(anoncode_http_request_duration_seconds_count{method="POST",route="/echo",status="200"} 2)"),
      std::string::npos);
  EXPECT_NE(text.find(R"(route="/echo",status="200",le="+Inf"} 2)"), std::string::npos);
  // Raw paths never become labels.
  EXPECT_EQ(text.find("/nope"), std::string::npos);
}

// The standard process metrics, read from the kernel: CPU time grows with work done, the open
// files follow what the process opens, memory and the start time are plausible.
TEST(ProcessMetricsTest, ReadTheKernelsFiguresForThisProcess) {
  auto value = [](const std::string& text, const std::string& name) -> double {
    const std::string key = "\n" + name + " ";
    const size_t at = text.find(key);
    EXPECT_NE(at, std::string::npos) << name << " missing in:\n" << text;
    return at == std::string::npos ? -1 : std::stod(text.substr(at + key.size()));
  };
  const std::string before = "\n" + process_metrics();
  EXPECT_NE(before.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
  // 0.2 s of CPU on this thread, by the thread's own CPU clock (a loaded machine gives a thread
  // less CPU than wall time).
  auto thread_cpu_s = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  const double start = thread_cpu_s();
  volatile uint64_t spin = 0;
  while (thread_cpu_s() - start < 0.2) spin = spin + 1;
  std::vector<std::unique_ptr<std::FILE, int (*)(std::FILE*)>> files;
  for (int i = 0; i < 5; ++i) files.emplace_back(std::fopen("/proc/self/stat", "r"), &std::fclose);
  const std::string after = "\n" + process_metrics();
  EXPECT_GE(value(after, "process_cpu_seconds_total") - value(before, "process_cpu_seconds_total"),
            0.1);
  EXPECT_EQ(value(after, "process_open_fds") - value(before, "process_open_fds"), 5);
  EXPECT_GT(value(after, "process_resident_memory_bytes"), 1e6);
  EXPECT_GE(value(after, "process_virtual_memory_bytes"),
            value(after, "process_resident_memory_bytes"));
  EXPECT_GE(value(after, "process_max_fds"), value(after, "process_open_fds"));
  const double now_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = value(after, "process_start_time_seconds");
  EXPECT_LE(started, now_s + 1);
  EXPECT_GT(started, now_s - 3600);  // a unit test started less than an hour ago
}

TEST_F(HttpServerTest, MetricsLabelsStayBoundedWhateverTheRequests) {
  auto before = request_series(server_->metrics().render());
  // 50 requests with made-up methods and paths: the labels are a known method or "other" and a
  // registered route or "unmatched", so they add at most a few label sets, never one each.
  std::mt19937 gen(20251125);
  auto word = [&gen](size_t n) {
    std::string w;
    for (size_t i = 0; i < n; ++i) w += static_cast<char>('A' + gen() % 26);
    return w;
  };
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) {
    std::string method = i % 5 == 0 ? "GET" : i % 5 == 1 ? "POST" : word(4 + gen() % 6);
    std::string path = "/" + word(6) + "/" + std::to_string(i);
    sent.push_back(method);
    sent.push_back(path);
    std::string reply = raw_exchange(
        server_->port(), method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                             "Content-Length: 0\r\n\r\n");
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 4")) << method << " " << path << ": " << reply;
  }
  // The logger counts a request after its reply is written: wait until all 50 are counted.
  std::map<std::string, uint64_t> after;
  for (int i = 0; i < 200; ++i) {
    after = request_series(server_->metrics().render());
    if (total_requests(after) >= total_requests(before) + 50) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(total_requests(after), total_requests(before) + 50);
  EXPECT_LE(after.size(), before.size() + 4);
  const std::string text = server_->metrics().render();
  for (const auto& s : sent) {
    if (s == "GET" || s == "POST") continue;
    EXPECT_EQ(text.find(s), std::string::npos) << s;
  }
  EXPECT_NE(text.find(R"(method="other",route="unmatched")"), std::string::npos) << text;
}

TEST_F(HttpServerTest, HeadIsAnsweredAsGetWithoutABody) {
  auto health = client_->Head("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_TRUE(health->body.empty());
  EXPECT_EQ(health->get_header_value("Content-Type"), "application/json");
  healthy_ = false;
  auto down = client_->Head("/healthz");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_TRUE(down->body.empty());
  healthy_ = true;
  for (const char* path : {"/metrics", "/page/", "/query?user_id=u1"}) {
    auto r = client_->Head(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_TRUE(r->body.empty()) << path;
  }
  // A route with no GET has no HEAD either; an unknown path is 404 as for GET.
  auto post_only = client_->Head("/echo");
  ASSERT_TRUE(post_only);
  EXPECT_EQ(post_only->status, 404);
  auto unknown = client_->Head("/no/such/route");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_TRUE(unknown->body.empty());
  for (int i = 0; i < 200 && server_->metrics().count("HEAD", "/healthz", 200) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server_->metrics().count("HEAD", "/healthz", 200), 1u);
}

TEST_F(HttpServerTest, ServesConcurrentClients) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_tcp_nodelay(true);
      for (int i = 0; i < 25; ++i) {
        auto r = c.Post("/echo", R"({"name":"ok","n":1,"data":"AQID"})", "application/json");
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST_F(HttpServerTest, TheClientHelperPassesRepliesAndMapsErrors) {
  auto c = protocol::ApiClient::create({server_->url(), {}});
  ASSERT_TRUE(c.ok());
  auto ok =
      protocol::reply_json(c->post("/echo", json{{"name", "ok"}, {"n", 1}, {"data", "AQID"}}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["n"], 1);
  auto denied = c->post("/secure", json::object(), std::string("nope"));
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(denied->status, 401);
  EXPECT_EQ(protocol::reply_error(*denied).code, ErrorCode::kUnauthorized);
  auto allowed = protocol::reply_json(c->post("/secure", json::object(), std::string(kGoodToken)));
  EXPECT_TRUE(allowed.ok());
  EXPECT_FALSE(protocol::ApiClient::create({"ftp://x", {}}).ok());
}

TEST_F(HttpServerTest, StopIsGracefulAndIdempotent) {
  int port = server_->port();
  server_->stop();
  server_->stop();
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  EXPECT_FALSE(c.Get("/healthz"));
  auto client = protocol::ApiClient::create({"http://127.0.0.1:" + std::to_string(port), {}});
  ASSERT_TRUE(client.ok());
  auto r = client->get("/healthz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

// Request::client_address(): the peer, or behind a trusted proxy the address it appended.
TEST(HttpServerClientAddress, IsThePeerOrWhatATrustedProxySaw) {
  for (bool loopback_trusted : {true, false}) {
    ServerOptions opts{.host = "127.0.0.1", .port = 0, .threads = 2};
    if (!loopback_trusted) opts.trusted_proxies = {"192.0.2.80"};
    HttpServer s(opts);
    s.route("GET", "/whoami", [](const Request& req) -> Result<json> {
      return json{{"ip", req.client_address()}};
    });
    ASSERT_TRUE(s.start().ok());
    httplib::Client c("127.0.0.1", s.port());
    auto ip = [&c](const char* forwarded) {
      httplib::Headers h;
      if (forwarded != nullptr) h.emplace("X-Forwarded-For", forwarded);
      auto r = c.Get("/whoami", h);
      return r ? json::parse(r->body).value("ip", "?") : std::string("no answer");
    };
    EXPECT_EQ(ip(nullptr), "127.0.0.1");
    if (loopback_trusted) {
      EXPECT_EQ(ip("203.0.113.5"), "203.0.113.5");
      // Each proxy appends what it saw: the last entry is what the trusted one saw; entries a
      // client wrote before it are not believed.
      EXPECT_EQ(ip("198.51.100.1, 203.0.113.5"), "203.0.113.5");
      EXPECT_EQ(ip("198.51.100.1, 203.0.113.5, ::1"), "203.0.113.5");
      EXPECT_EQ(ip("2001:db8::7"), "2001:db8::7");
      EXPECT_EQ(ip("not-an-address"), "127.0.0.1");
    } else {
      EXPECT_EQ(ip("203.0.113.5"), "127.0.0.1");  // the peer is no trusted proxy
    }
    s.stop();
  }
}

TEST(HttpServerRoutes, DuplicateRoutesAreABug) {
  HttpServer s(ServerOptions{});
  s.route("GET", "/a", [](const Request&) -> Result<nlohmann::json> { return nlohmann::json{}; });
  EXPECT_THROW(s.route("GET", "/a",
                       [](const Request&) -> Result<nlohmann::json> { return nlohmann::json{}; }),
               std::invalid_argument);
  EXPECT_THROW(s.route("GET", "/healthz",
                       [](const Request&) -> Result<nlohmann::json> { return nlohmann::json{}; }),
               std::invalid_argument);
}

// DESIGN §3.6 rule 5: the server speaks TLS with the operator's certificate; a client verifies it.
class HttpServerTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("anoncode-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto ca = net::create_ca("anoncode", 30);
    ASSERT_TRUE(ca.ok());
    auto cert = net::issue_server_certificate(*ca, {}, 30);
    ASSERT_TRUE(cert.ok());
    auto key = cert->key_pem.expose_secret();
    std::ofstream(dir_ / "ca.pem") << ca->cert_pem;
    std::ofstream(dir_ / "cert.pem") << cert->cert_pem;
    std::ofstream(dir_ / "key.pem") << std::string(key.begin(), key.end());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  ServerOptions tls_options() const {
    return ServerOptions{.host = "127.0.0.1",
                         .port = 0,
                         .threads = 2,
                         .tls_cert_file = (dir_ / "cert.pem").string(),
                         .tls_key_file = (dir_ / "key.pem").string()};
  }
  std::filesystem::path dir_;
};

TEST_F(HttpServerTls, ServesHttpsThatAClientGivenTheCaVerifies) {
  HttpServer s(tls_options());
  s.route("POST", "/echo", [](const Request& req) -> Result<json> { return req.json_body(); });
  ASSERT_TRUE(s.start().ok());
  EXPECT_TRUE(s.tls());
  EXPECT_EQ(s.url(), "https://127.0.0.1:" + std::to_string(s.port()));

  auto client = protocol::ApiClient::create({s.url(), net::TlsTrust{(dir_ / "ca.pem").string()}});
  ASSERT_TRUE(client.ok());
  auto echoed = protocol::reply_json(client->post("/echo", json{{"secret", "travels encrypted"}}));
  ASSERT_TRUE(echoed.ok()) << echoed.error().message;
  EXPECT_EQ((*echoed)["secret"], "travels encrypted");

  // Without the operator CA the certificate is not trusted: no request is sent.
  auto untrusting = protocol::ApiClient::create({s.url(), {}});
  ASSERT_TRUE(untrusting.ok());
  auto refused = untrusting->get("/healthz");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("tls_ca.pem"), std::string::npos);

  // Plain HTTP to the TLS port gets no HTTP answer.
  httplib::Client plain("127.0.0.1", s.port());
  plain.set_read_timeout(2, 0);
  auto r = plain.Get("/healthz");
  EXPECT_TRUE(!r || r->status == 400) << (r ? r->status : 0);
  s.stop();
}

// OpenSSL writes with write(2): a client that hangs up between cpp-httplib's liveness check and
// the write raises SIGPIPE in the server, which would kill it (a race: seen in a client under
// load). A TLS server ignores the signal for its process; clients that hang up change nothing.
TEST_F(HttpServerTls, AClientThatHangsUpMidReplyDoesNotKillTheServer) {
  ::signal(SIGPIPE, SIG_DFL);
  HttpServer s(tls_options());
  struct sigaction now {};
  ::sigaction(SIGPIPE, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
  const std::string big(4 * 1024 * 1024, 'x');
  s.route("GET", "/big", [&big](const Request&) -> Result<json> {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the client is gone by then
    return json{{"big", big}};
  });
  ASSERT_TRUE(s.start().ok());
  const net::Endpoint endpoint{s.url(), net::TlsTrust{(dir_ / "ca.pem").string()}};
  for (int i = 0; i < 5; ++i) {
    auto impatient = net::make_client(endpoint, net::ClientTimeouts{5, 0, 5});
    ASSERT_TRUE(impatient.ok());
    (*impatient)->set_read_timeout(0, 1000);  // gives up after 1 ms and closes the connection
    net::SigpipeGuard guard;
    (void)(*impatient)->Get("/big");
  }
  auto client = protocol::ApiClient::create(endpoint);
  ASSERT_TRUE(client.ok());
  auto health = client->get("/healthz");
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health->status, 200);
  s.stop();
}

// The server closes a kept-alive connection idle for idle_timeout (here 2 s); a TLS client sees
// that only when it writes. Its next request must still get through (sent again on a new
// connection), not fail.
TEST_F(HttpServerTls, ARequestAfterTheServerClosedAnIdleConnectionGetsThrough) {
  auto opts = tls_options();
  opts.idle_timeout = std::chrono::seconds(2);
  HttpServer s(opts);
  s.route("POST", "/echo", [](const Request& req) -> Result<json> { return req.json_body(); });
  ASSERT_TRUE(s.start().ok());
  auto client = protocol::ApiClient::create({s.url(), net::TlsTrust{(dir_ / "ca.pem").string()}});
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 2; ++i) {
    auto r = protocol::reply_json(client->post("/echo", json{{"i", i}}));
    ASSERT_TRUE(r.ok()) << i << ": " << r.error().message;
    EXPECT_EQ((*r)["i"], i);
    if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  }
  s.stop();
}

TEST_F(HttpServerTls, ACertificateThatDoesNotLoadIsAnErrorAtBind) {
  auto opts = tls_options();
  opts.tls_key_file = (dir_ / "ca.pem").string();  // not the certificate's key
  HttpServer s(opts);
  auto bound = s.bind();
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.error().code, ErrorCode::kInvalidArgument);
  opts.tls_cert_file = (dir_ / "missing.pem").string();
  HttpServer t(opts);
  EXPECT_FALSE(t.bind().ok());
}

TEST(HttpServerRoutes, ABusyPortIsUnavailable) {
  HttpServer a(ServerOptions{.host = "127.0.0.1", .port = 0});
  auto port = a.bind();
  ASSERT_TRUE(port.ok());
  HttpServer b(ServerOptions{.host = "127.0.0.1", .port = *port});
  auto second = b.bind();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
}

// --- Connections and limits (docs/OPERATIONS.md "Connections and limits") ---

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// A raw TCP connection to 127.0.0.1:port, for clients no library would be: slow, idle, broken.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // What arrives within `timeout` (until the peer closes, or `until` appears).
  std::string receive(milliseconds timeout, std::string_view until = "") {
    std::string got;
    auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      if (!until.empty() && got.find(until) != std::string::npos) break;
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  // True when the server closes the connection within `timeout` (reading what it sends first).
  bool closed_within(milliseconds timeout) {
    receive(timeout);
    return closed_;
  }

 private:
  int fd_;
  bool connected_ = false;
  bool closed_ = false;
};

// Each of `connections` sends `header` one byte every `interval`, on a thread of its own, until
// the object is destroyed: the slowloris attack.
class SlowClients {
 public:
  SlowClients(int port, size_t connections, milliseconds interval) {
    for (size_t i = 0; i < connections; ++i) {
      conns_.push_back(std::make_unique<RawConnection>(port));
    }
    thread_ = std::thread([this, interval] {
      const std::string header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      for (size_t i = 0; !done_; ++i) {
        for (auto& c : conns_) c->send(std::string(1, i < header.size() ? header[i] : 'a'));
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, interval, [this] { return done_.load(); });
      }
    });
  }
  ~SlowClients() {
    done_ = true;
    cv_.notify_all();
    thread_.join();
  }
  size_t connected() const {
    return static_cast<size_t>(
        std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return c->connected(); }));
  }

 private:
  std::vector<std::unique_ptr<RawConnection>> conns_;
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

// Waits (up to 5 s) until `condition` holds.
template <typename F>
bool eventually(F condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return condition();
}

std::unique_ptr<HttpServer> started_server(ServerOptions opts) {
  set_log_level(LogLevel::kWarn);
  opts.host = "127.0.0.1";
  opts.port = 0;
  auto s = std::make_unique<HttpServer>(opts);
  s->route("GET", "/ping", [](const Request&) -> Result<json> { return json{{"pong", true}}; });
  s->set_health_check([]() -> Status { return {}; });  // /healthz on its worker, as serve does
  EXPECT_TRUE(s->start().ok());
  return s;
}

TEST(HttpServerConnections, StopLetsTheRequestsInProgressFinish) {
  set_log_level(LogLevel::kWarn);
  HttpServer s(ServerOptions{.host = "127.0.0.1", .port = 0, .threads = 2});
  std::atomic<int> entered{0};
  s.route("GET", "/slow", [&entered](const Request&) -> Result<json> {
    ++entered;
    std::this_thread::sleep_for(milliseconds(300));
    return json{{"done", true}};
  });
  ASSERT_TRUE(s.start().ok());
  auto in_flight = std::async(std::launch::async, [&s] {
    httplib::Client c("127.0.0.1", s.port());
    auto r = c.Get("/slow");
    return r ? r->status : 0;
  });
  RawConnection idle(s.port());  // connected, no request: closed at once by the stop
  ASSERT_TRUE(eventually([&] { return entered == 1; }));
  auto t0 = SteadyClock::now();
  s.stop();
  EXPECT_GE(ms_since(t0), 150);  // it waited for the request in progress
  EXPECT_EQ(in_flight.get(), 200);
  EXPECT_TRUE(idle.closed_within(milliseconds(500)));
  EXPECT_EQ(s.metrics().load().open_connections, 0);
}

TEST(HttpServerConnections, SlowClientsHoldNoWorkerAndHealthzAnswers) {
  auto s = started_server(ServerOptions{.threads = 2});
  // Four times as many slow clients as there are workers, each trickling its header; a
  // thread-per-connection server would have every worker waiting on them.
  SlowClients slow(s->port(), 64, milliseconds(100));
  ASSERT_EQ(slow.connected(), 64u);
  ASSERT_TRUE(eventually([&] { return s->metrics().load().open_connections >= 64; }));
  httplib::Client c("127.0.0.1", s->port());
  c.set_read_timeout(5, 0);
  for (const char* path : {"/healthz", "/ping", "/metrics"}) {
    auto t0 = SteadyClock::now();
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    // Far below the slow clients' 10 s header deadline: they are not what it waited for.
    EXPECT_LT(ms_since(t0), 2000) << path;
    if (std::string(path) == "/metrics") {
      EXPECT_NE(r->body.find("# TYPE anoncode_http_open_connections gauge"), std::string::npos);
      EXPECT_NE(r->body.find("anoncode_http_inflight_requests "), std::string::npos);
      EXPECT_NE(r->body.find("anoncode_http_queue_depth 0"), std::string::npos);
    }
  }
  s->stop();
}

TEST(HttpServerConnections, IdleKeptAliveConnectionsDoNotBlock) {
  auto s = started_server(ServerOptions{.threads = 2});
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 50; ++i) {
    auto c = std::make_unique<RawConnection>(s->port());
    ASSERT_TRUE(c->send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string reply = c->receive(milliseconds(2000), "{\"pong\":true}");
    ASSERT_TRUE(reply.starts_with("HTTP/1.1 200")) << reply;
    idle.push_back(std::move(c));  // kept alive, sending nothing more
  }
  httplib::Client c("127.0.0.1", s->port());
  auto t0 = SteadyClock::now();
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(ms_since(t0), 2000);
  EXPECT_GE(s->metrics().load().open_connections, 50);
  // A graceful stop closes idle connections at once instead of waiting out their idle time.
  auto stop_start = SteadyClock::now();
  s->stop();
  EXPECT_LT(ms_since(stop_start), 2000);
  EXPECT_TRUE(idle.front()->closed_within(milliseconds(1000)));
}

TEST(HttpServerConnections, AHeaderPastItsDeadlineIsCutWhateverTheTrickle) {
  auto s = started_server(ServerOptions{
      .threads = 1, .header_timeout = milliseconds(600), .idle_timeout = milliseconds(400)});
  // One byte every 100 ms: each byte is recent, but the header is not done at 600 ms.
  auto t0 = SteadyClock::now();
  {
    SlowClients slow(s->port(), 1, milliseconds(100));
    ASSERT_TRUE(eventually([&] { return s->metrics().load().open_connections == 1; }));
    ASSERT_TRUE(eventually([&] { return s->metrics().load().open_connections == 0; }));
  }
  double cut_after = ms_since(t0);
  EXPECT_GE(cut_after, 500);
  EXPECT_LT(cut_after, 3000);
  // A connection that sends nothing at all is cut at the same deadline.
  RawConnection silent(s->port());
  auto t1 = SteadyClock::now();
  EXPECT_TRUE(silent.closed_within(milliseconds(3000)));
  EXPECT_GE(ms_since(t1), 500);
  // A kept-alive connection is closed after idle_timeout without a next request.
  RawConnection kept(s->port());
  ASSERT_TRUE(kept.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(kept.receive(milliseconds(2000), "{\"pong\":true}").starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(kept.closed_within(milliseconds(3000)));
  s->stop();
}

TEST(HttpServerConnections, AFullQueueIs503WithRetryAfter) {
  set_log_level(LogLevel::kWarn);
  ServerOptions opts{.threads = 1, .max_queued_requests = 1};
  opts.host = "127.0.0.1";
  opts.port = 0;
  HttpServer s(opts);
  std::atomic<int> entered{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  s.route("GET", "/block", [&](const Request&) -> Result<json> {
    ++entered;
    released.wait();
    return json{{"done", true}};
  });
  s.set_health_check([]() -> Status { return {}; });
  ASSERT_TRUE(s.start().ok());
  auto get = [&s](const char* path) {
    httplib::Client c("127.0.0.1", s.port());
    c.set_read_timeout(10, 0);
    auto r = c.Get(path);
    return r ? r->status : 0;
  };
  std::future<int> first, second;
  bool released_once = false;
  auto unblock = [&] {
    if (!released_once) release.set_value();
    released_once = true;
  };
  struct Unblock {
    std::function<void()> f;
    ~Unblock() { f(); }
  } unblock_on_exit{unblock};  // before the futures wait, whatever fails
  // The one worker blocks on the first request; the second waits in the queue (its bound is 1).
  first = std::async(std::launch::async, get, "/block");
  ASSERT_TRUE(eventually([&] { return entered == 1; }));
  second = std::async(std::launch::async, get, "/block");
  ASSERT_TRUE(eventually([&] { return s.metrics().load().queue_depth == 1; }));
  // The third finds the queue full: refused at once, not queued without end.
  httplib::Client c("127.0.0.1", s.port());
  auto refused = c.Get("/block");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(refused->body)["error"]["code"], "unavailable");
  EXPECT_FALSE(refused->get_header_value("X-Request-Id").empty());
  // Probes have their own worker: /healthz answers while every handler worker is busy.
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_TRUE(eventually([&] { return s.metrics().load().inflight_requests == 2; }));
  unblock();
  EXPECT_EQ(first.get(), 200);
  EXPECT_EQ(second.get(), 200);
  EXPECT_TRUE(eventually([&] { return s.metrics().count("GET", "/block", 503) == 1; }));
  s.stop();
}

TEST(HttpServerConnections, ConnectionsPerAddressAreLimited) {
  ServerOptions opts{.threads = 1, .trusted_proxies = {}, .max_connections_per_address = 3};
  auto s = started_server(opts);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawConnection>(s->port()));
  ASSERT_TRUE(eventually([&] { return s->metrics().load().open_connections == 3; }));
  // The fourth from the same address is closed at once.
  RawConnection fourth(s->port());
  fourth.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(fourth.closed_within(milliseconds(2000)));
  // Once one of the three goes, the address may connect again.
  held.pop_back();
  ASSERT_TRUE(eventually([&] { return s->metrics().load().open_connections == 2; }));
  httplib::Client c("127.0.0.1", s->port());
  auto r = c.Get("/ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // A trusted proxy (loopback by default) is exempt: every client behind it shares its address.
  auto proxied = started_server(ServerOptions{.threads = 1, .max_connections_per_address = 1});
  RawConnection a(proxied->port()), b(proxied->port());
  ASSERT_TRUE(b.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(b.receive(milliseconds(2000), "{\"pong\":true}").starts_with("HTTP/1.1 200"));
  proxied->stop();
  s->stop();
}

TEST(HttpServerConnections, RequestsThatDoNotParseGetTheDocumentedErrors) {
  auto s = started_server(ServerOptions{.threads = 1, .max_body_bytes = 1024});
  auto error_of = [](const std::string& reply) {
    size_t body = reply.find("\r\n\r\n");
    if (body == std::string::npos) return std::string("no body");
    auto j = json::parse(reply.substr(body + 4), nullptr, false);
    return j.is_object() ? j["error"].value("code", "") : std::string("not json");
  };
  std::string bad_line = raw_exchange(s->port(), "NOT A REQUEST\r\n\r\n");
  EXPECT_TRUE(bad_line.starts_with("HTTP/1.1 400")) << bad_line;
  EXPECT_EQ(error_of(bad_line), "malformed");
  std::string bad_header = raw_exchange(s->port(), "GET /ping HTTP/1.1\r\nNo colon here\r\n\r\n");
  EXPECT_TRUE(bad_header.starts_with("HTTP/1.1 400")) << bad_header;
  EXPECT_EQ(error_of(bad_header), "malformed");
  std::string huge_header = raw_exchange(
      s->port(), "GET /ping HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(huge_header.starts_with("HTTP/1.1 431")) << huge_header.substr(0, 100);
  EXPECT_EQ(error_of(huge_header), "invalid_argument");
  // A chunked body is held to the limit as it arrives.
  std::string chunked = raw_exchange(s->port(),
                                     "POST /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                                     "chunked\r\n\r\n800\r\n" +
                                         std::string(2048, 'x') + "\r\n0\r\n\r\n");
  EXPECT_TRUE(chunked.starts_with("HTTP/1.1 413")) << chunked;
  EXPECT_EQ(error_of(chunked), "invalid_argument");
  // Expect: 100-continue is answered, then the request.
  RawConnection expecting(s->port());
  ASSERT_TRUE(expecting.send(
      "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_TRUE(expecting.receive(milliseconds(2000), "\r\n\r\n").starts_with("HTTP/1.1 100"));
  ASSERT_TRUE(expecting.send("{}"));
  EXPECT_NE(expecting.receive(milliseconds(2000), "not_found").find("HTTP/1.1 404"),
            std::string::npos);
  // The server still serves.
  httplib::Client c("127.0.0.1", s->port());
  auto r = c.Get("/ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  s->stop();
}

// The TLS handshake counts against the header deadline: a client that connects and never
// finishes its handshake is cut, and clients stuck in theirs delay no one.
TEST_F(HttpServerTls, HandshakesThatNeverFinishAreCutAndDelayNoOne) {
  auto opts = tls_options();
  opts.header_timeout = std::chrono::milliseconds(800);
  HttpServer s(opts);
  ASSERT_TRUE(s.start().ok());
  std::vector<std::unique_ptr<RawConnection>> stuck;
  for (int i = 0; i < 32; ++i) {
    stuck.push_back(std::make_unique<RawConnection>(s.port()));
    stuck.back()->send("\x16\x03");  // the first bytes of a ClientHello, and no more
  }
  auto client = protocol::ApiClient::create({s.url(), net::TlsTrust{(dir_ / "ca.pem").string()}});
  ASSERT_TRUE(client.ok());
  auto t0 = SteadyClock::now();
  auto health = client->get("/healthz");
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health->status, 200);
  EXPECT_LT(ms_since(t0), 2000);
  for (auto& c : stuck) EXPECT_TRUE(c->closed_within(std::chrono::milliseconds(3000)));
  EXPECT_GE(ms_since(t0), 600);
  s.stop();
}

}  // namespace
}  // namespace anoncode::server
