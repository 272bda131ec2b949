// Bearer tokens (docs/API.md "Authentication"): admin, app and service tokens are 32 random
// bytes, base64url. The server keeps only SM3 hashes of them and compares hashes in constant
// time, so neither a database dump nor a timing measurement gives a token away.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"
#include "crypto/sm3.h"
#include "server/http_server.h"

namespace anoncode::server {

using TokenHash = crypto::Sm3Digest;

// A new token: 32 bytes from the OS CSPRNG, base64url (43 characters).
SecretBytes new_token();
TokenHash token_hash(std::string_view token);
TokenHash token_hash(const SecretBytes& token);
// Constant-time equality of two hashes.
bool token_hash_equals(const TokenHash& a, const TokenHash& b);

// The token of an `Authorization: Bearer <token>` header, or nullopt.
std::optional<std::string> bearer_token(const Request& req);
// `unauthorized` unless the request carries a bearer token whose hash is `expected`.
Status require_bearer(const Request& req, const TokenHash& expected);

}  // namespace anoncode::server
