// The anonymous credential (DESIGN §3.3): a keyed-verification BBS MAC over the attributes
// (sk, s, u) — rider secret, serial, double-spend randomness — with
//   A = (x + e)^-1 · (B + r·H0 + sk·H1 + s·H2 + u·H3).
//
// Issue: the client commits Cn = r'·H0 + sk·H1 + s'·H2 + u'·H3 and proves the opening (at open,
// also J = sk·G_J); the issuer returns (A, e, r'') with a DLEQ proof log_B W = log_A (M − e·A).
// Show: for operation `op`, nonce `n` and context hash `ctx`, the client reveals s and the
// double-spend tag R = sk·C + u with C = HashToScalar("anoncode/v1/dschal", n || op), and proves
// possession of a credential on (sk, s, u) together with the opening of the next Cn under the
// same sk. Two shows of one serial with different C give sk = (R − R')/(C − C') and so J.
//
// Every serialized object starts with 0x01 (version), a type byte and the group id; it has a
// fixed length for its group, and trailing bytes are rejected. docs/PROTOCOL.md has the layouts.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <optional>

#include "common/secret.h"
#include "crypto/group.h"
#include "crypto/sigma.h"

namespace anoncode::crypto {

using KeyId = std::array<uint8_t, 8>;
using Nonce = std::array<uint8_t, 32>;
// SM3 of the application context a show or open is bound to (wallet, amount, user id, …).
using ContextHash = std::array<uint8_t, 32>;

// The operation a show authorizes; it is hashed into the double-spend challenge.
// A show proves at most this many wallet pseudonyms (a recharge: the previous and the new wallet).
constexpr size_t kMaxPseudonyms = 2;

enum class ShowOp : uint8_t {
  kRecharge = 1,
  kRequestCode = 2,
  kQuery = 3,
  kRefund = 4,  // adds the relation J_U = sk·G_J for the user the rider names
  kClose = 5,
};
bool is_valid_show_op(uint8_t op);

// The fixed generators: B (the group's standard generator) and
// H0, H1, H2, H3, G_J = HashToGroup("anoncode/v1/gen", name).
struct Generators {
  Point B, H0, H1, H2, H3, GJ;
  static const Generators& of(const Group& g);
};

// J = sk·G_J, the identity commitment registered at open (知识承诺 J).
Point identity_commitment(const Group& g, const Scalar& sk);

// G_B = HashToGroup("anoncode/v1/wallet", B): the base of a wallet's pseudonym P_B = sk·G_B.
Point wallet_pseudonym_base(const Group& g, std::string_view wallet);

class IssuerPublicKey {
 public:
  static Result<IssuerPublicKey> decode(ByteView bytes);
  Bytes encode() const;
  const Group& group() const { return *group_; }
  const Point& W() const { return W_; }
  const KeyId& kid() const { return kid_; }

 private:
  friend class IssuerKey;
  IssuerPublicKey(const Group& g, Point W);
  const Group* group_;
  Point W_;
  KeyId kid_{};
};

class IssuerKey {
 public:
  static IssuerKey generate(const Group& g, Rng& rng);
  static Result<IssuerKey> decode_secret(const SecretBytes& bytes);
  SecretBytes encode_secret() const;
  const IssuerPublicKey& public_key() const { return pub_; }
  const KeyId& kid() const { return pub_.kid(); }
  const Scalar& x() const { return x_; }

 private:
  IssuerKey(Scalar x, IssuerPublicKey pub) : x_(x), pub_(std::move(pub)) {}
  Scalar x_;
  IssuerPublicKey pub_;
};

// --- messages (public) ---

struct OpenRequest {
  const Group* group = nullptr;
  KeyId kid{};
  ContextHash ctx{};
  Point Cn, J;
  Bytes proof;
  Bytes encode() const;
  static Result<OpenRequest> decode(ByteView bytes);
};

struct IssueResponse {
  const Group* group = nullptr;
  KeyId kid{};
  Point A;
  Scalar e, r2;  // r2 is the issuer's r''
  Bytes proof;
  Bytes encode() const;
  static Result<IssueResponse> decode(ByteView bytes);
};

struct ShowRequest {
  const Group* group = nullptr;
  ShowOp op = ShowOp::kRecharge;
  KeyId kid{};
  Nonce nonce{};
  ContextHash ctx{};
  Point A_prime, A_bar, D;
  Scalar s, R;  // public: the serial and the double-spend tag
  Point Cn;
  // DESIGN §3.6 rule 3: P_i = sk·HashToGroup("anoncode/v1/wallet", B_i) for each wallet B_i the
  // show acts on (0 to kMaxPseudonyms), proven with the same sk as the credential.
  std::vector<Point> pseudonyms;
  Bytes proof;
  Bytes encode() const;
  static Result<ShowRequest> decode(ByteView bytes);
};

// --- client secret state (its own types, never sent) ---

namespace codec {
// The wire layout of an object (credential_codec.cpp); it reads and writes the states' fields.
template <typename T>
struct Layout;
}  // namespace codec

// What the client keeps between sending a commitment and receiving the credential.
class PendingIssue {
 public:
  SecretBytes encode_secret() const;
  static Result<PendingIssue> decode_secret(const SecretBytes& bytes);
  const Group& group() const { return *group_; }
  const KeyId& kid() const { return kid_; }

 private:
  friend struct CredentialClient;
  friend struct codec::Layout<PendingIssue>;
  const Group* group_ = nullptr;
  KeyId kid_{};
  Point Cn_;
  Scalar r1_, sk_, s_, u_;  // r', sk, s', u'
};

class Credential {
 public:
  SecretBytes encode_secret() const;
  static Result<Credential> decode_secret(const SecretBytes& bytes);
  const Group& group() const { return *group_; }
  const KeyId& kid() const { return kid_; }
  // The serial this credential will reveal at its show. Public once shown.
  const Scalar& serial() const { return s_; }
  Point identity_commitment() const;

 private:
  friend struct CredentialClient;
  friend struct codec::Layout<Credential>;
  const Group* group_ = nullptr;
  KeyId kid_{};
  Point A_;
  Scalar e_, r_, sk_, s_, u_;
};

// The rider side. Randomness is a parameter, so tests can pin every output.
struct CredentialClient {
  struct Started {
    OpenRequest request;
    PendingIssue pending;
  };
  struct Shown {
    ShowRequest request;
    PendingIssue pending;  // for the credential that replaces the one just shown
  };
  // Creates the rider secret sk and J = sk·G_J, and commits to the first credential.
  static Started begin_open(const IssuerPublicKey& pub, const ContextHash& ctx, Rng& rng);
  // Checks the issuer's DLEQ proof; any failure is `verification_failed`.
  static Result<Credential> finish_issue(const PendingIssue& pending, const IssueResponse& resp,
                                         const IssuerPublicKey& pub);
  // `scopes`: the wallets (B) the show acts on, in the order the verifier expects them; the show
  // proves P_B = sk·G_B for each (DESIGN §3.6 rule 3).
  static Result<Shown> show(const Credential& cred, const IssuerPublicKey& pub, ShowOp op,
                            const Nonce& nonce, const ContextHash& ctx, Rng& rng,
                            std::span<const std::string> scopes = {});

  // Tests only: a show whose witness fails exactly one relation (1, 2 or 3 of DESIGN §3.3; 4
  // commits the next credential to a different sk), to prove the verifier catches each.
  static Result<Shown> show_breaking_relation_for_test(const Credential& cred,
                                                       const IssuerPublicKey& pub, ShowOp op,
                                                       const Nonce& nonce, const ContextHash& ctx,
                                                       Rng& rng, int relation);

 private:
  static Result<Shown> show_impl(const Credential& cred, const IssuerPublicKey& pub, ShowOp op,
                                 const Nonce& nonce, const ContextHash& ctx, Rng& rng,
                                 int broken_relation, std::span<const std::string> scopes);
  // A fresh commitment Cn = r'·H0 + sk·H1 + s'·H2 + u'·H3 to the next credential's attributes.
  static PendingIssue commit_next(const Group& g, const KeyId& kid, const Scalar& sk, Rng& rng);
};

// --- server side ---

// Single-use nonces with a lifetime (DESIGN §3.3: 60 s). The in-memory book serves tests and
// single-process use; the storage layer provides the durable one.
class NonceBook {
 public:
  virtual ~NonceBook() = default;
  virtual Nonce issue(int64_t now_unix) = 0;
  // Succeeds once per issued, unexpired nonce.
  virtual Status consume(const Nonce& nonce, int64_t now_unix) = 0;
};

class MemoryNonceBook final : public NonceBook {
 public:
  explicit MemoryNonceBook(int64_t lifetime_seconds = 60, Rng& rng = OsRng::instance())
      : lifetime_(lifetime_seconds), rng_(rng) {}
  Nonce issue(int64_t now_unix) override;
  Status consume(const Nonce& nonce, int64_t now_unix) override;

 private:
  int64_t lifetime_;
  Rng& rng_;
  std::mutex mu_;
  std::map<Nonce, int64_t> expiry_;
};

// What the SN registry stores for a verified show.
struct VerifiedShow {
  KeyId kid{};
  Nonce nonce{};
  Scalar s, R, C;
  Point Cn;
  std::vector<Point> pseudonyms;  // P_i for the scopes it was verified with
};

class Issuer {
 public:
  explicit Issuer(const Group& g) : group_(g) {}
  // Several keys may be active (rotation); requests name theirs by kid.
  Status add_key(IssuerKey key);
  const Group& group() const { return group_; }

  // Verifies an open request bound to `expected_ctx`; returns J for the user-id table.
  Result<Point> verify_open(const OpenRequest& req, const ContextHash& expected_ctx) const;
  // Verifies a show bound to `expected_ctx` (for a refund, `identity` is the J of the user the
  // rider names), then consumes its nonce. Every failure is one opaque `verification_failed`.
  Result<VerifiedShow> verify_show(const ShowRequest& req, const ContextHash& expected_ctx,
                                   const Point* identity, NonceBook& nonces, int64_t now) const;
  // The same checks without the nonce, for a caller that handles nonces itself. `scopes`: the
  // wallets whose pseudonyms the show must prove, in order.
  Result<VerifiedShow> verify_show_proof(const ShowRequest& req, const ContextHash& expected_ctx,
                                         const Point* identity,
                                         std::span<const std::string> scopes = {}) const;
  // DESIGN §3.6 rule 7: a DLEQ proof log_B W = log_A' Ā under the show's key, which lets anyone
  // holding W check the MAC (verify_show_public). Its transcript binds the kid and SM3 of the
  // show's encoding. `unknown_key` if this issuer does not hold the show's key;
  // `verification_failed` if Ā ≠ x·A' (the issuer attests only a true MAC).
  Result<Bytes> prove_mac(const ShowRequest& req, Rng& rng) const;
  // Issues a credential on the commitment Cn (after open or after a verified show).
  Result<IssueResponse> issue(const KeyId& kid, const Point& Cn, Rng& rng) const;

 private:
  const IssuerKey* find(const KeyId& kid) const;
  const Group& group_;
  std::vector<IssuerKey> keys_;
};

// The checks of Issuer::verify_show_proof with public keys alone: the same code checks the show
// proof (against the ctx the show carries), then the issuer's MAC proof (Issuer::prove_mac)
// replaces the check Ā = x·A'. `pub` must be the show's key. Every failure is one opaque
// `verification_failed`.
Result<VerifiedShow> verify_show_public(const IssuerPublicKey& pub, const ShowRequest& req,
                                        const Point* identity, std::span<const std::string> scopes,
                                        ByteView mac_proof);

// The double-spend challenge C = HashToScalar("anoncode/v1/dschal", n || op).
Scalar ds_challenge(const Group& g, const Nonce& nonce, ShowOp op);

// Two shows of one serial: sk = (R1 − R2)/(C1 − C2) and J = sk·G_J. Equal challenges are not a
// clone (the same request twice) and give `invalid_argument`.
struct TraceResult {
  Scalar sk;
  Point J;
};
Result<TraceResult> trace_double_show(const Group& g, const Scalar& R1, const Scalar& C1,
                                      const Scalar& R2, const Scalar& C2);

}  // namespace anoncode::crypto
