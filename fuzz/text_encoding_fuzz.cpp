// from_hex, from_base64url, from_base32 (common/bytes.h): the text encodings every byte field of
// the JSON APIs (base64url), the key ids (hex) and the wallet accounts (base32) arrive in.
// Properties: no crash; what decodes re-encodes to the same text (one text per byte string), and
// every byte string survives encode then decode.
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "fuzz_util.h"

using namespace anoncode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ByteView raw(data, size);

  if (auto b = from_hex(text)) {
    // Hex decoding accepts either case; the encoder writes lower case.
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    FUZZ_CHECK(to_hex(*b) == lower);
  }
  if (auto b = from_base64url(text)) {
    FUZZ_CHECK(to_base64url(*b) == text);
  }
  if (auto b = from_base32(text)) {
    FUZZ_CHECK(to_base32(*b) == text);
  }

  auto hex = from_hex(to_hex(raw));
  auto b64 = from_base64url(to_base64url(raw));
  auto b32 = from_base32(to_base32(raw));
  FUZZ_CHECK(hex && *hex == to_bytes(raw));
  FUZZ_CHECK(b64 && *b64 == to_bytes(raw));
  FUZZ_CHECK(b32 && *b32 == to_bytes(raw));
  return 0;
}
