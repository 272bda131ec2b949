// The error body (docs/API.md "Errors"): what a service writes is what every client reads back.
#include "protocol/errors.h"

#include <gtest/gtest.h>

namespace anoncode::protocol {
namespace {

using nlohmann::json;

TEST(ErrorBody, EveryCodeRoundTripsWithItsMessageAndExtraMembers) {
  for (int c = 0; c <= static_cast<int>(kLastErrorCode); ++c) {
    const Error e{static_cast<ErrorCode>(c), "message " + std::to_string(c)};
    json body = error_body(e, json{{"response", "AQID"}, {"error", "ignored"}});
    EXPECT_EQ(body["response"], "AQID");
    auto back = error_in(body);
    ASSERT_TRUE(back.has_value()) << body.dump();
    EXPECT_EQ(back->code, e.code);
    EXPECT_EQ(back->message, e.message);
  }
  EXPECT_EQ(error_body(Error{ErrorCode::kSnReused, "x"}).dump(),
            R"({"error":{"code":"sn_reused","message":"x"}})");
}

TEST(ErrorBody, OnlyAnErrorObjectIsAnErrorAndAnUnknownCodeIsInternal) {
  EXPECT_FALSE(error_in(json{{"balance", 3}}).has_value());
  EXPECT_FALSE(error_in(json::array()).has_value());
  EXPECT_FALSE(error_in(json{{"error", "text"}}).has_value());
  EXPECT_FALSE(error_in(json{{"error", {{"code", 7}}}}).has_value());
  auto unknown = error_in(json{{"error", {{"code", "from_the_future"}, {"message", "m"}}}});
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->code, ErrorCode::kInternal);
  EXPECT_EQ(unknown->message, "m");
  auto no_message = error_in(json{{"error", {{"code", "conflict"}, {"message", 5}}}});
  ASSERT_TRUE(no_message.has_value());
  EXPECT_EQ(no_message->code, ErrorCode::kConflict);
  EXPECT_EQ(no_message->message, "");
}

}  // namespace
}  // namespace anoncode::protocol
