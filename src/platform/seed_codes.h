// The seed's two-character codes (seed 000 §3.3 钱包交易记录表, §3.5 钱包余额返充登记表) as enums,
// with one to_code / from_code pair for all of them: the codes are what the tables hold and what
// the history answers carry (docs/API.md), the enums are what the code reads.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace anoncode::platform {

// 交易类型 wallet_transactions.transaction_type.
enum class TransactionType { kRecharge, kRide, kRefill, kRefund, kClose };
// 订单状态 wallet_transactions.state: 00 normal (正常), 01 paid (支付完成), 02 recharge done
// (充值完成); 09 is ours: a refund whose payout was refused and reversed.
enum class TransactionState { kNormal, kPaid, kRechargeDone, kReversed };
// 二维码账户类型 wallet_transactions.account_type: 01 anonymous code (匿名码).
enum class AccountType { kAnonymousCode };
// 返充状态 purse_refund_record.state: 00 registered, 01 moved to the new wallet.
enum class RefillState { kRegistered, kMoved };

namespace seed_codes_detail {
template <typename E>
struct Table;
template <>
struct Table<TransactionType> {
  static constexpr std::array<std::pair<TransactionType, std::string_view>, 5> kCodes{{
      {TransactionType::kRecharge, "01"},
      {TransactionType::kRide, "02"},
      {TransactionType::kRefill, "03"},
      {TransactionType::kRefund, "04"},
      {TransactionType::kClose, "05"},
  }};
};
template <>
struct Table<TransactionState> {
  static constexpr std::array<std::pair<TransactionState, std::string_view>, 4> kCodes{{
      {TransactionState::kNormal, "00"},
      {TransactionState::kPaid, "01"},
      {TransactionState::kRechargeDone, "02"},
      {TransactionState::kReversed, "09"},
  }};
};
template <>
struct Table<AccountType> {
  static constexpr std::array<std::pair<AccountType, std::string_view>, 1> kCodes{{
      {AccountType::kAnonymousCode, "01"},
  }};
};
template <>
struct Table<RefillState> {
  static constexpr std::array<std::pair<RefillState, std::string_view>, 2> kCodes{{
      {RefillState::kRegistered, "00"},
      {RefillState::kMoved, "01"},
  }};
};
}  // namespace seed_codes_detail

// The code a table holds for `value`.
template <typename E>
constexpr std::string_view to_code(E value) {
  for (const auto& [e, code] : seed_codes_detail::Table<E>::kCodes) {
    if (e == value) return code;
  }
  return {};  // unreachable: every enumerator has a code
}

// The enumerator of `code`, or nullopt for a code the seed does not define.
template <typename E>
constexpr std::optional<E> from_code(std::string_view code) {
  for (const auto& [e, c] : seed_codes_detail::Table<E>::kCodes) {
    if (c == code) return e;
  }
  return std::nullopt;
}

// What a rider's or an operator's view calls a transaction type: recharge, ride, refill, refund,
// close.
constexpr std::string_view kind_name(TransactionType t) {
  switch (t) {
    case TransactionType::kRecharge:
      return "recharge";
    case TransactionType::kRide:
      return "ride";
    case TransactionType::kRefill:
      return "refill";
    case TransactionType::kRefund:
      return "refund";
    case TransactionType::kClose:
      return "close";
  }
  return "other";
}
// The kind of a stored code, "other" for one the seed does not define.
constexpr std::string_view kind_name(std::string_view transaction_type_code) {
  auto t = from_code<TransactionType>(transaction_type_code);
  return t ? kind_name(*t) : std::string_view("other");
}

}  // namespace anoncode::platform
