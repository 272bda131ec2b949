// The POS terminal (POS 机, seed 000 §2.5, DESIGN §3.4): scans a QR code and accepts or refuses it
// OFFLINE — signature under a platform key it downloaded, freshness with a clock-skew tolerance,
// its own duplicate list — stores each accepted ride with a counter and a MAC under the terminal
// key, and uploads the queue when online.
//
// Everything lives in one store file (JSON, mode 0600: it holds the terminal key), written
// atomically (temp file, fsync, rename, fsync of the directory) before a scan is reported
// accepted and after an upload was acknowledged. A crash between sending a batch and the
// acknowledgement leaves the rides queued; they are sent again and the POS front counts them
// as duplicates (exactly once by (terminal, counter)).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/secret.h"
#include "net/tls.h"
#include "protocol/platform_keys.h"
#include "protocol/terminal_mac.h"

namespace anoncode::pos {

// What the terminal shares with the services (src/protocol): the QR payload, the platform's
// published keys and the terminal MACs.
using protocol::check_qr_freshness;
using protocol::keys_from_json;
using protocol::keys_to_json;
using protocol::kTerminalKeySize;
using protocol::kTerminalMacSize;
using protocol::PlatformPublicKey;
using protocol::QrPayload;
using protocol::ride_mac;
using protocol::sync_mac;
using protocol::verify_qr_signature;

// How the terminal talks to the POS front: POST `path` with a JSON body → the JSON reply, or the
// error the server answered with (its code, e.g. unauthorized, verification_failed).
using Transport =
    std::function<Result<nlohmann::json>(const std::string& path, const nlohmann::json& body)>;

// HTTPS transport to a server such as "https://127.0.0.1:8443", its certificate verified against
// its trust (net::make_client; plain "http://" to loopback only), through one protocol::ApiClient
// whose connection is kept alive between calls and reopened when the server closed it.
// `invalid_argument` for a bad URL.
Result<Transport> http_transport(const net::Endpoint& server);

struct QueuedRide {
  int64_t counter = 0;
  Bytes payload;
  int64_t amount = 0;
  int64_t scanned_at = 0;
  Bytes mac;
};

struct SeenCode {
  std::string sequence;
  int64_t expires_at = 0;
};

struct PosStore {
  std::string terminal;
  std::string merchant;
  SecretBytes terminal_key;
  std::vector<PlatformPublicKey> keys;
  std::vector<SeenCode> seen;  // the local duplicate list (codes are dropped once long expired)
  int64_t next_counter = 1;    // monotonically increasing, never reused
  std::vector<QueuedRide> queue;
};

struct PosOptions {
  int64_t clock_skew_ms = 30'000;  // tolerance for expiry and issue times
  int64_t max_amount = 10'000;     // fen, the platform's max_fare_fen: a larger fare is refused
  size_t max_batch = 500;          // rides per upload request
};

struct ScanResult {
  bool accepted = false;
  // "" when accepted; else a stable word: malformed, unknown_key, bad_signature, expired,
  // duplicate, invalid_argument (amount), internal (the store could not be written).
  std::string reason;
  std::string sequence;  // when the payload decoded
  int64_t counter = 0;   // when accepted
};

struct UploadSummary {
  int64_t uploaded = 0;    // settled for the first time
  int64_t duplicates = 0;  // already settled before (a re-sent batch)
  int64_t rejected = 0;    // acknowledged but refused by the platform (never retried)
};

class PosTerminal {
 public:
  // Opens the store at `path`; creates it when absent, which needs the terminal key the
  // administrator handed out (`admin terminal add`). An existing store must belong to the same
  // terminal and merchant (`invalid_argument` otherwise); a key given again must match it.
  static Result<PosTerminal> open(const std::string& path, const std::string& terminal,
                                  const std::string& merchant,
                                  const std::optional<SecretBytes>& terminal_key,
                                  PosOptions options = {});

  // Downloads the platform keys (POST /posfront/v1/sync) and stores them.
  Status sync(const Transport& transport, int64_t now_ms);

  // Offline check of a scanned payload for a fare of `amount` fen.
  ScanResult scan(ByteView payload, int64_t amount, int64_t now_ms);

  // Uploads the queue in batches (POST /posfront/v1/batches); a batch leaves the queue only once
  // the POS front acknowledged it. Stops at the first error, returning it (what was acknowledged
  // before stays acknowledged).
  Result<UploadSummary> upload(const Transport& transport);

  const PosStore& store() const { return store_; }
  const std::string& path() const { return path_; }

  // The store file format (exposed for tests and the CLI).
  static nlohmann::json to_json(const PosStore& store);
  static Result<PosStore> from_json(const nlohmann::json& j);

 private:
  PosTerminal(std::string path, PosStore store, PosOptions options)
      : path_(std::move(path)), store_(std::move(store)), options_(options) {}
  Status save() const;

  std::string path_;
  PosStore store_;
  PosOptions options_;
};

// Writes `content` to `path` atomically: a temp file beside it, fsync, rename, fsync of the
// directory. `mode` is the new file's permission bits.
Status write_file_atomically(const std::string& path, std::string_view content, unsigned mode);

}  // namespace anoncode::pos
