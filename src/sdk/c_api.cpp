// The C ABI (include/anoncode.h): a thin barrier. Every entry point checks its pointers, catches
// everything, and maps the stable error code to a negative number (STYLE.md, after Botan).
#include <cstring>
#include <exception>
#include <memory>

#include "anoncode.h"
#include "protocol/errors.h"
#include "sdk/results_json.h"
#include "sdk/wallet.h"

struct anoncode_wallet {
  std::unique_ptr<anoncode::sdk::Transport> transport;
  std::unique_ptr<anoncode::sdk::Wallet> wallet;
};

namespace {

using anoncode::Error;
using anoncode::ErrorCode;
using nlohmann::json;

char* dup(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

int code_of(ErrorCode c) {
  return -1 - static_cast<int>(c);
}

int fail(const Error& e, char** out_json) {
  if (out_json != nullptr) {
    *out_json = dup(anoncode::protocol::error_body(e).dump());
  }
  return code_of(e.code);
}

template <typename F>
int call(anoncode_wallet* w, char** out_json, F f) {
  if (out_json != nullptr) *out_json = nullptr;
  if (w == nullptr || w->wallet == nullptr || out_json == nullptr) {
    return fail(Error{ErrorCode::kInvalidArgument, "null argument"}, out_json);
  }
  try {
    auto r = f(*w->wallet);
    if (!r.ok()) return fail(r.error(), out_json);
    *out_json = dup(json(*r).dump());
    return ANONCODE_OK;
  } catch (const std::exception& e) {
    return fail(Error{ErrorCode::kInternal, e.what()}, out_json);
  } catch (...) {
    return fail(Error{ErrorCode::kInternal, "unexpected failure"}, out_json);
  }
}

bool all(std::initializer_list<const char*> ps) {
  for (const char* p : ps) {
    if (p == nullptr) return false;
  }
  return true;
}

Error null_arg() {
  return Error{ErrorCode::kInvalidArgument, "null argument"};
}

}  // namespace

// The error-code enum must mirror ErrorCode one to one.
static_assert(ANONCODE_E_INVALID_ARGUMENT == -1 - static_cast<int>(ErrorCode::kInvalidArgument));
static_assert(ANONCODE_E_INTERNAL == -1 - static_cast<int>(ErrorCode::kInternal));
static_assert(ANONCODE_E_SN_REUSED == -1 - static_cast<int>(ErrorCode::kSnReused));
static_assert(ANONCODE_E_RATE_LIMITED == -1 - static_cast<int>(ErrorCode::kRateLimited));
static_assert(ANONCODE_E_ISSUER_MISBEHAVED == -1 - static_cast<int>(anoncode::kLastErrorCode));

extern "C" {

int anoncode_wallet_new(const char* state_path, const char* server_url, const char* ca_file,
                        anoncode_wallet** out) {
  if (out == nullptr) return ANONCODE_E_INVALID_ARGUMENT;
  *out = nullptr;
  if (!all({state_path, server_url})) return ANONCODE_E_INVALID_ARGUMENT;
  try {
    auto w = std::make_unique<anoncode_wallet>();
    auto trust = anoncode::net::tls_trust_from(ca_file == nullptr ? "" : ca_file);
    if (!trust.ok()) return code_of(trust.error().code);
    auto transport = anoncode::sdk::make_http_transport({server_url, *trust});
    if (!transport.ok()) return code_of(transport.error().code);
    w->transport = std::move(transport).value();
    auto loaded = anoncode::sdk::Wallet::load(state_path, *w->transport);
    if (!loaded.ok()) return code_of(loaded.error().code);
    w->wallet = std::make_unique<anoncode::sdk::Wallet>(std::move(loaded).value());
    *out = w.release();
    return ANONCODE_OK;
  } catch (...) {
    return ANONCODE_E_INTERNAL;
  }
}

int anoncode_wallet_set_trust_root(anoncode_wallet* w, const char* trust_root) {
  if (w == nullptr || trust_root == nullptr) return ANONCODE_E_INVALID_ARGUMENT;
  try {
    auto st = w->wallet->set_trust_root(trust_root);
    return st.ok() ? ANONCODE_OK : code_of(st.error().code);
  } catch (...) {
    return ANONCODE_E_INTERNAL;
  }
}

void anoncode_wallet_free(anoncode_wallet* wallet) {
  delete wallet;
}
void anoncode_string_free(char* s) {
  std::free(s);
}

int anoncode_wallet_open(anoncode_wallet* w, const char* user_id, const char* app_token,
                         char** out) {
  if (!all({user_id, app_token})) return fail(null_arg(), out);
  return call(w, out, [&](auto& wl) { return wl.open(user_id, app_token); });
}
int anoncode_wallet_recharge(anoncode_wallet* w, int64_t amount, const char* channel, int strong,
                             char** out) {
  if (!all({channel})) return fail(null_arg(), out);
  return call(w, out, [&](auto& wl) { return wl.recharge(amount, channel, strong != 0); });
}
int anoncode_wallet_balance(anoncode_wallet* w, char** out) {
  return call(w, out, [](auto& wl) { return wl.balance(); });
}
int anoncode_wallet_code(anoncode_wallet* w, char** out) {
  return call(w, out, [](auto& wl) { return wl.code(); });
}
int anoncode_wallet_history(anoncode_wallet* w, const char* type, char** out) {
  if (!all({type})) return fail(null_arg(), out);
  return call(w, out, [&](auto& wl) { return wl.history(type); });
}
int anoncode_wallet_refund(anoncode_wallet* w, int64_t amount, const char* name,
                           const char* id_number, const char* bank_account, char** out) {
  if (!all({name, id_number, bank_account})) return fail(null_arg(), out);
  return call(w, out, [&](auto& wl) { return wl.refund(amount, name, id_number, bank_account); });
}
int anoncode_wallet_close(anoncode_wallet* w, char** out) {
  return call(w, out, [](auto& wl) { return wl.close(); });
}
int anoncode_wallet_backup(anoncode_wallet* w, const char* phone, const char* passphrase,
                           char** out) {
  if (!all({phone, passphrase})) return fail(null_arg(), out);
  return call(w, out, [&](auto& wl) { return wl.backup(phone, passphrase); });
}
int anoncode_wallet_restore(anoncode_wallet* w, const char* phone, const char* passphrase,
                            char** out) {
  if (!all({phone, passphrase})) return fail(null_arg(), out);
  return call(w, out, [&](auto& wl) { return wl.restore(phone, passphrase); });
}

}  // extern "C"
