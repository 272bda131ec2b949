// Violation evidence (protocol/evidence.h): verify_evidence reads the JSON document an
// administrator is handed with a violation (`anoncode admin violations verify`, the console's
// mark), ShowRecord::from_json each show's context. Input: the document, checked against the
// issuer public keys of tests/data/credential.vec (make_corpus builds a valid clone's evidence
// under them).
//
// Properties: no crash; evidence that verifies names the J it claims, in its group; a show
// context that reads survives to_json and back; evidence_status never crashes.
#include <vector>

#include "crypto/credential.h"
#include "fuzz_util.h"
#include "protocol/evidence.h"

using namespace anoncode;
using namespace anoncode::protocol;

namespace {

const std::vector<crypto::IssuerPublicKey>& keys() {
  static const std::vector<crypto::IssuerPublicKey> all = [] {
    std::vector<crypto::IssuerPublicKey> out;
    for (const crypto::Group* g : crypto::all_groups()) {
      crypto::SeededRng rng("anoncode/credential-kat");
      out.push_back(crypto::IssuerKey::generate(*g, rng).public_key());
    }
    return out;
  }();
  return all;
}

void check_record(const nlohmann::json& j) {
  auto r = ShowRecord::from_json(j);
  if (!r) return;
  auto again = ShowRecord::from_json(r->to_json());
  FUZZ_CHECK(again);
  FUZZ_CHECK(again->op == r->op && again->scopes == r->scopes && again->identity == r->identity &&
             again->wallet == r->wallet && again->accountid == r->accountid &&
             again->amount == r->amount);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = fuzz::as_json(data, size);
  if (!j) return 0;
  check_record(*j);
  if (j->is_object() && j->contains("shows") && (*j)["shows"].is_array()) {
    for (const auto& s : (*j)["shows"]) {
      if (s.is_object() && s.contains("context")) check_record(s["context"]);
    }
  }
  auto v = verify_evidence(*j, keys());
  if (v) {
    FUZZ_CHECK(v->group != nullptr && v->j == v->group->encode_point(v->J));
    FUZZ_CHECK((*j)["j"].is_string() && to_hex(v->j) == (*j)["j"].get<std::string>());
  }
  (void)evidence_status(std::optional<std::string>(fuzz::as_text(data, size)), keys());
  return 0;
}
