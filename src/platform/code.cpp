// seed 000 §2.4 request code
#include "crypto/sm3.h"
#include "platform/platform.h"
#include "platform/platform_internal.h"
#include "platform/platform_store.h"
#include "protocol/qr_payload.h"

namespace anoncode::platform {

using storage::Tx;

WalletOutcome<CodeResult> CodePlatform::request_code(const WalletAuth& auth, int64_t now_ms) {
  const LedgerKey k = ledger_key("code", auth.show, {as_bytes(auth.wallet), auth.wallet_signature});
  auto context = [](const WalletRecord& w) { return code_context(w.b, w.accountid); };
  const int64_t expires_at = now_ms + options_.code_lifetime_ms;
  return perform_on_wallet<CodeResult>(
      k, auth, now_ms, context, [&](Tx& tx, const WalletRecord& w) -> Result<CodeResult> {
        ANONCODE_TRY(WalletRecord cur, load_usable_wallet(tx, w.b));
        if (cur.balance <= 0) {
          return make_error(ErrorCode::kInsufficientBalance, "recharge before requesting a code");
        }
        for (int attempt = 0; attempt < 16; ++attempt) {
          std::string sequence = "nm" + random_digits(14);
          ANONCODE_TRY(bool taken, store::sequence_taken(tx, sequence));
          if (taken) continue;
          ANONCODE_TRY(auto payload, protocol::sign_qr_payload(signing_key_, sequence,
                                                               cur.accountid, now_ms, expires_at));
          Bytes encoded = payload.encode();
          const auto digest = crypto::sm3(encoded);
          ANONCODE_CHECK(store::insert_code_request(tx, sequence, cur.b, cur.accountid, now_ms,
                                                    expires_at,
                                                    Bytes(digest.begin(), digest.end())));
          return CodeResult{std::move(encoded), sequence, cur.accountid, expires_at};
        }
        return make_error(ErrorCode::kInternal, "cannot find a free sequence");
      });
}

}  // namespace anoncode::platform
