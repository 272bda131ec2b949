#include "sdk/results_json.h"

#include <string_view>
#include <type_traits>
#include <utility>

#include "sdk/json_read.h"

namespace anoncode::sdk {

using nlohmann::json;

namespace {

template <typename>
constexpr bool kNoMembers = false;

// Calls f(name, member) for every member of a result that has its own JSON member of that name,
// in both directions: R is the result type, const or not.
template <typename R, typename F>
void members(R& r, F&& f) {
  using T = std::remove_const_t<R>;
  if constexpr (std::is_same_v<T, WalletBalance> || std::is_same_v<T, History>) {
    f("wallet", r.wallet);
    f("accountid", r.accountid);
    f("balance", r.balance);
  } else if constexpr (std::is_same_v<T, CodeResult>) {
    f("payload", r.payload);
    f("sequence", r.sequence);
    f("accountid", r.accountid);
    f("expires_at", r.expires_at);
  } else if constexpr (std::is_same_v<T, MoneyRecord>) {
    f("txn_id", r.txn_id);
    f("transaction_type", r.transaction_type);
    f("kind", r.kind);
    f("amount", r.amount);
    f("at", r.at);
    f("wallet", r.wallet);
    f("channel", r.channel);
    f("order_id", r.order_id);
    f("state", r.state);
  } else if constexpr (std::is_same_v<T, RideRecord>) {
    f("txn_id", r.txn_id);
    f("sequence", r.sequence);
    f("terminal", r.terminal);
    f("merchant", r.merchant);
    f("counter", r.counter);
    f("wallet", r.wallet);
    f("amount", r.amount);
    f("scanned_at", r.scanned_at);
    f("settled_at", r.settled_at);
    f("copy_risk", r.copy_risk);
  } else if constexpr (std::is_same_v<T, RefundResult>) {
    f("refunded", r.refunded);
    f("balance", r.balance);
  } else {
    static_assert(kNoMembers<T>);
  }
}

template <typename R>
json write(const R& r) {
  json j = json::object();
  members(r, [&j](const char* name, const auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, Bytes>) {
      j[name] = to_base64url(value);
    } else {
      j[name] = value;
    }
  });
  return j;
}

template <typename R>
Result<R> read(const json& j, std::string_view where) {
  R r;
  Status status;
  members(r, [&](const char* name, auto& value) {
    if (!status.ok()) return;
    auto got = json_read::member<std::decay_t<decltype(value)>>(j, name, where);
    if (got.ok()) {
      value = std::move(*got);
    } else {
      status = got.error();
    }
  });
  if (!status.ok()) return status.error();
  return r;
}

json status_json(const char* text) {
  return {{"status", text}};
}

}  // namespace

void to_json(json& j, const OpenResult&) {
  j = status_json("opened");
}
void to_json(json& j, const WalletBalance& r) {
  j = write(r);
}
void to_json(json& j, const CodeResult& r) {
  j = write(r);
}
void to_json(json& j, const MoneyRecord& r) {
  j = write(r);
}
void to_json(json& j, const RideRecord& r) {
  j = write(r);
}
void to_json(json& j, const History& r) {
  j = write(r);
  json records = json::array();
  for (const auto& m : r.money) records.push_back(m);
  for (const auto& ride : r.rides) records.push_back(ride);
  j["records"] = std::move(records);
}
void to_json(json& j, const RefundResult& r) {
  j = write(r);
}
void to_json(json& j, const CloseResult& r) {
  j = status_json("closed");
  if (r.opening_record_pending) j["opening_record"] = "pending";
}
void to_json(json& j, const BackupResult&) {
  j = status_json("backed_up");
}
void to_json(json& j, const RestoreResult&) {
  j = status_json("restored");
}

Result<WalletBalance> wallet_balance_from(const json& answer) {
  return read<WalletBalance>(answer, "the server's answer");
}

Result<CodeResult> code_from(const json& answer) {
  return read<CodeResult>(answer, "the server's code");
}

Result<History> history_from(const json& answer, bool rides) {
  constexpr std::string_view where = "the server's history";
  ANONCODE_TRY(History h, read<History>(answer, where));
  if (!answer.contains("records") || !answer["records"].is_array()) {
    return json_read::malformed(where, "records", "must be an array");
  }
  for (const auto& record : answer["records"]) {
    if (rides) {
      ANONCODE_TRY(RideRecord r, read<RideRecord>(record, "a ride record"));
      h.rides.push_back(std::move(r));
    } else {
      ANONCODE_TRY(MoneyRecord m, read<MoneyRecord>(record, "a recharge record"));
      h.money.push_back(std::move(m));
    }
  }
  return h;
}

Result<RefundResult> refund_from(const json& answer) {
  return read<RefundResult>(answer, "the server's refund");
}

}  // namespace anoncode::sdk
