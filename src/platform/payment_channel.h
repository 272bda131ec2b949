// Payment channels (资金来源, seed 000 §3.3 paychannel; DESIGN §2.2): 020001 UnionPay,
// 010002 Alipay, 010001 WeChat. The platform only talks to this interface; no money is credited
// to a wallet unless the channel confirmed the payment. The bundled implementation is a
// SIMULATOR, for development and tests — a deployment plugs in the real channels.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"

namespace anoncode::platform {

constexpr std::string_view kChannelUnionPay = "020001";
constexpr std::string_view kChannelAlipay = "010002";
constexpr std::string_view kChannelWeChat = "010001";
bool is_known_channel(std::string_view code);

class PaymentChannel {
 public:
  virtual ~PaymentChannel() = default;
  // Opens an order for `amount` fen under our order id; returns the channel's payment number.
  virtual Result<std::string> create_order(std::string_view order_id, int64_t amount) = 0;
  // Succeeds only when the channel confirms that the order was paid.
  virtual Status confirm(std::string_view order_id) = 0;
  // Pays `amount` fen to a bank account (a refund); returns the channel's transfer reference.
  // `payout_id` makes it idempotent: the same id never pays twice.
  virtual Result<std::string> pay_out(std::string_view payout_id, int64_t amount,
                                      std::string_view bank_account) = 0;
};

// A simulator of one channel: orders are paid at once unless told to decline. It keeps totals,
// so tests can check that the money a channel took in equals what wallets were credited.
class SimulatedPaymentChannel final : public PaymentChannel {
 public:
  explicit SimulatedPaymentChannel(std::string code) : code_(std::move(code)) {}

  Result<std::string> create_order(std::string_view order_id, int64_t amount) override;
  Status confirm(std::string_view order_id) override;
  Result<std::string> pay_out(std::string_view payout_id, int64_t amount,
                              std::string_view bank_account) override;

  // Test switches: decline every payment / every payout from now on.
  void set_decline_payments(bool on);
  void set_decline_payouts(bool on);
  int64_t total_paid_in() const;
  int64_t total_paid_out() const;

 private:
  std::string code_;
  mutable std::mutex mu_;
  bool decline_payments_ = false, decline_payouts_ = false;
  std::map<std::string, int64_t, std::less<>> orders_;  // order id → amount, until confirmed
  std::set<std::string, std::less<>> paid_, payouts_;
  int64_t paid_in_ = 0, paid_out_ = 0;
};

// The channels the platform accepts, by code, and the one refunds are paid out through.
struct PaymentChannels {
  std::map<std::string, std::shared_ptr<PaymentChannel>, std::less<>> by_code;
  std::string payout_channel = std::string(kChannelUnionPay);

  PaymentChannel* find(std::string_view code) const;
  // A simulator for each of 020001, 010002 and 010001.
  static PaymentChannels simulated();
};

}  // namespace anoncode::platform
