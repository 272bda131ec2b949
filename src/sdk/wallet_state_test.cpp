// The SDK's typed state against the state files an earlier SDK wrote (tests/data/wallet_state,
// captured from the `anoncode wallet` commands of commit 51b07b8 by capture.sh there), the journal
// kept through every answer that is not definitive, and the results' JSON.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "crypto/sm4.h"
#include "sdk/results_json.h"
#include "sdk/wallet.h"
#include "sdk/wallet_state.h"

namespace anoncode::sdk {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(ANONCODE_TEST_DATA) / "wallet_state";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "anoncode-sdk-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(dir_); }
  fs::path operator/(const std::string& name) const { return dir_ / name; }

 private:
  fs::path dir_;
};

// Loads `text` as a state file and writes it back; returns what was written.
std::string round_trip(const std::string& text) {
  TempDir tmp;
  write_file(tmp / "in.json", text);
  auto state = load_state_file(tmp / "in.json");
  EXPECT_TRUE(state.ok()) << state.error().message;
  if (!state.ok()) return "";
  EXPECT_TRUE(save_state_file(tmp / "out.json", *state).ok());
  return read_file(tmp / "out.json");
}

Result<WalletState> load_fixture(const std::string& name) {
  return load_state_file(kFixtures / name);
}

std::string pem_text(const SecretBytes& s) {
  return std::string(s.expose_secret().begin(), s.expose_secret().end());
}

// Every state the earlier SDK's commands wrote: loaded, then written back as the same bytes (so
// the earlier SDK reads what this one writes).
TEST(SdkWalletState, EveryStateAnEarlierSdkWroteLoadsAndIsWrittenBackUnchanged) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (e.path().extension() == ".json") names.push_back(e.path().filename().string());
  }
  ASSERT_GE(names.size(), 6u);
  for (const auto& name : names) {
    const std::string text = read_file(kFixtures / name);
    EXPECT_EQ(round_trip(text), text) << name;
  }
}

TEST(SdkWalletState, AStateFileIsReadIntoItsTypes) {
  auto s = load_fixture("recharged.json");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s->trust_root && s->credential && s->issuer_keys && s->issuing_kid && s->wallet);
  EXPECT_EQ(s->keyset_sequence, 1);
  EXPECT_TRUE(s->issuer_keys->contains(*s->issuing_kid));
  EXPECT_EQ(s->user_id, "alice");
  ASSERT_TRUE(s->person);
  EXPECT_EQ(s->person->size(), 64u);
  EXPECT_EQ(s->wallet->b.size(), 24u);
  EXPECT_EQ(s->wallet->accountid.size(), 19u);
  EXPECT_EQ(s->wallet->balance, 1000);
  EXPECT_FALSE(s->wallet->strong);
  EXPECT_EQ(pem_text(s->wallet->key_pem).rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  EXPECT_FALSE(s->pending || s->halted || s->disabled || s->close_unconfirmed);
  EXPECT_TRUE(s->unknown.empty());

  auto code = load_fixture("pending_code.json");
  ASSERT_TRUE(code.ok()) << code.error().message;
  ASSERT_TRUE(code->pending);
  EXPECT_EQ(code->pending->kind, RequestKind::kCode);
  EXPECT_EQ(code->pending->path, "/platform/v1/code");
  EXPECT_FALSE(code->pending->bearer);
  EXPECT_TRUE(code->pending->body.contains("show"));
  EXPECT_TRUE(code->pending->body.contains("wallet_signature"));
  EXPECT_FALSE(code->pending->issue.empty());
  EXPECT_FALSE(code->pending->effects.key_pem || code->pending->effects.user_id);

  auto recharge = load_fixture("pending_recharge.json");
  ASSERT_TRUE(recharge.ok()) << recharge.error().message;
  ASSERT_TRUE(recharge->pending);
  EXPECT_EQ(recharge->pending->kind, RequestKind::kRecharge);
  ASSERT_TRUE(recharge->pending->effects.key_pem);
  EXPECT_NE(pem_text(*recharge->pending->effects.key_pem), pem_text(recharge->wallet->key_pem));
  EXPECT_EQ(recharge->pending->effects.strong, true);

  auto backed_up = load_fixture("backed_up.json");
  ASSERT_TRUE(backed_up.ok()) << backed_up.error().message;
  EXPECT_TRUE(backed_up->disabled);
  EXPECT_FALSE(backed_up->credential || backed_up->wallet || backed_up->trust_root);
  EXPECT_EQ(backed_up->user_id, "bob");
  EXPECT_EQ(backed_up->backed_up_to, "13900002222");
}

// The earlier SDK's state JSON for the states only a rare answer leaves (built as it built them):
// halted, a close or a restore not yet confirmed, a pending open, keys from before signed key
// sets, and members a later SDK added.
json rare_state() {
  const std::string pem = "-----BEGIN PRIVATE KEY-----\nMIGTAgEA\n-----END PRIVATE KEY-----\n";
  json state = {{"version", 1}};
  state["trust_root"] = "BPz1";
  state["issuer_keys"] = {{"0102030405060708", "AQID"}};
  state["issuing_kid"] = "0102030405060708";
  state["user_id"] = "una";
  state["app_token"] = "tok";
  state["halted"] = "issuer_misbehaved";
  state["close_unconfirmed"] = true;
  state["restore_unconfirmed"] = {{"phone", "13900001111"}, {"key_proof", "S2V5"}};
  state["pending"] = {{"kind", "open"},  {"path", "/app/v1/open"},
                      {"bearer", "tok"}, {"body", {{"request", "UmVx"}}},
                      {"issue", "SXNz"}, {"effects", {{"user_id", "una"}, {"app_token", "tok"}}}};
  state["wallet"] = {
      {"b", "B"}, {"accountid", "1"}, {"key_pem", pem}, {"strong", true}, {"balance", -5}};
  state["from_a_later_sdk"] = {{"anything", {1, 2, 3}}};
  return state;
}

TEST(SdkWalletState, StatesLeftByRareAnswersRoundTrip) {
  const std::string text = rare_state().dump(2);
  EXPECT_EQ(round_trip(text), text);
  auto s = state_from_json(rare_state());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->halted, "issuer_misbehaved");
  EXPECT_TRUE(s->close_unconfirmed);
  ASSERT_TRUE(s->restore_unconfirmed);
  EXPECT_EQ(s->restore_unconfirmed->phone, "13900001111");
  EXPECT_EQ(pem_text(s->restore_unconfirmed->key_proof), "Key");
  ASSERT_TRUE(s->pending);
  EXPECT_EQ(s->pending->kind, RequestKind::kOpen);
  EXPECT_EQ(s->pending->bearer, "tok");
  EXPECT_EQ(s->pending->effects.app_token, "tok");
  EXPECT_FALSE(s->keyset_sequence);  // keys from before signed sets: fetched again on use
  EXPECT_EQ(s->unknown, json({{"from_a_later_sdk", {{"anything", {1, 2, 3}}}}}));
  // A backup's plaintext is the same JSON, compact.
  EXPECT_EQ(state_to_json(*s).dump(), rare_state().dump());
}

TEST(SdkWalletState, AnythingElseIsMalformed) {
  auto malformed = [](const json& j) {
    auto s = state_from_json(j);
    return !s.ok() && s.error().code == ErrorCode::kMalformed;
  };
  EXPECT_TRUE(malformed(json::array()));
  EXPECT_TRUE(malformed({{"version", 2}}));
  EXPECT_TRUE(malformed({{"trust_root", "BPz1"}}));
  auto with = [](const json::json_pointer& at, const json& value) {
    json state = rare_state();
    state[at] = value;
    return state;
  };
  EXPECT_TRUE(malformed(with("/credential"_json_pointer, "not base64url!")));
  EXPECT_TRUE(malformed(with("/keyset_sequence"_json_pointer, "1")));
  EXPECT_TRUE(malformed(with("/wallet/key_pem"_json_pointer, 7)));
  EXPECT_TRUE(malformed(with("/pending/kind"_json_pointer, "teleport")));
  EXPECT_TRUE(malformed(with("/pending/issue"_json_pointer, nullptr)));
  EXPECT_TRUE(malformed(with("/issuer_keys/0102030405060708"_json_pointer, 1)));

  TempDir tmp;
  write_file(tmp / "bad.json", "{\"version\": 1");
  auto bad = load_state_file(tmp / "bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kMalformed);
}

TEST(SdkWalletState, AMissingFileIsAnEmptyStateAndASaveIsAtomicWithMode0600) {
  TempDir tmp;
  auto empty = load_state_file(tmp / "none.json");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->credential || empty->trust_root || empty->pending);
  ASSERT_TRUE(save_state_file(tmp / "w.json", *empty).ok());
  EXPECT_EQ(read_file(tmp / "w.json"), "{\n  \"version\": 1\n}");
  struct stat st {};
  ASSERT_EQ(::stat((tmp / "w.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(tmp / "w.json.tmp"));
}

// A transport that answers every request with `answer` and records what was sent.
class ScriptedTransport final : public Transport {
 public:
  struct Sent {
    std::string path;
    json body;
    std::optional<std::string> bearer;
  };
  Result<Reply> post(const std::string& path, const json& body,
                     const std::optional<std::string>& bearer) override {
    sent.push_back({path, body, bearer});
    return answer;
  }
  Result<Reply> get(const std::string& path) override {
    sent.push_back({path, json(), std::nullopt});
    return answer;
  }
  std::vector<Sent> sent;
  Result<Reply> answer = make_error(ErrorCode::kUnavailable, "offline");
};

template <typename T>
Status status_of(const Result<T>& r) {
  if (r.ok()) return {};
  return r.error();
}

Reply reply(int status, json body) {
  return Reply{status, std::move(body), true};
}

// A wallet whose state file starts as `state` (nullopt: no file), on a ScriptedTransport.
class ScriptedWallet {
 public:
  explicit ScriptedWallet(const std::optional<std::string>& state) {
    if (state) write_file(file(), *state);
    auto loaded = Wallet::load(file(), t);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    if (loaded.ok()) w.emplace(std::move(*loaded));
  }
  ScriptedWallet(const ScriptedWallet&) = delete;
  ScriptedWallet& operator=(const ScriptedWallet&) = delete;
  fs::path file() const { return tmp / "w.json"; }
  std::string text() const { return read_file(file()); }

  TempDir tmp;
  ScriptedTransport t;
  std::optional<Wallet> w;
};

// PROTOCOL §9.4 rules 2 and 3: whatever call is made, the journal goes out first, unchanged, and
// stays until a definitive answer.
TEST(SdkJournal, EveryCallFirstResendsTheJournalUnchangedAndKeepsItUntilADefinitiveAnswer) {
  for (const std::string name : {"pending_code.json", "pending_recharge.json"}) {
    const std::string before = read_file(kFixtures / name);
    const json journal = json::parse(before)["pending"];
    ScriptedWallet sw(before);
    ASSERT_TRUE(sw.w);
    ScriptedTransport& t = sw.t;
    std::optional<Wallet>& w = sw.w;
    const std::vector<Result<Reply>> answers = {
        make_error(ErrorCode::kUnavailable, "offline"),
        reply(503,
              {{"error", {{"code", "unavailable"}, {"message", "later"}}}, {"response", "AAAA"}}),
        reply(404, {{"error", {{"code", "not_found"}, {"message", "no"}}}}),
        reply(409, {{"error", {{"code", "conflict"}, {"message", "no"}}}, {"response", "!!"}}),
        reply(200, {{"balance", 5}}),
    };
    const std::vector<ErrorCode> codes = {ErrorCode::kUnavailable, ErrorCode::kUnavailable,
                                          ErrorCode::kNotFound, ErrorCode::kMalformed,
                                          ErrorCode::kIssuerMisbehaved};
    // Whichever call the rider makes, with whatever answer.
    const std::vector<std::function<Status(Wallet&)>> calls = {
        [](Wallet& wl) { return status_of(wl.code()); },
        [](Wallet& wl) { return status_of(wl.balance()); },
        [](Wallet& wl) { return status_of(wl.refund(1, "n", "i", "a")); },
        [](Wallet& wl) { return status_of(wl.close()); },
        [](Wallet& wl) { return status_of(wl.backup("13900001111", "p")); },
    };
    for (size_t i = 0; i < answers.size(); ++i) {
      t.answer = answers[i];
      t.sent.clear();
      Status st = calls[i](*w);
      ASSERT_FALSE(st.ok()) << name << " " << i;
      EXPECT_EQ(st.error().code, codes[i]) << name << " " << i << " " << st.error().message;
      ASSERT_EQ(t.sent.size(), 1u) << name << " " << i;
      EXPECT_EQ(t.sent[0].path, journal["path"]) << name << " " << i;
      EXPECT_EQ(t.sent[0].body.dump(), journal["body"].dump()) << name << " " << i;
      EXPECT_FALSE(t.sent[0].bearer);
      EXPECT_TRUE(w->has_pending());
      EXPECT_EQ(sw.text(), before) << name << " " << i;
    }
  }
}

// Rule 5: an open refused without an issue response issued nothing; its journal is dropped.
TEST(SdkJournal, ARefusedOpenDropsItsJournalAndA5xxKeepsIt) {
  json state = rare_state();
  state.erase("halted");
  state.erase("close_unconfirmed");
  state.erase("restore_unconfirmed");
  ScriptedWallet sw(state.dump(2));
  ASSERT_TRUE(sw.w);
  ScriptedTransport& t = sw.t;
  std::optional<Wallet>& w = sw.w;
  t.answer = reply(500, {{"error", {{"code", "internal"}, {"message", "x"}}}});
  EXPECT_FALSE(w->recover().ok());
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_EQ(t.sent[0].path, "/app/v1/open");
  EXPECT_EQ(t.sent[0].body, json({{"request", "UmVx"}}));
  EXPECT_EQ(t.sent[0].bearer, "tok");
  EXPECT_TRUE(w->has_pending());
  t.answer = reply(403, {{"error", {{"code", "not_whitelisted"}, {"message", "x"}}}});
  // Settled: the journal is dropped, and the wallet goes on (a new open may follow).
  EXPECT_TRUE(w->recover().ok());
  EXPECT_EQ(t.sent.size(), 2u);
  EXPECT_FALSE(w->has_pending());
  auto saved = load_state_file(sw.file());
  ASSERT_TRUE(saved.ok());
  EXPECT_FALSE(saved->pending);
}

// Rule 4: a halted wallet sends nothing and answers issuer_misbehaved.
TEST(SdkJournal, AHaltedWalletSendsNothing) {
  ScriptedWallet sw(rare_state().dump(2));
  ASSERT_TRUE(sw.w);
  auto code = sw.w->code();
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().code, ErrorCode::kIssuerMisbehaved);
  EXPECT_EQ(code.error().message,
            "the issuer's credential did not verify; this wallet stopped (issuer_misbehaved)");
  EXPECT_TRUE(sw.t.sent.empty());
}

const std::string kPhone = "13900001111";
const std::string kPassphrase = "correct horse";

// The AEAD that seals the backups of kPhone under kPassphrase, and their associated data.
crypto::Sm4Aead backup_aead() {
  auto keys = derive_backup_keys(kPhone, kPassphrase);
  EXPECT_TRUE(keys.ok());
  return std::move(crypto::Sm4Aead::create(keys->blob_key)).value();
}
const Bytes kBackupAad = to_bytes("anoncode/v1/backup" + kPhone);

// The backup's plaintext is the state file's JSON, compact, as the earlier SDK sealed it; the
// state left behind is disabled.
TEST(SdkBackup, ABackupSealsTheStateAsTheEarlierSdkDidAndDisablesTheWallet) {
  const std::string fixture = read_file(kFixtures / "recharged.json");
  const json before = json::parse(fixture);
  ScriptedWallet sw(fixture);
  ASSERT_TRUE(sw.w);
  ScriptedTransport& t = sw.t;
  std::optional<Wallet>& w = sw.w;
  t.answer = reply(200, {{"status", "backed_up"}});
  auto r = w->backup(kPhone, kPassphrase);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(json(*r).dump(), R"({"status":"backed_up"})");
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_EQ(t.sent[0].path, "/app/v1/backup");
  EXPECT_EQ(t.sent[0].bearer, before["app_token"]);
  auto plain =
      backup_aead().open(*from_base64url(t.sent[0].body["blob"].get<std::string>()), kBackupAad);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(pem_text(*plain), before.dump());
  const json disabled = {{"version", 1},
                         {"disabled", true},
                         {"backed_up_to", kPhone},
                         {"user_id", before["user_id"]},
                         {"app_token", before["app_token"]}};
  EXPECT_EQ(sw.text(), disabled.dump(2));
}

TEST(SdkBackup, ARestoreTakesTheBackedUpStateAndRefusesOneThatHoldsNoWallet) {
  const crypto::Sm4Aead aead = backup_aead();
  auto sealed = [&](const std::string& plain) {
    return to_base64url(*aead.seal(as_bytes(plain), kBackupAad));
  };
  // A backup the earlier SDK made of its recharged wallet.
  const std::string fixture = read_file(kFixtures / "recharged.json");
  {
    ScriptedWallet sw(std::nullopt);
    ASSERT_TRUE(sw.w);
    ScriptedTransport& t = sw.t;
    std::optional<Wallet>& w = sw.w;
    t.answer = reply(200, {{"blob", sealed(json::parse(fixture).dump())}});
    auto r = w->restore(kPhone, kPassphrase);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(json(*r).dump(), R"({"status":"restored"})");
    ASSERT_EQ(t.sent.size(), 2u);
    EXPECT_EQ(t.sent[0].path, "/app/v1/restore");
    EXPECT_EQ(t.sent[1].path, "/app/v1/restore/confirm");
    EXPECT_EQ(t.sent[1].body.dump(), t.sent[0].body.dump());  // {"key_proof","phone"}
    EXPECT_EQ(sw.text(), fixture);
  }
  // A plaintext that is no version 1 wallet: refused before the server copy is consumed.
  for (const std::string plain : {R"({"version":2})", R"({"version":1,"credential":5})", "[]"}) {
    ScriptedWallet sw(std::nullopt);
    ASSERT_TRUE(sw.w);
    sw.t.answer = reply(200, {{"blob", sealed(plain)}});
    auto r = sw.w->restore(kPhone, kPassphrase);
    ASSERT_FALSE(r.ok()) << plain;
    EXPECT_EQ(r.error().code, ErrorCode::kMalformed) << plain;
    EXPECT_EQ(r.error().message, "the backup does not hold a wallet");
    EXPECT_EQ(sw.t.sent.size(), 1u) << plain;
    EXPECT_FALSE(fs::exists(sw.file())) << plain;
  }
}

json without_response(json answer) {
  answer.erase("response");
  return answer;
}

// What a command prints is the server's answer less the next credential, as before the results
// were typed; the JSON of each server answer is the platform's (src/platform/platform_api.cpp).
TEST(SdkResults, PrintAsTheServerAnswered) {
  const json code = {{"payload", "AQIDBAUGBwgJCgsMDQ4PEA"},
                     {"sequence", "nm20251125065100"},
                     {"accountid", "3100000000000000012"},
                     {"expires_at", 1764053580000},
                     {"response", "UmVzcG9uc2U"}};
  auto c = code_from(code);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(json(*c).dump(), without_response(code).dump());
  EXPECT_EQ(c->payload.size(), 16u);

  const json money = {{"wallet", "ABCDEFGHIJKLMNOPQRSTUVWX"},
                      {"accountid", "3100000000000000012"},
                      {"balance", 1500},
                      {"response", "UmVzcG9uc2U"},
                      {"records",
                       {{{"txn_id", "t1"},
                         {"transaction_type", "01"},
                         {"kind", "recharge"},
                         {"amount", 1000},
                         {"at", 1764053580000},
                         {"wallet", "ABCDEFGHIJKLMNOPQRSTUVWX"},
                         {"channel", "010001"},
                         {"order_id", "o1"},
                         {"state", "done"}},
                        {{"txn_id", "t2"},
                         {"transaction_type", "03"},
                         {"kind", "refill"},
                         {"amount", -500},
                         {"at", 1764053580001},
                         {"wallet", "ABCDEFGHIJKLMNOPQRSTUVWX"},
                         {"channel", ""},
                         {"order_id", ""},
                         {"state", "done"}}}}};
  auto h = history_from(money, false);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->money.size(), 2u);
  EXPECT_EQ(json(*h).dump(), without_response(money).dump());

  const json rides = {{"wallet", "ABCDEFGHIJKLMNOPQRSTUVWX"},
                      {"accountid", "3100000000000000012"},
                      {"balance", 600},
                      {"records",
                       {{{"txn_id", "t3"},
                         {"sequence", "nm20251125065100"},
                         {"terminal", "T1"},
                         {"merchant", "M100"},
                         {"counter", 1},
                         {"wallet", "ABCDEFGHIJKLMNOPQRSTUVWX"},
                         {"amount", 200},
                         {"scanned_at", 1764053580000},
                         {"settled_at", 1764053590000},
                         {"copy_risk", true}}}}};
  auto r = history_from(rides, true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rides.size(), 1u);
  EXPECT_EQ(json(*r).dump(), rides.dump());
  auto no_rides = history_from(
      json{{"wallet", "B"}, {"accountid", "1"}, {"balance", 0}, {"records", json::array()}}, true);
  ASSERT_TRUE(no_rides.ok());
  EXPECT_EQ(json(*no_rides).dump(), R"({"accountid":"1","balance":0,"records":[],"wallet":"B"})");

  // A recharge prints the wallet, its account and balance (not the order id).
  const json recharge = {{"wallet", "ABCDEFGHIJKLMNOPQRSTUVWX"},
                         {"accountid", "3100000000000000012"},
                         {"balance", 1000},
                         {"order_id", "o1"},
                         {"response", "UmVzcG9uc2U"}};
  auto b = wallet_balance_from(recharge);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(
      json(*b).dump(),
      R"({"accountid":"3100000000000000012","balance":1000,"wallet":"ABCDEFGHIJKLMNOPQRSTUVWX"})");

  auto refund = refund_from(json{{"refunded", 400}, {"balance", 1100}, {"response", "x"}});
  ASSERT_TRUE(refund.ok()) << refund.error().message;
  EXPECT_EQ(json(*refund).dump(), R"({"balance":1100,"refunded":400})");

  EXPECT_EQ(json(OpenResult{}).dump(), R"({"status":"opened"})");
  EXPECT_EQ(json(CloseResult{}).dump(), R"({"status":"closed"})");
  EXPECT_EQ(json(CloseResult{.opening_record_pending = true}).dump(),
            R"({"opening_record":"pending","status":"closed"})");
  EXPECT_EQ(json(BackupResult{}).dump(), R"({"status":"backed_up"})");
  EXPECT_EQ(json(RestoreResult{}).dump(), R"({"status":"restored"})");
}

TEST(SdkResults, AnAnswerWithoutItsMembersIsMalformed) {
  auto c = code_from(json{{"sequence", "nm1"}, {"accountid", "1"}, {"expires_at", 1}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kMalformed);
  auto h = history_from(json{{"wallet", "B"}, {"accountid", "1"}, {"balance", 0}}, false);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, ErrorCode::kMalformed);
  auto r = refund_from(json{{"refunded", "400"}, {"balance", 1100}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kMalformed);
}

}  // namespace
}  // namespace anoncode::sdk
