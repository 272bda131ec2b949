// Metrics in the Prometheus text format (DESIGN §5 `GET /metrics`): a request counter and a
// latency histogram per (method, route, status), the process's event counters
// (common/counters.h) and gauges read at scrape time. Routes are the registered paths (or
// "unmatched"), never raw request paths, so the label set stays small and carries no user data.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace anoncode::server {

class Metrics {
 public:
  Metrics();
  void record(const std::string& method, const std::string& route, int status, double seconds);
  // The exposition text: anoncode_http_requests_total and anoncode_http_request_duration_seconds.
  std::string render() const;
  // A gauge read at each scrape (e.g. a queue depth from the database); a reading that fails is
  // left out of that scrape. Register before serving (gauges are read without the lock).
  void add_gauge(std::string name, std::string help, std::function<std::optional<double>()> read);
  // The number of requests recorded for (method, route, status) — for tests.
  uint64_t count(const std::string& method, const std::string& route, int status) const;

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
};

}  // namespace anoncode::server
