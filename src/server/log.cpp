#include "server/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace anoncode::server {

namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

spdlog::logger& logger() {
  // Its own logger (not the default one), writing the JSON we build, nothing else.
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("anoncode",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->flush_on(spdlog::level::trace);
    LogLevel level = LogLevel::kInfo;
    if (const char* env = std::getenv("ANONCODE_LOG_LEVEL")) {
      std::string_view v = env;
      if (v == "debug") level = LogLevel::kDebug;
      if (v == "warn") level = LogLevel::kWarn;
      if (v == "error") level = LogLevel::kError;
      if (v == "off") level = LogLevel::kOff;
    }
    l->set_level(to_spdlog(level));
    return l;
  }();
  return *instance;
}

}  // namespace

void set_log_level(LogLevel level) {
  logger().set_level(to_spdlog(level));
}

std::string iso8601_utc_now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

void log_line(LogLevel level, std::string_view event, const nlohmann::json& fields) {
  auto& l = logger();
  if (!l.should_log(to_spdlog(level))) return;
  // Built by hand so time, level and event come first (nlohmann::json orders keys
  // alphabetically). `replace`: a stray invalid UTF-8 byte must not turn a line into an
  // exception.
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  std::string line = "{\"time\":\"" + iso8601_utc_now() + "\",\"level\":\"" + level_name(level) +
                     "\",\"event\":" + nlohmann::json(event).dump(-1, ' ', false, kReplace);
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) {
      line += "," + nlohmann::json(k).dump(-1, ' ', false, kReplace) + ":" +
              v.dump(-1, ' ', false, kReplace);
    }
  }
  line += "}";
  l.log(to_spdlog(level), "{}", line);
}

}  // namespace anoncode::server
