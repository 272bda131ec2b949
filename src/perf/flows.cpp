#include "perf/flows.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "perf/crypto_workload.h"
#include "perf/latency.h"
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

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

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

// A bench rider: registered, its wallet opened and recharged with money enough for every ride.
Result<std::unique_ptr<Rider>> open_rider(Operator& op, const FlowsOptions& o,
                                          const std::string& id) {
  ANONCODE_TRY(auto r, Rider::open(op, id, o.work_dir / (id + ".json"), o.server, o.trust_root));
  ANONCODE_CHECK(r->wallet().recharge(10'000'000, "010001", false));
  return r;
}

// `count` bench riders, set up by several threads at once (an open is a few round trips and an
// issuance), each with its own operator connection. Not timed.
Result<std::vector<std::unique_ptr<Rider>>> open_riders(const FlowsOptions& o, int count,
                                                        const std::string& run) {
  std::vector<std::unique_ptr<Rider>> riders(static_cast<size_t>(count));
  std::atomic<int> next{0};
  std::mutex mu;
  std::optional<Error> failure;
  auto set_up = [&] {
    auto op = Operator::create(o.server, o.admin_token);
    for (int i = next++; i < count; i = next++) {
      auto r = op ? open_rider(*op, o, "bench-" + run + "-" + std::to_string(i))
                  : Result<std::unique_ptr<Rider>>(op.error());
      if (!r) {
        std::lock_guard lock(mu);
        if (!failure) failure = r.error();
        return;
      }
      riders[static_cast<size_t>(i)] = std::move(*r);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min(count, 8); ++t) threads.emplace_back(set_up);
  for (auto& t : threads) t.join();
  if (failure) return *failure;
  return riders;
}

// The code requests of one phase: the codes the rides need, of those produced, and the figures.
struct CodePhase {
  std::vector<Bytes> payloads;  // at most `keep` (the rides), not every code of a long run
  size_t answered = 0;          // code requests answered (what the server's CPU is divided by)
  json figures;                 // merged into the result
};

// What one rider's thread gathered: its latencies, and the codes it keeps while fewer than `keep`
// are kept across all threads; added to the phase under the caller's lock when the thread ends.
struct RiderTally {
  std::vector<double> latencies_ms;
  std::vector<Bytes> codes;
  void answered(double ms, Bytes payload, std::atomic<size_t>& kept, size_t keep) {
    latencies_ms.push_back(ms);
    if (kept++ < keep) codes.push_back(std::move(payload));
  }
  void add_to(std::vector<double>& all_ms, CodePhase& phase) {
    all_ms.insert(all_ms.end(), latencies_ms.begin(), latencies_ms.end());
    for (auto& c : codes) phase.payloads.push_back(std::move(c));
  }
};

// Closed loop: each rider's thread requests codes back to back for `seconds`; a request's latency
// runs from when its rider sent it. The first failure fails the bench.
Result<CodePhase> closed_loop_codes(const std::vector<std::unique_ptr<Rider>>& riders,
                                    double seconds, size_t keep) {
  std::atomic<size_t> kept{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  CodePhase phase;
  std::optional<Error> first_failure;
  auto t0 = Clock::now();
  {
    std::vector<std::thread> threads;
    for (auto& rider : riders) {
      threads.emplace_back([&, r = rider.get()] {
        RiderTally mine;
        while (seconds_since(t0) < seconds) {
          auto start = Clock::now();
          auto code = r->wallet().code();
          double ms = seconds_since(start) * 1000;
          if (!code) {
            std::lock_guard lock(mu);
            if (!first_failure) first_failure = code.error();
            continue;
          }
          mine.answered(ms, std::move(code->payload), kept, keep);
        }
        std::lock_guard lock(mu);
        mine.add_to(latencies_ms, phase);
      });
    }
    for (auto& t : threads) t.join();
  }
  const double code_seconds = seconds_since(t0);
  if (first_failure) return *first_failure;
  phase.answered = latencies_ms.size();
  phase.figures = {{"code_requests", latencies_ms.size()},
                   {"code_requests_per_s", static_cast<double>(phase.answered) / code_seconds},
                   {"code_p50_ms", percentile(latencies_ms, 0.50)},
                   {"code_p99_ms", percentile(latencies_ms, 0.99)}};
  return phase;
}

// Open loop: code requests arrive at the fixed times t0 + i/rate for `seconds`, whatever the
// server does, and each is served by the first free rider of the pool (a wallet does one request
// at a time: a rider that is free takes the next arrival and waits for its time). A request's
// latency runs from its SCHEDULED arrival to its answer, so the time it waited for a free rider
// counts: a slow server cannot hide its backlog by slowing the arrivals (coordinated omission).
// A failed request is counted and the run goes on; the wallet sends it again on its next request.
CodePhase open_loop_codes(const std::vector<std::unique_ptr<Rider>>& riders, double rate,
                          double seconds, size_t keep) {
  std::atomic<size_t> kept{0};
  const ArrivalSchedule schedule{rate, seconds};
  const size_t scheduled = schedule.count();
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  int64_t failed = 0, late_starts = 0;
  std::optional<Error> first_failure;
  CodePhase phase;
  // The start a moment ahead, so that starting the riders' threads makes no arrival late.
  const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(100);
  {
    std::vector<std::thread> threads;
    for (auto& rider : riders) {
      threads.emplace_back([&, r = rider.get()] {
        RiderTally mine;
        int64_t my_failed = 0, my_late = 0;
        std::optional<Error> my_failure;
        for (size_t i = next++; i < scheduled; i = next++) {
          const Clock::time_point due = t0 + schedule.due(i);
          std::this_thread::sleep_until(due);
          if (Clock::now() - due > std::chrono::milliseconds(1)) ++my_late;
          auto code = r->wallet().code();
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
          if (!code) {
            ++my_failed;
            if (!my_failure) my_failure = code.error();
            continue;
          }
          mine.answered(ms, std::move(code->payload), kept, keep);
        }
        std::lock_guard lock(mu);
        mine.add_to(latencies_ms, phase);
        failed += my_failed;
        late_starts += my_late;
        if (!first_failure) first_failure = my_failure;
      });
    }
    for (auto& t : threads) t.join();
  }
  const double elapsed = seconds_since(t0);  // to the last answer
  phase.answered = latencies_ms.size();
  json open_loop = {
      {"rate", rate},
      {"seconds", seconds},
      {"scheduled", scheduled},
      {"completed", latencies_ms.size()},
      {"failed", failed},
      {"achieved_per_s", static_cast<double>(phase.answered) / elapsed},
      {"p50_ms", percentile(latencies_ms, 0.50)},
      {"p99_ms", percentile(latencies_ms, 0.99)},
      {"p999_ms", percentile(latencies_ms, 0.999)},
      {"max_ms",
       latencies_ms.empty() ? 0.0 : *std::max_element(latencies_ms.begin(), latencies_ms.end())},
      {"late_starts", late_starts}};
  if (first_failure) {
    open_loop["first_failure"] = {{"code", std::string(error_code_name(first_failure->code))},
                                  {"message", first_failure->message}};
  }
  phase.figures = {{"open_loop", open_loop}};
  return phase;
}

}  // namespace

Result<json> measure_flows(const FlowsOptions& o) {
  if (o.riders < 0 || o.seconds <= 0 || o.rides < 1 || o.batch < 1 || o.uploaders < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "seconds, rides, batch and uploaders must be > 0, riders >= 0");
  }
  if (!(o.rate == 0 || (o.rate > 0 && o.rate <= kMaxRate))) {
    return make_error(ErrorCode::kInvalidArgument,
                      "rate must be > 0 and <= 100000 code requests per second");
  }
  const bool open_loop = o.rate > 0;
  const int rider_count =
      o.riders > 0 ? o.riders : (open_loop ? kOpenLoopRiders : kClosedLoopRiders);
  std::filesystem::create_directories(o.work_dir);
  ANONCODE_TRY(Operator op, Operator::create(o.server, o.admin_token));
  // Names unique per run, so the benchmark can run again against the same server.
  std::string run = std::to_string(server::system_now_ms());
  // The first `rider_count` riders request codes in phase 1; the rides come from all
  // `wallet_count` wallets (the extra ones only ride).
  const int wallet_count = std::max(rider_count, o.wallets);
  ANONCODE_TRY(auto riders, open_riders(o, wallet_count, run));
  std::vector<std::unique_ptr<Rider>> extra;
  for (size_t i = static_cast<size_t>(rider_count); i < riders.size(); ++i) {
    extra.push_back(std::move(riders[i]));
  }
  riders.resize(static_cast<size_t>(rider_count));
  auto wallet_at = [&](size_t w) -> Rider& {
    return w < riders.size() ? *riders[w] : *extra[w - riders.size()];
  };

  // 1. Code requests, closed or open loop. The server's CPU is read from its /metrics before and
  // after.
  const std::optional<double> cpu_before = server_cpu_seconds(o.server);
  CodePhase codes;
  if (open_loop) {
    codes = open_loop_codes(riders, o.rate, o.seconds, static_cast<size_t>(o.rides));
  } else {
    ANONCODE_TRY(codes, closed_loop_codes(riders, o.seconds, static_cast<size_t>(o.rides)));
  }
  const std::optional<double> cpu_after = server_cpu_seconds(o.server);
  std::vector<Bytes>& payloads = codes.payloads;

  // More codes if the first phase made fewer than `rides`: an equal share from every wallet, up
  // to 8 wallets at a time (each wallet on one thread). Then in random order, as terminals see
  // riders (a batch of B rides touches up to B wallets).
  const size_t have = std::min(payloads.size(), static_cast<size_t>(o.rides));
  payloads.resize(have);
  const size_t more = static_cast<size_t>(o.rides) - have,
               n_wallets = static_cast<size_t>(wallet_count);
  const size_t fillers = std::min<size_t>(n_wallets, 8);
  std::mutex mu;
  std::optional<Error> first_failure;
  {
    std::vector<std::vector<Bytes>> got(fillers);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < fillers; ++t) {
      threads.emplace_back([&, t] {
        for (size_t w = t; w < n_wallets; w += fillers) {
          const size_t share = more / n_wallets + (w < more % n_wallets ? 1 : 0);
          for (size_t k = 0; k < share; ++k) {
            auto code = wallet_at(w).wallet().code();
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

  const auto n = static_cast<double>(codes.answered);
  json out{{"server", o.server.url}, {"riders", rider_count}, {"wallets", wallet_count}};
  out.update(codes.figures);
  out.update(json{{"rides_settled", settled.load()},
                  {"upload_batch", o.batch},
                  {"uploaders", workers},
                  {"rides_settled_per_s", static_cast<double>(settled.load()) / upload_seconds}});
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
