// The anonymous-code QR payload (protocol/qr_payload.h): QrPayload::decode reads the 125 bytes a
// POS scans from a rider's screen and the platform gets back in a ride batch.
//
// Properties: no crash; what decodes re-encodes to exactly the input and has the fields' shapes;
// its signature check and freshness check run without a crash (any clock from 1970 on, any
// skew).
#include <limits>

#include "fixed_keys.h"
#include "fuzz_util.h"
#include "protocol/qr_payload.h"

using namespace anoncode;
namespace qr = anoncode::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  auto p = qr::QrPayload::decode(in);
  if (!p) return 0;
  FUZZ_CHECK(qr::is_valid_sequence(p->sequence) && qr::is_valid_accountid(p->accountid));
  FUZZ_CHECK(0 <= p->issued_at && p->issued_at < p->expires_at);
  FUZZ_CHECK(p->encode() == to_bytes(in));
  FUZZ_CHECK(p->signed_bytes() == to_bytes(in.first(qr::kQrSignedSize)));
  (void)qr::verify_qr_signature(*p, fuzz::fixed_sm2_key().public_key());
  // Any clock from the epoch on (the POS's and the platform's clocks are not before 1970).
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (int64_t now : {int64_t{0}, p->issued_at, p->expires_at, kMax}) {
    for (int64_t skew : {int64_t{0}, int64_t{30'000}, kMax}) {
      (void)qr::check_qr_freshness(*p, now, skew);
    }
  }
  return 0;
}
