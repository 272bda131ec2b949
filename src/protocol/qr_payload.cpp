// seed 000 §2.4 request code (the QR the platform signs), §2.5 offline verification at the POS
#include "protocol/qr_payload.h"

#include <algorithm>
#include <limits>

#include "crypto/sm3.h"

namespace anoncode::protocol {

namespace {

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Error malformed(std::string what) {
  return make_error(ErrorCode::kMalformed, "QR payload: " + what);
}

}  // namespace

PlatformKeyId platform_key_id(const crypto::Sm2PublicKey& key) {
  auto digest = crypto::sm3(key.to_bytes());
  PlatformKeyId kid{};
  std::copy_n(digest.begin(), kid.size(), kid.begin());
  return kid;
}

bool is_valid_sequence(std::string_view s) {
  return s.size() == kSequenceSize && s.substr(0, 2) == "nm" && all_digits(s.substr(2));
}

bool is_valid_accountid(std::string_view s) {
  return s.size() == kAccountIdSize && all_digits(s);
}

Bytes QrPayload::signed_bytes() const {
  ByteWriter w;
  w.u8(kQrVersion)
      .u8(kQrCodeTypeAnonymous)
      .raw(as_bytes(sequence))
      .raw(as_bytes(accountid))
      .raw(kid)
      .u64(static_cast<uint64_t>(issued_at))
      .u64(static_cast<uint64_t>(expires_at));
  return std::move(w).take();
}

Bytes QrPayload::encode() const {
  if (!is_valid_sequence(sequence) || !is_valid_accountid(accountid)) {
    throw std::logic_error("QrPayload::encode: invalid sequence or accountid");
  }
  Bytes out = signed_bytes();
  out.insert(out.end(), signature.begin(), signature.end());
  return out;
}

Result<QrPayload> QrPayload::decode(ByteView bytes) {
  if (bytes.size() != kQrPayloadSize) return malformed("must be 125 bytes");
  ByteReader r(bytes);
  ANONCODE_TRY(uint8_t version, r.u8());
  if (version != kQrVersion) return malformed("unknown version");
  ANONCODE_TRY(uint8_t type, r.u8());
  if (type != kQrCodeTypeAnonymous) return malformed("not an anonymous code");
  QrPayload p;
  ANONCODE_TRY(ByteView seq, r.raw(kSequenceSize));
  p.sequence.assign(seq.begin(), seq.end());
  if (!is_valid_sequence(p.sequence)) return malformed("bad sequence");
  ANONCODE_TRY(ByteView acc, r.raw(kAccountIdSize));
  p.accountid.assign(acc.begin(), acc.end());
  if (!is_valid_accountid(p.accountid)) return malformed("bad accountid");
  ANONCODE_TRY(ByteView kid, r.raw(p.kid.size()));
  std::copy(kid.begin(), kid.end(), p.kid.begin());
  ANONCODE_TRY(uint64_t issued, r.u64());
  ANONCODE_TRY(uint64_t expires, r.u64());
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (issued > kMax || expires > kMax || expires <= issued) return malformed("bad validity");
  p.issued_at = static_cast<int64_t>(issued);
  p.expires_at = static_cast<int64_t>(expires);
  ANONCODE_TRY(ByteView sig, r.raw(p.signature.size()));
  std::copy(sig.begin(), sig.end(), p.signature.begin());
  ANONCODE_CHECK(r.finish());
  return p;
}

Result<QrPayload> sign_qr_payload(const crypto::Sm2PrivateKey& key, std::string sequence,
                                  std::string accountid, int64_t issued_at, int64_t expires_at) {
  if (!is_valid_sequence(sequence) || !is_valid_accountid(accountid) || issued_at < 0 ||
      expires_at <= issued_at) {
    return make_error(ErrorCode::kInvalidArgument, "QR payload: bad fields");
  }
  QrPayload p;
  p.sequence = std::move(sequence);
  p.accountid = std::move(accountid);
  p.kid = platform_key_id(key.public_key());
  p.issued_at = issued_at;
  p.expires_at = expires_at;
  ANONCODE_TRY(Bytes sig, crypto::sm2_sign(key, p.signed_bytes()));
  if (sig.size() != p.signature.size())
    return make_error(ErrorCode::kInternal, "SM2 signature size");
  std::copy(sig.begin(), sig.end(), p.signature.begin());
  return p;
}

Status verify_qr_signature(const QrPayload& payload, const crypto::Sm2PublicKey& key) {
  if (payload.kid != platform_key_id(key)) {
    return make_error(ErrorCode::kBadSignature, "QR payload: signed under another key");
  }
  return crypto::sm2_verify(key, payload.signed_bytes(), payload.signature);
}

Status check_qr_freshness(const QrPayload& payload, int64_t now_ms, int64_t skew_ms) {
  if (now_ms > payload.expires_at && now_ms - payload.expires_at > skew_ms) {
    return make_error(ErrorCode::kExpired, "the code has expired");
  }
  if (now_ms < payload.issued_at && payload.issued_at - now_ms > skew_ms) {
    return make_error(ErrorCode::kExpired, "the code is not valid yet (clock skew)");
  }
  return {};
}

}  // namespace anoncode::protocol
