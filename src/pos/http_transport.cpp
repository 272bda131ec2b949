// The POS's HTTP client (cpp-httplib), kept in its own file: the header is large.
#include <httplib.h>

#include "net/tls.h"
#include "pos/pos_terminal.h"

namespace anoncode::pos {

Result<Transport> http_transport(const net::Endpoint& server) {
  // Checked once here, so a bad URL is an error before the first sync or upload.
  ANONCODE_TRY(auto first, net::make_client(server));
  (void)first;
  return Transport(
      [server](const std::string& path, const nlohmann::json& body) -> Result<nlohmann::json> {
        ANONCODE_TRY(auto client, net::make_client(server));
        const std::string text = body.dump();
        auto res = net::send_request(
            *client, [&](httplib::Client& c) { return c.Post(path, text, "application/json"); });
        if (!res) {
          return make_error(ErrorCode::kUnavailable,
                            "cannot reach " + server.url + ": " + net::failure_text(res));
        }
        auto reply = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
        if (res->status == 200) {
          if (reply.is_discarded() || !reply.is_object()) {
            return make_error(ErrorCode::kMalformed, "the server's reply is not a JSON object");
          }
          return reply;
        }
        if (!reply.is_discarded() && reply.is_object() && reply.contains("error") &&
            reply["error"].is_object() && reply["error"].value("code", "").size() > 0) {
          return make_error(
              error_code_from_name(reply["error"].value("code", "")).value_or(ErrorCode::kInternal),
              reply["error"].value("message", ""));
        }
        return make_error(ErrorCode::kUnavailable, "HTTP status " + std::to_string(res->status));
      });
}

}  // namespace anoncode::pos
