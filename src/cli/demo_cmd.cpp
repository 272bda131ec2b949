// `anoncode demo [--server URL] --token T [--work-dir D]`: a narrated tour of every flow against a
// running server (issue #4), through the same clients riders and terminals use — the rider SDK,
// the POS terminal library, the admin API. The narration and a progress bar go to stderr; stdout
// gets the one JSON object of the CLI contract (DESIGN §6). For a demo deployment only: it runs
// the refill job as if the delay had passed, which moves every strong-mode balance on the server.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/output.h"
#include "perf/flows.h"
#include "pos/qr_image.h"
#include "sdk/results_json.h"
#include "server/clock.h"

namespace anoncode::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DemoOptions {
  ServerOption server;
  std::string trust_root;
  std::string token, work_dir;
  double pace = 0.4;  // seconds between steps, so a person can follow
};
DemoOptions o;

// Narrates one step with a progress bar: "[####------]  4/12  title — detail".
class Narrator {
 public:
  explicit Narrator(int steps, double pace) : steps_(steps), pace_(pace) {}
  void step(const std::string& title) {
    if (done_ > 0 && pace_ > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(pace_));
    }
    ++done_;
    constexpr int kWidth = 24;
    int filled = done_ * kWidth / steps_;
    std::cerr << "\n[" << std::string(static_cast<size_t>(filled), '#')
              << std::string(static_cast<size_t>(kWidth - filled), '-') << "] " << done_ << "/"
              << steps_ << "  " << title << "\n";
  }
  void say(const std::string& line) { std::cerr << "    " << line << "\n"; }
  int done() const { return done_; }

 private:
  int steps_;
  double pace_;
  int done_ = 0;
};

std::string yuan(int64_t fen) {
  std::string s = std::to_string(fen / 100) + ".";
  int64_t cents = (fen < 0 ? -fen : fen) % 100;
  if (cents < 10) s += "0";
  return s + std::to_string(cents) + " yuan";
}

Result<int64_t> balance_of(sdk::Wallet& w) {
  ANONCODE_TRY(sdk::WalletBalance b, w.balance());
  return b.balance;
}

Result<json> run_demo(Narrator& n) {
  fs::path dir = o.work_dir.empty()
                     ? fs::temp_directory_path() / ("anoncode-demo-" + std::to_string(::getpid()))
                     : fs::path(o.work_dir);
  fs::create_directories(dir);
  ANONCODE_TRY(const net::Endpoint endpoint, endpoint_of(o.server));
  ANONCODE_TRY(perf::Operator op, perf::Operator::create(endpoint, o.token));
  std::string run = std::to_string(server::system_now_ms() % 100'000'000);
  std::string alice = "demo-" + run + "-alice", mallory = "demo-" + run + "-mallory";

  n.step("The operator registers a rider and whitelists her (identified side: the app backend)");
  ANONCODE_TRY(auto rider,
               perf::Rider::open(op, alice, dir / "alice.json", endpoint, o.trust_root));
  sdk::Wallet& w = rider->wallet();
  n.say("user " + alice + " registered; her personal data is stored SM4-sealed only");
  n.say("open: her rider secret sk stays on the phone; the privacy backend keeps J = sk·G_J");

  n.step("Recharge: 50.00 yuan through the (simulated) WeChat channel");
  ANONCODE_TRY(sdk::RechargeResult r1, w.recharge(5000, "010001", false));
  n.say("anonymous wallet B = " + r1.wallet + ", accountid " + r1.accountid + ", balance " +
        yuan(r1.balance));
  n.say("the platform saw a credential show, never who she is");

  n.step("Request a ride code: an SM2-signed QR payload, written as a PNG");
  ANONCODE_TRY(sdk::CodeResult code, w.code());
  ANONCODE_TRY(Bytes png, pos::render_qr_png(code.payload));
  fs::path png_path = dir / "code.png";
  ANONCODE_CHECK(pos::write_file_atomically(
      png_path.string(), std::string_view(reinterpret_cast<const char*>(png.data()), png.size()),
      0644));
  n.say("code " + code.sequence + " → " + png_path.string());

  n.step("A bus POS terminal scans the QR image offline and uploads the ride");
  std::string terminal = "DEMO" + run.substr(run.size() - 6);
  ANONCODE_TRY(pos::PosTerminal pos,
               perf::open_terminal(op, terminal, "DEMOBUS", dir / "terminal.pos", endpoint,
                                   server::system_now_ms()));
  ANONCODE_TRY(Bytes scanned, pos::decode_qr_png(png));
  auto scan = pos.scan(scanned, 200, server::system_now_ms());
  if (!scan.accepted) return make_error(ErrorCode::kInternal, "the POS refused: " + scan.reason);
  n.say("terminal " + terminal + " checked the signature and expiry offline: accepted, 2.00 yuan");
  ANONCODE_TRY(pos::Transport upload_link, pos::http_transport(endpoint));
  ANONCODE_TRY(pos::UploadSummary up, pos.upload(upload_link));
  n.say("uploaded " + std::to_string(up.uploaded) + " ride (MAC per ride; exactly once)");

  n.step("Query: the ride history of her current wallet");
  ANONCODE_TRY(sdk::History rides, w.history("ride"));
  n.say(std::to_string(rides.rides.size()) + " ride(s); balance now " + yuan(*balance_of(w)));

  n.step("Strong privacy: a recharge that opens a new, unlinkable wallet and accountid");
  ANONCODE_TRY(sdk::RechargeResult r2, w.recharge(1000, "020001", true));
  n.say("new wallet B = " + r2.wallet + ", accountid " + r2.accountid + " holding only the new " +
        yuan(1000));

  n.step("Refill job: the old wallet's balance moves to its successor after the delay");
  ANONCODE_TRY(json moved, op.post("/admin/v1/refill/run",
                                   {{"now", server::system_now_ms() + 400LL * 86'400'000}}));
  n.say("the job (run as if the 7-day delay had passed) moved " +
        std::to_string(moved.value("moved", int64_t{0})) + " balance(s); balance now " +
        yuan(*balance_of(w)));

  n.step("Backup and restore on a new phone (passphrase-derived key; one restore only)");
  // The phone number the operator registered for her (a backup goes only under one's own).
  ANONCODE_CHECK(w.backup("13900000000", "correct horse battery staple"));
  ANONCODE_TRY(auto phone2, perf::Rider::load(dir / "alice-phone2.json", endpoint));
  ANONCODE_CHECK(phone2->wallet().restore("13900000000", "correct horse battery staple"));
  sdk::Wallet& w2 = phone2->wallet();
  n.say("restored; the old phone's copy is disabled and the server copy consumed");

  n.step("A cheater: Mallory copies her wallet file and uses both copies");
  ANONCODE_TRY(auto mal,
               perf::Rider::open(op, mallory, dir / "mallory.json", endpoint, o.trust_root));
  ANONCODE_CHECK(mal->wallet().recharge(1000, "010002", false));
  fs::copy_file(dir / "mallory.json", dir / "mallory-clone.json",
                fs::copy_options::overwrite_existing);
  ANONCODE_CHECK(mal->wallet().code());
  ANONCODE_TRY(auto clone, perf::Rider::load(dir / "mallory-clone.json", endpoint));
  auto caught = clone->wallet().code();
  if (caught.ok() || caught.error().code != ErrorCode::kSnReused) {
    return make_error(ErrorCode::kInternal, "the clone was not caught");
  }
  n.say("the copy showed a spent serial: refused as sn_reused");

  n.step("Tracing: the two shows reveal Mallory's secret, hence her user id");
  ANONCODE_TRY(json v, op.get("/admin/v1/violations"));
  std::string traced;
  for (const auto& x : v["violations"]) {
    if (x.value("kind", "") == "clone" && x["user_id"] == mallory) traced = mallory;
  }
  if (traced.empty()) return make_error(ErrorCode::kInternal, "the clone was not traced");
  ANONCODE_TRY(json trace, op.get("/admin/v1/trace?user_id=" + mallory));
  n.say("violation recorded for " + traced + "; her wallet is locked; trace lists " +
        std::to_string(trace["wallets"].size()) + " wallet(s) and " +
        std::to_string(trace["transactions"].size()) + " transaction(s)");
  n.say("Alice, who did not cheat, stays anonymous");

  n.step("Refund: Alice takes her balance back, proving she is the registered user");
  ANONCODE_TRY(int64_t left, balance_of(w2));
  ANONCODE_TRY(sdk::RefundResult refund,
               w2.refund(left, perf::Operator::rider_name(alice),
                         perf::Operator::rider_id_number(alice), "6222000000000000"));
  n.say("refunded " + yuan(refund.refunded) + " to her bank account");

  n.step("Close: the empty wallet and her opening record are closed");
  ANONCODE_TRY(sdk::CloseResult closed, w2.close());
  n.say("status " + json(closed).value("status", ""));

  std::string console = endpoint.url + "/admin/";
  n.step("Done");
  n.say("look at what happened: " + console);
  return json{{"steps", n.done()},           {"rider", alice},           {"traced_user", traced},
              {"qr_png", png_path.string()}, {"work_dir", dir.string()}, {"console", console}};
}

}  // namespace

void add_demo_command(CLI::App& app, Action& action) {
  auto* demo = app.add_subcommand(
      "demo", "a narrated tour of every flow against a running server (narration on stderr)");
  add_server_options(demo, o.server);
  demo->add_option("--trust-root", o.trust_root,
                   "the operator's root public key: the trust_root file of `anoncode init`, or "
                   "its text (or ANONCODE_TRUST_ROOT)")
      ->envname("ANONCODE_TRUST_ROOT")
      ->required();
  demo->add_option("--token", o.token, "the admin token (or ANONCODE_ADMIN_TOKEN)")
      ->envname("ANONCODE_ADMIN_TOKEN")
      ->required();
  demo->add_option("--work-dir", o.work_dir,
                   "where the demo's wallets, terminal store and QR image go (default: a new "
                   "directory under the system's temporary directory)");
  demo->add_option("--pace", o.pace, "seconds between steps (0: no pause)")
      ->check(CLI::Range(0.0, 10.0));
  demo->callback([&action] {
    action = [] {
      Narrator n(13, o.pace);
      auto out = run_demo(n);
      if (!out) {
        std::cerr << "\n    the demo stopped at step " << n.done() << ": " << out.error().message
                  << "\n";
        return print_error(out.error());
      }
      return print_ok(*out);
    };
  });
}

}  // namespace anoncode::cli
