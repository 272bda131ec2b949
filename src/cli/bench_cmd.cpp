// `anoncode bench crypto [--group ristretto255|sm2|sm2-openssl|all] [--seconds S]`: the
// cryptographic cost figures as one JSON object (issue #2); with --group all, an object per
// group, measured one after the other in this process (issue #5 compares them side by side).
// `anoncode bench flows --server URL --token T …`: code requests and ride settlement against a
// running server (issue #3).
#include <unistd.h>
#include <filesystem>

#include "cli/commands.h"
#include "cli/output.h"
#include "crypto/group.h"
#include "perf/crypto_workload.h"
#include "perf/flows.h"

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

  static perf::FlowsOptions flows;
  static ServerOption server;
  static std::string work_dir;
  auto* flows_cmd = bench->add_subcommand(
      "flows", "code requests/s, p50/p99 and rides settled/s against a running server");
  add_server_options(flows_cmd, server);
  flows_cmd->add_option("--token", flows.admin_token, "the admin token (or ANONCODE_ADMIN_TOKEN)")
      ->envname("ANONCODE_ADMIN_TOKEN")
      ->required();
  flows_cmd
      ->add_option("--trust-root", flows.trust_root,
                   "the operator's root public key: the trust_root file of `anoncode init`, or its "
                   "text (or ANONCODE_TRUST_ROOT)")
      ->envname("ANONCODE_TRUST_ROOT")
      ->required();
  flows_cmd->add_option("--riders", flows.riders, "concurrent riders requesting codes")
      ->check(CLI::Range(1, 256));
  flows_cmd->add_option("--seconds", flows.seconds, "how long riders request codes")
      ->check(CLI::Range(0.1, 3600.0));
  flows_cmd->add_option("--rides", flows.rides, "rides scanned and uploaded")
      ->check(CLI::Range(1, 1'000'000));
  flows_cmd->add_option("--batch", flows.batch, "rides per upload request (one terminal's batch)")
      ->check(CLI::Range(1, 1000));
  flows_cmd->add_option("--uploaders", flows.uploaders, "terminals uploading at once")
      ->check(CLI::Range(1, 64));
  flows_cmd->add_option("--work-dir", work_dir,
                        "where the bench riders' wallets and terminals' stores go (default: a "
                        "new directory under the system's temporary directory)");
  flows_cmd->callback([&action] {
    action = [] {
      auto endpoint = endpoint_of(server);
      if (!endpoint) return print_error(endpoint.error());
      flows.server = *endpoint;
      flows.work_dir = work_dir.empty() ? std::filesystem::temp_directory_path() /
                                              ("anoncode-bench-" + std::to_string(::getpid()))
                                        : std::filesystem::path(work_dir);
      auto figures = perf::measure_flows(flows);
      if (work_dir.empty()) {  // our own directory: the bench wallets' keys go with it
        std::error_code ignored;
        std::filesystem::remove_all(flows.work_dir, ignored);
      }
      if (!figures) return print_error(figures.error());
      return print_ok(*figures);
    };
  });
}

}  // namespace anoncode::cli
