// QR images (pos/qr_image.h): decode_qr_png reads a PNG — the picture of a rider's screen a POS
// is given (`anoncode pos scan`) — with libpng and zbar.
//
// Properties: no crash, no unbounded allocation (libFuzzer's -rss_limit_mb); what decodes is the
// content of a QR code: rendering those bytes again and reading them back gives the same bytes.
#include "fuzz_util.h"
#include "pos/qr_image.h"

using namespace anoncode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto payload = pos::decode_qr_png(ByteView(data, size));
  if (payload && !payload->empty() && payload->size() <= 1024) {
    auto png = pos::render_qr_png(*payload);
    FUZZ_CHECK(png);
    auto again = pos::decode_qr_png(*png);
    FUZZ_CHECK(again && *again == *payload);
  }
  return 0;
}
