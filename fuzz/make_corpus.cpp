// Writes the seed corpora of the fuzz targets: make_corpus DIR (fuzz/corpus) writes
// DIR/<target>/<name>, small valid inputs made with the fixed keys the targets use (test keys, not
// secrets of anyone's), plus the known-answer vectors of tests/data. Run by hand when a format
// changes; the output is committed.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "crypto/credential.h"
#include "crypto/sm2.h"
#include "crypto/sm4.h"
#include "fixed_keys.h"
#include "kms/component.h"
#include "pos/pos_terminal.h"
#include "pos/qr_image.h"
#include "protocol/errors.h"
#include "protocol/evidence.h"
#include "protocol/issuer_keyset.h"
#include "protocol/platform_keys.h"
#include "protocol/qr_payload.h"
#include "sdk/results_json.h"

using namespace anoncode;
using namespace anoncode::crypto;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path g_out;

void put(const std::string& target, const std::string& name, ByteView bytes) {
  fs::create_directories(g_out / target);
  std::ofstream f(g_out / target / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
void put(const std::string& target, const std::string& name, std::string_view text) {
  put(target, name, as_bytes(text));
}

template <typename T>
T must(Result<T> r) {
  if (!r) {
    std::cerr << "make_corpus: " << r.error().message << "\n";
    std::exit(1);
  }
  return std::move(r).value();
}

// tests/data/credential.vec: name = hex records, one block per group.
void write_credential_vectors() {
  std::ifstream in(std::string(ANONCODE_TEST_DATA) + "/credential.vec");
  std::string line, group;
  while (std::getline(in, line)) {
    auto eq = line.find(" = ");
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string name = line.substr(0, eq), value = line.substr(eq + 3);
    if (name == "group") {
      group = value;
      continue;
    }
    if (name == "refund_mac_proof") continue;
    put("credential_codec_fuzz", group + "_" + name, must(from_hex(value)));
  }
}

void write_groups() {
  for (const Group* g : all_groups()) {
    std::string n(g->name());
    SeededRng rng("fuzz/groups");
    put("group_fuzz", n + "_generator", g->encode_point(g->generator()));
    put("group_fuzz", n + "_point", g->encode_point(g->mul_base(g->random_scalar(rng))));
    put("group_fuzz", n + "_identity", g->encode_point(g->identity()));
    put("group_fuzz", n + "_scalar", g->encode_scalar(g->random_scalar(rng)));
  }
}

void write_text_encodings() {
  Bytes b = {0x00, 0x01, 0xfe, 0xff, 0x42};
  put("text_encoding_fuzz", "hex", to_hex(b));
  put("text_encoding_fuzz", "base64url", to_base64url(b));
  put("text_encoding_fuzz", "base32", to_base32(b));
}

void write_sm2() {
  const Sm2PrivateKey& key = fuzz::fixed_sm2_key();
  Bytes pub = key.public_key().to_bytes();
  put("sm2_public_key_fuzz", "uncompressed", pub);
  Bytes compressed(pub.begin(), pub.begin() + 33);
  compressed[0] = static_cast<uint8_t>(0x02 | (pub[64] & 1));
  put("sm2_public_key_fuzz", "compressed", compressed);
  put("sm2_public_key_fuzz", "trust_root", to_base64url(pub) + "\n");

  Bytes message = to_bytes(std::string_view("anoncode fuzz message"));
  Bytes sig = must(sm2_sign(key, message));
  Bytes signed_message = sig;
  signed_message.insert(signed_message.end(), message.begin(), message.end());
  put("sm2_signature_fuzz", "signature_and_message", signed_message);
  put("sm2_signature_fuzz", "der", must(sm2_signature_to_der(sig)));

  put("sm2_pem_fuzz", "public", key.public_key().to_pem());
  put("sm2_pem_fuzz", "private", key.export_pem_secret().expose_secret());

  put("sm2_decrypt_fuzz", "ciphertext",
      must(sm2_encrypt(key.public_key(), as_bytes(std::string_view("a name and an ID number")))));
}

void write_sm4() {
  auto key_of = [](size_t size, uint8_t first) {
    SecretBytes k(size);
    for (size_t i = 0; i < size; ++i) k.expose_secret_mut()[i] = static_cast<uint8_t>(first + i);
    return k;
  };
  auto aead = must(Sm4Aead::create(key_of(Sm4Aead::kMasterKeySize, 1)));
  Bytes nonce(16, 7);
  put("sm4_fuzz", "sealed",
      must(aead.seal_with_nonce(as_bytes(std::string_view("terminal key or personal data")),
                                as_bytes(std::string_view("fuzz/aad")), nonce)));
  put("sm4_fuzz", "cbc",
      must(sm4_cbc_encrypt(key_of(kSm4KeySize, 0x40), Bytes(kSm4BlockSize, 0x24),
                           as_bytes(std::string_view("twenty bytes of text")))));
}

// The issuer keys of tests/data/credential.vec, and a clone's evidence under them.
void write_protocol_documents() {
  protocol::IssuerKeySet set;
  set.sequence = 3;
  set.group = "ristretto255";
  set.published_at = 1'700'000'000'000;
  for (const Group* g : all_groups()) {
    SeededRng rng("anoncode/credential-kat");
    IssuerKey key = IssuerKey::generate(*g, rng);
    if (g == &ristretto255()) set.issuing_kid = to_hex(key.kid());
    set.keys.push_back(
        {to_hex(key.kid()), key.public_key().encode(), 1'600'000'000'000, 1'800'000'000'000});
  }
  put("issuer_keyset_fuzz", "body", set.body());

  for (const Group* g : {&ristretto255(), &sm2()}) {
    SeededRng rng("anoncode/credential-kat");
    IssuerKey key = IssuerKey::generate(*g, rng);
    Issuer issuer(*g);
    const IssuerPublicKey pub = key.public_key();
    if (!issuer.add_key(std::move(key))) std::exit(1);
    ContextHash ctx{};
    auto started = CredentialClient::begin_open(pub, ctx, rng);
    auto resp = must(issuer.issue(pub.kid(), started.request.Cn, rng));
    Credential cred = must(CredentialClient::finish_issue(started.pending, resp, pub));
    std::vector<protocol::EvidenceShow> shows;
    for (uint8_t n : {1, 2}) {
      Nonce nonce{};
      nonce.fill(n);
      auto shown = must(CredentialClient::show(cred, pub, ShowOp::kRequestCode, nonce, ctx, rng));
      protocol::EvidenceShow s;
      s.request = shown.request.encode();
      s.record.op = ShowOp::kRequestCode;
      s.record.wallet = std::string(24, 'A');
      s.record.accountid = "1234567890123456789";
      s.mac_proof = must(issuer.prove_mac(shown.request, rng));
      s.at = 1'700'000'000'000 + n;
      shows.push_back(std::move(s));
    }
    json evidence =
        protocol::make_evidence(*g, cred.serial(), cred.identity_commitment(), shows[0], shows[1]);
    put("evidence_fuzz", "clone_" + std::string(g->name()), evidence.dump());
  }

  put("errors_fuzz", "error",
      protocol::error_body(make_error(ErrorCode::kSnReused, "the serial was shown before"),
                           json{{"violation", "v1"}})
          .dump());
  put("errors_fuzz", "unknown_code", std::string(R"({"error":{"code":"x","message":"m"}})"));
}

void write_pos() {
  const Sm2PrivateKey& key = fuzz::fixed_sm2_key();
  auto qr = must(protocol::sign_qr_payload(key, "nm00000000000042", "1234567890123456789",
                                           1'700'000'000'000, 1'700'000'120'000));
  Bytes payload = qr.encode();
  put("qr_payload_fuzz", "payload", payload);
  // Small images zbar still reads (checked: a seed it cannot read would fuzz libpng alone).
  for (const auto& [name, content] : {std::pair{std::string("payload.png"), payload},
                                      {std::string("text.png"), to_bytes("hi")}}) {
    Bytes png = must(pos::render_qr_png(content, pos::QrRenderOptions{2, 2}));
    if (must(pos::decode_qr_png(png)) != content) std::exit(1);
    put("qr_image_fuzz", name, png);
  }

  protocol::PlatformPublicKey pk;
  pk.public_key = key.public_key().to_bytes();
  pk.kid = protocol::platform_key_id(key.public_key());
  pk.valid_from = 1'600'000'000'000;
  pk.valid_until = 1'800'000'000'000;
  put("pos_store_fuzz", "keys", protocol::keys_to_json({pk}).dump());
  pos::PosStore store;
  store.terminal = "T1";
  store.merchant = "M1";
  store.terminal_key = SecretBytes(Bytes(32, 9));
  store.keys = {pk};
  store.seen = {{"nm00000000000041", 1'700'000'120'000}};
  store.next_counter = 3;
  store.queue = {{2, payload, 200, 1'700'000'001'000, Bytes(32, 5)}};
  put("pos_store_fuzz", "store", pos::PosTerminal::to_json(store).dump());

  json ride = {{"counter", 2},
               {"payload", to_base64url(payload)},
               {"amount", 200},
               {"scanned_at", 1'700'000'001'000},
               {"mac", to_base64url(Bytes(32, 5))}};
  put("json_fields_fuzz", "batch",
      json{{"terminal", "T1"}, {"merchant", "M1"}, {"rides", {ride}}}.dump());
  put("json_fields_fuzz", "recharge",
      json{{"wallet", std::string(24, 'A')},
           {"amount", 1000},
           {"strong", true},
           {"show", to_base64url(Bytes(40, 1))},
           {"scopes", {"a", "b"}},
           {"note", nullptr}}
          .dump());
}

void write_sdk() {
  for (const auto& entry :
       fs::directory_iterator(std::string(ANONCODE_TEST_DATA) + "/wallet_state")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    put("wallet_state_fuzz", entry.path().filename().string(), text.str());
  }
  sdk::WalletBalance balance{std::string(24, 'A'), "1234567890123456789", 1000};
  put("sdk_answers_fuzz", "balance", json(balance).dump());
  sdk::CodeResult code{Bytes(125, 1), "nm00000000000042", "1234567890123456789", 1'700'000'120'000};
  put("sdk_answers_fuzz", "code", json(code).dump());
  sdk::History history;
  history.wallet = std::string(24, 'A');
  history.accountid = "1234567890123456789";
  history.balance = 800;
  history.money = {{"t1", "01", "recharge", 1000, 1, std::string(24, 'A'), "bank", "o1", "done"}};
  history.rides = {
      {"t2", "nm00000000000042", "T1", "M1", 2, std::string(24, 'A'), 200, 3, 4, false}};
  put("sdk_answers_fuzz", "history", json(history).dump());
  put("sdk_answers_fuzz", "refund", json(sdk::RefundResult{800, 0}).dump());
}

void write_config() {
  put("config_fuzz", "config.toml", std::string_view(R"([server]
listen = "127.0.0.1:8080"
threads = 8
trusted_proxies = ["127.0.0.1", "::1"]

[tls]
enabled = true
hostnames = ["anoncode.example"]

[database]
url = "sqlite:/tmp/anoncode.db"

[privacy]
group = "ristretto255"

[platform]
code_validity_seconds = 120
clock_skew_seconds = 30
refill_delay_seconds = 604800
upload_window_seconds = 259200
max_fare_fen = 10000
)"));
}

// Two components of a 2-of-3 split of a 32-byte key, one typed in uppercase with a newline.
void write_kms() {
  SeededRng rng("make_corpus/kms");
  SecretBytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key.expose_secret_mut()[i] = static_cast<uint8_t>(i);
  auto parts = must(kms::make_components("root-1", {0x12, 0x34, 0x56}, key, 2, 3, rng));
  auto text = [](const kms::Component& c) {
    auto t = must(kms::encode_component(c));
    return std::string(reinterpret_cast<const char*>(t.expose_secret().data()), t.size());
  };
  put("kms_component_fuzz", "component", text(parts[0]));
  std::string upper = text(parts[1]);
  std::transform(upper.begin() + 18, upper.end(), upper.begin() + 18,
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  put("kms_component_fuzz", "typed", upper + "\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_corpus DIR   (fuzz/corpus)\n";
    return 2;
  }
  g_out = argv[1];
  write_credential_vectors();
  write_groups();
  write_text_encodings();
  write_sm2();
  write_sm4();
  write_protocol_documents();
  write_pos();
  write_sdk();
  write_config();
  write_kms();
  return 0;
}
