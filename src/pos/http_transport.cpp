// The POS's HTTP client (cpp-httplib), kept in its own file: the header is large.
#include <httplib.h>

#include "pos/pos_terminal.h"

namespace anoncode::pos {

Transport http_transport(const std::string& server_url) {
  return
      [server_url](const std::string& path, const nlohmann::json& body) -> Result<nlohmann::json> {
        httplib::Client client(server_url);
        client.set_tcp_nodelay(true);
        client.set_connection_timeout(5, 0);
        client.set_read_timeout(30, 0);
        client.set_write_timeout(30, 0);
        auto res = client.Post(path, body.dump(), "application/json");
        if (!res) {
          return make_error(ErrorCode::kUnavailable,
                            "cannot reach " + server_url + ": " + httplib::to_string(res.error()));
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
      };
}

}  // namespace anoncode::pos
