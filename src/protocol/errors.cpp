#include "protocol/errors.h"

namespace anoncode::protocol {

nlohmann::json error_body(const Error& error, const nlohmann::json& extra) {
  nlohmann::json body{
      {"error", {{"code", std::string(error.code_name())}, {"message", error.message}}}};
  if (extra.is_object()) {
    for (const auto& [k, v] : extra.items()) {
      if (k != "error") body[k] = v;
    }
  }
  return body;
}

std::optional<Error> error_in(const nlohmann::json& body) {
  if (!body.is_object()) return std::nullopt;
  auto e = body.find("error");
  if (e == body.end() || !e->is_object()) return std::nullopt;
  auto code = e->find("code");
  if (code == e->end() || !code->is_string()) return std::nullopt;
  std::string message;
  if (auto m = e->find("message"); m != e->end() && m->is_string()) message = m->get<std::string>();
  return Error{error_code_from_name(code->get<std::string>()).value_or(ErrorCode::kInternal),
               std::move(message)};
}

}  // namespace anoncode::protocol
