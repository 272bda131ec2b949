#include "server/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/counters.h"

namespace anoncode::server {

namespace {

// Label values are method names and registered routes, but escape them as the format asks.
std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string format_double(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

// Seconds since the epoch at which this process started: its start in clock ticks after boot
// (/proc/self/stat field 22), placed on the wall clock by the time since boot now
// (CLOCK_BOOTTIME). Not /proc/stat's btime, which is fixed at boot: a wall clock stepped since
// (a VM resumed, NTP) would put the start in the future.
std::optional<double> process_start_time() {
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  const size_t close = line.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) start_ticks = std::stoull(field);
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  timespec boot{}, wall{};
  if (ticks <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0 ||
      clock_gettime(CLOCK_REALTIME, &wall) != 0) {
    return std::nullopt;
  }
  const double since_boot = static_cast<double>(boot.tv_sec) + boot.tv_nsec / 1e9;
  const double now = static_cast<double>(wall.tv_sec) + wall.tv_nsec / 1e9;
  return now - (since_boot - static_cast<double>(start_ticks) / static_cast<double>(ticks));
}

}  // namespace

std::string process_metrics() {
  std::ostringstream out;
  auto metric = [&out](const char* name, const char* type, const char* help, double value) {
    // The shortest text that reads back as the same double: a start time in seconds since the
    // epoch needs more digits than format_double's 9.
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, value).ptr;
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << std::string_view(text, static_cast<size_t>(end - text)) << "\n";
  };
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    metric("process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.", cpu);
  }
  std::ifstream statm("/proc/self/statm");
  double pages_virtual = 0, pages_resident = 0;
  if (statm >> pages_virtual >> pages_resident) {
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           pages_resident * page);
    metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
           pages_virtual * page);
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) metric("process_open_fds", "gauge", "Number of open file descriptors.", fds);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    metric("process_max_fds", "gauge", "Maximum number of open file descriptors.",
           static_cast<double>(files.rlim_cur));
  }
  try {
    if (auto start = process_start_time()) {
      metric("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.", *start);
    }
  } catch (const std::exception&) {  // a /proc line not as Linux writes it: left out
  }
  return out.str();
}

Metrics::Metrics()
    : bounds_{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0} {}

void Metrics::record(const std::string& method, const std::string& route, int status,
                     double seconds) {
  std::lock_guard lock(mu_);
  Series& s = series_[Key{method, route, status}];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (seconds <= bounds_[i]) ++s.buckets[i];
  }
  ++s.count;
  s.sum += seconds;
}

uint64_t Metrics::count(const std::string& method, const std::string& route, int status) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(Key{method, route, status});
  return it == series_.end() ? 0 : it->second.count;
}

void Metrics::add_gauge(std::string name, std::string help,
                        std::function<std::optional<double>()> read) {
  std::lock_guard lock(mu_);
  gauges_.push_back(Gauge{std::move(name), std::move(help), std::move(read)});
}

std::string Metrics::render() const {
  std::unique_lock lock(mu_);
  std::ostringstream out;
  out << "# HELP anoncode_http_requests_total HTTP requests served, by method, route and status.\n"
      << "# TYPE anoncode_http_requests_total counter\n";
  for (const auto& [key, s] : series_) {
    const auto& [method, route, status] = key;
    out << "anoncode_http_requests_total{method=\"" << escape_label(method) << "\",route=\""
        << escape_label(route) << "\",status=\"" << status << "\"} " << s.count << "\n";
  }
  out << "# HELP anoncode_http_request_duration_seconds Time from routing to the response.\n"
      << "# TYPE anoncode_http_request_duration_seconds histogram\n";
  for (const auto& [key, s] : series_) {
    const auto& [method, route, status] = key;
    std::string labels = "method=\"" + escape_label(method) + "\",route=\"" + escape_label(route) +
                         "\",status=\"" + std::to_string(status) + "\"";
    for (size_t i = 0; i < bounds_.size(); ++i) {
      out << "anoncode_http_request_duration_seconds_bucket{" << labels << ",le=\""
          << format_double(bounds_[i]) << "\"} " << s.buckets[i] << "\n";
    }
    out << "anoncode_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << s.count
        << "\n";
    out << "anoncode_http_request_duration_seconds_sum{" << labels << "} " << format_double(s.sum)
        << "\n";
    out << "anoncode_http_request_duration_seconds_count{" << labels << "} " << s.count << "\n";
  }
  lock.unlock();  // gauges may query a database; the series need no lock from here on
  for (const auto& [name, help, value] :
       {std::tuple{"anoncode_http_open_connections", "HTTP connections open.",
                   &load_.open_connections},
        std::tuple{"anoncode_http_inflight_requests",
                   "HTTP requests read (their header at least) and not yet answered.",
                   &load_.inflight_requests},
        std::tuple{"anoncode_http_queue_depth", "HTTP requests waiting for a worker thread.",
                   &load_.queue_depth}}) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
        << name << " " << value->load() << "\n";
  }
  out << process_metrics();
  for (size_t i = 0; i < counters::kInfo.size(); ++i) {
    const auto& info = counters::kInfo[i];
    out << "# HELP " << info.name << " " << info.help << "\n# TYPE " << info.name << " counter\n"
        << info.name << " " << counters::value(static_cast<counters::Event>(i)) << "\n";
  }
  for (const auto& g : gauges_) {
    auto v = g.read();
    if (!v) continue;
    out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n"
        << g.name << " " << format_double(*v) << "\n";
  }
  return out.str();
}

}  // namespace anoncode::server
