// seed 000 §2.5: the POS front over HTTP
#include "posfront/posfront_http.h"

#include "protocol/terminal_mac.h"
#include "server/json_fields.h"

namespace anoncode::posfront {

using nlohmann::json;

namespace {

// Field limits: each at least what a valid request carries.
constexpr size_t kMaxTerminal = kMaxRegisteredId;  // terminal and merchant ids
constexpr size_t kMaxRides = PosFrontOptions{}.max_batch;
// A code payload is 125 bytes; a longer one under a good MAC is still forwarded, for the platform
// to acknowledge as `rejected` (malformed) rather than to refuse the whole batch.
constexpr size_t kMaxPayload = 1024;
// A batch of up to 1000 rides is about 300 KB of JSON.
constexpr size_t kBatchBodyBytes = 1024 * 1024;

Result<BatchRide> read_ride(const json& r) {
  BatchRide ride;
  ANONCODE_TRY(ride.counter, server::required_int(r, "counter"));
  ANONCODE_TRY(ride.payload, server::required_bytes(r, "payload", kMaxPayload));
  ANONCODE_TRY(ride.amount, server::required_int(r, "amount"));
  ANONCODE_TRY(ride.scanned_at, server::required_int(r, "scanned_at"));
  ANONCODE_TRY(ride.mac, server::required_bytes(r, "mac", protocol::kTerminalMacSize));
  return ride;
}

}  // namespace

Result<json> post_sync(PosFront& front, const json& body, int64_t now_ms) {
  ANONCODE_TRY(std::string terminal, server::required_string(body, "terminal", kMaxTerminal));
  ANONCODE_TRY(std::string merchant, server::required_string(body, "merchant", kMaxTerminal));
  ANONCODE_TRY(int64_t at, server::required_int(body, "at"));
  ANONCODE_TRY(Bytes mac, server::required_bytes(body, "mac", protocol::kTerminalMacSize));
  ANONCODE_TRY(auto keys, front.sync(terminal, merchant, at, mac, now_ms));
  return protocol::keys_to_json(keys);
}

Result<json> post_batches(PosFront& front, const json& body, int64_t now_ms) {
  ANONCODE_TRY(std::string terminal, server::required_string(body, "terminal", kMaxTerminal));
  ANONCODE_TRY(std::string merchant, server::required_string(body, "merchant", kMaxTerminal));
  ANONCODE_TRY(json list, server::required_array(body, "rides", kMaxRides));
  std::vector<BatchRide> rides;
  for (const auto& r : list) {
    ANONCODE_TRY(BatchRide ride, read_ride(r));
    rides.push_back(std::move(ride));
  }
  ANONCODE_TRY(auto s, front.upload(terminal, merchant, rides, now_ms));
  return json{{"uploaded", s.uploaded}, {"duplicates", s.duplicates}, {"rejected", s.rejected}};
}

Result<json> post_terminals(PosFront& front, const json& body, const console::Actor& actor,
                            int64_t now_ms) {
  ANONCODE_TRY(std::string terminal, server::required_string(body, "terminal", kMaxTerminal));
  ANONCODE_TRY(std::string merchant, server::required_string(body, "merchant", kMaxTerminal));
  ANONCODE_TRY(SecretBytes key,
               front.register_terminal(terminal, merchant, now_ms,
                                       console::audited(actor, "terminal.add", terminal,
                                                        {{"merchant", merchant}}, now_ms)));
  // The key goes to the administrator once; the audit entry never holds it.
  return json{{"terminal", terminal},
              {"merchant", merchant},
              {"terminal_key", to_base64url(key.expose_secret())}};
}

void register_posfront_routes(server::HttpServer& http, PosFront& front, server::NowMs now) {
  http.route("POST", "/posfront/v1/sync", server::body_route(front, now, post_sync));
  http.route("POST", "/posfront/v1/batches", server::body_route(front, now, post_batches),
             kBatchBodyBytes);
}

void register_posfront_admin_routes(server::HttpServer& http, PosFront& front,
                                    console::AdminAuth& auth, server::NowMs now) {
  console::admin_route(http, auth, "POST", "/admin/v1/terminals",
                       console::Permission::kManageTerminals,
                       [&front, now = std::move(now)](const server::Request& req,
                                                      const console::Actor& actor) -> Result<json> {
                         ANONCODE_TRY(json body, req.json_body());
                         return post_terminals(front, body, actor, now());
                       });
}

}  // namespace anoncode::posfront
