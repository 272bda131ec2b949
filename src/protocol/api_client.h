// The one client of our JSON API (docs/API.md) over HTTPS: the SDK's transport, the POS, the
// admin CLI, the benchmarks and the tests all send their requests through it. It connects with
// net::make_client (the server's chain and name verified against the operator CA) and keeps the
// connection alive between requests.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/tls.h"

namespace anoncode::protocol {

// A server's answer: the status and the body. A body that is not JSON (/metrics, or something
// that is not our server) is kept as {"text": body}, an empty one as {}; `json` is false for both.
struct ApiReply {
  int status = 0;
  nlohmann::json body;
  bool json = true;
  bool ok() const { return status >= 200 && status < 300; }
};

class ApiClient {
 public:
  // `server.url`: "https://host:port" (or "http://" to loopback), see net::make_client.
  static Result<ApiClient> create(const net::Endpoint& server,
                                  const net::ClientTimeouts& timeouts = {});
  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;
  ~ApiClient();

  // A failure to reach the server, or a reply lost on the way, is `unavailable`; any HTTP
  // answer, error or not, is a reply. Not for concurrent use: one client per thread.
  Result<ApiReply> get(const std::string& path,
                       const std::optional<std::string>& bearer = std::nullopt);
  Result<ApiReply> post(const std::string& path, const nlohmann::json& body,
                        const std::optional<std::string>& bearer = std::nullopt);
  // A raw body (tests: malformed JSON, oversized bodies) with extra headers.
  Result<ApiReply> post_raw(const std::string& path, const std::string& body,
                            const std::multimap<std::string, std::string>& headers = {});

  const std::string& url() const { return url_; }

 private:
  ApiClient(std::unique_ptr<httplib::Client> c, std::string url);
  std::unique_ptr<httplib::Client> client_;
  std::string url_;
};

// The Error an error reply carries (its stable code and message), or `internal` when the body is
// not an error body.
Error reply_error(const ApiReply& reply);
// The body of a successful reply, or its error.
Result<nlohmann::json> reply_json(Result<ApiReply> reply);

}  // namespace anoncode::protocol
