// The app backend's HTTP routes (docs/API.md "App backend /app/v1" and the user, whitelist,
// restore-lock and violation parts of "Admin /admin/v1"), one function per route in app_http.cpp.
#pragma once

#include "app/app_backend.h"
#include "console/admin_auth.h"
#include "server/clock.h"
#include "server/http_server.h"

namespace anoncode::app {

// /app/v1/open, /backup and /close (app token), /app/v1/restore and /restore/confirm (the key
// proof authenticates: a new phone has no token yet).
void register_app_routes(server::HttpServer& http, AppBackend& app,
                         server::NowMs now = server::system_now_ms);

// /admin/v1/users, /admin/v1/whitelist*, /admin/v1/violations,
// /admin/v1/violations/evidence (trace permission, audited), /admin/v1/restore-locks, behind
// the console's authorization (console/admin_auth.h: the admin token or a session whose role
// may); every change is audited in its own transaction.
void register_admin_routes(server::HttpServer& http, AppBackend& app, console::AdminAuth& auth,
                           server::NowMs now = server::system_now_ms);

}  // namespace anoncode::app
