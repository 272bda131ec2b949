// `anoncode init --data DIR [--db URL] [--group ristretto255|sm2] [--tls-host NAME]…`: a new data
// directory with its configuration and fresh secrets (DESIGN §5, §6; docs/OPERATIONS.md). Never
// overwrites.
//
// `anoncode tls renew --data DIR`: a new server certificate from the directory's CA for the
// configuration's [tls] hostnames (a restarted server uses it).
#include "cli/commands.h"
#include "cli/output.h"
#include "datadir/config.h"

namespace anoncode::cli {

void add_init_command(CLI::App& app, Action& action) {
  struct Options {
    std::string data, db, group = "ristretto255";
    std::vector<std::string> tls_hosts;
  };
  static Options o;
  auto* init = app.add_subcommand("init", "create a data directory: configuration and secrets");
  init->add_option("--data", o.data, "the directory to create (must not exist, or be empty)")
      ->required();
  init->add_option("--db", o.db, "database URL (default sqlite:DIR/anoncode.db)");
  init->add_option("--group", o.group, "zero-knowledge group: ristretto255 or sm2");
  init->add_option("--tls-host", o.tls_hosts,
                   "a name clients reach the server by, for its TLS certificate (repeatable; "
                   "localhost, 127.0.0.1 and ::1 are always in it)");
  init->callback([&action] {
    action = [] {
      datadir::InitOptions opts;
      opts.data_dir = o.data;
      if (!o.db.empty()) opts.db_url = o.db;
      opts.group = o.group;
      opts.tls_hostnames = o.tls_hosts;
      auto r = datadir::init_data_dir(opts);
      if (!r) return print_error(r.error());
      const auto& token = r->admin_token.expose_secret();
      return print_ok({{"data_dir", r->config.data_dir.string()},
                       {"admin_token", std::string(token.begin(), token.end())},
                       {"issuer_kid", r->issuer_kid},
                       {"platform_kid", r->platform_kid},
                       {"trust_root", r->trust_root},
                       {"tls_ca", r->tls_ca_file},
                       {"tls_ca_sha256", r->tls_ca_fingerprint},
                       {"group", r->config.group}});
    };
  });

  static std::string tls_data;
  auto* tls = app.add_subcommand("tls", "the server's TLS certificate (docs/OPERATIONS.md)");
  tls->require_subcommand(1);
  auto* renew = tls->add_subcommand(
      "renew", "issue a new server certificate for [tls] hostnames; restart serve to use it");
  renew->add_option("--data", tls_data, "the data directory")->required();
  renew->callback([&action] {
    action = [] {
      auto config = datadir::load_config(tls_data);
      if (!config) return print_error(config.error());
      auto files = datadir::ensure_tls_files(config->data_dir, config->tls_hostnames, true);
      if (!files) return print_error(files.error());
      return print_ok({{"certificate", files->cert.string()},
                       {"names", files->names},
                       {"not_after", files->not_after},
                       {"tls_ca_sha256", files->ca_fingerprint}});
    };
  });
}

}  // namespace anoncode::cli
