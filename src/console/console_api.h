// The admin routes on the code platform (refill run, trace) and what the admin console reads
// (docs/API.md "Admin"): dashboard, search, refill jobs, keys, and the one route that decrypts
// personal data — a traced cheater's opening information, for the security officer, audited
// before it is revealed. One function per route in console_api.cpp.
#pragma once

#include "app/app_backend.h"
#include "console/admin_auth.h"
#include "platform/platform.h"
#include "privacy/privacy_backend.h"
#include "server/http_server.h"
#include "storage/db.h"

namespace anoncode::console {

// GET /admin/v1/dashboard, /search, /refill, /keys (every role); POST /admin/v1/refill/run
// (operator); GET /admin/v1/trace (auditor, security_officer); POST /admin/v1/trace/identity
// (security_officer). The admin token may use every one (admin_auth.h).
// POST /admin/v1/identity/retire (security_officer): the audited re-open of DESIGN §3.6 rule 2.
void register_console_api_routes(server::HttpServer& http, AdminAuth& auth, storage::Db& db,
                                 app::AppBackend& app, platform::CodePlatform& code_platform,
                                 privacy::PrivacyBackend& privacy);

}  // namespace anoncode::console
