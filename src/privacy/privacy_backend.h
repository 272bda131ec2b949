// The privacy backend (隐私保护后台, DESIGN §1–§3): issues and verifies anonymous credentials,
// keeps the nonces and the SN registry, the user-id ↔ J table, and traces cloned wallets.
//
// Every state change is one database transaction, so two server processes on one PostgreSQL
// agree: the serial number is a PRIMARY KEY, and a show either inserts it (and gets the next
// credential), or finds it already there, and then it is
//   - a replay: the same request again (same serial, nonce and tag) → the stored response, so a
//     rider whose reply was lost is never stranded;
//   - a clone: the same serial under another challenge → sk from the two tags, J = sk·G_J, the
//     user id behind J, a violation row; the operation is refused with `sn_reused`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/credential.h"
#include "protocol/evidence.h"
#include "protocol/issuer_keyset.h"
#include "protocol/show_context.h"
#include "storage/db.h"

namespace anoncode::privacy {

namespace store {
struct RecordedShow;
}  // namespace store

// A nonce is meant for a show within 60 s; it is accepted for a first show until its retry window
// ends (DESIGN §3.6 rule 1): the SDK resends a show whose reply (or request) was lost with the
// same nonce, whenever it is online again.
constexpr int64_t kNonceLifetimeMs = 60'000;
constexpr int64_t kNonceRetryWindowMs = 7 * 86'400'000LL;

// What tracing found about a cloned credential.
struct Violation {
  std::string id;
  std::string kind;                    // "clone"
  std::optional<std::string> user_id;  // NULL when J matched no registered user
  std::string wallet_b, accountid;
  int64_t detected_at = 0;
  // A clone's evidence document (protocol/evidence.h), JSON text; none for a copied code, for a
  // clone whose first show was recorded before migration 0007, or one the issuer could not prove.
  std::optional<std::string> evidence;
};

struct ShowOutcome {
  Bytes issue_response;           // the next credential (IssueResponse encoding)
  bool replayed = false;          // true when this was a retry of an already accepted request
  std::vector<Bytes> pseudonyms;  // the proven P_B of ctx.scopes, encoded, in order
  // A fresh nonce issued in the show's transaction, for the next show on the same wallet: it
  // travels with the answer and saves the rider a round trip (docs/PROTOCOL.md "Nonces").
  std::optional<crypto::Nonce> next_nonce = {};
};

class PrivacyBackend {
 public:
  // `group` and `keys`: the issuer keys in force (the first one issues new credentials).
  PrivacyBackend(storage::Db& db, const crypto::Group& group, std::vector<crypto::IssuerKey> keys,
                 crypto::Rng& rng = crypto::OsRng::instance());

  const crypto::IssuerPublicKey& issuing_key() const;
  std::vector<crypto::IssuerPublicKey> public_keys() const;

  // Open (开通): registers J under the app's user id and issues the first credential — once per
  // user (DESIGN §3.6 rule 2). The identical request again gets the identical response; any other
  // open of a user with a J is `already_opened`.
  Result<Bytes> open(std::string_view user_id, ByteView open_request, int64_t now_ms);

  // Re-open (a phone lost without a backup): a security officer's audited action that retires
  // the user's J, so the user may open once more with a new one. The retired J stays on record
  // with its user id (a clone of the old chain is still traced). `in_same_transaction` runs in
  // the retiring transaction (the audit entry). not_found if the user has no J.
  Status retire_identity(std::string_view user_id, std::string_view by, std::string_view reason,
                         int64_t now_ms,
                         const std::function<Status(storage::Tx&)>& in_same_transaction = {});

  // A fresh single-use nonce for the next show (kNonceLifetimeMs, kept for kNonceRetryWindowMs).
  Result<crypto::Nonce> new_nonce(int64_t now_ms);

  // A show for `ctx`. For a refund, `refund_user_id` names the user whose J the rider proves.
  // Errors: malformed, verification_failed (bad proof, unknown or used or expired nonce),
  // sn_reused (a clone: traced and recorded before this returns), not_found (refund user).
  // `also_in_tx`, when given, runs in the show's transaction once the show is accepted (a first
  // show, or a replay of one), with the issue response the rider gets: the caller's operation,
  // so a request costs one transaction and one commit. Its error rolls the show back too (the
  // rider resends the same bytes, a first show again); a refusal by the caller's rules is for
  // the caller to record (Tx::nested) and return success.
  using WithShow = std::function<Status(storage::Tx&, const Bytes& issue_response)>;
  Result<ShowOutcome> show(ByteView show_request, const protocol::ShowContext& ctx, int64_t now_ms,
                           const std::optional<std::string>& refund_user_id = std::nullopt,
                           const WithShow& also_in_tx = {});
  // The database the backend keeps its records in (a caller joining its transactions uses it).
  storage::Db& db() const { return db_; }

  Result<std::vector<Violation>> violations();
  // One violation (not_found if none has that id).
  Result<Violation> violation(std::string_view id);

  // DESIGN §3.6 rule 4: publishes the issuer keys in force as the next signed key set, unless the
  // latest published set already names exactly these keys; returns the latest set. A key keeps
  // the validity it was first published with; a new one is valid from now for `validity_ms`.
  // Safe on several nodes at once (the sequence is a PRIMARY KEY).
  Result<protocol::SignedKeySet> publish_keyset(const crypto::Sm2PrivateKey& root, int64_t now_ms,
                                                int64_t validity_ms);
  // The latest published set (not_found before the first), and every one, oldest first.
  Result<protocol::SignedKeySet> latest_keyset();
  Result<std::vector<protocol::SignedKeySet>> keysets();
  // The J registered for a user (admin tracing, refund). not_found if none.
  Result<Bytes> identity_of(std::string_view user_id);
  // The issuer public keys every published key set names: what a violation's evidence is checked
  // against (verify_evidence), never the secret keys.
  Result<std::vector<crypto::IssuerPublicKey>> published_keys();

 private:
  crypto::Nonce fresh_nonce();
  Status issue_nonce(storage::Tx& tx, const crypto::Nonce& n, int64_t now_ms);
  Result<nlohmann::json> clone_evidence(const store::RecordedShow& seen, ByteView show_request,
                                        const crypto::ShowRequest& req,
                                        const protocol::ShowRecord& record, int64_t now_ms,
                                        const crypto::Point& J, const crypto::Scalar& serial);

  storage::Db& db_;
  const crypto::Group& group_;
  crypto::Issuer issuer_;
  std::vector<crypto::IssuerPublicKey> pubs_;
  crypto::Rng& rng_;
};

}  // namespace anoncode::privacy
