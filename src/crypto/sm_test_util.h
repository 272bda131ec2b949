// Helpers shared by the national-algorithm tests: the tests/data/*.vec reader (a Botan-style
// known-answer file: "[SECTION]" headers, "name = value" lines, blank lines between records,
// "#" comments), random bytes, and the expected-failure check.
#pragma once

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/bytes.h"

namespace anoncode::crypto::testing {

struct VecRecord {
  std::string section;
  std::map<std::string, std::string> fields;
  int line = 0;

  const std::string& text(const std::string& name) const {
    auto it = fields.find(name);
    if (it == fields.end())
      throw std::runtime_error("vec line " + std::to_string(line) + ": no " + name);
    return it->second;
  }
  Bytes hex(const std::string& name) const { return from_hex(text(name)).value(); }
};

inline std::vector<VecRecord> read_vec(const std::string& file, const std::string& section) {
  std::ifstream in(std::string(ANONCODE_TEST_DATA) + "/" + file);
  if (!in) throw std::runtime_error("cannot open test data " + file);
  std::vector<VecRecord> out;
  VecRecord current;
  std::string current_section;
  auto flush = [&] {
    if (!current.fields.empty() && current_section == section) out.push_back(current);
    current = VecRecord{};
  };
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = trim(line);
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) {
      flush();
    } else if (line.front() == '[' && line.back() == ']') {
      flush();
      current_section = line.substr(1, line.size() - 2);
    } else {
      const auto eq = line.find('=');
      if (eq == std::string::npos) throw std::runtime_error("vec line " + std::to_string(n));
      if (current.fields.empty()) current.line = n;
      current.section = current_section;
      current.fields[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
  }
  flush();
  return out;
}

inline Bytes random_bytes(size_t n) {
  Bytes out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) throw std::runtime_error("rand");
  return out;
}

inline Bytes concat(ByteView a, ByteView b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

template <typename T>
void expect_error(const Result<T>& r, ErrorCode code) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, code) << r.error().message;
  // Expected failures must not leave anything on OpenSSL's (per-thread) error queue.
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace anoncode::crypto::testing
