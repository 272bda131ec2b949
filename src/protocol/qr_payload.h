// The anonymous-code QR payload (DESIGN §3.4, docs/API.md "QR payload"): 125 bytes, signed by the
// code platform with SM2, verified offline by the POS and again by the platform at deduction.
//
//   0  1  version 0x01            18 19 accountid, ASCII digits   53  8 expires_at, u64 BE ms
//   1  1  code type 'N' (0x4E)    37  8 platform key id           61 64 SM2 r‖s over bytes 0..60
//   2 16  sequence "nm"+14 digits 45  8 issued_at, u64 BE ms
//
// The platform key id is the first 8 bytes of SM3(the platform's 65-byte public key).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "crypto/sm2.h"

namespace anoncode::protocol {

constexpr size_t kQrPayloadSize = 125;
constexpr size_t kQrSignedSize = 61;
constexpr uint8_t kQrVersion = 0x01;
constexpr uint8_t kQrCodeTypeAnonymous = 'N';  // 匿名码
constexpr size_t kSequenceSize = 16;           // "nm" + 14 digits
constexpr size_t kAccountIdSize = 19;          // the format of a cloud-card number
constexpr int64_t kDefaultCodeLifetimeMs = 120'000;

using PlatformKeyId = std::array<uint8_t, 8>;

// First 8 bytes of SM3(public key, 65 bytes uncompressed).
PlatformKeyId platform_key_id(const crypto::Sm2PublicKey& key);

bool is_valid_sequence(std::string_view s);   // "nm" + 14 ASCII digits
bool is_valid_accountid(std::string_view s);  // 19 ASCII digits

struct QrPayload {
  std::string sequence;
  std::string accountid;
  PlatformKeyId kid{};
  int64_t issued_at = 0;   // Unix ms
  int64_t expires_at = 0;  // Unix ms
  std::array<uint8_t, 64> signature{};

  // Bytes 0..60, what the signature covers.
  Bytes signed_bytes() const;
  Bytes encode() const;
  // Exactly 125 bytes, version 1, type N, digits where digits belong, times that fit in int64,
  // expires_at after issued_at; anything else is `malformed`. The signature is not checked here.
  static Result<QrPayload> decode(ByteView bytes);
};

// A signed payload for a code request (the platform's side).
Result<QrPayload> sign_qr_payload(const crypto::Sm2PrivateKey& key, std::string sequence,
                                  std::string accountid, int64_t issued_at, int64_t expires_at);

// `bad_signature` unless the payload was signed by `key` (the kid must name that key too).
Status verify_qr_signature(const QrPayload& payload, const crypto::Sm2PublicKey& key);

// `expired` when now is past expires_at + skew, or before issued_at − skew (a code from the
// future: the POS or the platform clock is off by more than the tolerance).
Status check_qr_freshness(const QrPayload& payload, int64_t now_ms, int64_t skew_ms);

}  // namespace anoncode::protocol
