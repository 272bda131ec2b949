// Google Benchmark over the same workload `anoncode bench crypto` measures
// (src/perf/crypto_workload.h): every operation, on every group.
#include <benchmark/benchmark.h>

#include "crypto/group.h"
#include "perf/crypto_workload.h"

namespace {

void register_all() {
  using anoncode::perf::CryptoWorkload;
  for (const auto* g : anoncode::crypto::all_groups()) {
    // Leaked on purpose: the benchmarks refer to it until the process exits.
    auto* w = new CryptoWorkload(*g);
    for (const auto& op : w->ops()) {
      std::string name = std::string(g->name()) + "/" + op.name;
      benchmark::RegisterBenchmark(name.c_str(), [&op](benchmark::State& state) {
        for (auto _ : state) op.run();
        if (op.bytes > 0)
          state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * op.bytes));
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
