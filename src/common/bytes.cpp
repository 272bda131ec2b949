#include "common/bytes.h"

#include <sodium.h>

namespace anoncode {

std::string to_hex(ByteView data) {
  std::string out(data.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data.data(), data.size());
  out.pop_back();
  return out;
}

Result<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return make_error(ErrorCode::kMalformed, "hex: odd length");
  if (hex.empty()) return Bytes{};  // sodium_hex2bin's output must not be null (UBSan)
  Bytes out(hex.size() / 2);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      len != out.size() || end != hex.data() + hex.size()) {
    return make_error(ErrorCode::kMalformed, "hex: not a hexadecimal string");
  }
  return out;
}

std::string to_base64url(ByteView data) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_encoded_len(data.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<Bytes> from_base64url(std::string_view text) {
  // libsodium 1.0.18 reads every byte 0x80–0xff as '_' (it rejects the rest of what is not the
  // alphabet): refuse them ourselves, without a branch per byte (the text may be a secret).
  unsigned high = 0;
  for (char c : text) high |= static_cast<unsigned char>(c) & 0x80u;
  if (high != 0) {
    return make_error(ErrorCode::kMalformed, "base64url: not an unpadded base64url string");
  }
  Bytes out(text.size() * 3 / 4 + 1);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return make_error(ErrorCode::kMalformed, "base64url: not an unpadded base64url string");
  }
  out.resize(len);
  return out;
}

namespace {
constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
}

std::string to_base32(ByteView data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : data) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<Bytes> from_base32(std::string_view text) {
  Bytes out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    size_t v = kBase32Alphabet.find(c);
    if (v == std::string_view::npos)
      return make_error(ErrorCode::kMalformed, "base32: bad character");
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  // Canonical only: the leftover bits must be padding zeros and fewer than a whole character.
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) {
    return make_error(ErrorCode::kMalformed, "base32: non-canonical length or padding bits");
  }
  return out;
}

Result<uint64_t> ByteReader::be(int n) {
  if (remaining() < static_cast<size_t>(n)) return make_error(ErrorCode::kMalformed, "truncated");
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | in_[pos_++];
  return v;
}

Result<uint8_t> ByteReader::u8() {
  ANONCODE_TRY(uint64_t v, be(1));
  return static_cast<uint8_t>(v);
}
Result<uint16_t> ByteReader::u16() {
  ANONCODE_TRY(uint64_t v, be(2));
  return static_cast<uint16_t>(v);
}
Result<uint32_t> ByteReader::u32() {
  ANONCODE_TRY(uint64_t v, be(4));
  return static_cast<uint32_t>(v);
}
Result<uint64_t> ByteReader::u64() {
  return be(8);
}

Result<ByteView> ByteReader::raw(size_t n) {
  if (remaining() < n) return make_error(ErrorCode::kMalformed, "truncated");
  ByteView v = in_.subspan(pos_, n);
  pos_ += n;
  return v;
}

Result<ByteView> ByteReader::var(size_t max_len) {
  ANONCODE_TRY(uint32_t n, u32());
  if (n > max_len) return make_error(ErrorCode::kMalformed, "field too long");
  return raw(n);
}

Status ByteReader::finish() const {
  if (remaining() != 0) return make_error(ErrorCode::kMalformed, "trailing bytes");
  return {};
}

}  // namespace anoncode
