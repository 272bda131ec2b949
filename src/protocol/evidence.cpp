// DESIGN §3.6 rule 7: evidence with every violation
#include "protocol/evidence.h"

namespace anoncode::protocol {

using nlohmann::json;

namespace {

Error malformed(const std::string& what) {
  return make_error(ErrorCode::kMalformed, "evidence: " + what);
}
Error failed(const std::string& what) {
  return make_error(ErrorCode::kVerificationFailed, "evidence: " + what);
}

Result<Bytes> hex_field(const json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) {
    return malformed(std::string(name) + " is missing or not a string");
  }
  auto b = from_hex(j[name].get<std::string>());
  if (!b) return malformed(std::string(name) + " is not hex");
  return *b;
}

// An integer member as int64, or nullopt for anything else: nlohmann converts 1.5 and 1e300 in
// get<int>() (the latter with undefined behaviour) and wraps integers past the target's range.
std::optional<int64_t> integer(const json& v) {
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
    return std::nullopt;
  }
  return v.get<int64_t>();
}

// One show, checked with public keys alone: what verify_show_public returns.
Result<crypto::VerifiedShow> check_show(const json& show, size_t index,
                                        std::span<const crypto::IssuerPublicKey> keys,
                                        const crypto::Group** group) {
  const std::string which = "show " + std::to_string(index + 1);
  if (!show.is_object() || !show.contains("context")) return malformed(which + " is not an object");
  ANONCODE_TRY(Bytes bytes, hex_field(show, "request"));
  ANONCODE_TRY(Bytes kid, hex_field(show, "kid"));
  ANONCODE_TRY(Bytes mac_proof, hex_field(show, "mac_proof"));
  ANONCODE_TRY(ShowRecord record, ShowRecord::from_json(show["context"]));
  auto req = crypto::ShowRequest::decode(bytes);
  if (!req) return failed(which + ": the request does not decode");
  if (kid != Bytes(req->kid.begin(), req->kid.end())) {
    return failed(which + ": the kid is not the request's");
  }
  if (record.op != req->op) return failed(which + ": the operation is not the request's");
  const crypto::IssuerPublicKey* pub = nullptr;
  for (const auto& k : keys) {
    if (k.kid() == req->kid && &k.group() == req->group) pub = &k;
  }
  if (pub == nullptr) {
    return make_error(ErrorCode::kUnknownKey, "evidence: " + which + " names issuer key " +
                                                  to_hex(kid) +
                                                  ", which no published key set lists");
  }
  if (*group != nullptr && *group != req->group) return failed("the shows are in two groups");
  *group = req->group;
  std::optional<crypto::Point> identity;
  if (record.identity) {
    auto p = req->group->decode_point(*record.identity);
    if (!p) return failed(which + ": the identity is not a group element");
    identity = *p;
  }
  auto v = crypto::verify_show_public(*pub, *req, identity ? &*identity : nullptr, record.scopes,
                                      mac_proof);
  if (!v) return failed(which + " does not verify");
  return *v;
}

}  // namespace

json ShowRecord::to_json() const {
  return {{"op", static_cast<int>(op)},
          {"scopes", scopes},
          {"identity", identity ? json(to_hex(*identity)) : json(nullptr)},
          {"wallet", wallet},
          {"accountid", accountid},
          {"amount", amount}};
}

Result<ShowRecord> ShowRecord::from_json(const json& j) {
  if (!j.is_object()) return malformed("a show context is not an object");
  try {
    ShowRecord r;
    const auto op = integer(j.at("op"));
    if (!op || *op < 0 || *op > 255 || !crypto::is_valid_show_op(static_cast<uint8_t>(*op))) {
      return malformed("unknown operation");
    }
    r.op = static_cast<crypto::ShowOp>(*op);
    r.scopes = j.at("scopes").get<std::vector<std::string>>();
    if (r.scopes.size() > crypto::kMaxPseudonyms) return malformed("too many scopes");
    if (!j.at("identity").is_null()) {
      auto b = from_hex(j.at("identity").get<std::string>());
      if (!b) return malformed("the identity is not hex");
      r.identity = *b;
    }
    r.wallet = j.value("wallet", std::string());
    r.accountid = j.value("accountid", std::string());
    if (j.contains("amount")) {
      const auto amount = integer(j["amount"]);
      if (!amount) return malformed("a show context's amount is not an integer");
      r.amount = *amount;
    }
    return r;
  } catch (const json::exception&) {
    return malformed("a show context has a missing or mistyped field");
  }
}

json make_evidence(const crypto::Group& g, const crypto::Scalar& serial, const crypto::Point& J,
                   const EvidenceShow& first, const EvidenceShow& second) {
  json shows = json::array();
  for (const EvidenceShow* s : {&first, &second}) {
    auto req = crypto::ShowRequest::decode(s->request);
    shows.push_back({{"request", to_hex(s->request)},
                     {"kid", req ? to_hex(req->kid) : std::string()},
                     {"context", s->record.to_json()},
                     {"mac_proof", to_hex(s->mac_proof)},
                     {"at", s->at}});
  }
  return {{"version", kEvidenceVersion},    {"kind", "clone"},
          {"group", std::string(g.name())}, {"serial", to_hex(g.encode_scalar(serial))},
          {"j", to_hex(g.encode_point(J))}, {"shows", std::move(shows)}};
}

Result<VerifiedEvidence> verify_evidence(const json& evidence,
                                         std::span<const crypto::IssuerPublicKey> keys) {
  if (!evidence.is_object()) return malformed("not a JSON object");
  if (!evidence.contains("version") || !evidence["version"].is_number_integer() ||
      evidence["version"].get<int>() != kEvidenceVersion) {
    return malformed("unknown version");
  }
  if (evidence.value("kind", std::string()) != "clone") return malformed("unknown kind");
  if (!evidence.contains("shows") || !evidence["shows"].is_array() ||
      evidence["shows"].size() != 2) {
    return malformed("a clone's evidence has exactly two shows");
  }
  ANONCODE_TRY(Bytes claimed_j, hex_field(evidence, "j"));
  ANONCODE_TRY(Bytes claimed_serial, hex_field(evidence, "serial"));
  const crypto::Group* g = nullptr;
  ANONCODE_TRY(crypto::VerifiedShow a, check_show(evidence["shows"][0], 0, keys, &g));
  ANONCODE_TRY(crypto::VerifiedShow b, check_show(evidence["shows"][1], 1, keys, &g));
  if (evidence.value("group", std::string()) != g->name()) {
    return failed("the group is not the shows'");
  }
  if (!a.s.ct_equal(b.s)) return failed("the two shows reveal different serials");
  auto serial = g->encode_scalar(a.s);
  if (claimed_serial != Bytes(serial.begin(), serial.end())) {
    return failed("the serial is not the shows'");
  }
  // Equal challenges are the same request twice, not a clone; trace_double_show refuses them.
  auto traced = crypto::trace_double_show(*g, a.R, a.C, b.R, b.C);
  if (!traced) return failed("the two shows have the same challenge: a replay, not a clone");
  // The rider's secret goes no further (a Scalar is zeroized when it is destroyed).
  VerifiedEvidence out{g, traced->J, g->encode_point(traced->J)};
  if (out.j != claimed_j) return failed("the shows trace to another J than the one claimed");
  return out;
}

Result<std::vector<crypto::IssuerPublicKey>> issuer_keys_of(std::span<const IssuerKeySet> sets) {
  std::vector<crypto::IssuerPublicKey> out;
  for (const auto& set : sets) {
    for (const auto& entry : set.keys) {
      ANONCODE_TRY(crypto::IssuerPublicKey pub, crypto::IssuerPublicKey::decode(entry.public_key));
      if (to_hex(pub.kid()) != entry.kid) {
        return malformed("issuer key set " + std::to_string(set.sequence) + ": key " + entry.kid +
                         " has another kid");
      }
      bool seen = false;
      for (const auto& k : out) seen = seen || (k.kid() == pub.kid() && &k.group() == &pub.group());
      if (!seen) out.push_back(std::move(pub));
    }
  }
  return out;
}

std::string evidence_status(const std::optional<std::string>& evidence,
                            std::span<const crypto::IssuerPublicKey> keys) {
  if (!evidence) return "absent";
  auto doc = json::parse(*evidence, nullptr, false);
  if (doc.is_discarded()) return "invalid";
  return verify_evidence(doc, keys).ok() ? "verified" : "invalid";
}

}  // namespace anoncode::protocol
