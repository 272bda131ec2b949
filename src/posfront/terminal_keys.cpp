#include "posfront/terminal_keys.h"

namespace anoncode::posfront {

Bytes terminal_key_aad(std::string_view terminal) {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/terminal-key")).var(as_bytes(terminal));
  return std::move(w).take();
}

Result<Bytes> seal_terminal_key(const crypto::Sm4Aead& aead, std::string_view terminal,
                                const SecretBytes& key) {
  if (key.size() != kTerminalKeyBytes) {
    return make_error(ErrorCode::kInvalidArgument, "a terminal key is 32 bytes");
  }
  return aead.seal(key.expose_secret(), terminal_key_aad(terminal));
}

Result<SecretBytes> open_terminal_key(const crypto::Sm4Aead& aead, std::string_view terminal,
                                      ByteView sealed) {
  ANONCODE_TRY(SecretBytes key, aead.open(sealed, terminal_key_aad(terminal)));
  if (key.size() != kTerminalKeyBytes) {
    return make_error(ErrorCode::kVerificationFailed, "verification failed");
  }
  return key;
}

}  // namespace anoncode::posfront
