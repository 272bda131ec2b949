// Who a refund is for (seed 000 §2.11): the rider names a person by name and ID number; the app
// backend, which holds the registered users' personal data, says which app user that is. The
// platform then asks the privacy backend to check, in zero knowledge, that the rider's credential
// belongs to that user.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"

namespace anoncode::platform {

class IdentityDirectory {
 public:
  virtual ~IdentityDirectory() = default;
  // The user id registered with this name and ID number; `not_found` if nobody is.
  virtual Result<std::string> user_for(std::string_view name, std::string_view id_number) = 0;
};

// A directory in memory, for tests and single-process demos.
class MemoryIdentityDirectory final : public IdentityDirectory {
 public:
  void add(std::string name, std::string id_number, std::string user_id) {
    std::lock_guard lock(mu_);
    users_[{std::move(name), std::move(id_number)}] = std::move(user_id);
  }
  Result<std::string> user_for(std::string_view name, std::string_view id_number) override {
    std::lock_guard lock(mu_);
    auto it = users_.find({std::string(name), std::string(id_number)});
    if (it == users_.end()) return make_error(ErrorCode::kNotFound, "no such user");
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::string> users_;
};

}  // namespace anoncode::platform
