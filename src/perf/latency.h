// Latency figures shared by the benches that time requests (`bench flows`, `bench
// slow-clients`), and the arrival schedule of an open-loop run.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

namespace anoncode::perf {

// The p-quantile (0 ≤ p ≤ 1) of the samples, nearest rank on the sorted samples; 0 when empty.
double percentile(std::vector<double> samples, double p);

// Open-loop arrivals: `rate` per second for `seconds`, the i-th due at i / rate after the start
// whatever became of the earlier ones — so a slow answer cannot delay the next request.
struct ArrivalSchedule {
  double rate = 1;
  double seconds = 1;
  // The arrivals due in [0, seconds): ⌈seconds · rate⌉.
  size_t count() const;
  // When the i-th arrival is due, after the start (from i, so rounding does not accumulate).
  std::chrono::nanoseconds due(size_t i) const;
};

}  // namespace anoncode::perf
