// The POS's transport: protocol::ApiClient, one kept-alive connection per terminal.
#include <mutex>

#include "pos/pos_terminal.h"
#include "protocol/api_client.h"
#include "protocol/errors.h"

namespace anoncode::pos {

Result<Transport> http_transport(const net::Endpoint& server) {
  // Made here, so a bad URL is an error before the first sync or upload.
  ANONCODE_TRY(auto client, protocol::ApiClient::create(server));
  struct Shared {
    explicit Shared(protocol::ApiClient c) : client(std::move(c)) {}
    std::mutex mu;  // a Transport may be copied to and called from several threads
    protocol::ApiClient client;
  };
  auto shared = std::make_shared<Shared>(std::move(client));
  return Transport(
      [shared](const std::string& path, const nlohmann::json& body) -> Result<nlohmann::json> {
        std::lock_guard lock(shared->mu);
        ANONCODE_TRY(protocol::ApiReply reply, shared->client.post(path, body));
        if (reply.status == 200) {
          if (!reply.json || !reply.body.is_object()) {
            return make_error(ErrorCode::kMalformed, "the server's reply is not a JSON object");
          }
          return std::move(reply.body);
        }
        if (reply.json) {
          if (auto e = protocol::error_in(reply.body)) return *e;
        }
        return make_error(ErrorCode::kUnavailable, "HTTP status " + std::to_string(reply.status));
      });
}

}  // namespace anoncode::pos
