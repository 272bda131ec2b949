// The command-line contract (DESIGN §6): one JSON object on stdout and exit 0 on success; on
// failure a non-zero exit and {"error":{"code":"…","message":"…"}}.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/error.h"
#include "common/result.h"

namespace anoncode::cli {

int print_ok(const nlohmann::json& result);
int print_error(const Error& error);

// A `--now` option's value: "2025-11-25T06:51:00Z" or "2025-11-25T06:51:00.123Z" (UTC), or Unix
// milliseconds.
Result<int64_t> parse_time_ms(const std::string& text);

}  // namespace anoncode::cli
