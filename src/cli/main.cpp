// anoncode: the privacy-preserving transit payment platform's one executable (DESIGN §5, §6).
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"

int main(int argc, char** argv) {
  using namespace anoncode;
  CLI::App app{"anoncode — anonymous ride codes for transit payment"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "anoncode 0.1.0");
  cli::Action action;
  cli::add_init_command(app, action);
  cli::add_serve_command(app, action);
  cli::add_admin_command(app, action);
  cli::add_wallet_command(app, action);
  cli::add_pos_command(app, action);
  cli::add_demo_command(app, action);
  cli::add_bench_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return cli::print_error(make_error(ErrorCode::kInvalidArgument, e.what()));
  }
  try {
    return action ? action() : 0;
  } catch (const std::exception& e) {
    // A bug or an unexpected library failure; messages here never carry secrets.
    return cli::print_error(make_error(ErrorCode::kInternal, e.what()));
  }
}
