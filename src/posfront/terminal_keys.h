// How a POS terminal's MAC key is kept (terminals.key_sealed): Sm4Aead under the personal-data
// key (the data directory's pii_key), bound to the terminal id, so a sealed key copied to
// another terminal's row does not open. The POS front seals it when an administrator registers
// the terminal and opens it to check the terminal's MACs.
#pragma once

#include <string_view>

#include "common/bytes.h"
#include "common/secret.h"
#include "crypto/sm4.h"
#include "protocol/terminal_mac.h"

namespace anoncode::posfront {

constexpr size_t kTerminalKeyBytes = protocol::kTerminalKeySize;

// aad = "anoncode/v1/terminal-key" ‖ var(terminal)
Bytes terminal_key_aad(std::string_view terminal);
Result<Bytes> seal_terminal_key(const crypto::Sm4Aead& aead, std::string_view terminal,
                                const SecretBytes& key);
// `verification_failed` for a key sealed under another pii_key or for another terminal.
Result<SecretBytes> open_terminal_key(const crypto::Sm4Aead& aead, std::string_view terminal,
                                      ByteView sealed);

}  // namespace anoncode::posfront
