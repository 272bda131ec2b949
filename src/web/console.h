// The admin console (后管页面, issue #4): static HTML/CSS/JavaScript from web/, compiled into the
// binary (cmake/embed_web.cmake) and served by `anoncode serve` under /admin/. The pages call the
// /admin/v1 API with the administrator's session; everything they show comes from that API.
#pragma once

#include <string_view>
#include <vector>

#include "server/http_server.h"

namespace anoncode::web {

struct WebFile {
  std::string_view name;  // "index.html", "console.js", …
  std::string_view content_type;
  std::string_view body;
};

// Every file of web/, as built.
const std::vector<WebFile>& files();

// Serves the console: GET /admin/ and /admin/index.html (the page), /admin/<file> for the rest;
// with a strict Content-Security-Policy (scripts and styles from this origin only, no framing),
// nosniff and no caching.
void register_console(server::HttpServer& http);

}  // namespace anoncode::web
