// A key component as a custodian types it back (kms/component.h): the text "kc1.<key id>.<kcv>.
// <k>.<n>.<x>.<share>.<check>".
//
// Properties: no crash; what decodes has a key id of the allowed characters, 1 <= x <= n, k <= n
// and a share of 1..64 bytes; it encodes again to the input up to the case of its hex and the
// whitespace around it, and that text decodes to the same component.
#include <algorithm>
#include <cctype>

#include "fuzz_util.h"
#include "kms/component.h"

using namespace anoncode;
using namespace anoncode::kms;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto c = decode_component(ByteView(data, size));
  if (!c) return 0;
  FUZZ_CHECK(!c->key_id.empty() && c->key_id.size() <= kMaxKeyIdLength);
  FUZZ_CHECK(c->share.x >= 1 && c->share.x <= c->share.count);
  FUZZ_CHECK(c->share.threshold >= 1 && c->share.threshold <= c->share.count);
  FUZZ_CHECK(!c->share.y.empty() && c->share.y.size() <= kMaxComponentSecret);
  auto text = encode_component(*c);
  FUZZ_CHECK(text.ok());
  std::string_view in = fuzz::as_text(data, size);
  auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
  while (!in.empty() && space(in.front())) in.remove_prefix(1);
  while (!in.empty() && space(in.back())) in.remove_suffix(1);
  const auto out = text->expose_secret();
  FUZZ_CHECK(out.size() == in.size());
  FUZZ_CHECK(std::equal(out.begin(), out.end(), in.begin(), [](uint8_t a, char b) {
    return std::tolower(a) == std::tolower(static_cast<unsigned char>(b));
  }));
  auto again = decode_component(out);
  FUZZ_CHECK(again.ok() && again->key_id == c->key_id && again->kcv == c->kcv &&
             again->share.x == c->share.x && again->share.threshold == c->share.threshold &&
             again->share.count == c->share.count && again->share.y.equals(c->share.y));
  return 0;
}
