#include "server/json_fields.h"

namespace anoncode::server {

namespace {

Error missing(std::string_view field) {
  return make_error(ErrorCode::kInvalidArgument, "missing field '" + std::string(field) + "'");
}
Error mistyped(std::string_view field, std::string_view what) {
  return make_error(ErrorCode::kInvalidArgument,
                    "field '" + std::string(field) + "' must be " + std::string(what));
}

const nlohmann::json* find(const nlohmann::json& obj, std::string_view field) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> string_in_range(const nlohmann::json& v, std::string_view field, size_t min,
                                    size_t max) {
  if (!v.is_string()) return mistyped(field, "a string");
  const auto& s = v.get_ref<const std::string&>();
  // The parser refuses ill-formed UTF-8 already; a json built some other way may still hold it.
  if (!is_utf8(s)) return mistyped(field, "UTF-8 text");
  if (s.size() < min || s.size() > max) {
    return mistyped(field,
                    "a string of " + std::to_string(min) + " to " + std::to_string(max) + " bytes");
  }
  return s;
}

}  // namespace

bool is_utf8(std::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // The sequence's length and the range of its second byte (RFC 3629 §4).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;  // no overlong forms
      if (c == 0xed) hi = 0x9f;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;  // no overlong forms
      if (c == 0xf4) hi = 0x8f;  // nothing past U+10FFFF
    } else {
      return false;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
    }
    if (n - i < len) return false;
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < lo || second > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if (b < 0x80 || b > 0xbf) return false;
    }
    i += len;
  }
  return true;
}

Result<nlohmann::json> parse_json_object(std::string_view body) {
  if (body.empty()) return nlohmann::json::object();
  if (!is_utf8(body)) return make_error(ErrorCode::kInvalidArgument, "the body must be UTF-8 text");
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::kMalformed, "the body is not JSON");
  if (!j.is_object())
    return make_error(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  return j;
}

Result<std::string> required_string(const nlohmann::json& obj, std::string_view field,
                                    size_t max_len) {
  const auto* v = find(obj, field);
  if (v == nullptr) return missing(field);
  return string_in_range(*v, field, 1, max_len);
}

Result<std::optional<std::string>> optional_string(const nlohmann::json& obj,
                                                   std::string_view field, size_t max_len) {
  const auto* v = find(obj, field);
  if (v == nullptr) return std::optional<std::string>{};
  ANONCODE_TRY(std::string s, string_in_range(*v, field, 1, max_len));
  return std::optional<std::string>{std::move(s)};
}

Result<std::string> required_string_or_empty(const nlohmann::json& obj, std::string_view field,
                                             size_t max_len) {
  const auto* v = find(obj, field);
  if (v == nullptr) return missing(field);
  return string_in_range(*v, field, 0, max_len);
}

Result<std::optional<std::string>> optional_string_or_empty(const nlohmann::json& obj,
                                                            std::string_view field,
                                                            size_t max_len) {
  const auto* v = find(obj, field);
  if (v == nullptr) return std::optional<std::string>{};
  ANONCODE_TRY(std::string s, string_in_range(*v, field, 0, max_len));
  return std::optional<std::string>{std::move(s)};
}

Result<int64_t> required_int(const nlohmann::json& obj, std::string_view field, int64_t min,
                             int64_t max) {
  const auto* v = find(obj, field);
  if (v == nullptr) return missing(field);
  int64_t n = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return mistyped(field, "an integer in range");
    }
    n = v->get<int64_t>();
  } else {
    return mistyped(field, "an integer");
  }
  if (n < min || n > max) {
    return mistyped(field, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

Result<std::optional<int64_t>> optional_int(const nlohmann::json& obj, std::string_view field,
                                            int64_t min, int64_t max) {
  if (find(obj, field) == nullptr) return std::optional<int64_t>{};
  ANONCODE_TRY(int64_t n, required_int(obj, field, min, max));
  return std::optional<int64_t>{n};
}

Result<bool> required_bool(const nlohmann::json& obj, std::string_view field) {
  const auto* v = find(obj, field);
  if (v == nullptr) return missing(field);
  if (!v->is_boolean()) return mistyped(field, "true or false");
  return v->get<bool>();
}

Result<std::optional<bool>> optional_bool(const nlohmann::json& obj, std::string_view field) {
  if (find(obj, field) == nullptr) return std::optional<bool>{};
  ANONCODE_TRY(bool b, required_bool(obj, field));
  return std::optional<bool>{b};
}

Result<Bytes> required_bytes(const nlohmann::json& obj, std::string_view field, size_t max_len,
                             size_t exact_len) {
  const auto* v = find(obj, field);
  if (v == nullptr) return missing(field);
  if (!v->is_string()) return mistyped(field, "a base64url string");
  auto bytes = from_base64url(v->get_ref<const std::string&>());
  if (!bytes) {
    return make_error(ErrorCode::kMalformed,
                      "field '" + std::string(field) + "' is not unpadded base64url");
  }
  if (exact_len != 0 ? bytes->size() != exact_len : bytes->empty() || bytes->size() > max_len) {
    return make_error(ErrorCode::kMalformed,
                      "field '" + std::string(field) + "' has the wrong length");
  }
  return std::move(bytes).value();
}

Result<std::optional<Bytes>> optional_bytes(const nlohmann::json& obj, std::string_view field,
                                            size_t max_len, size_t exact_len) {
  if (find(obj, field) == nullptr) return std::optional<Bytes>{};
  ANONCODE_TRY(Bytes b, required_bytes(obj, field, max_len, exact_len));
  return std::optional<Bytes>{std::move(b)};
}

Result<std::vector<std::string>> required_string_array(const nlohmann::json& obj,
                                                       std::string_view field, size_t max_items,
                                                       size_t max_len) {
  const auto* v = find(obj, field);
  if (v == nullptr) return missing(field);
  if (!v->is_array() || v->empty() || v->size() > max_items) {
    return mistyped(field, "an array of 1 to " + std::to_string(max_items) + " strings");
  }
  std::vector<std::string> out;
  for (const auto& item : *v) {
    ANONCODE_TRY(std::string s, string_in_range(item, field, 1, max_len));
    out.push_back(std::move(s));
  }
  return out;
}

Result<nlohmann::json> required_array(const nlohmann::json& obj, std::string_view field,
                                      size_t max_items) {
  const auto* v = find(obj, field);
  if (v == nullptr) return missing(field);
  if (!v->is_array() || v->size() > max_items) {
    return mistyped(field, "an array of at most " + std::to_string(max_items) + " items");
  }
  return *v;
}

Result<nlohmann::json> required_object(const nlohmann::json& obj, std::string_view field) {
  const auto* v = find(obj, field);
  if (v == nullptr) return missing(field);
  if (!v->is_object()) return mistyped(field, "an object");
  return *v;
}

}  // namespace anoncode::server
