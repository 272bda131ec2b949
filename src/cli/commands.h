// The subcommands of `anoncode`, each registering itself on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace anoncode::cli {

// The action a parsed command runs; returns the process exit code.
using Action = std::function<int()>;

void add_bench_command(CLI::App& app, Action& action);
void add_init_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);
void add_admin_command(CLI::App& app, Action& action);
void add_wallet_command(CLI::App& app, Action& action);
void add_pos_command(CLI::App& app, Action& action);
void add_demo_command(CLI::App& app, Action& action);

}  // namespace anoncode::cli
