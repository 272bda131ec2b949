#include "kms/terminal_key.h"

#include <sodium.h>

#include <algorithm>

#include "common/bytes.h"
#include "crypto/sm3.h"
#include "crypto/sm4.h"

namespace anoncode::kms {

namespace {

constexpr size_t kMaxTerminalId = 32;

void put_u64(Bytes& out, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(u >> (8 * i)));
}

Status put_var(Bytes& out, std::string_view s, const char* what) {
  if (s.size() > 255) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + " longer than 255 bytes");
  }
  out.push_back(static_cast<uint8_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
  return {};
}

}  // namespace

Result<SecretBytes> diversify_terminal_key(const SecretBytes& master, std::string_view terminal) {
  if (master.size() != crypto::kSm4KeySize) {
    return make_error(ErrorCode::kInvalidArgument, "the terminal master key is 16 bytes");
  }
  if (terminal.empty() || terminal.size() > kMaxTerminalId) {
    return make_error(ErrorCode::kInvalidArgument, "a terminal id is 1 to 32 characters");
  }
  Bytes label = to_bytes(as_bytes(std::string_view("anoncode/v1/terminal-id")));
  label.insert(label.end(), terminal.begin(), terminal.end());
  const auto digest = crypto::sm3(label);
  Bytes block(crypto::kSm4BlockSize);
  for (size_t i = 0; i < 8; ++i) {
    block[i] = digest[i];
    block[8 + i] = static_cast<uint8_t>(~digest[i]);
  }
  ANONCODE_TRY(Bytes key, crypto::sm4_encrypt_block(master, block));
  SecretBytes out{std::span<const uint8_t>(key)};
  sodium_memzero(key.data(), key.size());
  return out;
}

Result<Tac> ride_tac(const SecretBytes& terminal_key, const TacInput& ride) {
  if (terminal_key.size() != crypto::kSm4KeySize) {
    return make_error(ErrorCode::kInvalidArgument, "a terminal key is 16 bytes");
  }
  Bytes data = to_bytes(as_bytes(std::string_view("anoncode/v1/tac")));
  ANONCODE_CHECK(put_var(data, ride.terminal, "the terminal id"));
  put_u64(data, ride.counter);
  put_u64(data, ride.amount);
  ANONCODE_CHECK(put_var(data, ride.sequence, "the code sequence"));
  put_u64(data, ride.scanned_at);
  // ISO/IEC 9797-1 padding method 2, then CBC with a zero IV: the MAC is the last block. The
  // library's CBC adds PKCS#7 padding of its own, one more block, which is dropped.
  data.push_back(0x80);
  while (data.size() % crypto::kSm4BlockSize != 0) data.push_back(0);
  ANONCODE_TRY(Bytes cbc,
               crypto::sm4_cbc_encrypt(terminal_key, Bytes(crypto::kSm4BlockSize, 0), data));
  if (cbc.size() < data.size()) return make_error(ErrorCode::kInternal, "tac: short CBC output");
  Tac tac{};
  std::copy_n(cbc.begin() + static_cast<ptrdiff_t>(data.size() - crypto::kSm4BlockSize), tac.size(),
              tac.begin());
  return tac;
}

bool tac_equal(const Tac& a, const Tac& b) {
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace anoncode::kms
