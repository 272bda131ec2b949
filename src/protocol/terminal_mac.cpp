#include "protocol/terminal_mac.h"

#include <openssl/crypto.h>

namespace anoncode::protocol {

crypto::Sm3Digest sync_mac(const SecretBytes& key, std::string_view terminal,
                           std::string_view merchant, int64_t at) {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/sync"))
      .var(as_bytes(terminal))
      .var(as_bytes(merchant))
      .u64(static_cast<uint64_t>(at));
  return crypto::hmac_sm3(key, w.bytes());
}

crypto::Sm3Digest ride_mac(const SecretBytes& key, std::string_view terminal,
                           std::string_view merchant, int64_t counter, ByteView payload,
                           int64_t amount, int64_t scanned_at) {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/ride"))
      .var(as_bytes(terminal))
      .var(as_bytes(merchant))
      .u64(static_cast<uint64_t>(counter))
      .var(payload)
      .u64(static_cast<uint64_t>(amount))
      .u64(static_cast<uint64_t>(scanned_at));
  return crypto::hmac_sm3(key, w.bytes());
}

bool mac_equal(const crypto::Sm3Digest& expected, ByteView received) {
  return received.size() == expected.size() &&
         CRYPTO_memcmp(expected.data(), received.data(), expected.size()) == 0;
}

}  // namespace anoncode::protocol
