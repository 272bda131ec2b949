// The time services act at, as Unix milliseconds; injectable so tests can move it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace anoncode::server {

using NowMs = std::function<int64_t()>;

inline int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace anoncode::server
