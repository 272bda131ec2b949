#include "sdk/wallet_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>

#include "sdk/json_read.h"

namespace anoncode::sdk {

using nlohmann::json;
namespace fs = std::filesystem;
namespace jr = json_read;

namespace {

constexpr int kStateVersion = 1;
constexpr std::string_view kWhere = "the wallet state";

constexpr std::array<std::pair<RequestKind, std::string_view>, 6> kKinds{{
    {RequestKind::kOpen, "open"},
    {RequestKind::kRecharge, "recharge"},
    {RequestKind::kHistory, "history"},
    {RequestKind::kCode, "code"},
    {RequestKind::kRefund, "refund"},
    {RequestKind::kClose, "close"},
}};

std::string kind_name(RequestKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return std::string(name);
  }
  return "";
}

Result<RequestKind> kind_of(const std::string& name) {
  for (const auto& [k, n] : kKinds) {
    if (n == name) return k;
  }
  return jr::malformed(kWhere, "kind", "names no request: " + name);
}

std::string b64(const SecretBytes& s) {
  return to_base64url(s.expose_secret());
}

// `out[name] = *value` when there is a value.
template <typename T>
void put(json& out, const char* name, const std::optional<T>& value) {
  if (value) out[name] = *value;
}
void put(json& out, const char* name, const std::optional<SecretBytes>& value) {
  if (value) out[name] = b64(*value);
}

json wallet_to_json(const WalletRecord& w) {
  return {
      {"b", w.b},
      {"accountid", w.accountid},
      {"key_pem", std::string(w.key_pem.expose_secret().begin(), w.key_pem.expose_secret().end())},
      {"strong", w.strong},
      {"balance", w.balance}};
}

Result<WalletRecord> wallet_from_json(const json& j) {
  constexpr std::string_view where = "the wallet state's wallet";
  WalletRecord w;
  ANONCODE_TRY(w.b, jr::member<std::string>(j, "b", where));
  ANONCODE_TRY(w.accountid, jr::member<std::string>(j, "accountid", where));
  ANONCODE_TRY(std::string pem, jr::member<std::string>(j, "key_pem", where));
  w.key_pem = SecretBytes(as_bytes(pem));
  sodium_memzero(pem.data(), pem.size());
  ANONCODE_TRY(w.strong, jr::member<bool>(j, "strong", where));
  ANONCODE_TRY(w.balance, jr::member<int64_t>(j, "balance", where));
  return w;
}

json pending_to_json(const PendingRequest& p) {
  json effects = json::object();
  put(effects, "user_id", p.effects.user_id);
  put(effects, "app_token", p.effects.app_token);
  if (p.effects.key_pem) {
    const auto pem = p.effects.key_pem->expose_secret();
    effects["key_pem"] = std::string(pem.begin(), pem.end());
  }
  put(effects, "strong", p.effects.strong);
  json out = {{"kind", kind_name(p.kind)},
              {"path", p.path},
              {"body", p.body},
              {"issue", b64(p.issue)},
              {"effects", std::move(effects)}};
  put(out, "bearer", p.bearer);
  return out;
}

Result<PendingRequest> pending_from_json(const json& j) {
  constexpr std::string_view where = "the wallet state's pending request";
  PendingRequest p;
  ANONCODE_TRY(std::string kind, jr::member<std::string>(j, "kind", where));
  ANONCODE_TRY(p.kind, kind_of(kind));
  ANONCODE_TRY(p.path, jr::member<std::string>(j, "path", where));
  ANONCODE_TRY(p.bearer, jr::optional_member<std::string>(j, "bearer", where));
  if (!j.contains("body")) return jr::malformed(where, "body", "is missing");
  p.body = j["body"];
  ANONCODE_TRY(p.issue, jr::member<SecretBytes>(j, "issue", where));
  ANONCODE_TRY(auto effects, jr::optional_member<json>(j, "effects", where));
  if (effects) {
    constexpr std::string_view in = "the pending request's effects";
    ANONCODE_TRY(p.effects.user_id, jr::optional_member<std::string>(*effects, "user_id", in));
    ANONCODE_TRY(p.effects.app_token, jr::optional_member<std::string>(*effects, "app_token", in));
    ANONCODE_TRY(auto pem, jr::optional_member<std::string>(*effects, "key_pem", in));
    if (pem) {
      p.effects.key_pem = SecretBytes(as_bytes(*pem));
      sodium_memzero(pem->data(), pem->size());
    }
    ANONCODE_TRY(p.effects.strong, jr::optional_member<bool>(*effects, "strong", in));
  }
  return p;
}

// The members state_from_json reads; any other is kept in WalletState::unknown.
constexpr std::array<std::string_view, 16> kKnown{
    "version",         "trust_root",   "issuer_keys",       "issuing_kid",
    "keyset_sequence", "credential",   "user_id",           "app_token",
    "person",          "wallet",       "pending",           "halted",
    "disabled",        "backed_up_to", "close_unconfirmed", "restore_unconfirmed"};

}  // namespace

json state_to_json(const WalletState& s) {
  json out = s.unknown.is_object() ? s.unknown : json::object();
  out["version"] = kStateVersion;
  put(out, "trust_root", s.trust_root);
  if (s.issuer_keys) {
    json keys = json::object();
    for (const auto& [kid, key] : *s.issuer_keys) keys[kid] = to_base64url(key);
    out["issuer_keys"] = std::move(keys);
  }
  put(out, "issuing_kid", s.issuing_kid);
  put(out, "keyset_sequence", s.keyset_sequence);
  put(out, "credential", s.credential);
  put(out, "user_id", s.user_id);
  put(out, "app_token", s.app_token);
  put(out, "person", s.person);
  if (s.wallet) out["wallet"] = wallet_to_json(*s.wallet);
  if (s.pending) out["pending"] = pending_to_json(*s.pending);
  put(out, "halted", s.halted);
  if (s.disabled) out["disabled"] = true;
  put(out, "backed_up_to", s.backed_up_to);
  if (s.close_unconfirmed) out["close_unconfirmed"] = true;
  if (s.restore_unconfirmed) {
    out["restore_unconfirmed"] = {{"phone", s.restore_unconfirmed->phone},
                                  {"key_proof", b64(s.restore_unconfirmed->key_proof)}};
  }
  return out;
}

Result<WalletState> state_from_json(const json& j) {
  if (!j.is_object() || !j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int64_t>() != kStateVersion) {
    return make_error(ErrorCode::kMalformed, "the wallet state file is not a version 1 wallet");
  }
  WalletState s;
  ANONCODE_TRY(s.trust_root, jr::optional_member<std::string>(j, "trust_root", kWhere));
  ANONCODE_TRY(auto keys, jr::optional_member<json>(j, "issuer_keys", kWhere));
  if (keys) {
    s.issuer_keys.emplace();
    for (const auto& [kid, key] : keys->items()) {
      ANONCODE_TRY(Bytes encoded, jr::as<Bytes>(key, kid, "the wallet state's issuer keys"));
      s.issuer_keys->emplace(kid, std::move(encoded));
    }
  }
  ANONCODE_TRY(s.issuing_kid, jr::optional_member<std::string>(j, "issuing_kid", kWhere));
  ANONCODE_TRY(s.keyset_sequence, jr::optional_member<int64_t>(j, "keyset_sequence", kWhere));
  ANONCODE_TRY(s.credential, jr::optional_member<SecretBytes>(j, "credential", kWhere));
  ANONCODE_TRY(s.user_id, jr::optional_member<std::string>(j, "user_id", kWhere));
  ANONCODE_TRY(s.app_token, jr::optional_member<std::string>(j, "app_token", kWhere));
  ANONCODE_TRY(s.person, jr::optional_member<std::string>(j, "person", kWhere));
  ANONCODE_TRY(auto wallet, jr::optional_member<json>(j, "wallet", kWhere));
  if (wallet) {
    ANONCODE_TRY(s.wallet, wallet_from_json(*wallet));
  }
  ANONCODE_TRY(auto pending, jr::optional_member<json>(j, "pending", kWhere));
  if (pending) {
    ANONCODE_TRY(s.pending, pending_from_json(*pending));
  }
  ANONCODE_TRY(s.halted, jr::optional_member<std::string>(j, "halted", kWhere));
  ANONCODE_TRY(auto disabled, jr::optional_member<bool>(j, "disabled", kWhere));
  s.disabled = disabled.value_or(false);
  ANONCODE_TRY(s.backed_up_to, jr::optional_member<std::string>(j, "backed_up_to", kWhere));
  // Present means unconfirmed (the SDK writes only `true`).
  ANONCODE_TRY(auto close, jr::optional_member<bool>(j, "close_unconfirmed", kWhere));
  s.close_unconfirmed = close.has_value();
  ANONCODE_TRY(auto restore, jr::optional_member<json>(j, "restore_unconfirmed", kWhere));
  if (restore) {
    constexpr std::string_view where = "the wallet state's restore_unconfirmed";
    RestoreConfirmation r;
    ANONCODE_TRY(r.phone, jr::member<std::string>(*restore, "phone", where));
    ANONCODE_TRY(r.key_proof, jr::member<SecretBytes>(*restore, "key_proof", where));
    s.restore_unconfirmed = std::move(r);
  }
  for (const auto& [name, value] : j.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) s.unknown[name] = value;
  }
  return s;
}

Result<WalletState> load_state_file(const fs::path& file) {
  if (!fs::exists(file)) return WalletState();
  std::string text;
  {
    std::ifstream in(file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  sodium_memzero(text.data(), text.size());
  if (j.is_discarded()) {
    return make_error(ErrorCode::kMalformed, "the wallet state file is not a version 1 wallet");
  }
  return state_from_json(j);
}

Status save_state_file(const fs::path& file, const WalletState& state) {
  std::string text = state_to_json(state).dump(2);
  fs::path tmp = file;
  tmp += ".tmp";
  auto fail = [&](const std::string& what) -> Status {
    sodium_memzero(text.data(), text.size());
    return make_error(ErrorCode::kInternal, what);
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot write " + tmp.string());
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n <= 0) {
      ::close(fd);
      return fail("cannot write " + tmp.string());
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) {
    return fail("cannot replace " + file.string());
  }
  sodium_memzero(text.data(), text.size());
  fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace anoncode::sdk
