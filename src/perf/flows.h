// Drives the platform's flows against a RUNNING server the way its real clients do — riders
// through the rider SDK, terminals through the POS terminal library, the operator through the
// admin API — for `anoncode bench flows` and the multi-process tests (tests/cluster_test.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "pos/pos_terminal.h"
#include "protocol/api_client.h"
#include "sdk/wallet.h"

namespace anoncode::perf {

// The operator's calls (/admin/v1) with the admin token.
class Operator {
 public:
  static Result<Operator> create(const net::Endpoint& server, std::string admin_token);

  // Registers an app user (name and ID number derived from the id) and whitelists it; returns
  // its app token.
  Result<std::string> add_rider(const std::string& user_id);
  // Registers a terminal under a merchant; returns its MAC key (base64url, as the CLI prints it).
  Result<std::string> add_terminal(const std::string& terminal, const std::string& merchant);
  Result<nlohmann::json> get(const std::string& path);
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body);

  // The name and ID number `add_rider` registered for `user_id` (for refunds).
  static std::string rider_name(const std::string& user_id);
  static std::string rider_id_number(const std::string& user_id);

 private:
  Operator(protocol::ApiClient client, std::string token)
      : client_(std::move(client)), token_(std::move(token)) {}
  protocol::ApiClient client_;
  std::string token_;
};

// A rider: a wallet state file and the SDK on an HTTP transport to one server.
class Rider {
 public:
  // Loads (or starts) the wallet at `state_file`, talking to `server`.
  static Result<std::unique_ptr<Rider>> load(const std::filesystem::path& state_file,
                                             const net::Endpoint& server);
  // A new rider: registered and whitelisted by `op`, wallet opened.
  // `trust_root`: the operator's root public key (the trust_root file's text).
  static Result<std::unique_ptr<Rider>> open(Operator& op, const std::string& user_id,
                                             const std::filesystem::path& state_file,
                                             const net::Endpoint& server,
                                             const std::string& trust_root);
  sdk::Wallet& wallet() { return wallet_; }

 private:
  Rider(std::unique_ptr<sdk::Transport> t, sdk::Wallet w)
      : transport_(std::move(t)), wallet_(std::move(w)) {}
  std::unique_ptr<sdk::Transport> transport_;
  sdk::Wallet wallet_;
};

// The trust root from its text, or from the file at that path (the trust_root file of init).
std::string read_trust_root(const std::string& text_or_file);

// A registered, synced POS terminal with its store at `store_file`.
Result<pos::PosTerminal> open_terminal(Operator& op, const std::string& terminal,
                                       const std::string& merchant,
                                       const std::filesystem::path& store_file,
                                       const net::Endpoint& server, int64_t now_ms);

struct FlowsOptions {
  net::Endpoint server;
  std::string admin_token;
  std::string trust_root;          // the operator's root public key (its text or its file)
  std::filesystem::path work_dir;  // wallet states and POS stores go here
  // Riders (one thread each, a wallet does one request at a time) requesting codes; 0: 8 in the
  // closed loop, kOpenLoopRiders in the open loop.
  int riders = 0;
  double seconds = 5;  // how long codes are requested
  // Code requests per second arriving at fixed times (open loop); 0: the closed loop, each
  // rider requesting codes back to back.
  double rate = 0;
  int rides = 2000;    // rides scanned and then uploaded
  size_t batch = 500;  // rides per upload request (one terminal's batch)
  int uploaders = 4;   // terminals uploading at once, each on its own connection
  int wallets = 0;     // wallets the rides come from (at least `riders`; the extra ones only ride)
};

constexpr int kClosedLoopRiders = 8;
constexpr int kOpenLoopRiders = 64;
constexpr double kMaxRate = 100000;  // code requests per second, the most `rate` may ask for

// Measures, against a running server: code requests per second with `riders` concurrent
// riders and their p50/p99 latency (closed loop) — or, with a `rate`, the p50/p99/p99.9 latency
// of code requests arriving at that fixed rate, served by a pool of `riders` (open loop); then
// `rides` rides scanned offline and uploaded by `uploaders` terminals at once, and the rides
// settled per second. Returns the figures as one JSON object.
Result<nlohmann::json> measure_flows(const FlowsOptions& options);

}  // namespace anoncode::perf
