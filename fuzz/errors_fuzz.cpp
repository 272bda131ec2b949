// The error body (protocol/errors.h): error_in reads {"error":{"code","message"}} from every
// answer a client gets that is not a success — the SDK, the POS and the admin CLI trust nothing
// else in it.
//
// Properties: no crash; an error that reads survives error_body and back (same code, same
// message), with the answer's other members kept beside it.
#include "fuzz_util.h"
#include "protocol/errors.h"

using namespace anoncode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = fuzz::as_json(data, size);
  if (!j) return 0;
  auto e = protocol::error_in(*j);
  if (!e) {
    FUZZ_CHECK(!j->is_object() || !j->contains("error") || !(*j)["error"].is_object() ||
               !(*j)["error"].contains("code") || !(*j)["error"]["code"].is_string());
    return 0;
  }
  nlohmann::json body = protocol::error_body(*e, *j);
  auto again = protocol::error_in(body);
  FUZZ_CHECK(again && again->code == e->code && again->message == e->message);
  for (const auto& [k, v] : j->items()) {
    if (k != "error") FUZZ_CHECK(body.contains(k) && body[k] == v);
  }
  // The body a service writes is JSON it can read back.
  auto text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  FUZZ_CHECK(!parsed.is_discarded() && protocol::error_in(parsed).has_value());
  return 0;
}
