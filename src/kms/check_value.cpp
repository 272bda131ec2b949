#include "kms/check_value.h"

#include <openssl/evp.h>

#include <memory>

#include "crypto/sm3.h"
#include "crypto/sm4.h"

namespace anoncode::kms {

namespace {

template <typename Bytes3>
CheckValue first3(const Bytes3& b) {
  return {b[0], b[1], b[2]};
}

}  // namespace

Result<CheckValue> kcv_sm4(const SecretBytes& key) {
  if (key.size() != crypto::kSm4KeySize) {
    return make_error(ErrorCode::kInvalidArgument, "kcv: an SM4 key is 16 bytes");
  }
  ANONCODE_TRY(Bytes block, crypto::sm4_encrypt_block(key, Bytes(crypto::kSm4BlockSize, 0)));
  return first3(block);
}

Result<CheckValue> kcv_aes(const SecretBytes& key) {
  const EVP_CIPHER* cipher = key.size() == 16   ? EVP_aes_128_ecb()
                             : key.size() == 24 ? EVP_aes_192_ecb()
                             : key.size() == 32 ? EVP_aes_256_ecb()
                                                : nullptr;
  if (cipher == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "kcv: an AES key is 16, 24 or 32 bytes");
  }
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  const uint8_t zero[16] = {};
  uint8_t out[32] = {};
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.expose_secret().data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out, &len, zero, sizeof zero) != 1 || len != 16) {
    return make_error(ErrorCode::kInternal, "kcv: AES failed");
  }
  return first3(out);
}

CheckValue kcv_public(ByteView public_key_encoding) {
  return first3(crypto::sm3(public_key_encoding));
}

CheckValue kcv_secret(const SecretBytes& key) {
  return first3(crypto::hmac_sm3(key, as_bytes(std::string_view("anoncode/v1/kcv"))));
}

std::string kcv_hex(const CheckValue& kcv) {
  return to_hex(ByteView(kcv.data(), kcv.size()));
}

}  // namespace anoncode::kms
