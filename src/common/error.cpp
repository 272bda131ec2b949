#include "common/error.h"

namespace anoncode {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kVerificationFailed:
      return "verification_failed";
    case ErrorCode::kBadSignature:
      return "bad_signature";
    case ErrorCode::kExpired:
      return "expired";
    case ErrorCode::kSnReused:
      return "sn_reused";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotWhitelisted:
      return "not_whitelisted";
    case ErrorCode::kInsufficientBalance:
      return "insufficient_balance";
    case ErrorCode::kUnknownKey:
      return "unknown_key";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kAlreadyOpened:
      return "already_opened";
    case ErrorCode::kIssuerMisbehaved:
      return "issuer_misbehaved";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::optional<ErrorCode> error_code_from_name(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(kLastErrorCode); ++c) {
    if (error_code_name(static_cast<ErrorCode>(c)) == name) return static_cast<ErrorCode>(c);
  }
  return std::nullopt;
}

int error_code_http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kMalformed:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kVerificationFailed:
    case ErrorCode::kBadSignature:
    case ErrorCode::kForbidden:
    case ErrorCode::kNotWhitelisted:
      return 403;
    case ErrorCode::kNotFound:
    case ErrorCode::kUnknownKey:
      return 404;
    case ErrorCode::kSnReused:
    case ErrorCode::kConflict:
    case ErrorCode::kInsufficientBalance:
    case ErrorCode::kAlreadyOpened:
      return 409;
    case ErrorCode::kIssuerMisbehaved:
      return 502;
    case ErrorCode::kExpired:
      return 410;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

}  // namespace anoncode
