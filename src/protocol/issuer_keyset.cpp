// DESIGN §3.6 rule 4: signed issuer key sets
#include "protocol/issuer_keyset.h"

#include <nlohmann/json.hpp>

#include <map>

#include "crypto/sm3.h"

namespace anoncode::protocol {

namespace {

// What the root signs: "anoncode/v1/issuer-keyset" ‖ body.
std::string signed_message(std::string_view body) {
  return "anoncode/v1/issuer-keyset" + std::string(body);
}

Error malformed(const char* what) {
  return make_error(ErrorCode::kMalformed, std::string("issuer key set: ") + what);
}

// An integer member. nlohmann reads 1.5, 1e300 and integers past the int64 range as numbers
// get<int64_t>() converts (the last two with undefined behaviour): refused, like a missing one.
int64_t integer(const nlohmann::json& j, const char* name) {
  const nlohmann::json& v = j.at(name);
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
    throw nlohmann::json::type_error::create(302, std::string(name) + " is not an integer", &v);
  }
  return v.get<int64_t>();
}

}  // namespace

std::string IssuerKeySet::body() const {
  nlohmann::json keys_json = nlohmann::json::array();
  for (const auto& k : keys) {
    keys_json.push_back({{"kid", k.kid},
                         {"public_key", to_base64url(k.public_key)},
                         {"valid_from", k.valid_from},
                         {"valid_until", k.valid_until}});
  }
  nlohmann::json j = {{"version", 1},
                      {"sequence", sequence},
                      {"group", group},
                      {"issuing_kid", issuing_kid},
                      {"keys", std::move(keys_json)},
                      {"published_at", published_at}};
  return j.dump();  // nlohmann's objects are sorted by key: one canonical text
}

Result<IssuerKeySet> IssuerKeySet::parse(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return malformed("not a JSON object");
  try {
    if (integer(j, "version") != 1) return malformed("unknown version");
    IssuerKeySet s;
    s.sequence = integer(j, "sequence");
    s.group = j.at("group").get<std::string>();
    s.issuing_kid = j.at("issuing_kid").get<std::string>();
    s.published_at = integer(j, "published_at");
    for (const auto& k : j.at("keys")) {
      IssuerKeyEntry e;
      e.kid = k.at("kid").get<std::string>();
      auto pk = from_base64url(k.at("public_key").get<std::string>());
      if (!pk) return malformed("a public key is not base64url");
      e.public_key = *pk;
      e.valid_from = integer(k, "valid_from");
      e.valid_until = integer(k, "valid_until");
      s.keys.push_back(std::move(e));
    }
    if (s.sequence < 1 || s.keys.empty() || s.keys.size() > 64) return malformed("bad shape");
    return s;
  } catch (const nlohmann::json::exception&) {
    return malformed("missing or mistyped field");
  }
}

Result<SignedKeySet> sign_keyset(const IssuerKeySet& set, const crypto::Sm2PrivateKey& root) {
  SignedKeySet out;
  out.body = set.body();
  ANONCODE_TRY(out.signature, crypto::sm2_sign(root, as_bytes(signed_message(out.body))));
  return out;
}

Result<IssuerKeySet> verify_keyset(const SignedKeySet& signed_set,
                                   const crypto::Sm2PublicKey& trust_root, int64_t min_sequence,
                                   int64_t now_ms) {
  if (!crypto::sm2_verify(trust_root, as_bytes(signed_message(signed_set.body)),
                          signed_set.signature)) {
    return make_error(ErrorCode::kVerificationFailed,
                      "the issuer key set is not signed by the trust root");
  }
  ANONCODE_TRY(IssuerKeySet set, IssuerKeySet::parse(signed_set.body));
  if (set.sequence < min_sequence) {
    return make_error(ErrorCode::kVerificationFailed,
                      "the issuer key set is older than one seen before");
  }
  bool issuing_listed = false;
  size_t valid_now = 0;
  for (const auto& k : set.keys) {
    issuing_listed = issuing_listed || k.kid == set.issuing_kid;
    valid_now += k.valid_at(now_ms) ? 1 : 0;
  }
  if (!issuing_listed) return malformed("the issuing key is not listed");
  if (valid_now > kMaxConcurrentIssuerKeys) {
    return make_error(ErrorCode::kIssuerMisbehaved,
                      "the issuer key set names more than two keys valid at once");
  }
  return set;
}

Result<crypto::Sm2PublicKey> parse_trust_root(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  auto raw = from_base64url(text);
  if (!raw) return make_error(ErrorCode::kInvalidArgument, "the trust root is not base64url");
  return crypto::Sm2PublicKey::from_bytes(*raw);
}

}  // namespace anoncode::protocol
