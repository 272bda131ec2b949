#include "platform/platform_api.h"

#include "platform/json_fields.h"
#include "platform/seed_codes.h"

namespace anoncode::platform {

namespace jf = json_fields;

namespace {

Result<WalletAuth> read_auth(const nlohmann::json& body, bool signature_required) {
  ANONCODE_CHECK(jf::require_object(body));
  WalletAuth a;
  ANONCODE_TRY(a.show, jf::bytes(body, "show"));
  ANONCODE_TRY(a.wallet, jf::text(body, "wallet"));
  if (signature_required) {
    ANONCODE_TRY(a.wallet_signature, jf::bytes(body, "wallet_signature"));
  } else {
    ANONCODE_TRY(a.wallet_signature, jf::bytes_or_empty(body, "wallet_signature"));
  }
  return a;
}

template <typename T, typename F>
JsonReply reply_of(WalletOutcome<T> out, F&& to_json) {
  if (!out.result.ok()) return {out.result.error(), std::move(out.response)};
  nlohmann::json body = to_json(*out.result);
  if (out.response) body["response"] = to_base64url(*out.response);
  return {std::move(body), std::nullopt};
}

}  // namespace

nlohmann::json error_body(const Error& e, const std::optional<Bytes>& response) {
  nlohmann::json body{{"error", {{"code", std::string(e.code_name())}, {"message", e.message}}}};
  if (response) body["response"] = to_base64url(*response);
  return body;
}

nlohmann::json JsonReply::body() const {
  if (result.ok()) return *result;
  return error_body(result.error(), response);
}

JsonReply recharge_json(CodePlatform& p, const nlohmann::json& body, int64_t now_ms) {
  RechargeRequest r;
  auto read = [&]() -> Status {
    ANONCODE_TRY(r.previous_wallet, jf::text_or(body, "previous_wallet", ""));
    ANONCODE_TRY(r.auth, read_auth(body, !r.previous_wallet.empty()));
    ANONCODE_TRY(r.amount, jf::integer(body, "amount"));
    ANONCODE_TRY(r.channel, jf::text(body, "channel"));
    ANONCODE_TRY(r.strong, jf::boolean_or(body, "strong", false));
    ANONCODE_TRY(r.new_wallet_public_key, jf::bytes(body, "new_wallet_public_key"));
    return {};
  };
  if (auto s = read(); !s.ok()) return {s.error(), std::nullopt};
  return reply_of(p.recharge(r, now_ms), [](const RechargeResult& x) {
    return nlohmann::json{{"wallet", x.wallet},
                          {"accountid", x.accountid},
                          {"balance", x.balance},
                          {"order_id", x.order_id}};
  });
}

JsonReply code_json(CodePlatform& p, const nlohmann::json& body, int64_t now_ms) {
  auto auth = read_auth(body, true);
  if (!auth.ok()) return {auth.error(), std::nullopt};
  return reply_of(p.request_code(*auth, now_ms), [](const CodeResult& x) {
    return nlohmann::json{{"payload", to_base64url(x.payload)},
                          {"sequence", x.sequence},
                          {"accountid", x.accountid},
                          {"expires_at", x.expires_at}};
  });
}

JsonReply history_json(CodePlatform& p, const nlohmann::json& body, int64_t now_ms) {
  auto auth = read_auth(body, true);
  if (!auth.ok()) return {auth.error(), std::nullopt};
  auto type_name = jf::text(body, "type");
  if (!type_name.ok()) return {type_name.error(), std::nullopt};
  HistoryType type;
  if (*type_name == "recharge") {
    type = HistoryType::kRecharge;
  } else if (*type_name == "ride") {
    type = HistoryType::kRide;
  } else {
    return {make_error(ErrorCode::kInvalidArgument, "type must be recharge or ride"), std::nullopt};
  }
  return reply_of(p.history(*auth, type, now_ms), [type](const History& h) {
    auto records = nlohmann::json::array();
    if (type == HistoryType::kRecharge) {
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
    } else {
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
    }
    return nlohmann::json{{"wallet", h.wallet},
                          {"accountid", h.accountid},
                          {"balance", h.balance},
                          {"records", std::move(records)}};
  });
}

JsonReply refund_json(CodePlatform& p, const nlohmann::json& body, int64_t now_ms) {
  RefundRequest r;
  auto read = [&]() -> Status {
    ANONCODE_TRY(r.auth, read_auth(body, true));
    ANONCODE_TRY(r.amount, jf::integer(body, "amount"));
    ANONCODE_TRY(r.name, jf::text(body, "name"));
    ANONCODE_TRY(r.id_number, jf::text(body, "id_number"));
    ANONCODE_TRY(r.bank_account, jf::text(body, "bank_account"));
    return {};
  };
  if (auto s = read(); !s.ok()) return {s.error(), std::nullopt};
  return reply_of(p.refund(r, now_ms), [](const RefundResult& x) {
    return nlohmann::json{{"refunded", x.refunded}, {"balance", x.balance}};
  });
}

JsonReply close_json(CodePlatform& p, const nlohmann::json& body, int64_t now_ms) {
  auto auth = read_auth(body, true);
  if (!auth.ok()) return {auth.error(), std::nullopt};
  return reply_of(p.close(*auth, now_ms), [](const CloseResult& x) {
    return nlohmann::json{{"status", x.status}};
  });
}

Result<nlohmann::json> keys_json(CodePlatform& p) {
  ANONCODE_TRY(auto keys, p.keys());
  return pos::keys_to_json(keys);
}

Result<nlohmann::json> trace_json(CodePlatform& p, std::string_view user_id) {
  if (user_id.empty() || user_id.size() > 64) {
    return make_error(ErrorCode::kInvalidArgument, "user_id must be 1 to 64 characters");
  }
  ANONCODE_TRY(Trace t, p.trace(user_id));
  auto wallets = nlohmann::json::array();
  for (const auto& w : t.wallets) {
    wallets.push_back(
        {{"wallet", w.b},
         {"accountid", w.accountid},
         {"balance", w.balance},
         {"total_recharge_amount", w.total_recharge_amount},
         {"total_consume_amount", w.total_consume_amount},
         {"creation_date", w.creation_date},
         {"locked", w.locked},
         {"deactivated", w.deactivated},
         {"strong", w.strong},
         {"user_id", w.user_id ? nlohmann::json(*w.user_id) : nlohmann::json()},
         {"previous_wallet", w.previous_b ? nlohmann::json(*w.previous_b) : nlohmann::json()}});
  }
  auto txns = nlohmann::json::array();
  for (const auto& m : t.transactions) {
    txns.push_back({{"txn_id", m.txn_id},
                    {"wallet", m.wallet},
                    {"accountid", m.accountid},
                    {"transaction_type", m.type},
                    {"kind", kind_name(m.type)},
                    {"amount", m.amount},
                    {"at", m.at},
                    {"channel", m.channel},
                    {"order_id", m.order_id},
                    {"state", m.state}});
  }
  return nlohmann::json{{"wallets", std::move(wallets)}, {"transactions", std::move(txns)}};
}

Result<nlohmann::json> refill_run_json(CodePlatform& p, const nlohmann::json& body,
                                       int64_t now_ms) {
  int64_t at = now_ms;
  if (body.is_object() && body.contains("now") && !body["now"].is_null()) {
    ANONCODE_TRY(at, jf::integer(body, "now"));
  }
  ANONCODE_TRY(int64_t moved, p.run_refill(at));
  return nlohmann::json{{"moved", moved}};
}

}  // namespace anoncode::platform
