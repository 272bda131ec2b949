#include "sdk/transport.h"

#include <httplib.h>

namespace anoncode::sdk {
namespace {

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(std::unique_ptr<httplib::Client> client) : client_(std::move(client)) {}

  Result<Reply> post(const std::string& path, const nlohmann::json& body,
                     const std::optional<std::string>& bearer) override {
    httplib::Headers headers;
    if (bearer) headers.emplace("Authorization", "Bearer " + *bearer);
    const std::string text = body.dump();
    auto res = net::send_request(*client_, [&](httplib::Client& c) {
      return c.Post(path, headers, text, "application/json");
    });
    return to_reply(res);
  }

  Result<Reply> get(const std::string& path) override {
    return to_reply(net::send_request(*client_, [&](httplib::Client& c) { return c.Get(path); }));
  }

 private:
  static Result<Reply> to_reply(const httplib::Result& res) {
    if (!res) {
      return make_error(ErrorCode::kUnavailable,
                        "cannot reach the server: " + net::failure_text(res));
    }
    Reply r;
    r.status = res->status;
    r.body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (r.body.is_discarded()) {
      return make_error(ErrorCode::kUnavailable,
                        "the server answered " + std::to_string(res->status) + " without JSON");
    }
    return r;
  }
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace

Result<std::unique_ptr<Transport>> make_http_transport(const net::Endpoint& server) {
  ANONCODE_TRY(auto client, net::make_client(server));
  return std::unique_ptr<Transport>(std::make_unique<HttpTransport>(std::move(client)));
}

Error reply_error(const Reply& reply) {
  const auto& e = reply.body.contains("error") ? reply.body["error"] : nlohmann::json();
  if (e.is_object() && e.contains("code") && e["code"].is_string()) {
    return Error{error_code_from_name(e["code"].get<std::string>()).value_or(ErrorCode::kInternal),
                 e.value("message", std::string())};
  }
  return make_error(ErrorCode::kInternal, "unexpected reply, HTTP " + std::to_string(reply.status));
}

}  // namespace anoncode::sdk
