// The POS front's HTTP routes (docs/API.md "POS front /posfront/v1"): one function per route,
// from the parsed JSON body to the reply, so a test calls it without HTTP, and
// register_posfront_routes, which lists the routes. Terminals authenticate with MACs (no token).
#pragma once

#include <nlohmann/json.hpp>

#include "posfront/posfront.h"
#include "server/clock.h"
#include "server/http_server.h"

namespace anoncode::posfront {

// POST /posfront/v1/sync {"terminal","merchant","at","mac"} → {"keys":[…]}
Result<nlohmann::json> post_sync(PosFront& front, const nlohmann::json& body, int64_t now_ms);
// POST /posfront/v1/batches {"terminal","merchant","rides":[…]}
//   → {"uploaded","duplicates","rejected"}
Result<nlohmann::json> post_batches(PosFront& front, const nlohmann::json& body, int64_t now_ms);

void register_posfront_routes(server::HttpServer& http, PosFront& front,
                              server::NowMs now = server::system_now_ms);

}  // namespace anoncode::posfront
