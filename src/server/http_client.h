// A JSON-over-HTTPS client for the command line and tests (cpp-httplib through net::make_client:
// the server's certificate verified against the operator CA).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/tls.h"

namespace httplib {
class Client;
}

namespace anoncode::server {

// A server's answer: the status and the JSON body as sent (success or {"error":…}).
struct HttpReply {
  int status = 0;
  nlohmann::json body;
  bool ok() const { return status >= 200 && status < 300; }
};

class HttpClient {
 public:
  // `base_url`: "https://host:port" (or "http://" to loopback), see net::make_client.
  static Result<HttpClient> create(const net::Endpoint& server);
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  ~HttpClient();

  // A failure to reach the server (or an unreadable reply) is `unavailable`; any HTTP answer,
  // error or not, is a reply.
  Result<HttpReply> get(const std::string& path, const std::optional<std::string>& bearer = {});
  Result<HttpReply> post(const std::string& path, const nlohmann::json& body,
                         const std::optional<std::string>& bearer = {});
  // A raw body (tests: malformed JSON, oversized bodies) with extra headers.
  Result<HttpReply> post_raw(const std::string& path, const std::string& body,
                             const std::multimap<std::string, std::string>& headers = {});

 private:
  HttpClient(std::unique_ptr<httplib::Client> c, std::string base);
  std::unique_ptr<httplib::Client> client_;
  std::string base_;
};

// The Error an error reply carries (its stable code and message), or `internal` if the body is
// not an error object.
Error reply_error(const HttpReply& reply);
// The value of a successful reply, or its error.
Result<nlohmann::json> reply_json(Result<HttpReply> reply);

}  // namespace anoncode::server
