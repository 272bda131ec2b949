// How the SDK reaches the services: JSON over HTTPS (protocol::ApiClient). An interface, so tests
// can count, drop or duplicate requests between the rider and the server (a lost reply, a crash
// before the ack).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/tls.h"
#include "protocol/api_client.h"

namespace anoncode::sdk {

// A server answer: the status and the JSON body (success or {"error":…}).
using Reply = protocol::ApiReply;

class Transport {
 public:
  virtual ~Transport() = default;
  // `unavailable` when the server could not be reached, the reply was lost or was not JSON.
  virtual Result<Reply> post(const std::string& path, const nlohmann::json& body,
                             const std::optional<std::string>& bearer = std::nullopt) = 0;
  virtual Result<Reply> get(const std::string& path) = 0;
};

// HTTPS to "https://host:port", the server's certificate verified against its trust (or HTTP to a
// loopback "http://host:port"); net::make_client. `invalid_argument` for any other URL.
Result<std::unique_ptr<Transport>> make_http_transport(const net::Endpoint& server);

// The error a reply carries, as an Error with its stable code (or `internal` if unreadable).
using protocol::reply_error;

}  // namespace anoncode::sdk
