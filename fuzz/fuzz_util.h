// What the fuzz targets share: a property check that stops the run, the input as text, bytes or
// JSON, and the fixed keys some decoders need (deterministic, so a crash replays).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "common/bytes.h"

// A property that must hold: prints the condition (never a value: some are secrets) and aborts,
// which libFuzzer reports as a crash and saves the input.
#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)

namespace anoncode::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input as JSON, or nullopt when it is not (the parser's own errors are not findings).
inline std::optional<nlohmann::json> as_json(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(as_text(data, size), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace anoncode::fuzz
