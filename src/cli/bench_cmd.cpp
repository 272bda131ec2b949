// `anoncode bench crypto [--group ristretto255|sm2|sm2-openssl|all] [--seconds S]`: the
// cryptographic cost figures as one JSON object (issue #2); with --group all, an object per
// group, measured one after the other in this process (issue #5 compares them side by side).
#include "cli/commands.h"
#include "cli/output.h"
#include "crypto/group.h"
#include "perf/crypto_workload.h"

namespace anoncode::cli {

void add_bench_command(CLI::App& app, Action& action) {
  auto* bench = app.add_subcommand("bench", "measure performance; prints figures as JSON");
  bench->require_subcommand(1);
  auto* crypto_cmd = bench->add_subcommand("crypto", "group, credential, SM2/SM3/SM4 costs");
  static std::string group = "ristretto255";
  static double seconds = 0.05;
  crypto_cmd->add_option("--group", group, "ristretto255, sm2, sm2-openssl, or all");
  crypto_cmd->add_option("--batch-seconds", seconds, "minimum time per measured batch")
      ->check(CLI::Range(0.001, 10.0));
  crypto_cmd->callback([&action] {
    action = [] {
      if (group == "all") {
        nlohmann::json all = nlohmann::json::array();
        for (const auto* g : crypto::all_groups()) all.push_back(perf::measure_crypto(*g, seconds));
        return print_ok({{"groups", all}});
      }
      auto g = crypto::group_by_name(group);
      if (!g) return print_error(g.error());
      return print_ok(perf::measure_crypto(**g, seconds));
    };
  });
}

}  // namespace anoncode::cli
