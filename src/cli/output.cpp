#include "cli/output.h"

#include <ctime>
#include <iostream>

namespace anoncode::cli {

int print_ok(const nlohmann::json& result) {
  std::cout << result.dump() << std::endl;
  return 0;
}

int print_error(const Error& error) {
  nlohmann::json j;
  j["error"] = {{"code", std::string(error.code_name())}, {"message", error.message}};
  std::cout << j.dump() << std::endl;
  // Exit codes: 2 for usage errors, 1 for everything else.
  return error.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

// "2025-11-25T06:51:00Z" or "2025-11-25T06:51:00.123Z" (UTC), or Unix milliseconds.
Result<int64_t> parse_time_ms(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
      text.size() <= 15) {
    return static_cast<int64_t>(std::stoll(text));
  }
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  int64_t ms = 0;
  if (rest != nullptr && *rest == '.') {
    ++rest;
    int digits = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 3) ms = ms * 10 + (*rest - '0');
      ++digits;
      ++rest;
    }
    if (digits == 0) rest = nullptr;
    for (; digits > 0 && digits < 3; ++digits) ms *= 10;
  }
  if (rest == nullptr || std::string(rest) != "Z") {
    return make_error(ErrorCode::kInvalidArgument,
                      "--now must be ISO 8601 UTC (2025-11-25T06:51:00Z) or Unix milliseconds");
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

}  // namespace anoncode::cli
