// Constant-time check of the key components' arithmetic (ctgrind, as src/crypto/sm2p256_ct_test):
// under valgrind's memcheck the secret, the polynomial's coefficients and the shares are marked
// "undefined", so a branch or a memory index computed from them is reported (ctest runs it with
// --error-exitcode=1). Results are marked "defined" before they are compared.
//   kms_ct_test                 the checks; exit 0 when every result is right
//   kms_ct_test --leak-branch   a deliberate branch on a secret byte (valgrind must object)
#include <valgrind/memcheck.h>

#include <cstdio>
#include <string_view>

#include "kms/shamir.h"

namespace anoncode::kms {
namespace {

void secret(std::span<const uint8_t> s) {
  VALGRIND_MAKE_MEM_UNDEFINED(s.data(), s.size());
}
void reveal(std::span<const uint8_t> s) {
  VALGRIND_MAKE_MEM_DEFINED(s.data(), s.size());
}

// Fills like the seeded generator, then marks what it filled secret (the coefficients).
class SecretRng final : public crypto::Rng {
 public:
  void fill(std::span<uint8_t> out) override {
    inner_.fill(out);
    secret(out);
  }

 private:
  crypto::SeededRng inner_{"ct"};
};

int run() {
  int failures = 0;
  SecretBytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key.expose_secret_mut()[i] = static_cast<uint8_t>(7 * i);
  secret(key.expose_secret());
  SecretRng rng;
  auto shares = split(key, 3, 5, rng);
  if (!shares.ok()) return 1;
  for (auto& s : *shares) secret(s.y.expose_secret());
  auto back = combine({(*shares)[4], (*shares)[1], (*shares)[2]});
  if (!back.ok()) return 1;
  reveal(back->expose_secret());
  reveal(key.expose_secret());
  if (!std::equal(key.expose_secret().begin(), key.expose_secret().end(),
                  back->expose_secret().begin())) {
    std::fprintf(stderr, "FAIL: the key did not rebuild\n");
    ++failures;
  }
  uint8_t a = 0x57, b = 0x83;
  secret({&a, 1});
  secret({&b, 1});
  uint8_t p = gf256_mul(a, b), inv = gf256_inv(a);
  reveal({&p, 1});
  reveal({&inv, 1});
  if (p != 0xc1 || gf256_mul(0x57, inv) != 1) {
    std::fprintf(stderr, "FAIL: gf256\n");
    ++failures;
  }
  return failures;
}

int leak_branch() {
  uint8_t s = 3;
  secret({&s, 1});
  volatile int sink = 0;
  if (gf256_mul(s, 5) > 7) sink = 1;  // a branch on a secret: valgrind must report it
  return sink;
}

}  // namespace
}  // namespace anoncode::kms

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "--leak-branch") return anoncode::kms::leak_branch() * 0;
  if (!mode.empty()) {
    std::fprintf(stderr, "usage: %s [--leak-branch]\n", argv[0]);
    return 2;
  }
  if (RUNNING_ON_VALGRIND == 0) {
    std::fprintf(stderr, "note: not under valgrind; running the code without the checks\n");
  }
  return anoncode::kms::run();
}
