// JSON log lines (DESIGN §5, docs/OPERATIONS.md): one object per line on stderr,
//   {"time":"2025-11-25T06:51:00.123Z","level":"info","event":"request",…}
// Callers pass only what is safe to keep: never request bodies, tokens, keys or personal data.
// Secrets cannot reach a line by accident: SecretBytes has no JSON conversion.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace anoncode::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// The minimum level written (default info; ANONCODE_LOG_LEVEL=debug|info|warn|error|off).
void set_log_level(LogLevel level);

void log_line(LogLevel level, std::string_view event,
              const nlohmann::json& fields = nlohmann::json::object());
inline void log_info(std::string_view event,
                     const nlohmann::json& fields = nlohmann::json::object()) {
  log_line(LogLevel::kInfo, event, fields);
}
inline void log_warn(std::string_view event,
                     const nlohmann::json& fields = nlohmann::json::object()) {
  log_line(LogLevel::kWarn, event, fields);
}
inline void log_error(std::string_view event,
                      const nlohmann::json& fields = nlohmann::json::object()) {
  log_line(LogLevel::kError, event, fields);
}

// UTC ISO 8601 with milliseconds, e.g. 2025-11-25T06:51:00.123Z.
std::string iso8601_utc_now();

}  // namespace anoncode::server
