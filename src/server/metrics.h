// Metrics in the Prometheus text format (DESIGN §5 `GET /metrics`): a request counter and a
// latency histogram per (method, route, status), the process's event counters
// (common/counters.h) and gauges read at scrape time. Routes are the registered paths (or
// "unmatched"), never raw request paths, so the label set stays small and carries no user data.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace anoncode::server {

// The standard process metrics of Prometheus' client libraries, read from the kernel at each
// scrape: process_cpu_seconds_total (getrusage), process_resident_memory_bytes and
// process_virtual_memory_bytes (/proc/self/statm), process_open_fds, process_max_fds and
// process_start_time_seconds. A reading the kernel does not give is left out.
std::string process_metrics();

class Metrics {
 public:
  // The HTTP server's load, kept by the server and rendered as gauges:
  // anoncode_http_open_connections, anoncode_http_inflight_requests (a request whose header was
  // read and whose answer is not yet written) and anoncode_http_queue_depth (requests waiting for
  // a worker).
  struct Load {
    std::atomic<int64_t> open_connections{0};
    std::atomic<int64_t> inflight_requests{0};
    std::atomic<int64_t> queue_depth{0};
  };

  Metrics();
  void record(const std::string& method, const std::string& route, int status, double seconds);
  // The exposition text: anoncode_http_requests_total and anoncode_http_request_duration_seconds.
  std::string render() const;
  // A gauge read at each scrape (e.g. a queue depth from the database); a reading that fails is
  // left out of that scrape. Register before serving (gauges are read without the lock).
  void add_gauge(std::string name, std::string help, std::function<std::optional<double>()> read);
  // The number of requests recorded for (method, route, status) — for tests.
  uint64_t count(const std::string& method, const std::string& route, int status) const;
  Load& load() { return load_; }
  const Load& load() const { return load_; }

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // cumulative counts per upper bound
    uint64_t count = 0;
    double sum = 0;
  };
  using Key = std::tuple<std::string, std::string, int>;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Key, Series> series_;
  struct Gauge {
    std::string name, help;
    std::function<std::optional<double>()> read;
  };
  std::vector<Gauge> gauges_;
  Load load_;
};

}  // namespace anoncode::server
