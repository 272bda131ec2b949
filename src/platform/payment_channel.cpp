#include "platform/payment_channel.h"

namespace anoncode::platform {

bool is_known_channel(std::string_view code) {
  return code == kChannelUnionPay || code == kChannelAlipay || code == kChannelWeChat;
}

Result<std::string> SimulatedPaymentChannel::create_order(std::string_view order_id,
                                                          int64_t amount) {
  std::lock_guard lock(mu_);
  if (amount <= 0) return make_error(ErrorCode::kInvalidArgument, "order amount must be positive");
  if (orders_.count(order_id) != 0 || paid_.count(order_id) != 0) {
    return make_error(ErrorCode::kConflict, "order exists");
  }
  orders_.emplace(std::string(order_id), amount);
  return "SIM" + code_ + "-" + std::string(order_id);
}

Status SimulatedPaymentChannel::confirm(std::string_view order_id) {
  std::lock_guard lock(mu_);
  if (paid_.count(order_id) != 0) return {};  // confirming twice is a no-op
  auto it = orders_.find(order_id);
  if (it == orders_.end()) return make_error(ErrorCode::kNotFound, "no such order");
  if (decline_payments_) {
    orders_.erase(it);
    return make_error(ErrorCode::kUnavailable, "the payment channel declined the payment");
  }
  paid_in_ += it->second;
  paid_.insert(it->first);
  orders_.erase(it);
  return {};
}

Result<std::string> SimulatedPaymentChannel::pay_out(std::string_view payout_id, int64_t amount,
                                                     std::string_view bank_account) {
  std::lock_guard lock(mu_);
  if (amount <= 0 || bank_account.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "bad payout");
  }
  std::string ref = "SIM" + code_ + "-P-" + std::string(payout_id);
  if (payouts_.count(payout_id) != 0) return ref;
  if (decline_payouts_) {
    return make_error(ErrorCode::kUnavailable, "the payment channel declined the payout");
  }
  payouts_.insert(std::string(payout_id));
  paid_out_ += amount;
  return ref;
}

void SimulatedPaymentChannel::set_decline_payments(bool on) {
  std::lock_guard lock(mu_);
  decline_payments_ = on;
}
void SimulatedPaymentChannel::set_decline_payouts(bool on) {
  std::lock_guard lock(mu_);
  decline_payouts_ = on;
}
int64_t SimulatedPaymentChannel::total_paid_in() const {
  std::lock_guard lock(mu_);
  return paid_in_;
}
int64_t SimulatedPaymentChannel::total_paid_out() const {
  std::lock_guard lock(mu_);
  return paid_out_;
}

PaymentChannel* PaymentChannels::find(std::string_view code) const {
  auto it = by_code.find(code);
  return it == by_code.end() ? nullptr : it->second.get();
}

PaymentChannels PaymentChannels::simulated() {
  PaymentChannels c;
  for (auto code : {kChannelUnionPay, kChannelAlipay, kChannelWeChat}) {
    c.by_code.emplace(std::string(code),
                      std::make_shared<SimulatedPaymentChannel>(std::string(code)));
  }
  return c;
}

}  // namespace anoncode::platform
