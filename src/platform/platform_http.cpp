// seed 000 §2.3–§2.12: the code platform over HTTP
#include "platform/platform_http.h"

#include "platform/seed_codes.h"
#include "protocol/errors.h"
#include "server/json_fields.h"

namespace anoncode::platform {

using nlohmann::json;

namespace {

// Field limits: each at least what a valid request carries (docs/API.md "Code platform").
constexpr size_t kMaxWallet = 64;       // a wallet account B is 24 characters
constexpr size_t kMaxChannel = 16;      // "010001", "010002", "020001"
constexpr size_t kMaxHistoryType = 16;  // "recharge" or "ride"
constexpr size_t kMaxName = 64;         // as CodePlatform::refund allows them
constexpr size_t kMaxIdNumber = 32;
constexpr size_t kMaxBankAccount = 64;

// "show", "wallet" and "wallet_signature" (optional on a first recharge).
Result<WalletAuth> read_auth(const json& body, bool signature_required) {
  WalletAuth a;
  ANONCODE_TRY(a.show, server::required_bytes(body, "show", server::kMaxCredentialMessage));
  ANONCODE_TRY(a.wallet, server::required_string(body, "wallet", kMaxWallet));
  if (signature_required) {
    ANONCODE_TRY(a.wallet_signature,
                 server::required_bytes(body, "wallet_signature", crypto::kSm2SignatureSize));
  } else if (auto it = body.find("wallet_signature");
             it != body.end() && it->is_string() && it->get_ref<const std::string&>().empty()) {
    // "" is the empty value, as absent and null are (docs/API.md): the same request.
  } else {
    ANONCODE_TRY(auto signature,
                 server::optional_bytes(body, "wallet_signature", crypto::kSm2SignatureSize));
    a.wallet_signature = signature.value_or(Bytes{});
  }
  return a;
}

// A refusal before the show: it carries no next credential.
JsonReply refused(const Error& e) {
  return {e, std::nullopt};
}

// A wallet operation's outcome: its result as `to_json` renders it, and the next credential on
// success and after the show.
template <typename T>
JsonReply reply_of(WalletOutcome<T> out, json (*to_json)(const T&)) {
  if (!out.result.ok()) return {out.result.error(), std::move(out.response)};
  json body = to_json(*out.result);
  if (out.response) body["response"] = to_base64url(*out.response);
  if (out.next_nonce) body["next_nonce"] = to_base64url(*out.next_nonce);
  return {std::move(body), std::nullopt};
}

Result<RechargeRequest> read_recharge(const json& body) {
  RechargeRequest r;
  ANONCODE_TRY(auto previous,
               server::optional_string_or_empty(body, "previous_wallet", kMaxWallet));
  r.previous_wallet = previous.value_or("");
  ANONCODE_TRY(r.auth, read_auth(body, !r.previous_wallet.empty()));
  ANONCODE_TRY(r.amount, server::required_int(body, "amount"));
  ANONCODE_TRY(r.channel, server::required_string(body, "channel", kMaxChannel));
  ANONCODE_TRY(auto strong, server::optional_bool(body, "strong"));
  r.strong = strong.value_or(false);
  ANONCODE_TRY(r.new_wallet_public_key,
               server::required_bytes(body, "new_wallet_public_key", crypto::kSm2PublicKeySize));
  return r;
}

Result<HistoryType> read_history_type(const json& body) {
  ANONCODE_TRY(std::string type, server::required_string(body, "type", kMaxHistoryType));
  if (type == "recharge") return HistoryType::kRecharge;
  if (type == "ride") return HistoryType::kRide;
  return make_error(ErrorCode::kInvalidArgument, "type must be recharge or ride");
}

Result<RefundRequest> read_refund(const json& body) {
  RefundRequest r;
  ANONCODE_TRY(r.auth, read_auth(body, true));
  ANONCODE_TRY(r.amount, server::required_int(body, "amount"));
  ANONCODE_TRY(r.name, server::required_string(body, "name", kMaxName));
  ANONCODE_TRY(r.id_number, server::required_string(body, "id_number", kMaxIdNumber));
  ANONCODE_TRY(r.bank_account, server::required_string(body, "bank_account", kMaxBankAccount));
  return r;
}

json recharge_result_json(const RechargeResult& x) {
  return {{"wallet", x.wallet},
          {"accountid", x.accountid},
          {"balance", x.balance},
          {"order_id", x.order_id}};
}

json code_result_json(const CodeResult& x) {
  return {{"payload", to_base64url(x.payload)},
          {"sequence", x.sequence},
          {"accountid", x.accountid},
          {"expires_at", x.expires_at}};
}

json refund_result_json(const RefundResult& x) {
  return {{"refunded", x.refunded}, {"balance", x.balance}};
}

json close_result_json(const CloseResult& x) {
  return {{"status", x.status}};
}

// A query's answer: the wallet, its balance and its records, newest first.
json history_json(const History& h, json records) {
  return json{{"wallet", h.wallet},
              {"accountid", h.accountid},
              {"balance", h.balance},
              {"records", std::move(records)}};
}

json money_history_json(const History& h) {
  auto records = json::array();
  for (const auto& m : h.money) {
    records.push_back({{"txn_id", m.txn_id},
                       {"transaction_type", m.type},
                       {"kind", kind_name(m.type)},
                       {"amount", m.amount},
                       {"at", m.at},
                       {"wallet", m.wallet},
                       {"channel", m.channel},
                       {"order_id", m.order_id},
                       {"state", m.state}});
  }
  return history_json(h, std::move(records));
}

json ride_history_json(const History& h) {
  auto records = json::array();
  for (const auto& r : h.rides) {
    records.push_back({{"txn_id", r.txn_id},
                       {"sequence", r.sequence},
                       {"terminal", r.terminal},
                       {"merchant", r.merchant},
                       {"counter", r.counter},
                       {"wallet", r.wallet},
                       {"amount", r.amount},
                       {"scanned_at", r.scanned_at},
                       {"settled_at", r.settled_at},
                       {"copy_risk", r.copy_risk}});
  }
  return history_json(h, std::move(records));
}

json wallet_json(const WalletRecord& w) {
  return {{"wallet", w.b},
          {"accountid", w.accountid},
          {"balance", w.balance},
          {"total_recharge_amount", w.total_recharge_amount},
          {"total_consume_amount", w.total_consume_amount},
          {"creation_date", w.creation_date},
          {"locked", w.locked},
          {"deactivated", w.deactivated},
          {"strong", w.strong},
          {"user_id", w.user_id ? json(*w.user_id) : json()},
          {"previous_wallet", w.previous_b ? json(*w.previous_b) : json()}};
}

json transaction_json(const MoneyRecord& m) {
  return {{"txn_id", m.txn_id},
          {"wallet", m.wallet},
          {"accountid", m.accountid},
          {"transaction_type", m.type},
          {"kind", kind_name(m.type)},
          {"amount", m.amount},
          {"at", m.at},
          {"channel", m.channel},
          {"order_id", m.order_id},
          {"state", m.state}};
}

}  // namespace

json error_body(const Error& e, const std::optional<Bytes>& response) {
  return protocol::error_body(e, response ? json{{"response", to_base64url(*response)}} : json());
}

json JsonReply::body() const {
  if (result.ok()) return *result;
  return error_body(result.error(), response);
}

// seed 000 §2.3 recharge (§2.8 strong mode)
JsonReply post_recharge(CodePlatform& p, const json& body, int64_t now_ms) {
  auto r = read_recharge(body);
  if (!r.ok()) return refused(r.error());
  return reply_of(p.recharge(*r, now_ms), recharge_result_json);
}

// seed 000 §2.4 request code
JsonReply post_code(CodePlatform& p, const json& body, int64_t now_ms) {
  auto auth = read_auth(body, true);
  if (!auth.ok()) return refused(auth.error());
  return reply_of(p.request_code(*auth, now_ms), code_result_json);
}

// seed 000 §2.6 query
JsonReply post_history(CodePlatform& p, const json& body, int64_t now_ms) {
  auto auth = read_auth(body, true);
  if (!auth.ok()) return refused(auth.error());
  auto type = read_history_type(body);
  if (!type.ok()) return refused(type.error());
  return reply_of(p.history(*auth, *type, now_ms),
                  *type == HistoryType::kRecharge ? money_history_json : ride_history_json);
}

// seed 000 §2.11 refund
JsonReply post_refund(CodePlatform& p, const json& body, int64_t now_ms) {
  auto r = read_refund(body);
  if (!r.ok()) return refused(r.error());
  return reply_of(p.refund(*r, now_ms), refund_result_json);
}

// seed 000 §2.12 close
JsonReply post_close(CodePlatform& p, const json& body, int64_t now_ms) {
  auto auth = read_auth(body, true);
  if (!auth.ok()) return refused(auth.error());
  return reply_of(p.close(*auth, now_ms), close_result_json);
}

Result<json> get_keys(CodePlatform& p) {
  ANONCODE_TRY(auto keys, p.keys());
  return protocol::keys_to_json(keys);
}

void register_platform_routes(server::HttpServer& http, CodePlatform& p, server::NowMs now) {
  http.route("POST", "/platform/v1/recharge", server::body_route(p, now, post_recharge));
  http.route("POST", "/platform/v1/code", server::body_route(p, now, post_code));
  http.route("POST", "/platform/v1/history", server::body_route(p, now, post_history));
  http.route("POST", "/platform/v1/refund", server::body_route(p, now, post_refund));
  http.route("POST", "/platform/v1/close", server::body_route(p, now, post_close));
  http.route("GET", "/platform/v1/keys", [&p](const server::Request&) { return get_keys(p); });
}

Result<json> trace_json(CodePlatform& p, std::string_view user_id) {
  if (user_id.empty() || user_id.size() > 64) {
    return make_error(ErrorCode::kInvalidArgument, "user_id must be 1 to 64 characters");
  }
  ANONCODE_TRY(Trace t, p.trace(user_id));
  return wallet_records_json(t);
}

json wallet_records_json(const WalletRecords& r) {
  auto wallets = json::array();
  for (const auto& w : r.wallets) wallets.push_back(wallet_json(w));
  auto txns = json::array();
  for (const auto& m : r.transactions) txns.push_back(transaction_json(m));
  return json{{"wallets", std::move(wallets)}, {"transactions", std::move(txns)}};
}

Result<json> refill_run_json(CodePlatform& p, const json& body, int64_t now_ms) {
  ANONCODE_TRY(auto at, server::optional_int(body, "now"));
  ANONCODE_TRY(int64_t moved, p.run_refill(at.value_or(now_ms)));
  return json{{"moved", moved}};
}

}  // namespace anoncode::platform
