#include "kms/terminal_key.h"

#include <gtest/gtest.h>

#include "kms/kms_test_util.h"

#include "common/bytes.h"

namespace anoncode::kms {
namespace {

using testing::hex_of;
using testing::key_hex;

const TacInput kRide{.terminal = "BUS-0042",
                     .counter = 7,
                     .amount = 200,
                     .sequence = "nm20261208003300",
                     .scanned_at = 1765154000123};

// Known answers computed independently in Python with the openssl CLI (`openssl dgst -sm3`,
// `openssl enc -sm4-ecb` / `-sm4-cbc -iv 0 -nopad`) from the layouts in terminal_key.h.
TEST(TerminalKey, DiversifiesByTheTerminalIdAsPbocDoesWithSm4) {
  const SecretBytes master = key_hex("0123456789abcdeffedcba9876543210");
  auto k = diversify_terminal_key(master, "BUS-0042");
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(hex_of(*k), "67b069b56eeb5dbcfc5395a0e9ef2ad0");
  auto other = diversify_terminal_key(master, "BUS-0043");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(hex_of(*other), hex_of(*k));
  auto other_master =
      diversify_terminal_key(key_hex("00112233445566778899aabbccddeeff"), "BUS-0042");
  ASSERT_TRUE(other_master.ok());
  EXPECT_NE(hex_of(*other_master), hex_of(*k));
  EXPECT_FALSE(diversify_terminal_key(master, "").ok());
  EXPECT_FALSE(diversify_terminal_key(master, std::string(33, 'T')).ok());
  EXPECT_FALSE(diversify_terminal_key(SecretBytes(32), "BUS-0042").ok());
}

TEST(TerminalKey, TheTacCoversEveryFieldOfTheRide) {
  const SecretBytes key = key_hex("67b069b56eeb5dbcfc5395a0e9ef2ad0");
  auto tac = ride_tac(key, kRide);
  ASSERT_TRUE(tac.ok()) << tac.error().message;
  EXPECT_EQ(to_hex(ByteView(tac->data(), tac->size())), "05f4457099c51471");
  // Any field changed, or another terminal's key: another TAC.
  std::vector<TacInput> changed(5, kRide);
  changed[0].terminal = "BUS-0043";
  changed[1].counter = 8;
  changed[2].amount = 201;
  changed[3].sequence = "nm20261208003301";
  changed[4].scanned_at += 1;
  for (const auto& c : changed) {
    auto t = ride_tac(key, c);
    ASSERT_TRUE(t.ok());
    EXPECT_FALSE(tac_equal(*t, *tac));
  }
  auto under_other = ride_tac(key_hex("00112233445566778899aabbccddeeff"), kRide);
  ASSERT_TRUE(under_other.ok());
  EXPECT_FALSE(tac_equal(*under_other, *tac));
  EXPECT_TRUE(tac_equal(*ride_tac(key, kRide), *tac));
  // Bad inputs are refused, not truncated.
  TacInput long_sequence = kRide;
  const std::string s(256, '1');
  long_sequence.sequence = s;
  EXPECT_FALSE(ride_tac(key, long_sequence).ok());
  EXPECT_FALSE(ride_tac(SecretBytes(32), kRide).ok());
}

}  // namespace
}  // namespace anoncode::kms
