// `anoncode admin [--server URL] --token T <action>`: the administrator's calls to /admin/v1
// (DESIGN §6, docs/API.md). Each prints the server's JSON answer; a server error is printed
// unchanged as the error object; an unreachable server is `unavailable`.
#include <sodium.h>

#include <cctype>
#include <cstdlib>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/bytes.h"
#include "perf/flows.h"
#include "protocol/api_client.h"
#include "protocol/evidence.h"
#include "protocol/issuer_keyset.h"

namespace anoncode::cli {

namespace {

struct AdminOptions {
  ServerOption server;
  std::string token;
  std::string user_id, name, id_number, phone, card_no, reason, trust_root;
  std::vector<std::string> user_ids;
  std::string on_off;
  std::string terminal, merchant;
  std::string now;
  std::string username, role;
  std::string violation_id;
};
AdminOptions o;

// Prints a reply: the body on success; the server's error object as it came otherwise.
int print_reply(const Result<protocol::ApiReply>& reply) {
  if (!reply) return print_error(reply.error());
  if (reply->ok()) return print_ok(reply->body);
  Error e = protocol::reply_error(*reply);
  if (e.code == ErrorCode::kInternal && !reply->body.contains("error")) return print_error(e);
  std::cout << reply->body.dump() << std::endl;
  return e.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

// A query parameter's value: every byte but the unreserved characters (RFC 3986) as %XX.
std::string percent_encoded(std::string_view value) {
  static const char* hex = "0123456789ABCDEF";
  std::string q;
  for (unsigned char ch : value) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      q += static_cast<char>(ch);
    } else {
      q += '%';
      q += hex[ch >> 4];
      q += hex[ch & 15];
    }
  }
  return q;
}

Result<protocol::ApiClient> connect() {
  ANONCODE_TRY(net::Endpoint endpoint, endpoint_of(o.server));
  return protocol::ApiClient::create(endpoint);
}

int call(const std::string& method, const std::string& path,
         const nlohmann::json& body = nlohmann::json::object()) {
  auto client = connect();
  if (!client) return print_error(client.error());
  if (method == "GET") return print_reply(client->get(path, o.token));
  return print_reply(client->post(path, body, o.token));
}

// `account add`: the password from ANONCODE_ADMIN_PASSWORD, or a new random one printed once.
int account_add() {
  nlohmann::json body = {{"username", o.username}, {"role", o.role}};
  std::string generated;
  if (sodium_init() < 0) return print_error(make_error(ErrorCode::kInternal, "libsodium init"));
  if (const char* pw = std::getenv("ANONCODE_ADMIN_PASSWORD"); pw != nullptr && *pw != '\0') {
    body["password"] = pw;
  } else {
    uint8_t raw[18];
    randombytes_buf(raw, sizeof raw);
    generated = to_base64url(ByteView(raw, sizeof raw));  // 24 characters, 144 bits
    sodium_memzero(raw, sizeof raw);
    body["password"] = generated;
  }
  auto client = connect();
  if (!client) return print_error(client.error());
  auto reply = client->post("/admin/v1/accounts", body, o.token);
  if (!reply || !reply->ok() || generated.empty()) return print_reply(reply);
  nlohmann::json out = reply->body;
  out["password"] = generated;  // shown once: the server keeps only its argon2id hash
  return print_ok(out);
}

// `audit verify`: the chain's verification; a broken chain is `verification_failed` (exit 1).
int audit_verify() {
  auto client = connect();
  if (!client) return print_error(client.error());
  auto reply = client->get("/admin/v1/audit/verify", o.token);
  if (!reply || !reply->ok()) return print_reply(reply);
  const nlohmann::json& v = reply->body;
  if (v.value("ok", false)) return print_ok(v);
  std::string seq = v.contains("first_broken_seq") && v["first_broken_seq"].is_number_integer()
                        ? std::to_string(v["first_broken_seq"].get<int64_t>())
                        : "?";
  nlohmann::json out = v;
  out["error"] = {{"code", "verification_failed"},
                  {"message", "the audit log is broken at seq " + seq + ": " +
                                  v.value("reason", std::string("unknown reason"))}};
  std::cout << out.dump() << std::endl;
  return 1;
}

// DESIGN §3.6 rule 4: the published issuer key sets, checked with the root public key alone —
// every one signed by it, sequences 1, 2, … without a gap, one group, never more than two keys
// valid at once (at any instant any set names), and a key's validity never rewritten later.
struct KeysetAudit {
  int64_t count = 0, latest_sequence = 0;
  std::vector<std::string> problems;
  std::vector<protocol::IssuerKeySet> sets;  // the ones that verified
};

Result<KeysetAudit> audit_keysets(const crypto::Sm2PublicKey& root) {
  ANONCODE_TRY(auto client, connect());
  ANONCODE_TRY(auto reply, client.get("/privacy/v1/keysets"));
  if (!reply.ok()) return protocol::reply_error(reply);
  KeysetAudit out;
  std::vector<std::string>& problems = out.problems;
  std::map<std::string, protocol::IssuerKeyEntry> first_seen;
  std::string group;
  int64_t expected = 1;
  for (const auto& k : reply.body.value("keysets", nlohmann::json::array())) {
    const int64_t count = ++out.count;
    auto sig = from_base64url(k.value("signature", std::string()));
    protocol::SignedKeySet s{k.value("body", std::string()), sig ? *sig : Bytes{}};
    auto set = protocol::verify_keyset(s, root, expected, 0);
    if (!set) {
      problems.push_back("set " + std::to_string(count) + ": " + set.error().message);
      continue;
    }
    if (set->sequence != expected) {
      problems.push_back("sequence " + std::to_string(set->sequence) + " follows " +
                         std::to_string(expected - 1));
    }
    expected = set->sequence + 1;
    if (group.empty()) group = set->group;
    if (set->group != group)
      problems.push_back("set " + std::to_string(set->sequence) + ": group changed");
    for (const auto& key : set->keys) {
      auto [it, fresh] = first_seen.emplace(key.kid, key);
      if (!fresh &&
          (it->second.valid_from != key.valid_from || it->second.valid_until != key.valid_until ||
           it->second.public_key != key.public_key)) {
        problems.push_back("set " + std::to_string(set->sequence) + ": key " + key.kid +
                           " was rewritten");
      }
      // At the start of each key's validity, count the keys of this set valid then.
      size_t valid = 0;
      for (const auto& other : set->keys) valid += other.valid_at(key.valid_from) ? 1 : 0;
      if (valid > protocol::kMaxConcurrentIssuerKeys) {
        problems.push_back("set " + std::to_string(set->sequence) + ": " + std::to_string(valid) +
                           " keys valid at once");
      }
    }
    out.sets.push_back(std::move(*set));
  }
  if (out.count == 0) problems.push_back("no issuer key set was published");
  out.latest_sequence = expected - 1;
  return out;
}

int keys_audit() {
  auto root = protocol::parse_trust_root(perf::read_trust_root(o.trust_root));
  if (!root) return print_error(root.error());
  auto audit = audit_keysets(*root);
  if (!audit) return print_error(audit.error());
  nlohmann::json out = {{"keysets", audit->count},
                        {"latest_sequence", audit->latest_sequence},
                        {"verified", audit->problems.empty()},
                        {"problems", audit->problems}};
  if (audit->problems.empty()) return print_ok(out);
  out["error"] = {{"code", "verification_failed"}, {"message", audit->problems.front()}};
  std::cout << out.dump() << std::endl;
  return 1;
}

// DESIGN §3.6 rule 7: a violation's evidence, fetched from the server and checked here with the
// published issuer keys alone — after the key sets are checked against the trust root as
// `keys audit` checks them. Prints {"id","verified","j","user_id",…}; exit 1 with a stable code
// when it fails (`not_found` for a violation without evidence).
int violations_verify() {
  if (o.trust_root.empty()) {
    return print_error(make_error(ErrorCode::kInvalidArgument,
                                  "--trust-root is required: the key sets must be checked"));
  }
  auto root = protocol::parse_trust_root(perf::read_trust_root(o.trust_root));
  if (!root) return print_error(root.error());
  nlohmann::json out = {{"id", o.violation_id}, {"verified", false}};
  auto fail = [&out](const Error& e) {
    out["error"] = {{"code", std::string(e.code_name())}, {"message", e.message}};
    std::cout << out.dump() << std::endl;
    return e.code == ErrorCode::kInvalidArgument ? 2 : 1;
  };
  auto client = connect();
  if (!client) return print_error(client.error());
  auto reply =
      client->get("/admin/v1/violations/evidence?id=" + percent_encoded(o.violation_id), o.token);
  if (!reply || !reply->ok()) return print_reply(reply);
  const nlohmann::json& v = reply->body;
  out["user_id"] = v.value("user_id", nlohmann::json());
  out["kind"] = v.value("kind", std::string());
  out["trust_root_checked"] = true;
  if (!v.contains("evidence") || v["evidence"].is_null()) {
    return fail(make_error(ErrorCode::kNotFound,
                           "this violation has no evidence (a copied code, or a clone whose first "
                           "show was recorded before migration 0007)"));
  }
  auto audit = audit_keysets(*root);
  if (!audit) return fail(audit.error());
  out["keysets"] = audit->count;
  if (!audit->problems.empty()) {
    return fail(
        make_error(ErrorCode::kVerificationFailed, "issuer key sets: " + audit->problems.front()));
  }
  auto keys = protocol::issuer_keys_of(audit->sets);
  if (!keys) return fail(keys.error());
  auto checked = protocol::verify_evidence(v["evidence"], *keys);
  if (!checked) return fail(checked.error());
  out["verified"] = true;
  out["j"] = to_hex(checked->j);
  return print_ok(out);
}

nlohmann::json user_ids_body() {
  if (o.user_ids.size() == 1) return {{"user_id", o.user_ids[0]}};
  return {{"user_ids", o.user_ids}};
}

}  // namespace

void add_admin_command(CLI::App& app, Action& action) {
  auto* admin = app.add_subcommand("admin", "administration: users, whitelist, terminals, …");
  add_server_options(admin, o.server);
  admin->add_option("--token", o.token, "the admin token (or ANONCODE_ADMIN_TOKEN)")
      ->envname("ANONCODE_ADMIN_TOKEN")
      ->required();
  admin->require_subcommand(1);

  auto* user = admin->add_subcommand("user", "app users");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "register an app user; prints its app token");
  user_add->add_option("--user-id", o.user_id)->required();
  user_add->add_option("--name", o.name)->required();
  user_add->add_option("--id-number", o.id_number)->required();
  user_add->add_option("--phone", o.phone)->required();
  user_add->add_option("--card-no", o.card_no, "the user's ordinary cloud-card number")->required();
  user_add->callback([&action] {
    action = [] {
      return call("POST", "/admin/v1/users",
                  {{"user_id", o.user_id},
                   {"name", o.name},
                   {"id_number", o.id_number},
                   {"phone", o.phone},
                   {"card_no", o.card_no}});
    };
  });

  auto* wl = admin->add_subcommand("whitelist", "who sees the anonymous code (白名单)");
  wl->require_subcommand(1);
  auto* wl_add = wl->add_subcommand("add", "add users");
  wl_add->add_option("user_ids", o.user_ids, "user ids")->required();
  wl_add->callback([&action] {
    action = [] { return call("POST", "/admin/v1/whitelist/add", user_ids_body()); };
  });
  auto* wl_remove = wl->add_subcommand("remove", "remove users");
  wl_remove->add_option("user_ids", o.user_ids, "user ids")->required();
  wl_remove->callback([&action] {
    action = [] { return call("POST", "/admin/v1/whitelist/remove", user_ids_body()); };
  });
  auto* wl_all = wl->add_subcommand("all", "open the anonymous code to everyone, or not");
  wl_all->add_option("state", o.on_off, "on or off")
      ->required()
      ->check(CLI::IsMember({"on", "off"}));
  wl_all->callback([&action] {
    action = [] { return call("POST", "/admin/v1/whitelist/all", {{"on", o.on_off == "on"}}); };
  });
  wl->add_subcommand("list", "the whitelist")->callback([&action] {
    action = [] { return call("GET", "/admin/v1/whitelist"); };
  });

  auto* terminal = admin->add_subcommand("terminal", "POS terminals");
  terminal->require_subcommand(1);
  auto* terminal_add =
      terminal->add_subcommand("add", "register a terminal; prints its key (shown once)");
  terminal_add->add_option("--terminal", o.terminal)->required();
  terminal_add->add_option("--merchant", o.merchant, "the anonymous-code merchant (bizid)")
      ->required();
  terminal_add->callback([&action] {
    action = [] {
      return call("POST", "/admin/v1/terminals",
                  {{"terminal", o.terminal}, {"merchant", o.merchant}});
    };
  });

  // `admin violations` lists; `admin violations verify ID` checks one violation's evidence.
  auto* violations =
      admin->add_subcommand("violations", "cloned wallets found by tracing (违规追踪)");
  auto* violations_verify_cmd = violations->add_subcommand(
      "verify", "check a violation's evidence with the published issuer keys alone");
  violations_verify_cmd->add_option("id", o.violation_id, "the violation's id")->required();
  violations_verify_cmd
      ->add_option("--trust-root", o.trust_root,
                   "the root public key that signs the issuer key sets: the trust_root file of "
                   "`anoncode init`, or its text (or ANONCODE_TRUST_ROOT)")
      ->envname("ANONCODE_TRUST_ROOT")
      ->required();
  violations_verify_cmd->callback([&action] { action = [] { return violations_verify(); }; });
  // CLI11 runs a subcommand's callback before its parent's: the listing only without `verify`.
  violations->callback([&action, violations] {
    if (violations->get_subcommands().empty()) {
      action = [] { return call("GET", "/admin/v1/violations"); };
    }
  });

  auto* trace = admin->add_subcommand("trace", "a traced user's wallets and transactions");
  trace->add_option("--user-id", o.user_id)->required();
  trace->callback([&action] {
    action = [] { return call("GET", "/admin/v1/trace?user_id=" + percent_encoded(o.user_id)); };
  });

  auto* keys = admin->add_subcommand("keys", "the operator's published keys");
  keys->require_subcommand(1);
  auto* keys_audit_cmd = keys->add_subcommand(
      "audit", "check the published issuer key sets against the root public key");
  keys_audit_cmd
      ->add_option("--trust-root", o.trust_root,
                   "the root public key: the trust_root file of `anoncode init`, or its text")
      ->required();
  keys_audit_cmd->callback([&action] { action = [] { return keys_audit(); }; });

  auto* identity = admin->add_subcommand("identity", "riders' credential chains");
  identity->require_subcommand(1);
  auto* retire = identity->add_subcommand(
      "retire", "let a rider who lost the phone without a backup open again (audited)");
  retire->add_option("--user-id", o.user_id)->required();
  retire->add_option("--reason", o.reason)->required();
  retire->callback([&action] {
    action = [] {
      return call("POST", "/admin/v1/identity/retire",
                  {{"user_id", o.user_id}, {"reason", o.reason}});
    };
  });

  auto* account = admin->add_subcommand("account", "console accounts (后管页面)");
  account->require_subcommand(1);
  auto* account_add_cmd = account->add_subcommand(
      "add", "create a console account (password: ANONCODE_ADMIN_PASSWORD, or generated)");
  account_add_cmd->add_option("--username", o.username)->required();
  account_add_cmd->add_option("--role", o.role)
      ->required()
      ->check(CLI::IsMember({"operator", "auditor", "security_officer"}));
  account_add_cmd->callback([&action] { action = [] { return account_add(); }; });
  account->add_subcommand("list", "every console account")->callback([&action] {
    action = [] { return call("GET", "/admin/v1/accounts"); };
  });
  for (const bool disable : {true, false}) {
    auto* cmd = account->add_subcommand(disable ? "disable" : "enable",
                                        disable ? "lock an account out (ends its sessions)"
                                                : "let a disabled account log in again");
    cmd->add_option("--username", o.username)->required();
    cmd->callback([&action, disable] {
      action = [disable] {
        return call("POST", "/admin/v1/accounts/disable",
                    {{"username", o.username}, {"disabled", disable}});
      };
    });
  }

  auto* audit = admin->add_subcommand("audit", "the hash-chained audit log");
  audit->require_subcommand(1);
  audit->add_subcommand("verify", "check the chain; reports the first broken link")
      ->callback([&action] { action = [] { return audit_verify(); }; });

  auto* refill = admin->add_subcommand("refill", "the strong-mode refill job (钱包余额返充)");
  refill->require_subcommand(1);
  auto* refill_run = refill->add_subcommand("run", "move every due balance now");
  refill_run->add_option("--now", o.now, "act as if at this time (ISO 8601 UTC)");
  refill_run->callback([&action] {
    action = [] {
      nlohmann::json body = nlohmann::json::object();
      if (!o.now.empty()) {
        auto t = parse_time_ms(o.now);
        if (!t) return print_error(t.error());
        body["now"] = *t;
      }
      return call("POST", "/admin/v1/refill/run", body);
    };
  });
}

}  // namespace anoncode::cli
