// Tests only: `anoncode init` and `anoncode serve` as real child processes (the binary comes from
// ANONCODE_BIN, set by ctest), so a test can run several servers on one database, SIGKILL one
// mid-request and start it again.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/tls.h"

namespace anoncode::testing {

inline std::string anoncode_bin() {
  const char* bin = std::getenv("ANONCODE_BIN");
  if (bin == nullptr || *bin == '\0') throw std::runtime_error("ANONCODE_BIN is not set");
  return bin;
}

// A new empty folder for one test's data directory, logs and wallet states.
inline std::filesystem::path fresh_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() / "anoncode-tests" /
             (name + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs a command to completion; its stdout.
inline std::string run_command(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const auto& a : argv) {
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += q + "' ";
  }
  FILE* p = ::popen((cmd + "2>/dev/null").c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// `anoncode init --data DIR --db URL [--group G]`; the admin token.
inline std::string init_data_dir(const std::filesystem::path& dir, const std::string& db_url,
                                 const std::string& group = "") {
  std::vector<std::string> argv = {anoncode_bin(), "init", "--data", dir.string(), "--db", db_url};
  if (!group.empty()) {
    argv.push_back("--group");
    argv.push_back(group);
  }
  auto out = nlohmann::json::parse(run_command(argv));
  if (!out.contains("admin_token")) throw std::runtime_error("init failed: " + out.dump());
  return out["admin_token"];
}

// Sets `key = value` in the data directory's config.toml (the key must be there already).
inline void set_config(const std::filesystem::path& dir, const std::string& key,
                       const std::string& value) {
  std::ifstream in(dir / "config.toml");
  std::stringstream text;
  std::string line;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.rfind(key + " =", 0) == 0) {
      line = key + " = " + value;
      found = true;
    }
    text << line << "\n";
  }
  if (!found) throw std::runtime_error("config.toml has no " + key);
  std::ofstream(dir / "config.toml") << text.str();
}

// One `anoncode serve` child process on 127.0.0.1.
class ServerProcess {
 public:
  ServerProcess(std::filesystem::path data_dir, std::filesystem::path log)
      : data_(std::move(data_dir)), log_(std::move(log)) {}
  ~ServerProcess() { kill(SIGKILL); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server (on `port`, or a free one the first time) and waits until /healthz could
  // be served, i.e. its "listening" log line appeared. Throws if it did not start in 20 s.
  void start() {
    std::string listen = "127.0.0.1:" + std::to_string(port_);
    std::filesystem::remove(log_);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(fd, 2);
      ::dup2(null, 1);
      std::string bin = anoncode_bin();
      ::execl(bin.c_str(), bin.c_str(), "serve", "--data", data_.c_str(), "--listen",
              listen.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 400; ++i) {
      std::ifstream in(log_);
      std::string line;
      while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.value("event", "") == "listening") {
          url_ = j.value("url", "");
          port_ = std::stoi(url_.substr(url_.rfind(':') + 1));
          return;
        }
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("the server did not start; see " + log_.string());
  }

  // Sends `sig` and reaps the process.
  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  void stop() { kill(SIGTERM); }

  const std::string& url() const { return url_; }  // https://127.0.0.1:PORT
  // The server and the CA its certificate chains to (the data directory's tls_ca.pem).
  net::Endpoint endpoint() const { return {url_, net::TlsTrust{(data_ / "tls_ca.pem").string()}}; }
  pid_t pid() const { return pid_; }

 private:
  std::filesystem::path data_, log_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string url_;
};

}  // namespace anoncode::testing
