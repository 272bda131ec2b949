// The POS's HTTP client (cpp-httplib), kept in its own file: the header is large.
#include <httplib.h>

#include "pos/pos_terminal.h"

namespace anoncode::pos {

namespace {

ErrorCode code_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(kLastErrorCode); ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (error_code_name(code) == name) return code;
  }
  return ErrorCode::kInternal;
}

}  // namespace

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
          return make_error(code_from_name(reply["error"].value("code", "")),
                            reply["error"].value("message", ""));
        }
        return make_error(ErrorCode::kUnavailable, "HTTP status " + std::to_string(res->status));
      };
}

}  // namespace anoncode::pos
