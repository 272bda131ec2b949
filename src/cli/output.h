// The command-line contract (DESIGN §6): one JSON object on stdout and exit 0 on success; on
// failure a non-zero exit and {"error":{"code":"…","message":"…"}}.
#pragma once

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace anoncode::cli {

int print_ok(const nlohmann::json& result);
int print_error(const Error& error);

}  // namespace anoncode::cli
