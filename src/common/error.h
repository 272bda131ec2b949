// Stable error codes (DESIGN §5, §6): one enum, one snake_case word and one HTTP status each.
// The words are a contract: operators and tests script against them, so never rename one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace anoncode {

enum class ErrorCode {
  kInvalidArgument,      // invalid_argument      400: a parameter out of range or ill-formed
  kMalformed,            // malformed             400: bytes or JSON that do not parse
  kVerificationFailed,   // verification_failed   403: any proof or MAC check (never says which)
  kBadSignature,         // bad_signature         403: an SM2 signature does not verify
  kExpired,              // expired               410: a nonce, code or key past its validity
  kSnReused,             // sn_reused             409: a serial number shown twice (a clone)
  kConflict,             // conflict              409: a state change that clashes with another
  kNotFound,             // not_found             404
  kUnauthorized,         // unauthorized          401
  kForbidden,            // forbidden             403
  kNotWhitelisted,       // not_whitelisted       403
  kInsufficientBalance,  // insufficient_balance  409
  kUnknownKey,           // unknown_key           404: a key id nobody issued
  kUnavailable,          // unavailable           503
  kInternal,             // internal              500: a bug or an unexpected library failure
  // New codes go last: the C ABI's ANONCODE_E_* numbers are -1 - this enum's values.
  kRateLimited,       // rate_limited          429: too many attempts (e.g. failed logins)
  kAlreadyOpened,     // already_opened        409: a user's one credential chain exists
  kIssuerMisbehaved,  // issuer_misbehaved     502: the issuer's proof failed; the wallet stops
};
// The last code, for loops over every code.
constexpr ErrorCode kLastErrorCode = ErrorCode::kIssuerMisbehaved;

// The stable snake_case word for a code.
std::string_view error_code_name(ErrorCode code);
// The code named by a stable word; nullopt for a word no code has.
std::optional<ErrorCode> error_code_from_name(std::string_view name);
// The HTTP status that goes with a code.
int error_code_http_status(ErrorCode code);

// An expected failure: a stable code and a message for people. Messages never contain secrets.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  std::string_view code_name() const { return error_code_name(code); }
  int http_status() const { return error_code_http_status(code); }
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace anoncode
