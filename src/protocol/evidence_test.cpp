// Violation evidence (docs/PROTOCOL.md §9.10): the show contexts it carries, read back.
#include "protocol/evidence.h"

#include <gtest/gtest.h>

namespace anoncode::protocol {
namespace {

// A show context as the privacy backend writes it, with one member replaced by raw JSON text.
nlohmann::json context_with(const std::string& member, const std::string& value) {
  ShowRecord r;
  r.op = crypto::ShowOp::kRefund;
  r.wallet = std::string(24, 'A');
  r.amount = 500;
  auto j = r.to_json();
  j[member] = nlohmann::json::parse(value);
  return j;
}

TEST(ShowRecord, RoundTrips) {
  ShowRecord r;
  r.op = crypto::ShowOp::kRecharge;
  r.scopes = {std::string(24, 'A'), std::string(24, 'B')};
  r.identity = Bytes{1, 2, 3};
  r.accountid = "1234567890123456789";
  r.amount = 1000;
  auto back = ShowRecord::from_json(r.to_json());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->op, r.op);
  EXPECT_EQ(back->scopes, r.scopes);
  EXPECT_EQ(back->identity, r.identity);
  EXPECT_EQ(back->accountid, r.accountid);
  EXPECT_EQ(back->amount, r.amount);
}

// The same class of bug fuzz/issuer_keyset_fuzz found in IssuerKeySet::parse, confirmed on this
// reader with fuzz/evidence_fuzz: get<int>() and value(…, int64_t) on 1e300 are float-to-int
// conversions out of range (undefined behaviour; UBSan reports them), 1.5 read as 1, and
// 4294967297 wrapped to op 1. Only JSON integers in range are read.
TEST(ShowRecord, RefusesNumbersThatAreNotIntegersInRange) {
  ASSERT_TRUE(ShowRecord::from_json(context_with("op", "4")).ok());
  for (std::string bad : {"1e300", "-1e300", "1.5", "4294967297", "18446744073709551615", "\"1\"",
                          "null", "0", "6", "256"}) {
    SCOPED_TRACE(bad);
    auto r = ShowRecord::from_json(context_with("op", bad));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kMalformed);
  }
  ASSERT_TRUE(ShowRecord::from_json(context_with("amount", "-7")).ok());
  for (std::string bad : {"1e300", "1.5", "18446744073709551615", "\"5\"", "null"}) {
    SCOPED_TRACE(bad);
    auto r = ShowRecord::from_json(context_with("amount", bad));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kMalformed);
  }
}

}  // namespace
}  // namespace anoncode::protocol
