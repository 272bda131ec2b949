// Result<T>: a value or an Error (STYLE.md: expected failures are values, exceptions are bugs).
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <utility>
#include <variant>

#include "common/error.h"

namespace anoncode {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose, like expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Accessing the wrong alternative is a bug, not an expected failure: it throws.
  T& value() & { return checked_value(); }
  const T& value() const& { return const_cast<Result*>(this)->checked_value(); }
  T&& value() && { return std::move(checked_value()); }
  T* operator->() { return &checked_value(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked_value(); }
  T& operator*() & { return checked_value(); }
  const T& operator*() const& { return const_cast<Result*>(this)->checked_value(); }

  const Error& error() const {
    if (ok()) throw std::logic_error("Result::error() on a value");
    return std::get<1>(v_);
  }

 private:
  T& checked_value() {
    if (!ok()) throw std::logic_error("Result::value() on an error: " + std::get<1>(v_).message);
    return std::get<0>(v_);
  }
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    if (!failed_) throw std::logic_error("Result::error() on success");
    return error_;
  }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace anoncode

// Propagate an error: ANONCODE_TRY(auto x, f()); binds x to the value or returns the error.
#define ANONCODE_CONCAT_INNER(a, b) a##b
#define ANONCODE_CONCAT(a, b) ANONCODE_CONCAT_INNER(a, b)
#define ANONCODE_TRY_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                       \
  if (!tmp.ok()) return tmp.error();       \
  decl = std::move(tmp).value()
#define ANONCODE_TRY(decl, expr) ANONCODE_TRY_IMPL(ANONCODE_CONCAT(try_tmp_, __LINE__), decl, expr)
// For Status-returning expressions.
#define ANONCODE_CHECK(expr)                                \
  do {                                                      \
    auto ANONCODE_CONCAT(check_tmp_, __LINE__) = (expr);    \
    if (!ANONCODE_CONCAT(check_tmp_, __LINE__).ok())        \
      return ANONCODE_CONCAT(check_tmp_, __LINE__).error(); \
  } while (0)
