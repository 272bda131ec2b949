#include "web/console.h"

#include <string>

namespace anoncode::web {

void register_console(server::HttpServer& http) {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
  };
  for (const WebFile& f : files()) {
    std::string content_type(f.content_type);
    http.static_route("/admin/" + std::string(f.name), content_type, f.body, headers);
    if (f.name == "index.html") http.static_route("/admin/", content_type, f.body, headers);
  }
}

}  // namespace anoncode::web
