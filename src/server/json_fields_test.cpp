// The request field readers (server/json_fields.h) without HTTP: optional fields, where absent
// and null are alike, and arrays; the error codes of docs/API.md.
#include "server/json_fields.h"

#include <gtest/gtest.h>

namespace anoncode::server {
namespace {

using nlohmann::json;

TEST(JsonFields, OptionalFieldsAreNulloptWhenAbsentOrNull) {
  const json body = {{"none", nullptr}};
  for (const char* field : {"absent", "none"}) {
    EXPECT_FALSE(optional_bool(body, field)->has_value());
    EXPECT_FALSE(optional_bytes(body, field, 8)->has_value());
    EXPECT_FALSE(optional_string_or_empty(body, field, 8)->has_value());
  }
}

TEST(JsonFields, OptionalFieldsThatArePresentAreReadAsTheRequiredOnes) {
  const json body = {{"on", true}, {"data", "AQID"}, {"text", ""}, {"long", "123456789"}};
  EXPECT_EQ(optional_bool(body, "on")->value(), true);
  EXPECT_EQ(optional_bytes(body, "data", 8)->value(), (Bytes{1, 2, 3}));
  EXPECT_EQ(optional_string_or_empty(body, "text", 8)->value(), "");
  EXPECT_EQ(optional_bool(body, "data").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(optional_bytes(body, "data", 2).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(optional_bytes(body, "text", 8).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(optional_bytes(json{{"b", "not base64!"}}, "b", 8).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(optional_string_or_empty(body, "long", 8).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(optional_string_or_empty(body, "on", 8).error().code, ErrorCode::kInvalidArgument);
}

TEST(JsonFields, AnArrayMayBeEmptyButNotLongerThanItsLimit) {
  const json body = {{"none", json::array()}, {"three", {1, 2, 3}}, {"object", json::object()}};
  EXPECT_TRUE(required_array(body, "none", 2)->empty());
  EXPECT_EQ(required_array(body, "three", 3)->size(), 3u);
  EXPECT_EQ(required_array(body, "three", 2).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(required_array(body, "object", 2).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(required_array(body, "absent", 2).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace anoncode::server
