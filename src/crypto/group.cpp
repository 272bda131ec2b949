#include "crypto/group.h"

#include <algorithm>

#include "crypto/sm3.h"

namespace anoncode::crypto {

OsRng& OsRng::instance() {
  static OsRng rng;
  return rng;
}

SeededRng::SeededRng(std::string_view seed) : seed_(to_bytes(seed)) {}

void SeededRng::fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ByteWriter w;
    w.raw(as_bytes("anoncode/v1/test-rng")).var(seed_).u64(counter_++);
    Sm3Digest block = sm3(w.bytes());
    size_t n = std::min(block.size(), out.size() - done);
    std::copy_n(block.begin(), n, out.begin() + static_cast<ptrdiff_t>(done));
    done += n;
  }
}

Scalar Group::random_scalar(Rng& rng) const {
  std::array<uint8_t, 64> wide{};
  rng.fill(wide);
  Scalar s = reduce_wide(wide);
  sodium_memzero(wide.data(), wide.size());
  return s;
}

Scalar Group::random_nonzero_scalar(Rng& rng) const {
  for (;;) {
    Scalar s = random_scalar(rng);
    if (!s.ct_is_zero()) return s;  // zero has probability ~2^-252: the loop ends at once
  }
}

std::array<uint8_t, 32> Group::encode_scalar(const Scalar& s) const {
  std::array<uint8_t, 32> out{};
  auto b = s.expose_secret();
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

Point Group::multi_mul_vartime(std::span<const Scalar> ks, std::span<const Point> ps) const {
  size_t n = std::min(ks.size(), ps.size());
  if (n == 0) return identity();
  // Start from the first product: an addition to the identity costs as much as any other.
  Point acc = mul(ks[0], ps[0]);
  for (size_t i = 1; i < n; ++i) acc = add(acc, mul(ks[i], ps[i]));
  return acc;
}

Scalar Group::hash_to_scalar(std::string_view tag, ByteView message) const {
  ByteWriter w;
  w.raw(as_bytes(tag)).raw(message);
  auto wide = h64(w.bytes());
  return reduce_wide(wide);
}

Result<const Group*> group_by_id(uint8_t id) {
  for (const Group* g : all_groups()) {
    if (static_cast<uint8_t>(g->id()) == id) return g;
  }
  return make_error(ErrorCode::kMalformed, "unknown group id");
}

Result<const Group*> group_by_name(std::string_view name) {
  for (const Group* g : all_groups()) {
    if (g->name() == name) return g;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown group '" + std::string(name) + "' (ristretto255, sm2, sm2-openssl)");
}

std::vector<const Group*> all_groups() {
  return {&ristretto255(), &sm2(), &sm2_openssl()};
}

}  // namespace anoncode::crypto
