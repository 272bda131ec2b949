// `anoncode pos [--server URL] [--ca FILE] --store F --terminal T --merchant BIZID <action>`: a POS
// terminal (DESIGN §6, seed 000 §2.5) through the POS terminal library — sync the platform keys,
// scan a code offline, upload the queued rides.
//
// A refused scan is a failure of the command (exit 1, the turnstile stays shut) and prints one
// object that answers both ways: {"accepted":false,"reason":R,"error":{"code":R,…}}.
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

#include "cli/commands.h"
#include "cli/output.h"
#include "pos/pos_terminal.h"
#include "pos/qr_image.h"
#include "server/clock.h"

namespace anoncode::cli {

namespace {

struct PosCliOptions {
  ServerOption server;
  std::string store, terminal, merchant, terminal_key;
  std::string payload, image, now;
  int64_t amount = 0;
};
PosCliOptions o;

Result<pos::Transport> transport() {
  ANONCODE_TRY(net::Endpoint endpoint, endpoint_of(o.server));
  return pos::http_transport(endpoint);
}

Result<int64_t> now_ms() {
  if (o.now.empty()) return server::system_now_ms();
  return parse_time_ms(o.now);
}

// Opens the store; the terminal key (base64url, as `admin terminal add` printed it) is needed
// only when the store is created.
Result<pos::PosTerminal> open_terminal() {
  std::optional<SecretBytes> key;
  if (!o.terminal_key.empty()) {
    auto raw = from_base64url(o.terminal_key);
    if (!raw || raw->empty()) {
      return make_error(ErrorCode::kInvalidArgument, "--terminal-key is not base64url");
    }
    key = SecretBytes(ByteView(*raw));
    std::fill(raw->begin(), raw->end(), uint8_t{0});
  }
  return pos::PosTerminal::open(o.store, o.terminal, o.merchant, key);
}

Result<Bytes> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, "cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The scanned bytes: --payload (base64url, as `wallet code` printed it) or --image (a PNG).
Result<Bytes> scanned_payload() {
  if (!o.image.empty()) {
    ANONCODE_TRY(Bytes png, read_file(o.image));
    return pos::decode_qr_png(png);
  }
  auto raw = from_base64url(o.payload);
  if (!raw) return make_error(ErrorCode::kMalformed, "--payload is not base64url");
  return *raw;
}

int sync() {
  auto t = open_terminal();
  if (!t) return print_error(t.error());
  auto now = now_ms();
  if (!now) return print_error(now.error());
  auto link = transport();
  if (!link) return print_error(link.error());
  if (auto st = t->sync(*link, *now); !st) return print_error(st.error());
  return print_ok(protocol::keys_to_json(t->store().keys));
}

int scan() {
  auto t = open_terminal();
  if (!t) return print_error(t.error());
  auto now = now_ms();
  if (!now) return print_error(now.error());
  auto payload = scanned_payload();
  if (!payload) return print_error(payload.error());
  pos::ScanResult r = t->scan(*payload, o.amount, *now);
  nlohmann::json out = {{"accepted", r.accepted}, {"reason", r.reason}};
  if (!r.sequence.empty()) out["sequence"] = r.sequence;
  if (r.accepted) {
    out["counter"] = r.counter;
    out["queued"] = t->store().queue.size();
    return print_ok(out);
  }
  out["error"] = {{"code", r.reason}, {"message", "the code was refused: " + r.reason}};
  std::cout << out.dump() << std::endl;
  return r.reason == "invalid_argument" ? 2 : 1;
}

int upload() {
  auto t = open_terminal();
  if (!t) return print_error(t.error());
  auto link = transport();
  if (!link) return print_error(link.error());
  auto summary = t->upload(*link);
  if (!summary) return print_error(summary.error());
  return print_ok({{"uploaded", summary->uploaded},
                   {"duplicates", summary->duplicates},
                   {"rejected", summary->rejected},
                   {"queued", t->store().queue.size()}});
}

}  // namespace

void add_pos_command(CLI::App& app, Action& action) {
  auto* p =
      app.add_subcommand("pos", "a POS terminal: sync keys, scan codes offline, upload rides");
  add_server_options(p, o.server);
  p->add_option("--store", o.store, "the terminal's store file (holds its key; mode 0600)")
      ->required();
  p->add_option("--terminal", o.terminal, "the terminal number")->required();
  p->add_option("--merchant", o.merchant, "the anonymous-code merchant number (BIZID)")->required();
  p->add_option("--now", o.now, "act as if at this time (ISO 8601 UTC or Unix ms; for tests)");
  p->require_subcommand(1);

  auto* s = p->add_subcommand("sync", "download the platform's QR keys");
  s->add_option("--terminal-key", o.terminal_key,
                "the key `admin terminal add` printed (first sync only)");
  s->callback([&action] { action = sync; });

  auto* sc = p->add_subcommand("scan", "check a ride code offline and queue the ride");
  auto* payload = sc->add_option("--payload", o.payload, "the code's payload (base64url)");
  auto* image = sc->add_option("--image", o.image, "a PNG image of the QR code");
  payload->excludes(image);
  sc->add_option("--amount", o.amount, "the fare in fen")->required();
  sc->callback([&action, payload, image] {
    action = [payload, image] {
      if (payload->count() == 0 && image->count() == 0) {
        return print_error(
            make_error(ErrorCode::kInvalidArgument, "scan needs --payload or --image"));
      }
      return scan();
    };
  });

  p->add_subcommand("upload", "upload the queued rides to the POS front")->callback([&action] {
    action = upload;
  });
}

}  // namespace anoncode::cli
