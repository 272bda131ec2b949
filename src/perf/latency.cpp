#include "perf/latency.h"

#include <algorithm>
#include <cmath>

namespace anoncode::perf {

double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[std::min(i, samples.size() - 1)];
}

size_t ArrivalSchedule::count() const {
  // The tolerance keeps a product such as 0.1 · 30 = 3.0000000000000004 at 3 arrivals.
  return static_cast<size_t>(std::max(0.0, std::ceil(seconds * rate - 1e-9)));
}

std::chrono::nanoseconds ArrivalSchedule::due(size_t i) const {
  return std::chrono::nanoseconds(std::llround(static_cast<double>(i) * 1e9 / rate));
}

}  // namespace anoncode::perf
