#include "kms/component.h"

#include <algorithm>

#include "crypto/sm3.h"

namespace anoncode::kms {

namespace {

constexpr std::string_view kPrefix = "kc1";

Error malformed(const std::string& what) {
  return make_error(ErrorCode::kMalformed, "component: " + what);
}

bool is_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

Status check_key_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdLength || !std::all_of(id.begin(), id.end(), is_id_char)) {
    return malformed("the key id must be 1 to " + std::to_string(kMaxKeyIdLength) +
                     " of A-Z a-z 0-9 _ -");
  }
  return {};
}

// Decimal 1..255 without leading zeros.
std::optional<uint8_t> small_number(std::string_view s) {
  if (s.empty() || s.size() > 3 || s[0] == '0') return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 255) return std::nullopt;
  return static_cast<uint8_t>(v);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Lowercase hex of `n` bytes into `out`; false if `s` is not exactly that.
bool hex_bytes(std::string_view s, std::span<uint8_t> out) {
  if (s.size() != out.size() * 2) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

void append_hex(SecretBytes& out, size_t& at, std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  auto w = out.expose_secret_mut();
  for (uint8_t b : bytes) {
    w[at++] = static_cast<uint8_t>(kDigits[b >> 4]);
    w[at++] = static_cast<uint8_t>(kDigits[b & 15]);
  }
}

void append_text(SecretBytes& out, size_t& at, std::string_view s) {
  auto w = out.expose_secret_mut();
  for (char c : s) w[at++] = static_cast<uint8_t>(c);
}

std::array<uint8_t, 4> check_of(std::span<const uint8_t> body) {
  const auto d = crypto::sm3(ByteView(body.data(), body.size()));
  return {d[0], d[1], d[2], d[3]};
}

}  // namespace

Result<SecretBytes> encode_component(const Component& c) {
  ANONCODE_CHECK(check_key_id(c.key_id));
  const Share& s = c.share;
  if (s.threshold < 1 || s.count < s.threshold || s.x < 1 || s.x > s.count) {
    return malformed("an invalid k, n or index");
  }
  if (s.y.empty() || s.y.size() > kMaxComponentSecret) return malformed("an invalid share length");
  const std::string k = std::to_string(s.threshold), n = std::to_string(s.count),
                    x = std::to_string(s.x);
  const size_t body = kPrefix.size() + 1 + c.key_id.size() + 1 + 6 + 1 + k.size() + 1 + n.size() +
                      1 + x.size() + 1 + 2 * s.y.size();
  SecretBytes out(body + 1 + 8);
  size_t at = 0;
  append_text(out, at, kPrefix);
  append_text(out, at, ".");
  append_text(out, at, c.key_id);
  append_text(out, at, ".");
  append_hex(out, at, c.kcv);
  append_text(out, at, "." + k + "." + n + "." + x + ".");
  append_hex(out, at, s.y.expose_secret());
  append_text(out, at, ".");
  append_hex(out, at, check_of(out.expose_secret().first(body)));
  return out;
}

Result<Component> decode_component(ByteView text) {
  // Whitespace around the text (a pasted line) is not part of it.
  size_t begin = 0, end = text.size();
  auto space = [](uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (begin < end && space(text[begin])) ++begin;
  while (end > begin && space(text[end - 1])) --end;
  const std::string_view s(reinterpret_cast<const char*>(text.data()) + begin, end - begin);
  // Eight fields separated by '.'.
  std::array<std::string_view, 8> f{};
  size_t from = 0, nfields = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (nfields == f.size()) return malformed("expected 8 fields separated by '.'");
      f[nfields++] = s.substr(from, i - from);
      from = i + 1;
    }
  }
  if (nfields != f.size()) return malformed("expected 8 fields separated by '.'");
  if (f[0] != kPrefix) return malformed("it does not start with kc1.");
  Component c;
  ANONCODE_CHECK(check_key_id(f[1]));
  c.key_id = std::string(f[1]);
  if (!hex_bytes(f[2], c.kcv)) return malformed("the check value must be 6 hex digits");
  auto k = small_number(f[3]), n = small_number(f[4]), x = small_number(f[5]);
  if (!k || !n || !x) return malformed("k, n and the index must be 1 to 255");
  if (*n < *k || *x > *n) return malformed("an index beyond n, or k above n");
  if (f[6].empty() || f[6].size() % 2 != 0 || f[6].size() > 2 * kMaxComponentSecret) {
    return malformed("the share must be 2 to " + std::to_string(2 * kMaxComponentSecret) +
                     " hex digits");
  }
  SecretBytes y(f[6].size() / 2);
  if (!hex_bytes(f[6], y.expose_secret_mut())) return malformed("the share is not hex");
  std::array<uint8_t, 4> check{};
  if (!hex_bytes(f[7], check)) return malformed("the check digits must be 8 hex digits");
  c.share = Share{*x, *k, *n, std::move(y)};
  // The check digits are over the canonical (lowercase) text, so re-encode and compare.
  ANONCODE_TRY(SecretBytes canonical, encode_component(c));
  const auto canon = canonical.expose_secret();
  const auto want = canon.last(8);
  std::array<uint8_t, 4> expected{};
  hex_bytes(std::string_view(reinterpret_cast<const char*>(want.data()), want.size()), expected);
  if (expected != check) {
    return malformed("the check digits do not match; a character was mistyped");
  }
  return c;
}

Result<std::vector<Component>> make_components(std::string_view key_id, const CheckValue& kcv,
                                               const SecretBytes& key, int k, int n,
                                               crypto::Rng& rng) {
  ANONCODE_CHECK(check_key_id(key_id));
  if (key.size() > kMaxComponentSecret) return malformed("the key is longer than 64 bytes");
  ANONCODE_TRY(std::vector<Share> shares, split(key, k, n, rng));
  std::vector<Component> out;
  out.reserve(shares.size());
  for (auto& s : shares) out.push_back(Component{std::string(key_id), kcv, std::move(s)});
  return out;
}

Result<Rebuilt> rebuild(const std::vector<Component>& components) {
  if (components.empty()) return make_error(ErrorCode::kInvalidArgument, "components: none given");
  std::vector<Share> shares;
  shares.reserve(components.size());
  for (const auto& c : components) {
    if (c.key_id != components.front().key_id || c.kcv != components.front().kcv) {
      return make_error(ErrorCode::kInvalidArgument, "components: they belong to different keys");
    }
    shares.push_back(c.share);
  }
  ANONCODE_TRY(SecretBytes key, combine(shares));
  return Rebuilt{components.front().key_id, components.front().kcv, std::move(key)};
}

}  // namespace anoncode::kms
