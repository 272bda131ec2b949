// `anoncode init --data DIR [--db URL] [--group ristretto255|sm2]`: a new data directory with its
// configuration and fresh secrets (DESIGN §5, §6; docs/OPERATIONS.md). Never overwrites.
#include "cli/commands.h"
#include "cli/output.h"
#include "server/config.h"

namespace anoncode::cli {

void add_init_command(CLI::App& app, Action& action) {
  struct Options {
    std::string data, db, group = "ristretto255";
  };
  static Options o;
  auto* init = app.add_subcommand("init", "create a data directory: configuration and secrets");
  init->add_option("--data", o.data, "the directory to create (must not exist, or be empty)")
      ->required();
  init->add_option("--db", o.db, "database URL (default sqlite:DIR/anoncode.db)");
  init->add_option("--group", o.group, "zero-knowledge group: ristretto255 or sm2");
  init->callback([&action] {
    action = [] {
      server::InitOptions opts;
      opts.data_dir = o.data;
      if (!o.db.empty()) opts.db_url = o.db;
      opts.group = o.group;
      auto r = server::init_data_dir(opts);
      if (!r) return print_error(r.error());
      const auto& token = r->admin_token.expose_secret();
      return print_ok({{"data_dir", r->config.data_dir.string()},
                       {"admin_token", std::string(token.begin(), token.end())},
                       {"issuer_kid", r->issuer_kid},
                       {"platform_kid", r->platform_kid},
                       {"trust_root", r->trust_root},
                       {"group", r->config.group}});
    };
  });
}

}  // namespace anoncode::cli
