// The POS front's HTTP routes (docs/API.md "POS front /posfront/v1"): one function per route,
// from the parsed JSON body to the reply, so a test calls it without HTTP, and
// register_posfront_routes, which lists the routes. Terminals authenticate with MACs (no token).
// An administrator registers a terminal through register_posfront_admin_routes.
#pragma once

#include <nlohmann/json.hpp>

#include "console/admin_auth.h"
#include "posfront/posfront.h"
#include "server/clock.h"
#include "server/http_server.h"

namespace anoncode::posfront {

// POST /posfront/v1/sync {"terminal","merchant","at","mac"} → {"keys":[…]}
Result<nlohmann::json> post_sync(PosFront& front, const nlohmann::json& body, int64_t now_ms);
// POST /posfront/v1/batches {"terminal","merchant","rides":[…]}
//   → {"uploaded","duplicates","rejected"}
Result<nlohmann::json> post_batches(PosFront& front, const nlohmann::json& body, int64_t now_ms);

// POST /admin/v1/terminals {"terminal","merchant"} → {"terminal","merchant","terminal_key"}: a
// new terminal and its MAC key (shown once), audited as `terminal.add` in the registration's
// transaction.
Result<nlohmann::json> post_terminals(PosFront& front, const nlohmann::json& body,
                                      const console::Actor& actor, int64_t now_ms);

void register_posfront_routes(server::HttpServer& http, PosFront& front,
                              server::NowMs now = server::system_now_ms);

// POST /admin/v1/terminals behind the console's authorization (the manage-terminals permission).
void register_posfront_admin_routes(server::HttpServer& http, PosFront& front,
                                    console::AdminAuth& auth,
                                    server::NowMs now = server::system_now_ms);

}  // namespace anoncode::posfront
