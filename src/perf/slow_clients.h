// `anoncode bench slow-clients` (issue #11): how the server answers while slow and idle clients
// hold connections to it. Loopback only: this opens hundreds of connections that misbehave on
// purpose, which is an attack anywhere else.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "common/result.h"
#include "net/tls.h"

namespace anoncode::perf {

struct SlowClientsOptions {
  // The server: a loopback http:// URL (e.g. `serve --plain-http`), or empty for a server this
  // process starts itself (the HTTP layer alone: /healthz and one authenticated cheap route).
  net::Endpoint server = {};
  // With both (a server given above): code requests through the rider SDK are measured too.
  std::string admin_token = {};
  std::string trust_root = {};
  std::filesystem::path work_dir = {};  // the bench rider's wallet
  int slow = 1000;      // connections sending their header one byte every `interval` seconds
  double interval = 4;  // seconds between a slow connection's bytes
  int idle = 200;       // kept-alive connections idle after one request
  double seconds = 10;  // how long /healthz (and the route) are measured under that load
  int probes = 2;       // concurrent /healthz probes, each on a new connection per request
  double timeout = 5;   // a probe or request without an answer by then counts as timed out
};

// Opens the slow and idle connections (keeping their numbers up: one the server closes is opened
// again), then measures for `seconds`: /healthz latency (p50/p99, new connection per request) and
// the latency of a code request (a server with admin token and trust root) or of the
// authenticated route of the server started here. Returns the figures as one JSON object.
Result<nlohmann::json> measure_slow_clients(const SlowClientsOptions& options);

}  // namespace anoncode::perf
