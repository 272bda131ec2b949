// seed 000 §1 app backend (APP 后端): riders, whitelist, open, backup/restore, terminals
#include "app/app_backend.h"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>

#include "app/app_store.h"
#include "common/counters.h"
#include "crypto/sm3.h"
#include "server/auth.h"
#include "server/log.h"

namespace anoncode::app {

using storage::Tx;

namespace {

constexpr uint8_t kPiiVersion = 1;
constexpr const char* kChannelId = "000001";  // chnl_id: the city's app
constexpr const char* kBizId = "anoncode";    // biz_id: the app platform number
constexpr const char* kWhitelistAllSetting = "whitelist_all";
constexpr size_t kVerifierSize = 32;

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == ':' || c == '@';
}
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Checks a field's shape; the message names the field, never the value (personal data).
template <typename Pred>
Status check_field(std::string_view field, std::string_view value, size_t max_len, Pred ok_char,
                   std::string_view what) {
  bool ok =
      !value.empty() && value.size() <= max_len && std::all_of(value.begin(), value.end(), ok_char);
  if (!ok) {
    return make_error(
        ErrorCode::kInvalidArgument,
        std::string(field) + " must be 1 to " + std::to_string(max_len) + " " + std::string(what));
  }
  return {};
}

Status check_user_id(std::string_view user_id) {
  return check_field("user_id", user_id, 64, is_id_char, "of A-Z a-z 0-9 - _ . : @");
}
Status check_name(std::string_view name) {
  // UTF-8 names (e.g. Chinese); only control characters are refused.
  return check_field(
      "name", name, 64, [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; },
      "bytes of printable UTF-8");
}
Status check_id_number(std::string_view id) {
  return check_field("id_number", id, 32, is_alnum, "letters or digits");
}
Status check_phone(std::string_view phone) {
  return check_field(
      "phone", phone, 20, [](char c) { return (c >= '0' && c <= '9') || c == '+' || c == '-'; },
      "digits, + or -");
}
Status check_card_no(std::string_view card) {
  return check_field("card_no", card, 32, is_alnum, "letters or digits");
}

Bytes pii_aad(std::string_view user_id) {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/pii")).var(as_bytes(user_id));
  return std::move(w).take();
}

std::string random_hex(crypto::Rng& rng, size_t n) {
  Bytes b(n);
  rng.fill(b);
  return to_hex(b);
}

bool ct_equal(ByteView a, ByteView b) {
  return a.size() == b.size() && (a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0);
}

// --- restore limits (DESIGN §3.6 rule 6; app_backend.h) ---

constexpr const char* kPhoneKind = "phone";
constexpr const char* kAddressKind = "address";
constexpr int64_t kPhoneFailuresBeforeLock = 5;
constexpr int64_t kFirstPhoneLockMs = 60'000;      // 1 minute, doubled per further failure …
constexpr int64_t kMaxPhoneLockMs = 86'400'000;    // … at most a day
constexpr int64_t kAddressFailuresPerWindow = 20;  // per client address …
constexpr int64_t kAddressWindowMs = 3'600'000;    // … per hour
constexpr size_t kLockHashBytes = 8;               // shown as 16 hex digits

// The one answer for a wrong proof and for no backup.
Error no_matching_backup() {
  return make_error(ErrorCode::kVerificationFailed, "no backup matches this phone and key");
}
Error restore_limited() {
  return make_error(ErrorCode::kRateLimited,
                    "too many wrong key proofs for this phone or from this address; try again "
                    "later");
}

// How long a phone is locked after its `failures`-th failure (0: not locked).
int64_t phone_lock_ms(int64_t failures) {
  if (failures < kPhoneFailuresBeforeLock) return 0;
  int64_t ms = kFirstPhoneLockMs;
  for (int64_t i = kPhoneFailuresBeforeLock; i < failures && ms < kMaxPhoneLockMs; ++i) ms *= 2;
  return std::min(ms, kMaxPhoneLockMs);
}

// What a client address is limited as: an IPv4 address, or an IPv6 address's /64 (what one
// subscriber usually holds; an IPv4-mapped one as IPv4); anything else as it is.
std::string address_unit(std::string_view address) {
  const std::string a(address);
  in6_addr v6{};
  if (::inet_pton(AF_INET6, a.c_str(), &v6) != 1) return a;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    char v4[INET_ADDRSTRLEN] = {};
    if (::inet_ntop(AF_INET, &v6.s6_addr[12], v4, sizeof v4) != nullptr) return v4;
  }
  return "ipv6/64:" + to_hex(ByteView(v6.s6_addr, 8));
}

// Counts one failure for `subject` inside `tx`; a lock this sets is added to `locks`.
Status count_failure(Tx& tx, const Bytes& subject, std::string_view kind, int64_t now_ms,
                     std::vector<RestoreLock>& locks) {
  ANONCODE_TRY(auto row, store::failure_count(tx, subject));
  int64_t failures = row ? row->failures : 0;
  int64_t window_start = row ? row->window_start : now_ms;
  int64_t locked_until = 0;
  if (kind == kPhoneKind) {
    ++failures;
    if (int64_t lock = phone_lock_ms(failures); lock > 0) locked_until = now_ms + lock;
  } else {
    if (now_ms - window_start >= kAddressWindowMs) {  // a new hour
      failures = 0;
      window_start = now_ms;
    }
    ++failures;
    if (failures >= kAddressFailuresPerWindow) locked_until = window_start + kAddressWindowMs;
  }
  ANONCODE_CHECK(store::upsert_failure_count(tx, subject, kind, {failures, window_start},
                                             locked_until, now_ms));
  if (locked_until > 0) {
    locks.push_back(RestoreLock{std::string(kind), to_hex(ByteView(subject).first(kLockHashBytes)),
                                failures, locked_until});
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<AppBackend>> AppBackend::create(storage::Db& db,
                                                       privacy::PrivacyBackend& privacy,
                                                       const SecretBytes& pii_key,
                                                       crypto::Rng& rng) {
  if (pii_key.size() != crypto::Sm4Aead::kMasterKeySize) {
    return make_error(ErrorCode::kInvalidArgument, "the personal-data key must be 32 bytes");
  }
  ANONCODE_TRY(crypto::Sm4Aead aead, crypto::Sm4Aead::create(pii_key));
  return std::unique_ptr<AppBackend>(new AppBackend(db, privacy, pii_key, std::move(aead), rng));
}

// HMAC-SM3 under pii_key, domain-separated from the Sm4Aead subkeys derived from the same key.
Bytes AppBackend::id_lookup(std::string_view id_number) const {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/id-lookup")).raw(as_bytes(id_number));
  auto mac = crypto::hmac_sm3(pii_key_, w.bytes());
  return Bytes(mac.begin(), mac.end());
}

Result<AppUser> AppBackend::unseal_user(std::string_view user_id, ByteView sealed) const {
  ANONCODE_TRY(SecretBytes plain, aead_.open(sealed, pii_aad(user_id)));
  ByteReader r(plain.expose_secret());
  ANONCODE_TRY(uint8_t version, r.u8());
  if (version != kPiiVersion)
    return make_error(ErrorCode::kInternal, "unknown personal-data version");
  AppUser u;
  u.user_id = std::string(user_id);
  for (std::string* field : {&u.name, &u.id_number, &u.phone, &u.card_no}) {
    ANONCODE_TRY(ByteView v, r.var(256));
    field->assign(v.begin(), v.end());
  }
  ANONCODE_CHECK(r.finish());
  return u;
}

Result<SecretBytes> AppBackend::add_user(const AppUser& user, int64_t now_ms,
                                         const AlsoInTx& also) {
  ANONCODE_CHECK(check_user_id(user.user_id));
  ANONCODE_CHECK(check_name(user.name));
  ANONCODE_CHECK(check_id_number(user.id_number));
  ANONCODE_CHECK(check_phone(user.phone));
  ANONCODE_CHECK(check_card_no(user.card_no));

  ByteWriter w;
  w.u8(kPiiVersion)
      .var(as_bytes(user.name))
      .var(as_bytes(user.id_number))
      .var(as_bytes(user.phone))
      .var(as_bytes(user.card_no));
  Bytes plain = std::move(w).take();
  auto sealed = aead_.seal(plain, pii_aad(user.user_id));
  sodium_memzero(plain.data(), plain.size());
  if (!sealed) return sealed.error();

  SecretBytes token = server::new_token();
  auto hash = server::token_hash(token);
  Bytes token_hash(hash.begin(), hash.end());
  Bytes lookup = id_lookup(user.id_number);
  // One user per person (DESIGN §3.6 rule 2): a second account of one ID number would be a
  // second credential chain, and a refund, which finds its user by name and ID number, could not
  // tell the two apart. The unique index (migration 0008) settles a race between two
  // registrations.
  const auto person_registered = [] {
    return make_error(ErrorCode::kConflict, "a user with this ID number is already registered");
  };
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(bool same_user, store::user_registered(tx, user.user_id));
    if (same_user) return make_error(ErrorCode::kConflict, "this user id is already registered");
    ANONCODE_TRY(bool same_person, store::person_registered(tx, lookup));
    if (same_person) return person_registered();
    auto inserted = store::insert_user(tx, user.user_id, token_hash, *sealed, lookup, now_ms);
    if (!inserted.ok() && storage::is_unique_violation(inserted.error())) {
      return make_error(ErrorCode::kConflict, "this user id or ID number is already registered");
    }
    if (!inserted.ok()) return inserted.error();
    if (also) ANONCODE_CHECK(also(tx));
    return {};
  }));
  return token;
}

Result<std::string> AppBackend::authenticate(std::string_view app_token) {
  auto unauthorized = [] {
    return make_error(ErrorCode::kUnauthorized, "missing or wrong app token");
  };
  if (app_token.empty() || app_token.size() > 128) return unauthorized();
  auto hash = server::token_hash(app_token);
  Bytes presented(hash.begin(), hash.end());
  std::optional<std::string> user_id;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto row, store::user_of_token(tx, presented));
    if (row && ct_equal(row->app_token_hash, presented)) user_id = row->user_id;
    return {};
  }));
  if (!user_id) return unauthorized();
  return *user_id;
}

Result<AppUser> AppBackend::user(std::string_view user_id) {
  std::optional<Bytes> sealed;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(sealed, store::sealed_pii(tx, user_id));
    return {};
  }));
  if (!sealed) return make_error(ErrorCode::kNotFound, "no such user");
  return unseal_user(user_id, *sealed);
}

Result<std::string> AppBackend::resolve_user(std::string_view name, std::string_view id_number) {
  auto nobody = [] {
    return make_error(ErrorCode::kNotFound, "no registered user with this name and ID number");
  };
  if (!check_name(name).ok() || !check_id_number(id_number).ok()) return nobody();
  std::vector<store::SealedUser> rows;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(rows, store::users_of_id_lookup(tx, id_lookup(id_number)));
    return {};
  }));
  for (const auto& row : rows) {
    ANONCODE_TRY(AppUser u, unseal_user(row.user_id, row.pii));
    if (ct_equal(as_bytes(u.name), as_bytes(name)) &&
        ct_equal(as_bytes(u.id_number), as_bytes(id_number))) {
      return u.user_id;
    }
  }
  return nobody();
}

// --- whitelist ---

Result<Whitelist> AppBackend::read_whitelist(Tx& tx) {
  Whitelist wl;
  ANONCODE_TRY(auto all, store::setting(tx, kWhitelistAllSetting));
  wl.all = all == "1";
  ANONCODE_TRY(wl.users, store::whitelisted_users(tx));
  return wl;
}

Result<Whitelist> AppBackend::whitelist() {
  Whitelist wl;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(wl, read_whitelist(tx));
    return {};
  }));
  return wl;
}

Result<Whitelist> AppBackend::whitelist_add(const std::vector<std::string>& user_ids,
                                            int64_t now_ms, const AlsoInTx& also) {
  for (const auto& u : user_ids) ANONCODE_CHECK(check_user_id(u));
  Whitelist wl;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    for (const auto& u : user_ids) {
      ANONCODE_CHECK(store::whitelist_user(tx, u, now_ms));
    }
    if (also) ANONCODE_CHECK(also(tx));
    ANONCODE_TRY(wl, read_whitelist(tx));
    return {};
  }));
  return wl;
}

Result<Whitelist> AppBackend::whitelist_remove(const std::vector<std::string>& user_ids,
                                               const AlsoInTx& also) {
  for (const auto& u : user_ids) ANONCODE_CHECK(check_user_id(u));
  Whitelist wl;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    for (const auto& u : user_ids) {
      ANONCODE_CHECK(store::unwhitelist_user(tx, u));
    }
    if (also) ANONCODE_CHECK(also(tx));
    ANONCODE_TRY(wl, read_whitelist(tx));
    return {};
  }));
  return wl;
}

Result<Whitelist> AppBackend::whitelist_set_all(bool on, const AlsoInTx& also) {
  Whitelist wl;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_CHECK(store::set_setting(tx, kWhitelistAllSetting, on ? "1" : "0"));
    if (also) ANONCODE_CHECK(also(tx));
    ANONCODE_TRY(wl, read_whitelist(tx));
    return {};
  }));
  return wl;
}

Result<bool> AppBackend::is_whitelisted(std::string_view user_id) {
  bool listed = false;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(auto all, store::setting(tx, kWhitelistAllSetting));
    if (all == "1") {
      listed = true;
      return {};
    }
    ANONCODE_TRY(listed, store::user_whitelisted(tx, user_id));
    return {};
  }));
  return listed;
}

// --- open ---

// seed 000 §2.1 open (开通)
Result<Bytes> AppBackend::open(std::string_view user_id, ByteView open_request, int64_t now_ms) {
  ANONCODE_TRY(bool listed, is_whitelisted(user_id));
  if (!listed) {
    return make_error(ErrorCode::kNotWhitelisted,
                      "the anonymous code is not open to this user yet");
  }
  ANONCODE_TRY(AppUser u, user(user_id));
  // The privacy backend registers J under the user id and issues the first credential, once per
  // user (the identical request again is answered again; any other is `already_opened`).
  ANONCODE_TRY(Bytes response, privacy_.open(user_id, open_request, now_ms));
  // The opening record names the rider's ordinary card, never an anonymous wallet (DESIGN §4).
  auto open_id_digest = crypto::sm3(as_bytes(u.card_no));
  std::string open_id = to_hex(open_id_digest);
  std::string bind_id = random_hex(rng_, 16);
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    return store::upsert_opening(
        tx, {bind_id, kChannelId, open_id, u.card_no, kBizId, std::string(user_id), now_ms});
  }));
  return response;
}

// seed 000 §2.12: the opening record is closed once the anonymous wallet was.
Status AppBackend::close_opening(std::string_view user_id, int64_t now_ms) {
  return db_.transact([&](Tx& tx) -> Status {
    ANONCODE_TRY(bool closed, store::close_opening(tx, user_id, now_ms));
    if (closed) return {};
    ANONCODE_TRY(bool recorded, store::opening_recorded(tx, user_id));
    if (!recorded) return make_error(ErrorCode::kNotFound, "no opening record for this rider");
    return {};  // closed before: a retry
  });
}

// --- backup and restore ---

// seed 000 §2.8 backup (钱包备份)
Status AppBackend::backup(std::string_view user_id, std::string_view phone, ByteView blob,
                          ByteView verifier, int64_t now_ms) {
  if (verifier.size() != kVerifierSize) {
    return make_error(ErrorCode::kMalformed, "verifier must be 32 bytes");
  }
  if (blob.empty()) return make_error(ErrorCode::kInvalidArgument, "the backup is empty");
  ANONCODE_TRY(AppUser u, user(user_id));
  // Only under the rider's own number, so nobody can replace someone else's backup.
  if (!ct_equal(as_bytes(u.phone), as_bytes(phone))) {
    return make_error(ErrorCode::kForbidden, "the phone number is not this account's");
  }
  Bytes b(blob.begin(), blob.end());
  Bytes v(verifier.begin(), verifier.end());
  return db_.transact(
      [&](Tx& tx) -> Status { return store::upsert_backup(tx, phone, b, v, now_ms); });
}

Bytes AppBackend::limit_key(std::string_view kind, std::string_view value) const {
  ByteWriter w;
  w.raw(as_bytes("anoncode/v1/restore-limit")).var(as_bytes(kind)).var(as_bytes(value));
  auto mac = crypto::hmac_sm3(pii_key_, w.bytes());
  return Bytes(mac.begin(), mac.end());
}

Status AppBackend::key_proof_attempt(std::string_view phone, ByteView key_proof,
                                     std::string_view client_address, int64_t now_ms,
                                     bool consumed_matches,
                                     const std::function<Status(Tx&)>& on_match,
                                     int64_t* retry_at_ms) {
  const Bytes phone_key = limit_key(kPhoneKind, phone);
  const Bytes address_key = limit_key(kAddressKind, address_unit(client_address));
  const auto presented = crypto::sm3(key_proof);
  enum class Outcome { kMatched, kWrong, kLimited };
  Outcome outcome = Outcome::kWrong;
  int64_t retry_at = 0;
  std::vector<RestoreLock> new_locks;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    new_locks.clear();
    // 1. A locked phone or address: refused before the proof is looked at.
    ANONCODE_TRY(auto locked, store::locked_until(tx, phone_key, address_key, now_ms));
    if (locked) {
      outcome = Outcome::kLimited;
      retry_at = *locked;
      return {};
    }
    // 2. The proof, against the backup's verifier or, without one, the dummy: the same work. The
    // blob is not read here, so a backup's size cannot show in the time either.
    ANONCODE_TRY(auto backup, store::backup_verifier(tx, phone));
    const bool usable = backup && (consumed_matches || !backup->consumed);
    const bool equal =
        ct_equal(usable ? ByteView(backup->verifier) : ByteView(dummy_verifier_), presented);
    if (usable && equal) {
      ANONCODE_CHECK(store::clear_failures(tx, phone_key));
      ANONCODE_CHECK(on_match(tx));
      outcome = Outcome::kMatched;
      return {};
    }
    // 3. A failure, for the phone and for the address.
    ANONCODE_CHECK(count_failure(tx, phone_key, kPhoneKind, now_ms, new_locks));
    ANONCODE_CHECK(count_failure(tx, address_key, kAddressKind, now_ms, new_locks));
    outcome = Outcome::kWrong;
    return {};
  }));
  for (const auto& lock : new_locks) {
    server::log_warn("restore_locked", {{"kind", lock.kind},
                                        {"hash", lock.hash},
                                        {"failures", lock.failures},
                                        {"locked_until", lock.locked_until}});
    counters::add(counters::Event::kRestoreLocked);
  }
  switch (outcome) {
    case Outcome::kMatched:
      return {};
    case Outcome::kLimited:
      if (retry_at_ms != nullptr) *retry_at_ms = retry_at;
      return restore_limited();
    case Outcome::kWrong:
      break;
  }
  return no_matching_backup();
}

// seed 000 §2.9 restore (钱包恢复): released to a proof of the key, consumed on confirmation
Result<Bytes> AppBackend::restore(std::string_view phone, ByteView key_proof,
                                  std::string_view client_address, int64_t now_ms,
                                  int64_t* retry_at_ms) {
  Bytes blob;
  ANONCODE_CHECK(key_proof_attempt(
      phone, key_proof, client_address, now_ms, /*consumed_matches=*/false,
      [&](Tx& tx) -> Status {
        ANONCODE_TRY(auto stored, store::backup_blob(tx, phone));
        if (!stored)
          return make_error(ErrorCode::kInternal, "the backup vanished in a transaction");
        blob = std::move(*stored);
        return store::release_backup(tx, phone, now_ms);
      },
      retry_at_ms));
  return blob;
}

Status AppBackend::confirm_restore(std::string_view phone, ByteView key_proof,
                                   std::string_view client_address, int64_t now_ms,
                                   int64_t* retry_at_ms) {
  return key_proof_attempt(
      phone, key_proof, client_address, now_ms, /*consumed_matches=*/true,
      [&](Tx& tx) -> Status {
        // The ciphertext goes with the confirmation: the server copy is invalid from now on. A
        // confirmation of a consumed backup (a retry) changes nothing.
        return store::consume_backup(tx, phone, now_ms);
      },
      retry_at_ms);
}

Result<std::vector<RestoreLock>> AppBackend::restore_locks(int64_t now_ms) {
  std::vector<RestoreLock> out;
  ANONCODE_CHECK(db_.transact([&](Tx& tx) -> Status {
    out.clear();
    ANONCODE_TRY(auto rows, store::locks(tx, now_ms));
    for (const auto& r : rows) {
      out.push_back(RestoreLock{r.kind, to_hex(ByteView(r.subject).first(kLockHashBytes)),
                                r.failures, r.locked_until});
    }
    return {};
  }));
  return out;
}

}  // namespace anoncode::app
