// What a show is bound to (DESIGN §3.3 "ctx"): the operation and the application fields the
// rider's request carries. The SDK and the services compute the same hash from the same fields,
// so a show made for one wallet, amount or user cannot be replayed for another.
#pragma once

#include <string>
#include <vector>

#include "crypto/credential.h"

namespace anoncode::protocol {

struct ShowContext {
  crypto::ShowOp op = crypto::ShowOp::kRecharge;
  std::string wallet_b;   // the anonymous wallet account B the operation acts on ("" if none)
  std::string accountid;  // its accountid ("" if none)
  int64_t amount = 0;     // fen, for recharge and refund; 0 otherwise
  std::string extra;      // anything else the operation binds (e.g. the new wallet's B)
  // The wallets whose pseudonyms P_B = sk·G_B the show proves (DESIGN §3.6 rule 3), in order: the
  // wallet acted on; for a recharge, the previous wallet (if any) and then the new one. The proof
  // binds them (G_B enters its transcript); they are not part of hash().
  std::vector<std::string> scopes;

  // ctx = SM3("anoncode/v1/ctx" || u8(op) || var(B) || var(accountid) || u64(amount) || var(extra))
  crypto::ContextHash hash() const;
};

// The context of an open: the app's user id and the platform it opens on.
crypto::ContextHash open_context_hash(std::string_view user_id);

// The anonymous wallet account B of a wallet key (DESIGN §3.4): Base32 of the first 15 bytes of
// SM3(the SM2 public key, 65 bytes uncompressed) — 24 characters, self-certifying.
std::string wallet_account_of(ByteView wallet_public_key);
constexpr size_t kWalletAccountSize = 24;
// Whether `b` has the shape of a wallet account: 24 characters of the Base32 alphabet.
bool is_valid_wallet_account(std::string_view b);

// The recharge context's `extra`: everything that changes what the recharge does (DESIGN §3.6
// rule 8): var(previous B) || var(channel) || u8(strong) || var(new wallet public key).
std::string recharge_extra(std::string_view previous_wallet, std::string_view channel, bool strong,
                           ByteView new_wallet_public_key);

// Who a rider is, as the app tells its own rider at open: hex(SM3("anoncode/v1/person" ||
// var(name) || var(id_number))). The SDK checks a refund's name and ID number against it before it
// shows the credential, so a typo never leaves a spent show pending (DESIGN §3.6 rule 1).
std::string person_digest(std::string_view name, std::string_view id_number);

// The recharge's scopes: {previous B, new B}, or {new B} on a first recharge.
std::vector<std::string> recharge_scopes(std::string_view previous_wallet,
                                         std::string_view new_wallet);

// The refund context's `extra`: var(name) || var(id_number) || var(bank_account).
std::string refund_extra(std::string_view name, std::string_view id_number,
                         std::string_view bank_account);

// The seed's certification_type for an operation (认证类型): 01 recharge, 02 request code, …
std::string certification_type(crypto::ShowOp op);

}  // namespace anoncode::protocol
