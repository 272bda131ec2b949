// The options every client command shares: which server, and which CA vouches for it.
#include "cli/commands.h"

namespace anoncode::cli {

void add_server_options(CLI::App* command, ServerOption& option) {
  command->add_option("--server", option.url, "the server's URL (or ANONCODE_SERVER)")
      ->envname("ANONCODE_SERVER")
      ->capture_default_str();
  command
      ->add_option("--ca", option.ca,
                   "the operator CA's certificate, tls_ca.pem of the data directory (or "
                   "ANONCODE_CA); default: the system's trust store")
      ->envname("ANONCODE_CA");
}

Result<net::Endpoint> endpoint_of(const ServerOption& option) {
  ANONCODE_TRY(net::TlsTrust trust, net::tls_trust_from(option.ca));
  return net::Endpoint{option.url, std::move(trust)};
}

}  // namespace anoncode::cli
