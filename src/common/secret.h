// Zeroizing containers for secrets (DESIGN §3.1, STYLE.md from Botan, Tink and userver).
//
// - Memory is wiped with sodium_memzero when it is released, including on vector growth.
// - There is no operator<< and no fmt formatter, so a secret cannot be logged by accident.
// - Reading the raw bytes goes through `expose_secret()`, so every export site is greppable.
#pragma once

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace anoncode {

template <typename T>
struct ZeroizingAllocator {
  using value_type = T;
  ZeroizingAllocator() = default;
  template <typename U>
  ZeroizingAllocator(const ZeroizingAllocator<U>&) noexcept {}  // NOLINT
  T* allocate(size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, size_t n) noexcept {
    sodium_memzero(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const ZeroizingAllocator<U>&) const noexcept {
    return true;
  }
};

// A variable-length secret (keys, passphrases, plaintexts of personal data).
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t n) : data_(n) {}
  explicit SecretBytes(std::span<const uint8_t> bytes) : data_(bytes.begin(), bytes.end()) {}
  SecretBytes(const SecretBytes&) = default;
  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
      data_.swap(o.data_);
      o.data_.clear();
      o.data_.shrink_to_fit();  // the swapped-out storage is zeroized by the allocator
    }
    return *this;
  }

  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  void resize(size_t n) { data_.resize(n); }

  // The one way to the raw bytes; greppable on purpose.
  std::span<const uint8_t> expose_secret() const { return data_; }
  std::span<uint8_t> expose_secret_mut() { return data_; }

  // Constant-time equality (lengths are not secret).
  bool equals(const SecretBytes& o) const {
    return size() == o.size() &&
           (empty() || sodium_memcmp(data_.data(), o.data_.data(), size()) == 0);
  }

 private:
  std::vector<uint8_t, ZeroizingAllocator<uint8_t>> data_;
};

// Wipes a trivially-copyable object on scope exit; for OpenSSL buffers and stack temporaries.
template <typename T>
class ScopedWipe {
 public:
  explicit ScopedWipe(T& obj) : obj_(obj) {}
  ~ScopedWipe() { sodium_memzero(&obj_, sizeof(T)); }
  ScopedWipe(const ScopedWipe&) = delete;
  ScopedWipe& operator=(const ScopedWipe&) = delete;

 private:
  T& obj_;
};

}  // namespace anoncode
