// Signed issuer key sets (protocol/issuer_keyset.h): IssuerKeySet::parse reads the JSON body a
// client fetches from GET /privacy/v1/keys (after the signature check; the privacy backend reads
// its own published sets back with it too), and verify_keyset checks the whole signed set.
// Input: the body.
//
// Properties: no crash; what parses has the shape parse promises (sequence ≥ 1, 1 to 64 keys),
// and its canonical body parses to the same set; verify_keyset never accepts it under a root
// that did not sign it; a body signed with the fixed root verifies to the same set (unless too
// many keys are valid at once or the issuing key is not listed).
#include "crypto/sm2.h"
#include "fixed_keys.h"
#include "fuzz_util.h"
#include "protocol/issuer_keyset.h"

using namespace anoncode;
using namespace anoncode::protocol;

namespace {

bool same(const IssuerKeySet& a, const IssuerKeySet& b) {
  if (a.sequence != b.sequence || a.group != b.group || a.issuing_kid != b.issuing_kid ||
      a.published_at != b.published_at || a.keys.size() != b.keys.size()) {
    return false;
  }
  for (size_t i = 0; i < a.keys.size(); ++i) {
    const auto& x = a.keys[i];
    const auto& y = b.keys[i];
    if (x.kid != y.kid || x.public_key != y.public_key || x.valid_from != y.valid_from ||
        x.valid_until != y.valid_until) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = fuzz::as_text(data, size);
  auto set = IssuerKeySet::parse(body);
  // Not signed by the root (the signature is of something else): never accepted.
  SignedKeySet forged{std::string(body), Bytes(crypto::kSm2SignatureSize, 1)};
  FUZZ_CHECK(!verify_keyset(forged, fuzz::fixed_sm2_key().public_key(), 0, 0).ok());
  if (!set) return 0;
  FUZZ_CHECK(set->sequence >= 1 && !set->keys.empty() && set->keys.size() <= 64);
  auto again = IssuerKeySet::parse(set->body());
  FUZZ_CHECK(again && same(*set, *again));
  FUZZ_CHECK(again->body() == set->body());

  auto signed_set = sign_keyset(*set, fuzz::fixed_sm2_key());
  FUZZ_CHECK(signed_set);
  auto verified = verify_keyset(*signed_set, fuzz::fixed_sm2_key().public_key(), set->sequence,
                                set->published_at);
  if (verified) FUZZ_CHECK(same(*verified, *set));
  FUZZ_CHECK(verified || verified.error().code != ErrorCode::kVerificationFailed);
  return 0;
}
