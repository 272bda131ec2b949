// QR images (pos/qr_image.h): decode_qr_png reads a PNG — the picture of a rider's screen a POS
// is given (`anoncode pos scan`) — with libpng and zbar.
//
// Properties: no crash, no unbounded allocation (libFuzzer's -rss_limit_mb); what decodes is the
// content of a QR code: rendering those bytes again and reading them back gives the same bytes.
//
// libpng refuses a chunk whose CRC does not match, so nearly every mutation would stop at the
// first check: the target writes the right CRC into every whole chunk first (an attacker can as
// well), so mutations reach the chunks' contents.
#include "fuzz_util.h"
#include "pos/qr_image.h"

using namespace anoncode;

namespace {

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// After the 8-byte signature: length (4), type (4), data, CRC (4) over type and data.
void fix_chunk_crcs(Bytes& png) {
  size_t at = 8;
  while (at + 12 <= png.size()) {
    const size_t len = be32(&png[at]);
    if (len > png.size() - at - 12) break;
    const uint32_t crc = crc32(&png[at + 4], 4 + len);
    for (int i = 0; i < 4; ++i) png[at + 8 + len + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    at += 12 + len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes png(data, data + size);
  fix_chunk_crcs(png);
  auto payload = pos::decode_qr_png(png);
  if (payload && !payload->empty() && payload->size() <= 1024) {
    auto rendered = pos::render_qr_png(*payload);
    FUZZ_CHECK(rendered);
    auto again = pos::decode_qr_png(*rendered);
    FUZZ_CHECK(again && *again == *payload);
  }
  return 0;
}
