// What each of the rider SDK's operations gives back (DESIGN §2). Their JSON — the object the
// `anoncode wallet` command prints and the C ABI hands out — is in sdk/results_json.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"

namespace anoncode::sdk {

// Open (开通).
struct OpenResult {};

// The current wallet and its balance: what a recharge (充值) and a balance query give.
struct WalletBalance {
  std::string wallet = {};     // the wallet account B
  std::string accountid = {};  // the account it belongs to
  int64_t balance = 0;         // fen
};
using RechargeResult = WalletBalance;

// A ride code (请码): the signed QR payload.
struct CodeResult {
  Bytes payload = {};
  std::string sequence = {};
  std::string accountid = {};
  int64_t expires_at = 0;  // Unix ms
};

// A money movement of the account: 01 recharge, 03 refill, 04 refund, 05 close.
struct MoneyRecord {
  std::string txn_id = {};
  std::string transaction_type = {};
  std::string kind = {};  // "recharge", "refill", "refund", "close"
  int64_t amount = 0;
  int64_t at = 0;
  std::string wallet = {};
  std::string channel = {};
  std::string order_id = {};
  std::string state = {};
};

// A settled ride.
struct RideRecord {
  std::string txn_id = {};
  std::string sequence = {};
  std::string terminal = {};
  std::string merchant = {};
  int64_t counter = 0;
  std::string wallet = {};
  int64_t amount = 0;
  int64_t scanned_at = 0;
  int64_t settled_at = 0;
  bool copy_risk = false;
};

// A history query (交易查询): the recharge records or the ride records, never both.
struct History {
  std::string wallet = {};
  std::string accountid = {};
  int64_t balance = 0;
  std::vector<MoneyRecord> money = {};  // type "recharge"
  std::vector<RideRecord> rides = {};   // type "ride"
};

// A refund (余额退款).
struct RefundResult {
  int64_t refunded = 0;
  int64_t balance = 0;
};

// Close (钱包关闭). The app backend's opening record is closed too, or, when it could not be
// reached, by a later call.
struct CloseResult {
  bool opening_record_pending = false;
};

// Backup (钱包备份) and restore (钱包恢复).
struct BackupResult {};
struct RestoreResult {};

}  // namespace anoncode::sdk
