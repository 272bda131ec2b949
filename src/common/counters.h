// Process-wide counters of what the services did (never who), exported by GET /metrics as
// Prometheus counters (issue #4). Incremented after the transaction that did the work committed,
// so a retried transaction counts once.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace anoncode::counters {

enum class Event : size_t {
  kShowVerified,   // a credential show verified and its next credential issued
  kShowReplayed,   // a retried show answered with its stored response
  kCloneTraced,    // a serial shown twice: refused as sn_reused, traced and recorded
  kCopyRisk,       // a ride code used a second time (复制风险): logged, deducted
  kRideSettled,    // a ride uploaded by a POS and deducted
  kRideDuplicate,  // a ride uploaded again (same terminal and counter): nothing changed
  kRideRejected,   // a ride acknowledged but refused (bad payload, unknown code, bad fare)
  kRestoreLocked,  // a phone or client address locked out of restore after wrong key proofs
  kDbCommit,       // a transaction that wrote committed (SQLite: it then waits for a WAL sync)
  kDbWalSync,      // SQLite's write-ahead log synced once for every commit before it
  kCount,
};

struct Info {
  const char* name;  // the metric name, anoncode_…_total
  const char* help;
};

inline constexpr std::array<Info, static_cast<size_t>(Event::kCount)> kInfo = {{
    {"anoncode_shows_verified_total", "Credential shows verified and answered with a new one."},
    {"anoncode_shows_replayed_total", "Retried shows answered with their stored response."},
    {"anoncode_clones_traced_total", "Serials shown twice: refused, traced and recorded."},
    {"anoncode_copy_risks_total", "Ride codes used more than once (logged, deducted)."},
    {"anoncode_rides_settled_total", "Rides uploaded by POS terminals and deducted."},
    {"anoncode_rides_duplicate_total", "Rides uploaded again; nothing changed."},
    {"anoncode_rides_rejected_total", "Rides acknowledged but refused (never deducted)."},
    {"anoncode_restore_locks_total",
     "Restore locks set: a phone or a client address after too many wrong key proofs."},
    {"anoncode_db_write_commits_total",
     "Database transactions that wrote, committed (SQLite: acknowledged after a WAL sync)."},
    {"anoncode_db_wal_syncs_total",
     "SQLite write-ahead log syncs; each makes every commit before it durable (group commit)."},
}};

inline std::array<std::atomic<uint64_t>, static_cast<size_t>(Event::kCount)>& values() {
  static std::array<std::atomic<uint64_t>, static_cast<size_t>(Event::kCount)> v{};
  return v;
}

inline void add(Event e, uint64_t n = 1) {
  values()[static_cast<size_t>(e)].fetch_add(n, std::memory_order_relaxed);
}

inline uint64_t value(Event e) {
  return values()[static_cast<size_t>(e)].load(std::memory_order_relaxed);
}

}  // namespace anoncode::counters
