// `anoncode bench crypto [--group ristretto255|sm2|sm2-openssl|all] [--seconds S]`: the
// cryptographic cost figures as one JSON object (issue #2); with --group all, an object per
// group, measured one after the other in this process (issue #5 compares them side by side).
// `anoncode bench flows --server URL --token T …`: code requests and ride settlement against a
// running server (issue #3); with --rate, code requests at a fixed arrival rate (issue #11).
// `anoncode bench slow-clients [--server URL] …`: /healthz (and a code request) while slow and
// idle clients hold connections (issue #11); a table on stderr, the JSON on stdout.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/output.h"
#include "crypto/group.h"
#include "perf/crypto_workload.h"
#include "perf/flows.h"
#include "perf/slow_clients.h"

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
      "flows",
      "code requests/s and p50/p99 (or, with --rate, latency at a fixed arrival rate) and rides "
      "settled/s against a running server");
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
  flows_cmd
      ->add_option("--riders", flows.riders,
                   "concurrent riders requesting codes (default 8; with --rate, the pool serving "
                   "the arrivals, default 64)")
      ->check(CLI::Range(1, 256));
  flows_cmd->add_option("--seconds", flows.seconds, "how long codes are requested")
      ->check(CLI::Range(0.1, 3600.0));
  // A range check would accept 0, which is not a rate: the bound is exclusive below.
  const CLI::Validator rate_check(
      [](const std::string& text) -> std::string {
        double rate = 0;
        if (!CLI::detail::lexical_cast(text, rate) || !(rate > 0 && rate <= perf::kMaxRate)) {
          return "--rate must be > 0 and <= 100000 code requests per second, not " + text;
        }
        return "";
      },
      "(0 - 100000]");
  flows_cmd
      ->add_option("--rate", flows.rate,
                   "open loop: code requests arriving at this fixed rate per second, served by "
                   "the riders; reports p50/p99/p99.9 latency from each scheduled arrival")
      ->check(rate_check);
  flows_cmd->add_option("--rides", flows.rides, "rides scanned and uploaded")
      ->check(CLI::Range(1, 1'000'000));
  flows_cmd->add_option("--batch", flows.batch, "rides per upload request (one terminal's batch)")
      ->check(CLI::Range(1, 1000));
  flows_cmd->add_option("--uploaders", flows.uploaders, "terminals uploading at once")
      ->check(CLI::Range(1, 64));
  flows_cmd
      ->add_option("--wallets", flows.wallets,
                   "wallets the rides come from (default: the riders; more wallets spread a "
                   "batch's charges as real terminals see them)")
      ->check(CLI::Range(0, 100'000));
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

  static perf::SlowClientsOptions slow;
  static std::string slow_server, slow_ca, slow_work_dir;
  auto* slow_cmd = bench->add_subcommand(
      "slow-clients",
      "/healthz p50/p99 (and a code request's) while slow and idle clients hold connections "
      "(loopback only)");
  slow_cmd->add_option("--server", slow_server,
                       "a plain http:// loopback URL (serve --plain-http); default: a server "
                       "started by the bench (the HTTP layer only)");
  slow_cmd->add_option("--token", slow.admin_token,
                       "with --server and --trust-root: also measure code requests (admin token)");
  slow_cmd->add_option("--trust-root", slow.trust_root, "the trust_root file or its text");
  slow_cmd->add_option("--slow", slow.slow, "connections sending their header a byte at a time")
      ->check(CLI::Range(0, 20000));
  slow_cmd->add_option("--interval", slow.interval, "seconds between a slow connection's bytes")
      ->check(CLI::Range(0.01, 60.0));
  slow_cmd->add_option("--idle", slow.idle, "kept-alive connections idle after one request")
      ->check(CLI::Range(0, 20000));
  slow_cmd->add_option("--seconds", slow.seconds, "how long the requests are measured")
      ->check(CLI::Range(0.5, 600.0));
  slow_cmd->add_option("--probes", slow.probes, "concurrent /healthz probes")
      ->check(CLI::Range(1, 64));
  slow_cmd->add_option("--timeout", slow.timeout, "seconds before a request counts unanswered")
      ->check(CLI::Range(0.5, 60.0));
  slow_cmd->add_option("--work-dir", slow_work_dir, "where the bench rider's wallet goes");
  slow_cmd->callback([&action] {
    action = [] {
      if (!slow_server.empty()) slow.server = net::Endpoint{slow_server, {}};
      slow.work_dir = slow_work_dir.empty()
                          ? std::filesystem::temp_directory_path() /
                                ("anoncode-slowbench-" + std::to_string(::getpid()))
                          : std::filesystem::path(slow_work_dir);
      auto figures = perf::measure_slow_clients(slow);
      if (slow_work_dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(slow.work_dir, ignored);
      }
      if (!figures) return print_error(figures.error());
      const auto& f = *figures;
      std::fprintf(stderr, "%d slow (1 byte / %.1f s) + %d idle connections, %.1f s measured\n",
                   slow.slow, slow.interval, slow.idle, f.value("measured_s", 0.0));
      std::fprintf(stderr, "%-22s %9s %9s %9s %9s %9s\n", "request", "answered", "no answer",
                   "p50 ms", "p99 ms", "max ms");
      for (const char* name : {"healthz", "code_request", "authenticated_route"}) {
        if (!f.contains(name)) continue;
        const auto& r = f[name];
        std::fprintf(stderr, "%-22s %9lld %9lld %9.1f %9.1f %9.1f\n", name,
                     static_cast<long long>(r.value("answered", 0)),
                     static_cast<long long>(r.value("no_answer", 0)), r.value("p50_ms", 0.0),
                     r.value("p99_ms", 0.0), r.value("max_ms", 0.0));
      }
      return print_ok(f);
    };
  });
}

}  // namespace anoncode::cli
