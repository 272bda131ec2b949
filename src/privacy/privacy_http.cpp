// seed 000 §4 privacy backend (隐私保护后台) over HTTP
#include "privacy/privacy_http.h"

#include <functional>

#include "server/json_fields.h"

namespace anoncode::privacy {

using nlohmann::json;
using server::Request;

namespace {

// What the routes act on.
struct PrivacyService {
  PrivacyBackend& backend;
  server::TokenHash service_token_hash = {};  // of the bearer token open and show require
  server::NowMs now = server::system_now_ms;
};

Result<protocol::ShowContext> parse_context(const json& body) {
  ANONCODE_TRY(json c, server::required_object(body, "context"));
  protocol::ShowContext ctx;
  ANONCODE_TRY(int64_t op, server::required_int(c, "op", 1, 5));
  ctx.op = static_cast<crypto::ShowOp>(op);
  ANONCODE_TRY(ctx.wallet_b, server::required_string_or_empty(c, "wallet", 64));
  ANONCODE_TRY(ctx.accountid, server::required_string_or_empty(c, "accountid", 64));
  ANONCODE_TRY(auto amount, server::optional_int(c, "amount", 0, INT64_MAX));
  ctx.amount = amount.value_or(0);
  // `extra` is bytes (a refund binds var(name) ‖ var(id_number) ‖ var(bank_account)), so it
  // travels as base64url; absent or "" is empty.
  ANONCODE_TRY(auto extra, server::optional_string(c, "extra", 4096));
  if (extra) {
    auto bytes = from_base64url(*extra);
    if (!bytes) return make_error(ErrorCode::kMalformed, "field 'extra' is not unpadded base64url");
    ctx.extra.assign(bytes->begin(), bytes->end());
  }
  // The wallets whose pseudonyms the show proves (DESIGN §3.6 rule 3): at most two names.
  if (c.contains("scopes")) {
    if (!c["scopes"].is_array() || c["scopes"].size() > crypto::kMaxPseudonyms) {
      return make_error(ErrorCode::kInvalidArgument, "context.scopes: at most two wallet names");
    }
    for (const auto& s : c["scopes"]) {
      if (!s.is_string() || s.get_ref<const std::string&>().size() > 64) {
        return make_error(ErrorCode::kInvalidArgument, "context.scopes: wallet names");
      }
      ctx.scopes.push_back(s.get<std::string>());
    }
  }
  return ctx;
}

// DESIGN §3.6 rule 4: a key set as the root key signed it.
json keyset_json(const protocol::SignedKeySet& s) {
  return json{{"body", s.body}, {"signature", to_base64url(s.signature)}};
}

Result<json> get_params(const PrivacyService& s, const Request&) {
  json keys = json::array();
  for (const auto& k : s.backend.public_keys()) {
    keys.push_back({{"kid", to_hex(k.kid())}, {"public_key", to_base64url(k.encode())}});
  }
  const auto& issuing = s.backend.issuing_key();
  return json{{"group", std::string(issuing.group().name())},
              {"issuing_kid", to_hex(issuing.kid())},
              {"keys", keys}};
}

// DESIGN §3.6 rule 4: the signed issuer key set clients check against their trust root, and the
// whole append-only history of them (for `anoncode admin keys audit` and anyone else).
Result<json> get_keyset(const PrivacyService& s, const Request&) {
  ANONCODE_TRY(protocol::SignedKeySet set, s.backend.latest_keyset());
  return keyset_json(set);
}

Result<json> get_keysets(const PrivacyService& s, const Request&) {
  ANONCODE_TRY(auto all, s.backend.keysets());
  json out = json::array();
  for (const auto& set : all) out.push_back(keyset_json(set));
  return json{{"keysets", std::move(out)}};
}

Result<json> post_nonce(const PrivacyService& s, const Request&) {
  int64_t t = s.now();
  ANONCODE_TRY(crypto::Nonce n, s.backend.new_nonce(t));
  return json{{"nonce", to_base64url(n)},
              {"expires_at", t + kNonceLifetimeMs},
              {"retry_until", t + kNonceRetryWindowMs}};
}

// seed 000 §2.1 open, as the app backend asks for it in a split deployment
Result<json> post_open(const PrivacyService& s, const Request& req) {
  ANONCODE_CHECK(server::require_bearer(req, s.service_token_hash));
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(std::string user_id, server::required_string(body, "user_id", 64));
  ANONCODE_TRY(Bytes request,
               server::required_bytes(body, "request", server::kMaxCredentialMessage));
  ANONCODE_TRY(Bytes response, s.backend.open(user_id, request, s.now()));
  return json{{"response", to_base64url(response)}};
}

// seed 000 §2.2–2.5, §2.10–2.11: every show of a credential, for the platform
Result<json> post_show(const PrivacyService& s, const Request& req) {
  ANONCODE_CHECK(server::require_bearer(req, s.service_token_hash));
  ANONCODE_TRY(json body, req.json_body());
  ANONCODE_TRY(Bytes request,
               server::required_bytes(body, "request", server::kMaxCredentialMessage));
  ANONCODE_TRY(protocol::ShowContext ctx, parse_context(body));
  ANONCODE_TRY(auto refund_user, server::optional_string(body, "refund_user_id", 64));
  ANONCODE_TRY(ShowOutcome out, s.backend.show(request, ctx, s.now(), refund_user));
  return json{{"response", to_base64url(out.issue_response)}, {"replayed", out.replayed}};
}

}  // namespace

void register_privacy_routes(server::HttpServer& http, PrivacyBackend& backend,
                             const server::TokenHash& service_token_hash, server::NowMs now) {
  const PrivacyService s{backend, service_token_hash, std::move(now)};
  http.route("GET", "/privacy/v1/params", std::bind_front(get_params, s));
  http.route("GET", "/privacy/v1/keyset", std::bind_front(get_keyset, s));
  http.route("GET", "/privacy/v1/keysets", std::bind_front(get_keysets, s));
  http.route("POST", "/privacy/v1/nonce", std::bind_front(post_nonce, s));
  http.route("POST", "/privacy/v1/open", std::bind_front(post_open, s));
  http.route("POST", "/privacy/v1/show", std::bind_front(post_show, s));
}

}  // namespace anoncode::privacy
