// Reading request fields from a parsed JSON body (docs/API.md conventions): a missing or
// mistyped field is `invalid_argument`; bytes are base64url without padding and bytes that do not
// decode are `malformed`. Unknown fields are ignored.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/bytes.h"

namespace anoncode::platform::json_fields {

inline Error missing(const char* name, const char* type) {
  return make_error(ErrorCode::kInvalidArgument,
                    std::string("field '") + name + "' must be " + type);
}

inline Status require_object(const nlohmann::json& body) {
  if (!body.is_object())
    return make_error(ErrorCode::kInvalidArgument, "the body must be an object");
  return {};
}

inline Result<std::string> text(const nlohmann::json& body, const char* name) {
  if (!body.is_object() || !body.contains(name) || !body[name].is_string()) {
    return missing(name, "a string");
  }
  return body[name].get<std::string>();
}

inline Result<std::string> text_or(const nlohmann::json& body, const char* name,
                                   std::string fallback) {
  if (!body.is_object() || !body.contains(name) || body[name].is_null()) return fallback;
  return text(body, name);
}

inline Result<int64_t> integer(const nlohmann::json& body, const char* name) {
  if (!body.is_object() || !body.contains(name) || !body[name].is_number_integer()) {
    return missing(name, "an integer");
  }
  if (body[name].is_number_unsigned() &&
      body[name].get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return missing(name, "an integer");
  }
  return body[name].get<int64_t>();
}

inline Result<bool> boolean_or(const nlohmann::json& body, const char* name, bool fallback) {
  if (!body.is_object() || !body.contains(name) || body[name].is_null()) return fallback;
  if (!body[name].is_boolean()) return missing(name, "true or false");
  return body[name].get<bool>();
}

inline Result<Bytes> bytes(const nlohmann::json& body, const char* name) {
  ANONCODE_TRY(std::string b64, text(body, name));
  auto decoded = from_base64url(b64);
  if (!decoded.ok()) {
    return make_error(ErrorCode::kMalformed, std::string("field '") + name + "' is not base64url");
  }
  return decoded;
}

inline Result<Bytes> bytes_or_empty(const nlohmann::json& body, const char* name) {
  if (!body.is_object() || !body.contains(name) || body[name].is_null()) return Bytes{};
  return bytes(body, name);
}

}  // namespace anoncode::platform::json_fields
