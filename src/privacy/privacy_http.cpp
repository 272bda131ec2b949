// seed 000 §4 privacy backend (隐私保护后台) over HTTP
#include "privacy/privacy_http.h"

#include "server/json_fields.h"

namespace anoncode::privacy {

using nlohmann::json;
using server::Request;

namespace {

constexpr size_t kMaxMessage = 4096;  // the largest credential message on the SM2 group is < 1 KiB

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

}  // namespace

void register_privacy_routes(server::HttpServer& http, PrivacyBackend& backend,
                             const server::TokenHash& service_token_hash, server::NowMs now) {
  http.route("GET", "/privacy/v1/params", [&backend](const Request&) -> Result<json> {
    json keys = json::array();
    for (const auto& k : backend.public_keys()) {
      keys.push_back({{"kid", to_hex(k.kid())}, {"public_key", to_base64url(k.encode())}});
    }
    const auto& issuing = backend.issuing_key();
    return json{{"group", std::string(issuing.group().name())},
                {"issuing_kid", to_hex(issuing.kid())},
                {"keys", keys}};
  });

  // DESIGN §3.6 rule 4: the signed issuer key set clients check against their trust root, and
  // the whole append-only history of them (for `anoncode admin keys audit` and anyone else).
  auto keyset_json = [](const protocol::SignedKeySet& s) {
    return json{{"body", s.body}, {"signature", to_base64url(s.signature)}};
  };
  http.route("GET", "/privacy/v1/keyset", [&backend, keyset_json](const Request&) -> Result<json> {
    ANONCODE_TRY(protocol::SignedKeySet s, backend.latest_keyset());
    return keyset_json(s);
  });
  http.route("GET", "/privacy/v1/keysets", [&backend, keyset_json](const Request&) -> Result<json> {
    ANONCODE_TRY(auto all, backend.keysets());
    json out = json::array();
    for (const auto& s : all) out.push_back(keyset_json(s));
    return json{{"keysets", std::move(out)}};
  });

  http.route("POST", "/privacy/v1/nonce", [&backend, now](const Request&) -> Result<json> {
    int64_t t = now();
    ANONCODE_TRY(crypto::Nonce n, backend.new_nonce(t));
    return json{{"nonce", to_base64url(n)},
                {"expires_at", t + kNonceLifetimeMs},
                {"retry_until", t + kNonceRetryWindowMs}};
  });

  // seed 000 §2.1 open, as the app backend asks for it in a split deployment
  http.route("POST", "/privacy/v1/open",
             [&backend, now, service_token_hash](const Request& req) -> Result<json> {
               ANONCODE_CHECK(server::require_bearer(req, service_token_hash));
               ANONCODE_TRY(json body, req.json_body());
               ANONCODE_TRY(std::string user_id, server::required_string(body, "user_id", 64));
               ANONCODE_TRY(Bytes request, server::required_bytes(body, "request", kMaxMessage));
               ANONCODE_TRY(Bytes response, backend.open(user_id, request, now()));
               return json{{"response", to_base64url(response)}};
             });

  // seed 000 §2.2–2.5, §2.10–2.11: every show of a credential, for the platform
  http.route(
      "POST", "/privacy/v1/show",
      [&backend, now, service_token_hash](const Request& req) -> Result<json> {
        ANONCODE_CHECK(server::require_bearer(req, service_token_hash));
        ANONCODE_TRY(json body, req.json_body());
        ANONCODE_TRY(Bytes request, server::required_bytes(body, "request", kMaxMessage));
        ANONCODE_TRY(protocol::ShowContext ctx, parse_context(body));
        ANONCODE_TRY(auto refund_user, server::optional_string(body, "refund_user_id", 64));
        ANONCODE_TRY(ShowOutcome out, backend.show(request, ctx, now(), refund_user));
        return json{{"response", to_base64url(out.issue_response)}, {"replayed", out.replayed}};
      });
}

}  // namespace anoncode::privacy
