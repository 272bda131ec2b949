#include "protocol/show_context.h"

#include "crypto/sm3.h"

namespace anoncode::protocol {

crypto::ContextHash ShowContext::hash() const {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/ctx"))
      .u8(static_cast<uint8_t>(op))
      .var(as_bytes(wallet_b))
      .var(as_bytes(accountid))
      .u64(static_cast<uint64_t>(amount))
      .var(as_bytes(extra));
  return crypto::sm3(w.bytes());
}

crypto::ContextHash open_context_hash(std::string_view user_id) {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/open-ctx")).var(as_bytes(user_id));
  return crypto::sm3(w.bytes());
}

std::string wallet_account_of(ByteView wallet_public_key) {
  crypto::Sm3Digest d = crypto::sm3(wallet_public_key);
  return to_base32(ByteView(d.data(), 15));
}

bool is_valid_wallet_account(std::string_view b) {
  if (b.size() != kWalletAccountSize) return false;
  for (char c : b) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

std::string recharge_extra(std::string_view previous_wallet, std::string_view channel, bool strong,
                           ByteView new_wallet_public_key) {
  ByteWriter w;
  w.var(as_bytes(previous_wallet))
      .var(as_bytes(channel))
      .u8(strong ? 1 : 0)
      .var(new_wallet_public_key);
  const Bytes& b = w.bytes();
  return std::string(b.begin(), b.end());
}

std::string person_digest(std::string_view name, std::string_view id_number) {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/person")).var(as_bytes(name)).var(as_bytes(id_number));
  return to_hex(crypto::sm3(w.bytes()));
}

std::vector<std::string> recharge_scopes(std::string_view previous_wallet,
                                         std::string_view new_wallet) {
  if (previous_wallet.empty()) return {std::string(new_wallet)};
  return {std::string(previous_wallet), std::string(new_wallet)};
}

std::string refund_extra(std::string_view name, std::string_view id_number,
                         std::string_view bank_account) {
  ByteWriter w;
  w.var(as_bytes(name)).var(as_bytes(id_number)).var(as_bytes(bank_account));
  const Bytes& b = w.bytes();
  return std::string(b.begin(), b.end());
}

std::string certification_type(crypto::ShowOp op) {
  return "0" + std::to_string(static_cast<int>(op));
}

}  // namespace anoncode::protocol
