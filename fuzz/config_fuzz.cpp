// The operator's configuration (datadir/config.h): load_config reads DIR/config.toml (toml++ and
// then every field's type and range), parse_listen the [server] listen address. Input: the file.
// The file is the operator's, not a stranger's, but a typo in it must be an error, not a crash.
//
// Properties: no crash; a configuration that loads has a listen address that parses to a port in
// 0..65535 (0: any free port).
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "datadir/config.h"
#include "fuzz_util.h"

using namespace anoncode;
namespace fs = std::filesystem;

namespace {

// One directory per process, under TMPDIR (a fuzzing run writes the file thousands of times).
const fs::path& dir() {
  static const fs::path d = [] {
    fs::path p = fs::temp_directory_path() / ("anoncode-config-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)datadir::parse_listen(fuzz::as_text(data, size));
  {
    std::ofstream out(dir() / datadir::kConfigFile, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto c = datadir::load_config(dir());
  if (!c) return 0;
  auto listen = datadir::parse_listen(c->listen);
  FUZZ_CHECK(listen && listen->second >= 0 && listen->second <= 65535);
  return 0;
}
