// Key check values (docs/KEYS.md "Key check values"): three bytes that name a key's value without
// revealing it, printed beside every key, carried on its components, and compared between the
// primary and the standby hardware module. Six hex digits, as banking key ceremonies write them.
//
//   SM4 key            the first 3 bytes of SM4-ECB_K(16 zero bytes) — the banking convention for
//                      DES and SM4 keys (seed 003 names no check value of its own)
//   AES key (the KEK)  the first 3 bytes of AES-ECB_K(16 zero bytes) — PKCS#11's CKA_CHECK_VALUE
//                      for AES keys, so a token's own value can be compared with ours
//   asymmetric key     the first 3 bytes of SM3(its public key's encoding) — the same for the
//                      private key and the public one (SM2 keys, issuer keys)
//   other secrets      the first 3 bytes of HMAC-SM3_K("anoncode/v1/kcv")
#pragma once

#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "common/secret.h"
#include "kms/component.h"

namespace anoncode::kms {

Result<CheckValue> kcv_sm4(const SecretBytes& key);  // 16-byte key
Result<CheckValue> kcv_aes(const SecretBytes& key);  // 16-, 24- or 32-byte key
CheckValue kcv_public(ByteView public_key_encoding);
CheckValue kcv_secret(const SecretBytes& key);

std::string kcv_hex(const CheckValue& kcv);  // six lowercase hex digits

}  // namespace anoncode::kms
