// Reading request fields with stable errors (docs/API.md conventions): a body that is not JSON
// is `malformed`; a missing or mistyped field, or text that is not UTF-8, is `invalid_argument`
// naming the field; bytes that
// are not unpadded base64url are `malformed`. Unknown fields are ignored. Messages name fields,
// never their values (a value may be personal data or a secret).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace anoncode::server {

// The largest credential message a request carries, in bytes (base64url-decoded): an OpenRequest
// or a ShowRequest is at most 627 bytes on either group (docs/PROTOCOL.md §6, "Totals").
constexpr size_t kMaxCredentialMessage = 4096;

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF). Text a request brings — a body, its string fields, query parameters — must be: it is
// stored and sent back as JSON, which holds only UTF-8.
bool is_utf8(std::string_view text);

// Parses a request body: `invalid_argument` unless UTF-8, `malformed` unless JSON,
// `invalid_argument` unless an object.
Result<nlohmann::json> parse_json_object(std::string_view body);

// A string of 1..max_len bytes (max_len counts bytes of UTF-8); text that is not UTF-8 is
// `invalid_argument`, like every string read below.
Result<std::string> required_string(const nlohmann::json& obj, std::string_view field,
                                    size_t max_len = 256);
// Like required_string, but absent or null is nullopt (an empty string is still refused).
Result<std::optional<std::string>> optional_string(const nlohmann::json& obj,
                                                   std::string_view field, size_t max_len = 256);
// A string that may be empty (0..max_len).
Result<std::string> required_string_or_empty(const nlohmann::json& obj, std::string_view field,
                                             size_t max_len = 256);
// A string that may be empty or absent (0..max_len); absent or null is nullopt.
Result<std::optional<std::string>> optional_string_or_empty(const nlohmann::json& obj,
                                                            std::string_view field,
                                                            size_t max_len = 256);
// An integer in [min, max] (JSON numbers with a fraction are refused).
Result<int64_t> required_int(const nlohmann::json& obj, std::string_view field,
                             int64_t min = INT64_MIN, int64_t max = INT64_MAX);
Result<std::optional<int64_t>> optional_int(const nlohmann::json& obj, std::string_view field,
                                            int64_t min = INT64_MIN, int64_t max = INT64_MAX);
Result<bool> required_bool(const nlohmann::json& obj, std::string_view field);
Result<std::optional<bool>> optional_bool(const nlohmann::json& obj, std::string_view field);
// base64url without padding, decoding to 1..max_len bytes (or exactly `exact_len` if non-zero).
Result<Bytes> required_bytes(const nlohmann::json& obj, std::string_view field,
                             size_t max_len = 16 * 1024, size_t exact_len = 0);
// Like required_bytes, but absent or null is nullopt.
Result<std::optional<Bytes>> optional_bytes(const nlohmann::json& obj, std::string_view field,
                                            size_t max_len = 16 * 1024, size_t exact_len = 0);
// An array of 1..max_items strings, each 1..max_len.
Result<std::vector<std::string>> required_string_array(const nlohmann::json& obj,
                                                       std::string_view field,
                                                       size_t max_items = 1000,
                                                       size_t max_len = 256);
// An array of 0..max_items values of any type (each item is read with the functions above).
Result<nlohmann::json> required_array(const nlohmann::json& obj, std::string_view field,
                                      size_t max_items);
// A nested object.
Result<nlohmann::json> required_object(const nlohmann::json& obj, std::string_view field);

}  // namespace anoncode::server
