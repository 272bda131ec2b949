// The privacy backend's HTTP routes (docs/API.md "Privacy backend /privacy/v1"), one function per
// route in privacy_http.cpp:
//   GET  /privacy/v1/params   the group and the issuer public keys (anonymous)
//   GET  /privacy/v1/keyset   the latest signed issuer key set; /keysets every one (anonymous)
//   POST /privacy/v1/nonce    a single-use show nonce (anonymous)
//   POST /privacy/v1/open     service token: register J under a user id, first credential
//   POST /privacy/v1/show     service token: verify a show for a context, next credential
// open and show are for the other services in a split deployment; in one process they call
// PrivacyBackend directly.
#pragma once

#include "privacy/privacy_backend.h"
#include "server/auth.h"
#include "server/clock.h"
#include "server/http_server.h"

namespace anoncode::privacy {

void register_privacy_routes(server::HttpServer& http, PrivacyBackend& backend,
                             const server::TokenHash& service_token_hash,
                             server::NowMs now = server::system_now_ms);

}  // namespace anoncode::privacy
