#include "perf/flows.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "perf/crypto_workload.h"
#include "protocol/qr_payload.h"
#include "server/clock.h"

namespace anoncode::perf {

using nlohmann::json;

Result<Operator> Operator::create(const net::Endpoint& server, std::string admin_token) {
  ANONCODE_TRY(protocol::ApiClient client, protocol::ApiClient::create(server));
  return Operator(std::move(client), std::move(admin_token));
}

Result<json> Operator::post(const std::string& path, const json& body) {
  ANONCODE_TRY(protocol::ApiReply reply, client_.post(path, body, token_));
  if (!reply.ok()) return protocol::reply_error(reply);
  return reply.body;
}

Result<json> Operator::get(const std::string& path) {
  ANONCODE_TRY(protocol::ApiReply reply, client_.get(path, token_));
  if (!reply.ok()) return protocol::reply_error(reply);
  return reply.body;
}

std::string Operator::rider_name(const std::string& user_id) {
  return "rider " + user_id;
}

std::string Operator::rider_id_number(const std::string& user_id) {
  // 18 characters of letters and digits, distinct per user id.
  std::string digits;
  for (unsigned char c : user_id) {
    if (std::isalnum(c)) digits += static_cast<char>(c);
  }
  digits = "ID" + digits;
  if (digits.size() > 32) digits = digits.substr(digits.size() - 32);
  return digits;
}

Result<std::string> Operator::add_rider(const std::string& user_id) {
  ANONCODE_TRY(json user, post("/admin/v1/users", {{"user_id", user_id},
                                                   {"name", rider_name(user_id)},
                                                   {"id_number", rider_id_number(user_id)},
                                                   {"phone", "13900000000"},
                                                   {"card_no", rider_id_number(user_id)}}));
  ANONCODE_CHECK(post("/admin/v1/whitelist/add", {{"user_id", user_id}}));
  return user.value("app_token", "");
}

Result<std::string> Operator::add_terminal(const std::string& terminal,
                                           const std::string& merchant) {
  ANONCODE_TRY(json t,
               post("/admin/v1/terminals", {{"terminal", terminal}, {"merchant", merchant}}));
  return t.value("terminal_key", "");
}

Result<std::unique_ptr<Rider>> Rider::load(const std::filesystem::path& state_file,
                                           const net::Endpoint& server) {
  ANONCODE_TRY(auto transport, sdk::make_http_transport(server));
  ANONCODE_TRY(sdk::Wallet wallet, sdk::Wallet::load(state_file, *transport));
  return std::unique_ptr<Rider>(new Rider(std::move(transport), std::move(wallet)));
}

Result<std::unique_ptr<Rider>> Rider::open(Operator& op, const std::string& user_id,
                                           const std::filesystem::path& state_file,
                                           const net::Endpoint& server,
                                           const std::string& trust_root) {
  ANONCODE_TRY(std::string app_token, op.add_rider(user_id));
  ANONCODE_TRY(auto rider, load(state_file, server));
  ANONCODE_CHECK(rider->wallet().set_trust_root(read_trust_root(trust_root)));
  ANONCODE_CHECK(rider->wallet().open(user_id, app_token));
  return rider;
}

std::string read_trust_root(const std::string& text_or_file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(text_or_file, ec)) return text_or_file;
  std::ifstream in(text_or_file);
  std::string line;
  std::getline(in, line);
  return line;
}

Result<pos::PosTerminal> open_terminal(Operator& op, const std::string& terminal,
                                       const std::string& merchant,
                                       const std::filesystem::path& store_file,
                                       const net::Endpoint& server, int64_t now_ms) {
  ANONCODE_TRY(std::string key_b64, op.add_terminal(terminal, merchant));
  ANONCODE_TRY(Bytes raw, from_base64url(key_b64));
  ANONCODE_TRY(pos::PosTerminal t, pos::PosTerminal::open(store_file.string(), terminal, merchant,
                                                          SecretBytes(ByteView(raw))));
  std::fill(raw.begin(), raw.end(), uint8_t{0});
  ANONCODE_TRY(pos::Transport transport, pos::http_transport(server));
  ANONCODE_CHECK(t.sync(transport, now_ms));
  return t;
}

namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

namespace {

// The server's CPU time so far: process_cpu_seconds_total of its /metrics, or nullopt when the
// server does not serve it.
std::optional<double> server_cpu_seconds(const net::Endpoint& server) {
  auto client = protocol::ApiClient::create(server);
  if (!client.ok()) return std::nullopt;
  auto reply = client->get("/metrics");
  if (!reply.ok() || !reply->ok() || reply->json) return std::nullopt;
  const std::string text = "\n" + reply->body.value("text", "");
  const std::string key = "\nprocess_cpu_seconds_total ";
  const size_t at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  try {
    return std::stod(text.substr(at + key.size()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The cryptography a code request costs the server, measured here on the server's group: the show
// verified and the next credential issued (with the wallet pseudonym), the wallet signature
// verified and the QR payload signed (SM2), in microseconds.
Result<json> code_request_floor(const net::Endpoint& server) {
  ANONCODE_TRY(auto client, protocol::ApiClient::create(server));
  ANONCODE_TRY(json params, protocol::reply_json(client.get("/privacy/v1/params")));
  ANONCODE_TRY(const crypto::Group* g, crypto::group_by_name(params.value("group", "")));
  CryptoWorkload w(*g);
  json out = {{"group", std::string(g->name())}};
  double floor_us = 0;
  for (const auto& op : w.ops()) {
    if (op.name == "server_verify_issue_wallet_us" || op.name == "sm2_verify_us" ||
        op.name == "sm2_sign_us") {
      const double us = median_seconds(op.run) * 1e6;
      out[op.name] = us;
      floor_us += us;
    }
  }
  out["floor_us"] = floor_us;
  return out;
}

}  // namespace

Result<json> measure_flows(const FlowsOptions& o) {
  if (o.riders < 1 || o.seconds <= 0 || o.rides < 1 || o.batch < 1 || o.uploaders < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "riders, seconds, rides, batch and uploaders must be > 0");
  }
  std::filesystem::create_directories(o.work_dir);
  ANONCODE_TRY(Operator op, Operator::create(o.server, o.admin_token));
  // Names unique per run, so the benchmark can run again against the same server.
  std::string run = std::to_string(server::system_now_ms());

  // Riders with money enough for every ride: the first `riders` request codes in phase 1; the
  // rides come from all `wallets` of them.
  const int wallets = std::max(o.riders, o.wallets);
  std::vector<std::unique_ptr<Rider>> riders;
  for (int i = 0; i < wallets; ++i) {
    std::string id = "bench-" + run + "-" + std::to_string(i);
    ANONCODE_TRY(auto r, Rider::open(op, id, o.work_dir / (id + ".json"), o.server, o.trust_root));
    ANONCODE_CHECK(r->wallet().recharge(10'000'000, "010001", false));
    riders.push_back(std::move(r));
  }

  // 1. Code requests: each rider's thread requests codes back to back for `seconds`. The
  // server's CPU is read from its /metrics before and after.
  const std::optional<double> cpu_before = server_cpu_seconds(o.server);
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::vector<Bytes> payloads;
  std::atomic<int64_t> failures{0};
  std::optional<Error> first_failure;
  auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < o.riders; ++i) {
      threads.emplace_back([&, r = riders[static_cast<size_t>(i)].get()] {
        std::vector<double> mine;
        std::vector<Bytes> codes;
        while (seconds_since(t0) < o.seconds) {
          auto start = std::chrono::steady_clock::now();
          auto code = r->wallet().code();
          double ms = seconds_since(start) * 1000;
          if (!code) {
            std::lock_guard lock(mu);
            if (!first_failure) first_failure = code.error();
            ++failures;
            continue;
          }
          mine.push_back(ms);
          codes.push_back(std::move(code->payload));
        }
        std::lock_guard lock(mu);
        latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
        for (auto& c : codes) payloads.push_back(std::move(c));
      });
    }
    for (auto& t : threads) t.join();
  }
  double code_seconds = seconds_since(t0);
  const std::optional<double> cpu_after = server_cpu_seconds(o.server);
  if (first_failure) return *first_failure;

  // More codes if the first phase made fewer than `rides`: an equal share from every wallet, up
  // to 8 wallets at a time (each wallet on one thread). Then in random order, as terminals see
  // riders (a batch of B rides touches up to B wallets).
  const size_t have = std::min(payloads.size(), static_cast<size_t>(o.rides));
  payloads.resize(have);
  const size_t more = static_cast<size_t>(o.rides) - have, n_wallets = riders.size();
  const size_t fillers = std::min<size_t>(n_wallets, 8);
  {
    std::vector<std::vector<Bytes>> got(fillers);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < fillers; ++t) {
      threads.emplace_back([&, t] {
        for (size_t w = t; w < n_wallets; w += fillers) {
          const size_t share = more / n_wallets + (w < more % n_wallets ? 1 : 0);
          for (size_t k = 0; k < share; ++k) {
            auto code = riders[w]->wallet().code();
            if (!code) {
              std::lock_guard lock(mu);
              if (!first_failure) first_failure = code.error();
              return;
            }
            got[t].push_back(std::move(code->payload));
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    if (first_failure) return *first_failure;
    for (auto& g : got) {
      for (auto& c : g) payloads.push_back(std::move(c));
    }
  }
  std::shuffle(payloads.begin(), payloads.end(), std::mt19937(1));

  // 2. Rides: scanned offline by terminals of up to `batch` rides each (not measured: the POS
  // writes its store on every scan), then every terminal uploads; measured is the upload. Each
  // code is scanned at the time it was issued (as a rider shows a fresh code), so a long setup
  // cannot outlast the codes' validity.
  std::vector<pos::PosTerminal> terminals;
  int64_t now = server::system_now_ms();
  for (size_t i = 0; i < payloads.size(); ++i) {
    if (i % o.batch == 0) {
      std::string name = "B" + run.substr(run.size() - 8) + "-" + std::to_string(terminals.size());
      ANONCODE_TRY(auto t,
                   open_terminal(op, name, "BENCH", o.work_dir / (name + ".pos"), o.server, now));
      terminals.push_back(std::move(t));
    }
    auto qr = protocol::QrPayload::decode(payloads[i]);
    if (!qr.ok()) return qr.error();
    auto scanned = terminals.back().scan(payloads[i], 1, qr->issued_at);
    if (!scanned.accepted) {
      return make_error(ErrorCode::kInternal,
                        "the bench POS refused a fresh code: " + scanned.reason);
    }
  }
  // `uploaders` threads, each with its own connection, take the next terminal until none is left.
  const size_t workers = std::min(static_cast<size_t>(o.uploaders), terminals.size());
  std::vector<pos::Transport> transports;
  for (size_t w = 0; w < workers; ++w) {
    ANONCODE_TRY(pos::Transport transport, pos::http_transport(o.server));
    transports.push_back(std::move(transport));
  }
  std::atomic<size_t> next{0};
  std::atomic<int64_t> settled{0};
  std::mutex failure_mu;
  std::optional<Error> failure;
  auto t1 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = next++; i < terminals.size(); i = next++) {
        auto s = terminals[i].upload(transports[w]);
        if (!s.ok()) {
          std::lock_guard lock(failure_mu);
          if (!failure) failure = s.error();
          return;
        }
        settled += s->uploaded;
      }
    });
  }
  for (auto& t : threads) t.join();
  double upload_seconds = seconds_since(t1);
  if (failure) return *failure;
  if (settled.load() != o.rides) {
    return make_error(ErrorCode::kInternal, "only " + std::to_string(settled.load()) + " of " +
                                                std::to_string(o.rides) + " rides settled");
  }

  auto n = static_cast<double>(latencies_ms.size());
  json out{{"server", o.server.url},
           {"riders", o.riders},
           {"wallets", riders.size()},
           {"code_requests", latencies_ms.size()},
           {"code_requests_per_s", n / code_seconds},
           {"code_p50_ms", percentile(latencies_ms, 0.50)},
           {"code_p99_ms", percentile(latencies_ms, 0.99)},
           {"rides_settled", settled.load()},
           {"upload_batch", o.batch},
           {"uploaders", workers},
           {"rides_settled_per_s", static_cast<double>(settled.load()) / upload_seconds}};
  // The server's CPU per code request (nonce and code, from its own /metrics) beside the
  // cryptographic floor of one, measured in this run on the same machine.
  if (cpu_before && cpu_after && n > 0) {
    const double server_us = (*cpu_after - *cpu_before) / n * 1e6;
    out["server_cpu_per_code_us"] = server_us;
    ANONCODE_TRY(json floor, code_request_floor(o.server));
    out["code_crypto_floor"] = floor;
    out["server_cpu_over_floor"] = server_us / floor["floor_us"].get<double>();
  }
  return out;
}

}  // namespace anoncode::perf
