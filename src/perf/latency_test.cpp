#include "perf/latency.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace anoncode::perf {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(Percentile, NearestRankOfTheSortedSamples) {
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 1.0);  // 1 … 100
  std::shuffle(v.begin(), v.end(), std::mt19937(7));
  EXPECT_EQ(percentile(v, 0.0), 1);
  EXPECT_EQ(percentile(v, 0.50), 51);  // rank round(0.5 · 99) = 50 (0-based)
  EXPECT_EQ(percentile(v, 0.99), 99);
  EXPECT_EQ(percentile(v, 0.999), 100);
  EXPECT_EQ(percentile(v, 1.0), 100);
}

TEST(Percentile, EmptyAndSingleSample) {
  EXPECT_EQ(percentile({}, 0.5), 0);
  EXPECT_EQ(percentile({4.5}, 0.0), 4.5);
  EXPECT_EQ(percentile({4.5}, 0.999), 4.5);
}

TEST(Percentile, OrderedAndAtMostTheMaximum) {
  std::mt19937 rng(11);
  std::exponential_distribution<double> latency(0.1);
  std::vector<double> v(5000);
  for (auto& x : v) x = latency(rng);
  const double max = *std::max_element(v.begin(), v.end());
  EXPECT_LE(percentile(v, 0.50), percentile(v, 0.99));
  EXPECT_LE(percentile(v, 0.99), percentile(v, 0.999));
  EXPECT_LE(percentile(v, 0.999), max);
}

TEST(ArrivalSchedule, CountsTheArrivalsDueBeforeTheEnd) {
  EXPECT_EQ((ArrivalSchedule{20, 2}.count()), 40u);
  EXPECT_EQ((ArrivalSchedule{30, 0.1}.count()), 3u);  // 0.1 · 30 is 3.0000000000000004
  EXPECT_EQ((ArrivalSchedule{3, 0.5}.count()), 2u);   // due at 0 and 1/3 s
  EXPECT_EQ((ArrivalSchedule{100000, 3600}.count()), 360'000'000u);
}

TEST(ArrivalSchedule, FixedTimesFromTheStart) {
  const ArrivalSchedule s{20, 2};
  EXPECT_EQ(s.due(0), nanoseconds(0));
  EXPECT_EQ(s.due(1), milliseconds(50));
  EXPECT_EQ(s.due(39), milliseconds(1950));
  const ArrivalSchedule third{3, 10};
  EXPECT_EQ(third.due(1), nanoseconds(333'333'333));
  EXPECT_EQ(third.due(3), nanoseconds(1'000'000'000));  // no rounding carried from earlier ones
  const ArrivalSchedule fast{100000, 3600};
  EXPECT_EQ(fast.due(fast.count() - 1), nanoseconds(3600'000'000'000 - 10'000));
}

}  // namespace
}  // namespace anoncode::perf
