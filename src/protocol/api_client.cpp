#include "protocol/api_client.h"

#include <httplib.h>

#include "protocol/errors.h"

namespace anoncode::protocol {

namespace {

httplib::Headers headers_with(const std::optional<std::string>& bearer) {
  httplib::Headers h;
  if (bearer) h.emplace("Authorization", "Bearer " + *bearer);
  return h;
}

Result<ApiReply> to_reply(const httplib::Result& res, const std::string& url) {
  if (!res) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot reach " + url + ": " + net::failure_text(res));
  }
  ApiReply reply;
  reply.status = res->status;
  if (res->body.empty()) {
    reply.body = nlohmann::json::object();
    reply.json = false;
    return reply;
  }
  reply.body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (reply.body.is_discarded()) {
    reply.body = nlohmann::json{{"text", res->body}};
    reply.json = false;
  }
  return reply;
}

}  // namespace

Result<ApiClient> ApiClient::create(const net::Endpoint& server,
                                    const net::ClientTimeouts& timeouts) {
  ANONCODE_TRY(auto c, net::make_client(server, timeouts));
  return ApiClient(std::move(c), server.url);
}

ApiClient::ApiClient(std::unique_ptr<httplib::Client> c, std::string url)
    : client_(std::move(c)), url_(std::move(url)) {}
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;
ApiClient::~ApiClient() = default;

Result<ApiReply> ApiClient::get(const std::string& path, const std::optional<std::string>& bearer) {
  auto h = headers_with(bearer);
  return to_reply(net::send_request(*client_, [&](httplib::Client& c) { return c.Get(path, h); }),
                  url_);
}

Result<ApiReply> ApiClient::post(const std::string& path, const nlohmann::json& body,
                                 const std::optional<std::string>& bearer) {
  auto h = headers_with(bearer);
  const std::string text = body.dump();
  return to_reply(
      net::send_request(
          *client_, [&](httplib::Client& c) { return c.Post(path, h, text, "application/json"); }),
      url_);
}

Result<ApiReply> ApiClient::post_raw(const std::string& path, const std::string& body,
                                     const std::multimap<std::string, std::string>& headers) {
  httplib::Headers h(headers.begin(), headers.end());
  return to_reply(
      net::send_request(
          *client_, [&](httplib::Client& c) { return c.Post(path, h, body, "application/json"); }),
      url_);
}

Error reply_error(const ApiReply& reply) {
  if (auto e = error_in(reply.body)) return *e;
  return make_error(ErrorCode::kInternal,
                    "unexpected reply (HTTP " + std::to_string(reply.status) + ")");
}

Result<nlohmann::json> reply_json(Result<ApiReply> reply) {
  if (!reply) return reply.error();
  if (!reply->ok()) return reply_error(*reply);
  return std::move(reply->body);
}

}  // namespace anoncode::protocol
