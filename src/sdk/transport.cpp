#include "sdk/transport.h"

namespace anoncode::sdk {
namespace {

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(protocol::ApiClient client) : client_(std::move(client)) {}

  Result<Reply> post(const std::string& path, const nlohmann::json& body,
                     const std::optional<std::string>& bearer) override {
    return json_only(client_.post(path, body, bearer));
  }

  Result<Reply> get(const std::string& path) override { return json_only(client_.get(path)); }

 private:
  // Whatever answers without JSON is not our server (a proxy's error page): as if unreachable,
  // so a request whose show was sent is sent again.
  static Result<Reply> json_only(Result<Reply> r) {
    if (r && !r->json) {
      return make_error(ErrorCode::kUnavailable,
                        "the server answered " + std::to_string(r->status) + " without JSON");
    }
    return r;
  }
  protocol::ApiClient client_;
};

}  // namespace

Result<std::unique_ptr<Transport>> make_http_transport(const net::Endpoint& server) {
  ANONCODE_TRY(auto client, protocol::ApiClient::create(server));
  return std::unique_ptr<Transport>(std::make_unique<HttpTransport>(std::move(client)));
}

}  // namespace anoncode::sdk
