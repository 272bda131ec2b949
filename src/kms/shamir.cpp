#include "kms/shamir.h"

#include <set>

namespace anoncode::kms {

uint8_t gf256_mul(uint8_t a, uint8_t b) {
  // Shift-and-add with masks instead of branches: the same instructions whatever the bytes.
  uint8_t product = 0;
  for (int i = 0; i < 8; ++i) {
    product ^= static_cast<uint8_t>(-(b & 1) & a);
    const auto carry = static_cast<uint8_t>(-(a >> 7));
    a = static_cast<uint8_t>((a << 1) ^ (carry & 0x1b));
    b >>= 1;
  }
  return product;
}

uint8_t gf256_inv(uint8_t a) {
  // a^254 = a^-1 in GF(2^8) (a^255 = 1), by a fixed chain of squarings and multiplications.
  uint8_t result = 1;
  uint8_t power = a;  // a^(2^i)
  for (int i = 1; i < 8; ++i) {
    power = gf256_mul(power, power);  // a^2, a^4, …, a^128: 254 = 2 + 4 + … + 128
    result = gf256_mul(result, power);
  }
  return result;
}

namespace {

Error components_error(const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument, "components: " + what);
}

// f(at), f being the polynomial through the first k shares (Lagrange):
//   f(at) = sum_i y_i * prod_{j != i} (at - x_j) / (x_i - x_j), subtraction being XOR.
// The x are public (printed on each component), so only the products with y are secret.
SecretBytes interpolate(const std::vector<Share>& shares, size_t k, uint8_t at) {
  SecretBytes value(shares.front().y.size());
  auto out = value.expose_secret_mut();
  for (size_t i = 0; i < k; ++i) {
    uint8_t num = 1, den = 1;
    for (size_t j = 0; j < k; ++j) {
      if (j == i) continue;
      num = gf256_mul(num, static_cast<uint8_t>(at ^ shares[j].x));
      den = gf256_mul(den, static_cast<uint8_t>(shares[i].x ^ shares[j].x));
    }
    const uint8_t coefficient = gf256_mul(num, gf256_inv(den));
    const auto y = shares[i].y.expose_secret();
    for (size_t b = 0; b < out.size(); ++b) out[b] ^= gf256_mul(coefficient, y[b]);
  }
  return value;
}

}  // namespace

Result<std::vector<Share>> split(const SecretBytes& secret, int k, int n, crypto::Rng& rng) {
  if (secret.empty()) return components_error("the secret is empty");
  if (k < 1 || n < k || n > 255) {
    return components_error("need 1 <= k <= n <= 255 (k = " + std::to_string(k) +
                            ", n = " + std::to_string(n) + ")");
  }
  const size_t len = secret.size();
  // f(x) = secret + c_1 x + … + c_{k-1} x^{k-1}, one polynomial per byte of the secret.
  SecretBytes coefficients(len * static_cast<size_t>(k - 1));
  rng.fill(coefficients.expose_secret_mut());
  const auto s = secret.expose_secret();
  const auto c = coefficients.expose_secret();
  std::vector<Share> shares;
  shares.reserve(static_cast<size_t>(n));
  for (int xi = 1; xi <= n; ++xi) {
    Share share{static_cast<uint8_t>(xi), static_cast<uint8_t>(k), static_cast<uint8_t>(n),
                SecretBytes(len)};
    auto y = share.y.expose_secret_mut();
    const auto x = static_cast<uint8_t>(xi);
    for (size_t b = 0; b < len; ++b) {
      // Horner: ((c_{k-1} x + c_{k-2}) x + …) x + secret.
      uint8_t acc = 0;
      for (int j = k - 1; j >= 1; --j) {
        acc = gf256_mul(acc, x) ^ c[b * static_cast<size_t>(k - 1) + static_cast<size_t>(j - 1)];
      }
      y[b] = static_cast<uint8_t>(gf256_mul(acc, x) ^ s[b]);
    }
    shares.push_back(std::move(share));
  }
  return shares;
}

Result<SecretBytes> combine(const std::vector<Share>& shares) {
  if (shares.empty()) return components_error("none given");
  const Share& first = shares.front();
  const size_t k = first.threshold;
  if (k < 1 || first.count < k) return components_error("a component has an invalid k of n");
  std::set<uint8_t> xs;
  for (const auto& s : shares) {
    if (s.threshold != first.threshold || s.count != first.count || s.y.size() != first.y.size()) {
      return components_error("they come from different splits");
    }
    if (s.x == 0 || s.x > s.count) return components_error("a component has an invalid index");
    if (!xs.insert(s.x).second) {
      return components_error("component " + std::to_string(s.x) + " was given twice");
    }
  }
  if (shares.size() < k) {
    return components_error(std::to_string(k) + " of " + std::to_string(first.count) +
                            " are needed, " + std::to_string(shares.size()) + " given");
  }
  if (first.y.empty()) return components_error("a component is empty");
  // The secret is f(0); each further share must be f(its x), or it is named.
  SecretBytes secret = interpolate(shares, k, 0);
  for (size_t e = k; e < shares.size(); ++e) {
    const SecretBytes expected = interpolate(shares, k, shares[e].x);
    if (!expected.equals(shares[e].y)) {
      return components_error("component " + std::to_string(shares[e].x) +
                              " does not fit the others (a wrong or damaged component)");
    }
  }
  return secret;
}

}  // namespace anoncode::kms
