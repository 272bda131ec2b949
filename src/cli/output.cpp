#include "cli/output.h"

#include <iostream>

namespace anoncode::cli {

int print_ok(const nlohmann::json& result) {
  std::cout << result.dump() << std::endl;
  return 0;
}

int print_error(const Error& error) {
  nlohmann::json j;
  j["error"] = {{"code", std::string(error.code_name())}, {"message", error.message}};
  std::cout << j.dump() << std::endl;
  // Exit codes: 2 for usage errors, 1 for everything else.
  return error.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

}  // namespace anoncode::cli
