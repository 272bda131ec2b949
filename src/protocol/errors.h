// The error body of every answer that is not a success (docs/API.md "Errors"):
//   {"error": {"code": "<stable code>", "message": "<text for a person>"}, …extra members}
// Written by the services, read by every client (SDK, POS, admin CLI, tests): one definition of
// the shape, here.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>

#include "common/error.h"

namespace anoncode::protocol {

// The body of `error`, with the members of `extra` (an object; its own "error" is ignored) added.
nlohmann::json error_body(const Error& error, const nlohmann::json& extra = nlohmann::json());

// The Error an error body carries, or nullopt when `body` is not one. An error body whose code
// this build does not know is `internal`, with its message kept.
std::optional<Error> error_in(const nlohmann::json& body);

}  // namespace anoncode::protocol
