#include "server/auth.h"

#include <sodium.h>

namespace anoncode::server {

SecretBytes new_token() {
  SecretBytes raw(32);
  randombytes_buf(raw.expose_secret_mut().data(), raw.size());
  std::string text = to_base64url(raw.expose_secret());
  SecretBytes token(as_bytes(text));
  sodium_memzero(text.data(), text.size());
  return token;
}

TokenHash token_hash(std::string_view token) {
  return crypto::sm3(as_bytes(token));
}
TokenHash token_hash(const SecretBytes& token) {
  return crypto::sm3(token.expose_secret());
}

bool token_hash_equals(const TokenHash& a, const TokenHash& b) {
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> bearer_token(const Request& req) {
  auto h = req.header("Authorization");
  if (!h) return std::nullopt;
  constexpr std::string_view kPrefix = "Bearer ";
  if (h->size() <= kPrefix.size() || h->compare(0, kPrefix.size(), kPrefix) != 0) {
    return std::nullopt;
  }
  return h->substr(kPrefix.size());
}

Status require_bearer(const Request& req, const TokenHash& expected) {
  auto token = bearer_token(req);
  // Hash even when absent, so both paths cost the same.
  TokenHash presented = token_hash(token ? std::string_view(*token) : std::string_view());
  if (!token || !token_hash_equals(presented, expected)) {
    return make_error(ErrorCode::kUnauthorized, "missing or wrong bearer token");
  }
  return {};
}

}  // namespace anoncode::server
