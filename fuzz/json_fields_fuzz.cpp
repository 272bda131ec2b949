// The request body reader (server/json_fields.h): parse_json_object and the field readers every
// route reads its JSON body with — including the POS front's ride batches (an array of objects
// of integers and base64url bytes, read with required_array, required_int, required_bytes).
// Input: a request body.
//
// Properties: no crash; parse_json_object accepts only UTF-8 objects; every reader returns what
// it promises — strings that are UTF-8 and within their length, integers within their range,
// bytes within their length (or of the exact length asked), arrays within their item count.
#include "fuzz_util.h"
#include "server/json_fields.h"

using namespace anoncode;
using namespace anoncode::server;

namespace {

void read_fields(const nlohmann::json& obj, int depth) {
  for (const auto& [name, value] : obj.items()) {
    for (size_t max : {size_t{1}, size_t{8}, size_t{256}}) {
      if (auto s = required_string(obj, name, max)) {
        FUZZ_CHECK(!s->empty() && s->size() <= max && is_utf8(*s));
      }
      if (auto s = required_string_or_empty(obj, name, max)) {
        FUZZ_CHECK(s->size() <= max && is_utf8(*s));
      }
      if (auto s = optional_string(obj, name, max); s && *s) {
        FUZZ_CHECK(!(*s)->empty() && (*s)->size() <= max && is_utf8(**s));
      }
      if (auto s = optional_string_or_empty(obj, name, max); s && *s) {
        FUZZ_CHECK((*s)->size() <= max && is_utf8(**s));
      }
      if (auto b = required_bytes(obj, name, max)) FUZZ_CHECK(!b->empty() && b->size() <= max);
      if (auto b = required_bytes(obj, name, 1024, max)) FUZZ_CHECK(b->size() == max);
      if (auto b = optional_bytes(obj, name, max); b && *b) {
        FUZZ_CHECK(!(*b)->empty() && (*b)->size() <= max);
      }
      if (auto a = required_string_array(obj, name, max, max)) {
        FUZZ_CHECK(!a->empty() && a->size() <= max);
        for (const auto& s : *a) FUZZ_CHECK(!s.empty() && s.size() <= max && is_utf8(s));
      }
      if (auto a = required_array(obj, name, max)) {
        FUZZ_CHECK(a->is_array() && a->size() <= max);
        // A ride batch: each item an object read field by field.
        if (depth < 4) {
          for (const auto& item : *a) {
            if (item.is_object()) read_fields(item, depth + 1);
          }
        }
      }
    }
    if (auto i = required_int(obj, name)) FUZZ_CHECK(value.is_number_integer());
    if (auto i = required_int(obj, name, -5, 5)) FUZZ_CHECK(-5 <= *i && *i <= 5);
    if (auto i = optional_int(obj, name, 0, INT64_MAX); i && *i) FUZZ_CHECK(**i >= 0);
    if (auto b = required_bool(obj, name)) FUZZ_CHECK(value.is_boolean());
    (void)optional_bool(obj, name);
    if (auto o = required_object(obj, name)) {
      FUZZ_CHECK(o->is_object());
      if (depth < 4) read_fields(*o, depth + 1);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = fuzz::as_text(data, size);
  auto obj = parse_json_object(body);
  if (!obj) return 0;
  FUZZ_CHECK(obj->is_object() && is_utf8(body));
  read_fields(*obj, 0);
  // The absent field reads as absent or as an error, never as a value.
  if (!obj->contains("absent")) {
    FUZZ_CHECK(!required_string(*obj, "absent").ok());
    auto i = optional_int(*obj, "absent");
    FUZZ_CHECK(i && !*i);
  }
  return 0;
}
