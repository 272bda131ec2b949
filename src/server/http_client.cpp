#include "server/http_client.h"

#include <httplib.h>

namespace anoncode::server {

namespace {

httplib::Headers headers_with(const std::optional<std::string>& bearer) {
  httplib::Headers h;
  if (bearer) h.emplace("Authorization", "Bearer " + *bearer);
  return h;
}

Result<HttpReply> to_reply(const httplib::Result& res, const std::string& base) {
  if (!res) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot reach " + base + ": " + net::failure_text(res));
  }
  HttpReply reply;
  reply.status = res->status;
  if (!res->body.empty()) {
    reply.body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (reply.body.is_discarded()) {
      // /metrics is text; other non-JSON answers come from something that is not our server.
      reply.body = nlohmann::json{{"text", res->body}};
    }
  } else {
    reply.body = nlohmann::json::object();
  }
  return reply;
}

}  // namespace

Result<HttpClient> HttpClient::create(const net::Endpoint& server) {
  ANONCODE_TRY(auto c, net::make_client(server));
  return HttpClient(std::move(c), server.url);
}

HttpClient::HttpClient(std::unique_ptr<httplib::Client> c, std::string base)
    : client_(std::move(c)), base_(std::move(base)) {}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

Result<HttpReply> HttpClient::get(const std::string& path,
                                  const std::optional<std::string>& bearer) {
  auto h = headers_with(bearer);
  return to_reply(net::send_request(*client_, [&](httplib::Client& c) { return c.Get(path, h); }),
                  base_);
}

Result<HttpReply> HttpClient::post(const std::string& path, const nlohmann::json& body,
                                   const std::optional<std::string>& bearer) {
  auto h = headers_with(bearer);
  const std::string text = body.dump();
  return to_reply(
      net::send_request(
          *client_, [&](httplib::Client& c) { return c.Post(path, h, text, "application/json"); }),
      base_);
}

Result<HttpReply> HttpClient::post_raw(const std::string& path, const std::string& body,
                                       const std::multimap<std::string, std::string>& headers) {
  httplib::Headers h(headers.begin(), headers.end());
  return to_reply(
      net::send_request(
          *client_, [&](httplib::Client& c) { return c.Post(path, h, body, "application/json"); }),
      base_);
}

Error reply_error(const HttpReply& reply) {
  const auto& b = reply.body;
  if (b.is_object() && b.contains("error") && b["error"].is_object()) {
    const auto& e = b["error"];
    std::string code = e.value("code", "");
    std::string message = e.value("message", "");
    if (auto c = error_code_from_name(code)) return make_error(*c, message);
  }
  return make_error(ErrorCode::kInternal,
                    "unexpected reply (HTTP " + std::to_string(reply.status) + ")");
}

Result<nlohmann::json> reply_json(Result<HttpReply> reply) {
  if (!reply) return reply.error();
  if (!reply->ok()) return reply_error(*reply);
  return std::move(reply->body);
}

}  // namespace anoncode::server
