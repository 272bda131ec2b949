// The seed's codes: every enumerator has one code, and every code reads back as its enumerator.
#include "platform/seed_codes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace anoncode::platform {
namespace {

template <typename E>
void round_trips(std::initializer_list<E> all) {
  std::set<std::string_view> codes;
  for (E e : all) {
    const std::string_view c = to_code(e);
    EXPECT_EQ(c.size(), 2u);
    EXPECT_TRUE(codes.insert(c).second) << "two enumerators share " << c;
    EXPECT_EQ(from_code<E>(c), e);
  }
  EXPECT_FALSE(from_code<E>("").has_value());
  EXPECT_FALSE(from_code<E>("99").has_value());
  EXPECT_FALSE(from_code<E>("1").has_value());
}

TEST(SeedCodes, EveryCodeRoundTripsAndUnknownCodesAreRefused) {
  using T = TransactionType;
  round_trips({T::kRecharge, T::kRide, T::kRefill, T::kRefund, T::kClose});
  using S = TransactionState;
  round_trips({S::kNormal, S::kPaid, S::kRechargeDone, S::kReversed});
  round_trips({AccountType::kAnonymousCode});
  round_trips({RefillState::kRegistered, RefillState::kMoved});
  // The seed's own values (seed 000 §3.3, §3.5): the tables and the history answers carry them.
  EXPECT_EQ(to_code(T::kRecharge), "01");
  EXPECT_EQ(to_code(T::kClose), "05");
  EXPECT_EQ(to_code(S::kRechargeDone), "02");
  EXPECT_EQ(to_code(RefillState::kMoved), "01");
  EXPECT_EQ(kind_name("02"), "ride");
  EXPECT_EQ(kind_name("42"), "other");
}

}  // namespace
}  // namespace anoncode::platform
