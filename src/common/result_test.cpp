#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "common/error.h"

namespace anoncode {
namespace {

// --- Result<T> -------------------------------------------------------------------------------

TEST(Result, HoldsAValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_THROW((void)r.error(), std::logic_error);
}

TEST(Result, HoldsAnError) {
  Result<int> r = make_error(ErrorCode::kNotFound, "no such ride");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "no such ride");
  EXPECT_EQ(r.error().code_name(), "not_found");
  EXPECT_EQ(r.error().http_status(), 404);
  // Reading the value of an error is a bug: it throws rather than returning garbage.
  EXPECT_THROW((void)r.value(), std::logic_error);
  EXPECT_THROW((void)*r, std::logic_error);
}

TEST(Result, ArrowAndMoveOut) {
  Result<std::string> r = std::string("hello");
  EXPECT_EQ(r->size(), 5u);
  std::string s = std::move(r).value();
  EXPECT_EQ(s, "hello");
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Result, VoidStatus) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_THROW((void)ok.error(), std::logic_error);
  Status bad = make_error(ErrorCode::kConflict, "state changed");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kConflict);
  EXPECT_EQ(bad.error().message, "state changed");
}

// --- ANONCODE_TRY / ANONCODE_CHECK -----------------------------------------------------------

Result<int> parse_positive(int v) {
  if (v <= 0) return make_error(ErrorCode::kInvalidArgument, "not positive");
  return v;
}

int steps_after_try = 0;

Result<int> double_positive(int v) {
  ANONCODE_TRY(int x, parse_positive(v));
  ++steps_after_try;  // only reached on success
  return 2 * x;
}

Result<std::unique_ptr<int>> boxed(int v) {
  ANONCODE_TRY(int x, parse_positive(v));
  return std::make_unique<int>(x);
}

Result<int> unbox(int v) {
  ANONCODE_TRY(std::unique_ptr<int> p, boxed(v));  // moves a move-only value out
  ANONCODE_TRY(auto again, boxed(*p + 1));         // two TRYs in one scope
  return *again;
}

Status check_both(int a, int b) {
  ANONCODE_CHECK(parse_positive(a));
  ANONCODE_CHECK(parse_positive(b));
  return {};
}

TEST(AnoncodeTry, PropagatesValue) {
  steps_after_try = 0;
  auto r = double_positive(21);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(steps_after_try, 1);
}

TEST(AnoncodeTry, PropagatesErrorAndStops) {
  steps_after_try = 0;
  auto r = double_positive(-1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, "not positive");
  EXPECT_EQ(steps_after_try, 0);
}

TEST(AnoncodeTry, MoveOnlyValuesAndSeveralTries) {
  EXPECT_EQ(unbox(4).value(), 5);
  EXPECT_EQ(unbox(0).error().code, ErrorCode::kInvalidArgument);
}

TEST(AnoncodeCheck, StopsAtFirstError) {
  EXPECT_TRUE(check_both(1, 2).ok());
  EXPECT_FALSE(check_both(1, -2).ok());
  EXPECT_FALSE(check_both(-1, 2).ok());
}

// --- error codes -----------------------------------------------------------------------------

constexpr int kLastCode = static_cast<int>(kLastErrorCode);

bool is_snake_case(std::string_view s) {
  if (s.empty() || s.front() == '_' || s.back() == '_') return false;
  char prev = 0;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || c == '_';
    if (!ok || (c == '_' && prev == '_')) return false;
    prev = c;
  }
  return true;
}

TEST(ErrorCode, EveryNameIsSnakeCaseAndUnique) {
  std::set<std::string_view> seen;
  for (int i = 0; i <= kLastCode; ++i) {
    const std::string_view name = error_code_name(static_cast<ErrorCode>(i));
    SCOPED_TRACE(std::string(name));
    EXPECT_TRUE(is_snake_case(name));
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name";
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kLastCode + 1));
}

TEST(ErrorCode, StableNames) {
  // The words are a contract (error.h): a rename must break this test.
  EXPECT_EQ(error_code_name(ErrorCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(error_code_name(ErrorCode::kMalformed), "malformed");
  EXPECT_EQ(error_code_name(ErrorCode::kVerificationFailed), "verification_failed");
  EXPECT_EQ(error_code_name(ErrorCode::kBadSignature), "bad_signature");
  EXPECT_EQ(error_code_name(ErrorCode::kExpired), "expired");
  EXPECT_EQ(error_code_name(ErrorCode::kSnReused), "sn_reused");
  EXPECT_EQ(error_code_name(ErrorCode::kConflict), "conflict");
  EXPECT_EQ(error_code_name(ErrorCode::kNotFound), "not_found");
  EXPECT_EQ(error_code_name(ErrorCode::kUnauthorized), "unauthorized");
  EXPECT_EQ(error_code_name(ErrorCode::kForbidden), "forbidden");
  EXPECT_EQ(error_code_name(ErrorCode::kNotWhitelisted), "not_whitelisted");
  EXPECT_EQ(error_code_name(ErrorCode::kInsufficientBalance), "insufficient_balance");
  EXPECT_EQ(error_code_name(ErrorCode::kUnknownKey), "unknown_key");
  EXPECT_EQ(error_code_name(ErrorCode::kUnavailable), "unavailable");
  EXPECT_EQ(error_code_name(ErrorCode::kRateLimited), "rate_limited");
  EXPECT_EQ(error_code_name(ErrorCode::kInternal), "internal");
  EXPECT_EQ(error_code_name(ErrorCode::kAlreadyOpened), "already_opened");
  EXPECT_EQ(error_code_name(ErrorCode::kIssuerMisbehaved), "issuer_misbehaved");
}

TEST(ErrorCode, HttpStatuses) {
  for (int i = 0; i <= kLastCode; ++i) {
    const int status = error_code_http_status(static_cast<ErrorCode>(i));
    EXPECT_GE(status, 400);
    EXPECT_LT(status, 600);
  }
  EXPECT_EQ(error_code_http_status(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(error_code_http_status(ErrorCode::kMalformed), 400);
  EXPECT_EQ(error_code_http_status(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(error_code_http_status(ErrorCode::kVerificationFailed), 403);
  EXPECT_EQ(error_code_http_status(ErrorCode::kBadSignature), 403);
  EXPECT_EQ(error_code_http_status(ErrorCode::kNotFound), 404);
  EXPECT_EQ(error_code_http_status(ErrorCode::kSnReused), 409);
  EXPECT_EQ(error_code_http_status(ErrorCode::kExpired), 410);
  EXPECT_EQ(error_code_http_status(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(error_code_http_status(ErrorCode::kInternal), 500);
  EXPECT_EQ(error_code_http_status(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(error_code_http_status(ErrorCode::kAlreadyOpened), 409);
  EXPECT_EQ(error_code_http_status(ErrorCode::kIssuerMisbehaved), 502);
}

}  // namespace
}  // namespace anoncode
