// The anonymous credential's wire codec (crypto/credential.h, docs/PROTOCOL.md §6): the messages
// a service receives from riders (OpenRequest, ShowRequest), the issuer's answer a rider receives
// (IssueResponse), the published issuer public key, and the secret states a device or a data
// directory reads back (IssuerKey, PendingIssue, Credential). All share one header: version,
// type, group id.
//
// Properties: no crash; what decodes re-encodes to exactly the input (one encoding per object);
// a decoded open or show request goes through the issuer's proof check (the sigma proof decoder)
// without crashing, under the key of tests/data/credential.vec so its vectors verify.
#include <array>
#include <string>
#include <vector>

#include "crypto/credential.h"
#include "fuzz_util.h"

using namespace anoncode;
using namespace anoncode::crypto;

namespace {

// The known-answer run's issuer (tests/data/credential.vec), one per group.
struct Fixture {
  const Group* group = nullptr;
  std::optional<Issuer> issuer = {};
  std::optional<IssuerPublicKey> public_key = {};
};

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> all = [] {
    std::vector<Fixture> out;
    for (const Group* g : all_groups()) {
      SeededRng rng("anoncode/credential-kat");
      Fixture f;
      f.group = g;
      f.issuer.emplace(*g);
      IssuerKey key = IssuerKey::generate(*g, rng);
      f.public_key.emplace(key.public_key());
      FUZZ_CHECK(f.issuer->add_key(std::move(key)).ok());
      out.push_back(std::move(f));
    }
    return out;
  }();
  return all;
}

const Fixture& fixture_of(const Group& g) {
  for (const auto& f : fixtures()) {
    if (f.group == &g) return f;
  }
  std::abort();
}

template <typename T>
void public_round_trip(ByteView in) {
  auto m = T::decode(in);
  if (m) FUZZ_CHECK(m->encode() == to_bytes(in));
}

template <typename T>
void secret_round_trip(ByteView in) {
  auto m = T::decode_secret(SecretBytes(in));
  if (m) {
    SecretBytes again = m->encode_secret();
    FUZZ_CHECK(again.size() == in.size() &&
               std::equal(in.begin(), in.end(), again.expose_secret().begin()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  public_round_trip<IssuerPublicKey>(in);
  public_round_trip<IssueResponse>(in);
  secret_round_trip<IssuerKey>(in);
  secret_round_trip<PendingIssue>(in);
  secret_round_trip<Credential>(in);

  if (auto req = OpenRequest::decode(in)) {
    FUZZ_CHECK(req->encode() == to_bytes(in));
    (void)fixture_of(*req->group).issuer->verify_open(*req, req->ctx);
  }
  if (auto req = ShowRequest::decode(in)) {
    FUZZ_CHECK(req->encode() == to_bytes(in));
    const Group& g = *req->group;
    const Fixture& f = fixture_of(g);
    // The scopes and identity of the known-answer refund; other shows fail, without a crash.
    std::vector<std::string> scopes = {std::string(24, 'A'), std::string(24, 'B')};
    scopes.resize(req->pseudonyms.size());
    Point identity = g.generator();
    const Point* id = req->op == ShowOp::kRefund ? &identity : nullptr;
    auto verified = f.issuer->verify_show_proof(*req, req->ctx, id, scopes);
    SeededRng rng("fuzz/prove_mac");
    if (auto proof = f.issuer->prove_mac(*req, rng)) {
      // The issuer attests only a true MAC; with its proof, the public check agrees with its own.
      auto pub = verify_show_public(*f.public_key, *req, id, scopes, *proof);
      FUZZ_CHECK(pub.ok() == verified.ok());
    }
  }
  return 0;
}
