// Reading the JSON the SDK is given — its state file, a backup, the servers' answers — into typed
// values. A member that is missing or of another type is `malformed`, and the message says where.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"

namespace anoncode::sdk::json_read {

inline Error malformed(std::string_view where, std::string_view name, std::string_view what) {
  return make_error(ErrorCode::kMalformed,
                    std::string(where) + ": '" + std::string(name) + "' " + std::string(what));
}

// `v`, the member `name` of `where`, as T: std::string, int64_t, bool, Bytes or SecretBytes (from
// base64url), or nlohmann::json (an object).
template <typename T>
Result<T> as(const nlohmann::json& v, std::string_view name, std::string_view where) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (v.is_string()) return v.get<std::string>();
    return malformed(where, name, "must be a string");
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (v.is_number_integer() &&
        !(v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      return v.get<int64_t>();
    }
    return malformed(where, name, "must be an integer");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (v.is_boolean()) return v.get<bool>();
    return malformed(where, name, "must be true or false");
  } else if constexpr (std::is_same_v<T, Bytes>) {
    if (v.is_string()) {
      if (auto b = from_base64url(v.get_ref<const std::string&>())) return std::move(*b);
    }
    return malformed(where, name, "must be base64url");
  } else if constexpr (std::is_same_v<T, SecretBytes>) {
    ANONCODE_TRY(Bytes raw, as<Bytes>(v, name, where));
    SecretBytes secret(raw);
    sodium_memzero(raw.data(), raw.size());
    return secret;
  } else {
    static_assert(std::is_same_v<T, nlohmann::json>);
    if (v.is_object()) return v;
    return malformed(where, name, "must be an object");
  }
}

// The member `name` of the object `j` as T; `malformed` when it is missing.
template <typename T>
Result<T> member(const nlohmann::json& j, const char* name, std::string_view where) {
  if (!j.is_object() || !j.contains(name)) return malformed(where, name, "is missing");
  return as<T>(j[name], name, where);
}

// The same, or nullopt when `j` has no member `name`.
template <typename T>
Result<std::optional<T>> optional_member(const nlohmann::json& j, const char* name,
                                         std::string_view where) {
  if (!j.is_object() || !j.contains(name)) return std::optional<T>();
  ANONCODE_TRY(T value, as<T>(j[name], name, where));
  return std::optional<T>(std::move(value));
}

}  // namespace anoncode::sdk::json_read
