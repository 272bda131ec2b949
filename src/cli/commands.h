// The subcommands of `anoncode`, each registering itself on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "common/result.h"
#include "net/tls.h"

namespace anoncode::cli {

// The action a parsed command runs; returns the process exit code.
using Action = std::function<int()>;

// A client command's server: `--server URL` (ANONCODE_SERVER; default https://127.0.0.1:8080) and
// `--ca FILE` (ANONCODE_CA): the operator CA the server's certificate is verified against — the
// data directory's tls_ca.pem; without it, the system's trust store (DESIGN §3.6 rule 5).
struct ServerOption {
  std::string url = "https://127.0.0.1:8080";
  std::string ca;
};
void add_server_options(CLI::App* command, ServerOption& option);
// The endpoint: `not_found`/`malformed` for a CA file that is missing or holds no certificate.
Result<net::Endpoint> endpoint_of(const ServerOption& option);

void add_bench_command(CLI::App& app, Action& action);
void add_init_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);
void add_admin_command(CLI::App& app, Action& action);
void add_wallet_command(CLI::App& app, Action& action);
void add_pos_command(CLI::App& app, Action& action);
void add_demo_command(CLI::App& app, Action& action);

}  // namespace anoncode::cli
