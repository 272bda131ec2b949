// The POS front (POS 前置, seed 000 §2.5, DESIGN §3.4): the terminals' gateway. It knows each
// registered terminal, its merchant (bizid) and its MAC key (sealed under the personal-data SM4
// key), checks every request's HMAC-SM3, and forwards the rides of a batch to the code platform
// in-process, which settles them exactly once by (terminal, counter). Its HTTP routes are in
// posfront/posfront_http.h.
//
//   unknown terminal → 401 unauthorized; another merchant → 403 forbidden;
//   any bad MAC → 403 verification_failed, and the whole batch is refused (nothing settled).
#pragma once

#include <string>
#include <vector>

#include "crypto/sm4.h"
#include "platform/platform.h"
#include "storage/db.h"

namespace anoncode::posfront {

constexpr size_t kMaxRegisteredId = 32;  // a terminal's or merchant's id, as registered

struct PosFrontOptions {
  size_t max_batch = 1000;             // rides per batch
  int64_t sync_skew_ms = 15 * 60'000;  // a sync's `at` must be this close to the server's clock
};

struct BatchRide {
  int64_t counter = 0;
  Bytes payload;
  int64_t amount = 0;
  int64_t scanned_at = 0;
  Bytes mac;
};

class PosFront {
 public:
  PosFront(storage::Db& db, platform::CodePlatform& platform, crypto::Sm4Aead terminal_keys,
           PosFrontOptions options = {});

  // Registers a terminal under a merchant (ids of 1 to kMaxRegisteredId of A-Z a-z 0-9 - _ .)
  // and returns its new MAC key (32 random bytes), shown to the administrator once and kept
  // sealed under the personal-data key (terminal_keys.h). `conflict` if the terminal exists.
  // `also` runs in the registration's transaction (the administrator's audit entry).
  Result<SecretBytes> register_terminal(std::string_view terminal, std::string_view merchant,
                                        int64_t now_ms, const storage::AlsoInTx& also = {});

  // POST /posfront/v1/sync: the platform keys for a terminal that proved its key.
  Result<std::vector<protocol::PlatformPublicKey>> sync(std::string_view terminal,
                                                        std::string_view merchant, int64_t at,
                                                        ByteView mac, int64_t now_ms);

  // POST /posfront/v1/batches
  Result<platform::SettleSummary> upload(std::string_view terminal, std::string_view merchant,
                                         const std::vector<BatchRide>& rides, int64_t now_ms);

 private:
  // The terminal's key after checking it exists and belongs to `merchant`.
  Result<SecretBytes> terminal_key(std::string_view terminal, std::string_view merchant);
  Status touch(std::string_view terminal, int64_t now_ms);

  storage::Db& db_;
  platform::CodePlatform& platform_;
  crypto::Sm4Aead sealer_;
  PosFrontOptions options_;
};

}  // namespace anoncode::posfront
