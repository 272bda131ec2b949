// The console's own /admin/v1 routes (docs/API.md "Admin"): sessions, accounts and the audit
// log. The routes that act on the services are registered by their owners through admin_route
// (app/app_http.h, console/console_api.h). One function per route in console_http.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "console/admin_auth.h"
#include "console/audit_log.h"
#include "server/http_server.h"

namespace anoncode::console {

// POST /admin/v1/session/login, GET /admin/v1/session, POST /admin/v1/session/logout,
// POST /admin/v1/accounts and /accounts/disable (admin token), GET /admin/v1/accounts,
// GET /admin/v1/audit, GET /admin/v1/audit/verify.
void register_console_routes(server::HttpServer& http, AdminAuth& auth);

// A query-string integer in [min, max]; `fallback` when absent; `invalid_argument` otherwise.
Result<int64_t> query_int(const server::Request& req, std::string_view name, int64_t min,
                          int64_t max, int64_t fallback);
// The same, nullopt when absent.
Result<std::optional<int64_t>> optional_query_int(const server::Request& req, std::string_view name,
                                                  int64_t min, int64_t max);

}  // namespace anoncode::console
