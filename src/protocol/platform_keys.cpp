#include "protocol/platform_keys.h"

namespace anoncode::protocol {

nlohmann::json keys_to_json(const std::vector<PlatformPublicKey>& keys) {
  auto arr = nlohmann::json::array();
  for (const auto& k : keys) {
    arr.push_back({{"kid", to_hex(k.kid)},
                   {"public_key", to_base64url(k.public_key)},
                   {"valid_from", k.valid_from},
                   {"valid_until", k.valid_until}});
  }
  return nlohmann::json{{"keys", std::move(arr)}};
}

Result<std::vector<PlatformPublicKey>> keys_from_json(const nlohmann::json& body) {
  auto bad = [](const char* what) {
    return make_error(ErrorCode::kMalformed, std::string("platform keys: ") + what);
  };
  if (!body.is_object() || !body.contains("keys") || !body["keys"].is_array()) {
    return bad("no key list");
  }
  std::vector<PlatformPublicKey> out;
  for (const auto& k : body["keys"]) {
    if (!k.is_object() || !k.contains("kid") || !k["kid"].is_string() ||
        !k.contains("public_key") || !k["public_key"].is_string() || !k.contains("valid_from") ||
        !k["valid_from"].is_number_integer() || !k.contains("valid_until") ||
        !k["valid_until"].is_number_integer()) {
      return bad("a key entry lacks a field");
    }
    PlatformPublicKey pk;
    ANONCODE_TRY(pk.public_key, from_base64url(k["public_key"].get<std::string>()));
    ANONCODE_TRY(auto key, crypto::Sm2PublicKey::from_bytes(pk.public_key));
    pk.public_key = key.to_bytes();
    pk.kid = platform_key_id(key);
    if (to_hex(pk.kid) != k["kid"].get<std::string>()) return bad("kid does not match the key");
    pk.valid_from = k["valid_from"].get<int64_t>();
    pk.valid_until = k["valid_until"].get<int64_t>();
    if (pk.valid_until < pk.valid_from) return bad("empty validity");
    out.push_back(std::move(pk));
  }
  return out;
}

}  // namespace anoncode::protocol
