// seed 000 §2.5 offline scan and deduction: the POS side
#include "pos/pos_terminal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "protocol/terminal_mac.h"

namespace anoncode::pos {

namespace {

Error bad_store(const std::string& what) {
  return make_error(ErrorCode::kMalformed, "POS store: " + what);
}

bool has(const nlohmann::json& j, const char* key, nlohmann::json::value_t type) {
  if (!j.is_object() || !j.contains(key)) return false;
  const auto& v = j[key];
  if (type == nlohmann::json::value_t::number_integer) return v.is_number_integer();
  return v.type() == type;
}

std::string reason_of(const Error& e) {
  return std::string(e.code_name());
}

}  // namespace

Status write_file_atomically(const std::string& path, std::string_view content, unsigned mode) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error(ErrorCode::kUnavailable, "cannot write " + tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(ErrorCode::kUnavailable, "cannot write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kUnavailable, "cannot sync " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kUnavailable, "cannot replace " + path);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

nlohmann::json PosTerminal::to_json(const PosStore& s) {
  nlohmann::json seen = nlohmann::json::array();
  for (const auto& c : s.seen)
    seen.push_back({{"sequence", c.sequence}, {"expires_at", c.expires_at}});
  nlohmann::json queue = nlohmann::json::array();
  for (const auto& r : s.queue) {
    queue.push_back({{"counter", r.counter},
                     {"payload", to_base64url(r.payload)},
                     {"amount", r.amount},
                     {"scanned_at", r.scanned_at},
                     {"mac", to_base64url(r.mac)}});
  }
  return {{"version", 1},
          {"terminal", s.terminal},
          {"merchant", s.merchant},
          {"terminal_key", to_base64url(s.terminal_key.expose_secret())},
          {"keys", keys_to_json(s.keys)["keys"]},
          {"seen", std::move(seen)},
          {"next_counter", s.next_counter},
          {"queue", std::move(queue)}};
}

Result<PosStore> PosTerminal::from_json(const nlohmann::json& j) {
  using T = nlohmann::json::value_t;
  if (!has(j, "version", T::number_integer) || j["version"] != 1)
    return bad_store("unknown version");
  if (!has(j, "terminal", T::string) || !has(j, "merchant", T::string) ||
      !has(j, "terminal_key", T::string) || !has(j, "keys", T::array) ||
      !has(j, "seen", T::array) || !has(j, "next_counter", T::number_integer) ||
      !has(j, "queue", T::array)) {
    return bad_store("missing field");
  }
  PosStore s;
  s.terminal = j["terminal"].get<std::string>();
  s.merchant = j["merchant"].get<std::string>();
  ANONCODE_TRY(Bytes key, from_base64url(j["terminal_key"].get<std::string>()));
  s.terminal_key = SecretBytes(key);
  std::fill(key.begin(), key.end(), 0);
  ANONCODE_TRY(s.keys, keys_from_json(nlohmann::json{{"keys", j["keys"]}}));
  for (const auto& c : j["seen"]) {
    if (!has(c, "sequence", T::string) || !has(c, "expires_at", T::number_integer)) {
      return bad_store("bad duplicate list");
    }
    s.seen.push_back({c["sequence"].get<std::string>(), c["expires_at"].get<int64_t>()});
  }
  s.next_counter = j["next_counter"].get<int64_t>();
  for (const auto& r : j["queue"]) {
    if (!has(r, "counter", T::number_integer) || !has(r, "payload", T::string) ||
        !has(r, "amount", T::number_integer) || !has(r, "scanned_at", T::number_integer) ||
        !has(r, "mac", T::string)) {
      return bad_store("bad queued ride");
    }
    QueuedRide q;
    q.counter = r["counter"].get<int64_t>();
    ANONCODE_TRY(q.payload, from_base64url(r["payload"].get<std::string>()));
    q.amount = r["amount"].get<int64_t>();
    q.scanned_at = r["scanned_at"].get<int64_t>();
    ANONCODE_TRY(q.mac, from_base64url(r["mac"].get<std::string>()));
    if (q.counter >= s.next_counter) return bad_store("queued counter beyond next_counter");
    s.queue.push_back(std::move(q));
  }
  if (s.next_counter < 1) return bad_store("bad counter");
  return s;
}

Result<PosTerminal> PosTerminal::open(const std::string& path, const std::string& terminal,
                                      const std::string& merchant,
                                      const std::optional<SecretBytes>& terminal_key,
                                      PosOptions options) {
  if (terminal.empty() || merchant.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "terminal and merchant are required");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!terminal_key) {
      return make_error(ErrorCode::kInvalidArgument,
                        "no POS store yet: the first sync needs the terminal key");
    }
    if (terminal_key->size() != kTerminalKeySize) {
      return make_error(ErrorCode::kInvalidArgument, "the terminal key must be 32 bytes");
    }
    PosStore s;
    s.terminal = terminal;
    s.merchant = merchant;
    s.terminal_key = *terminal_key;
    PosTerminal pos(path, std::move(s), options);
    ANONCODE_CHECK(pos.save());
    return pos;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return bad_store("not JSON");
  ANONCODE_TRY(PosStore s, from_json(parsed));
  if (s.terminal != terminal || s.merchant != merchant) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the POS store belongs to another terminal or merchant");
  }
  if (terminal_key && !terminal_key->equals(s.terminal_key)) {
    return make_error(ErrorCode::kInvalidArgument, "the POS store holds another terminal key");
  }
  return PosTerminal(path, std::move(s), options);
}

Status PosTerminal::save() const {
  return write_file_atomically(path_, to_json(store_).dump(), 0600);
}

Status PosTerminal::sync(const Transport& transport, int64_t now_ms) {
  auto mac = sync_mac(store_.terminal_key, store_.terminal, store_.merchant, now_ms);
  nlohmann::json body{{"terminal", store_.terminal},
                      {"merchant", store_.merchant},
                      {"at", now_ms},
                      {"mac", to_base64url(mac)}};
  ANONCODE_TRY(nlohmann::json reply, transport("/posfront/v1/sync", body));
  ANONCODE_TRY(auto keys, keys_from_json(reply));
  PosStore before = store_;
  store_.keys = std::move(keys);
  if (auto s = save(); !s.ok()) {
    store_ = std::move(before);
    return s;
  }
  return {};
}

ScanResult PosTerminal::scan(ByteView payload, int64_t amount, int64_t now_ms) {
  ScanResult out;
  if (amount <= 0 || amount > options_.max_amount) {
    out.reason = "invalid_argument";
    return out;
  }
  auto decoded = QrPayload::decode(payload);
  if (!decoded.ok()) {
    out.reason = reason_of(decoded.error());
    return out;
  }
  const QrPayload& qr = *decoded;
  out.sequence = qr.sequence;
  auto key = std::find_if(store_.keys.begin(), store_.keys.end(),
                          [&](const PlatformPublicKey& k) { return k.kid == qr.kid; });
  if (key == store_.keys.end()) {
    out.reason = "unknown_key";
    return out;
  }
  auto pub = crypto::Sm2PublicKey::from_bytes(key->public_key);
  if (!pub.ok()) {
    out.reason = "unknown_key";
    return out;
  }
  if (auto s = verify_qr_signature(qr, *pub); !s.ok()) {
    out.reason = reason_of(s.error());
    return out;
  }
  // A code issued outside its key's validity is refused like an expired code.
  if (!key->covers(qr.issued_at)) {
    out.reason = "expired";
    return out;
  }
  if (auto s = check_qr_freshness(qr, now_ms, options_.clock_skew_ms); !s.ok()) {
    out.reason = reason_of(s.error());
    return out;
  }
  for (const auto& c : store_.seen) {
    if (c.sequence == qr.sequence) {
      out.reason = "duplicate";
      return out;
    }
  }

  PosStore before = store_;
  // Codes past expiry + tolerance are refused by the freshness check, so they can leave the list.
  std::erase_if(store_.seen,
                [&](const SeenCode& c) { return c.expires_at < now_ms - options_.clock_skew_ms; });
  store_.seen.push_back({qr.sequence, qr.expires_at});
  QueuedRide ride;
  ride.counter = store_.next_counter++;
  ride.payload = to_bytes(payload);
  ride.amount = amount;
  ride.scanned_at = now_ms;
  auto mac = ride_mac(store_.terminal_key, store_.terminal, store_.merchant, ride.counter,
                      ride.payload, ride.amount, ride.scanned_at);
  ride.mac = Bytes(mac.begin(), mac.end());
  out.counter = ride.counter;
  store_.queue.push_back(std::move(ride));
  if (auto s = save(); !s.ok()) {  // never report a ride accepted that is not on disk
    store_ = std::move(before);
    out.counter = 0;
    out.reason = "internal";
    return out;
  }
  out.accepted = true;
  return out;
}

Result<UploadSummary> PosTerminal::upload(const Transport& transport) {
  UploadSummary sum;
  while (!store_.queue.empty()) {
    const size_t n = std::min(store_.queue.size(), std::max<size_t>(1, options_.max_batch));
    nlohmann::json rides = nlohmann::json::array();
    for (size_t i = 0; i < n; ++i) {
      const auto& r = store_.queue[i];
      rides.push_back({{"counter", r.counter},
                       {"payload", to_base64url(r.payload)},
                       {"amount", r.amount},
                       {"scanned_at", r.scanned_at},
                       {"mac", to_base64url(r.mac)}});
    }
    nlohmann::json body{
        {"terminal", store_.terminal}, {"merchant", store_.merchant}, {"rides", std::move(rides)}};
    auto reply = transport("/posfront/v1/batches", body);
    if (!reply.ok()) return reply.error();
    auto count = [&](const char* key) -> int64_t {
      return reply->contains(key) && (*reply)[key].is_number_integer()
                 ? (*reply)[key].get<int64_t>()
                 : 0;
    };
    if (!reply->contains("uploaded") || !reply->contains("duplicates")) {
      return make_error(ErrorCode::kMalformed, "POS front: unexpected reply to a batch");
    }
    PosStore before = store_;
    store_.queue.erase(store_.queue.begin(), store_.queue.begin() + static_cast<ptrdiff_t>(n));
    if (auto s = save(); !s.ok()) {
      // Acknowledged but not recorded: the rides stay queued and are sent again (duplicates).
      store_ = std::move(before);
      return s.error();
    }
    sum.uploaded += count("uploaded");
    sum.duplicates += count("duplicates");
    sum.rejected += count("rejected");
  }
  return sum;
}

}  // namespace anoncode::pos
