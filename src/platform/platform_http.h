// The code platform's HTTP routes (docs/API.md "Code platform /platform/v1"): one function per
// route, from the parsed JSON body to the reply, so a test calls it without HTTP, and
// register_platform_routes, which lists the routes.
//
// A wallet operation's reply carries "response" (the rider's next credential) on success and
// also in the error body when the operation failed after the show (docs/API.md conventions);
// JsonReply keeps it beside the result so no route can drop it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "platform/platform.h"
#include "server/clock.h"
#include "server/http_server.h"

namespace anoncode::platform {

struct JsonReply {
  Result<nlohmann::json> result;  // the success body (with "response"), or the error
  std::optional<Bytes> response;  // the next credential when the error came after the show

  int http_status() const { return result.ok() ? 200 : result.error().http_status(); }
  // The body to send: the success body, or {"error":{"code","message"}[,"response"]}.
  nlohmann::json body() const;
};

// The error body of docs/API.md, with the next credential when there is one.
nlohmann::json error_body(const Error& e, const std::optional<Bytes>& response = std::nullopt);

// POST /platform/v1/recharge · code · history · refund · close
JsonReply post_recharge(CodePlatform& p, const nlohmann::json& body, int64_t now_ms);
JsonReply post_code(CodePlatform& p, const nlohmann::json& body, int64_t now_ms);
JsonReply post_history(CodePlatform& p, const nlohmann::json& body, int64_t now_ms);
JsonReply post_refund(CodePlatform& p, const nlohmann::json& body, int64_t now_ms);
JsonReply post_close(CodePlatform& p, const nlohmann::json& body, int64_t now_ms);
// GET /platform/v1/keys
Result<nlohmann::json> get_keys(CodePlatform& p);

void register_platform_routes(server::HttpServer& http, CodePlatform& p,
                              server::NowMs now = server::system_now_ms);

// The platform's part of two admin routes, which the console registers behind its authorization
// and audit (console/console_api.h):
// GET /admin/v1/trace?user_id=U → {"wallets":[…],"transactions":[…]}
Result<nlohmann::json> trace_json(CodePlatform& p, std::string_view user_id);
// Wallet records and their transactions as the trace lists them, {"wallets","transactions"}; the
// console's search shows an accountid's records the same way.
nlohmann::json wallet_records_json(const WalletRecords& r);
// POST /admin/v1/refill/run {"now":ms?} → {"moved":n}; without "now", `now_ms` is used.
Result<nlohmann::json> refill_run_json(CodePlatform& p, const nlohmann::json& body, int64_t now_ms);

}  // namespace anoncode::platform
