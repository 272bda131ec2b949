#include "perf/crypto_workload.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "crypto/sm3.h"
#include "crypto/sm4.h"

namespace anoncode::perf {

using namespace anoncode::crypto;

namespace {
template <typename T>
T must(Result<T> r, const char* what) {
  if (!r.ok())
    throw std::runtime_error(std::string("bench setup: ") + what + ": " + r.error().message);
  return std::move(r).value();
}
}  // namespace

CryptoWorkload::CryptoWorkload(const Group& g) : g_(g) {
  Rng& rng = OsRng::instance();
  k_ = g.random_nonzero_scalar(rng);
  P_ = g.mul_base(g.random_nonzero_scalar(rng));
  Q_ = g.mul_base(g.random_nonzero_scalar(rng));
  key_ = std::make_unique<IssuerKey>(IssuerKey::generate(g, rng));
  issuer_ = std::make_unique<Issuer>(g);
  if (!issuer_->add_key(*key_).ok()) throw std::runtime_error("bench setup: issuer key");
  ctx_ = sm3("bench wallet context");
  auto started = CredentialClient::begin_open(key_->public_key(), ctx_, rng);
  auto resp = must(issuer_->issue(key_->kid(), started.request.Cn, rng), "issue");
  cred_ = std::make_unique<Credential>(
      must(CredentialClient::finish_issue(started.pending, resp, key_->public_key()), "finish"));
  Nonce nonce{};
  rng.fill(nonce);
  show_ = std::make_unique<ShowRequest>(
      must(CredentialClient::show(*cred_, key_->public_key(), ShowOp::kRequestCode, nonce, ctx_,
                                  rng),
           "show")
          .request);
  show_bytes_ = show_->encode();
  show_wallet_bytes_ = must(CredentialClient::show(*cred_, key_->public_key(), ShowOp::kRequestCode,
                                                   nonce, ctx_, rng, scopes_),
                            "show")
                           .request.encode();
  sm2_key_ = std::make_unique<Sm2PrivateKey>(must(Sm2PrivateKey::generate(), "sm2 key"));
  message_ = to_bytes("anoncode/v1 benchmark message: a QR payload is about this long....");
  sm2_pub_ = std::make_unique<Sm2PublicKey>(sm2_key_->public_key());
  sm2_sig_ = must(sm2_sign(*sm2_key_, message_), "sm2 sign");
  sm2_sig_openssl_ = must(sm2_sign_openssl(*sm2_key_, message_), "sm2 sign (OpenSSL)");
  bulk_.assign(1 << 20, 0x5a);
  iv_.assign(16, 1);
  sm4_key_ = SecretBytes(Bytes(16, 7));

  ops_ = {
      {"scalar_mult_us", [this] { P_ = g_.mul(k_, P_); }},
      {"fixed_base_mult_us", [this] { P_ = g_.mul_base(k_); }},
      {"point_add_us", [this] { P_ = g_.add(P_, Q_); }},
      {"client_show_us",
       [this] {
         Nonce n{};
         auto s = CredentialClient::show(*cred_, key_->public_key(), ShowOp::kRequestCode, n, ctx_,
                                         OsRng::instance());
         if (!s) throw std::runtime_error("show failed");
       }},
      // The same with one wallet pseudonym P_B (DESIGN §3.6 rule 3), as every platform show has.
      {"client_show_wallet_us",
       [this] {
         Nonce n{};
         auto s = CredentialClient::show(*cred_, key_->public_key(), ShowOp::kRequestCode, n, ctx_,
                                         OsRng::instance(), scopes_);
         if (!s) throw std::runtime_error("show failed");
       }},
      {"server_verify_issue_wallet_us",
       [this] {
         auto req = ShowRequest::decode(show_wallet_bytes_);
         if (!req) throw std::runtime_error("decode failed");
         auto v = issuer_->verify_show_proof(*req, ctx_, nullptr, scopes_);
         if (!v) throw std::runtime_error("verify failed");
         auto r = issuer_->issue(v->kid, v->Cn, OsRng::instance());
         if (!r) throw std::runtime_error("issue failed");
         if (r->encode().empty()) throw std::runtime_error("encode failed");
       }},
      // Bytes in, bytes out, as the privacy backend does it: decode the show, verify it, issue
      // the next credential and encode the response.
      {"server_verify_issue_us",
       [this] {
         auto req = ShowRequest::decode(show_bytes_);
         if (!req) throw std::runtime_error("decode failed");
         auto v = issuer_->verify_show_proof(*req, ctx_, nullptr);
         if (!v) throw std::runtime_error("verify failed");
         auto r = issuer_->issue(v->kid, v->Cn, OsRng::instance());
         if (!r) throw std::runtime_error("issue failed");
         if (r->encode().empty()) throw std::runtime_error("encode failed");
       }},
      // SM2 signatures do not depend on the group: sm2_sign/sm2_verify (our arithmetic, what
      // the platform uses) side by side with OpenSSL 3's EVP implementation.
      {"sm2_sign_us", [this] { sm2_sig_ = must(sm2_sign(*sm2_key_, message_), "sign"); }},
      {"sm2_sign_openssl_us",
       [this] { sm2_sig_openssl_ = must(sm2_sign_openssl(*sm2_key_, message_), "sign"); }},
      {"sm2_verify_us",
       [this] {
         if (!sm2_verify(*sm2_pub_, message_, sm2_sig_).ok()) throw std::runtime_error("verify");
       }},
      {"sm2_verify_openssl_us",
       [this] {
         if (!sm2_verify_openssl(*sm2_pub_, message_, sm2_sig_openssl_).ok())
           throw std::runtime_error("verify");
       }},
      {"sm3_mb_s", [this] { message_[0] ^= sm3(bulk_)[0]; }, bulk_.size()},
      {"sm4_mb_s", [this] { bulk_ = must(sm4_ctr(sm4_key_, iv_, bulk_), "sm4"); }, bulk_.size()},
  };
}

double median_seconds(const std::function<void()>& run, double min_batch_seconds, int batches) {
  using clock = std::chrono::steady_clock;
  run();  // warm up (tables, caches)
  std::vector<double> per_op_seconds;
  for (int b = 0; b < std::max(batches, 1); ++b) {
    size_t n = 0;
    auto start = clock::now();
    double elapsed = 0;
    do {
      run();
      ++n;
      elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < min_batch_seconds);
    per_op_seconds.push_back(elapsed / static_cast<double>(n));
  }
  std::sort(per_op_seconds.begin(), per_op_seconds.end());
  return per_op_seconds[per_op_seconds.size() / 2];
}

nlohmann::json measure_crypto(const Group& g, double min_batch_seconds, int batches) {
  CryptoWorkload w(g);
  nlohmann::json out;
  out["group"] = std::string(g.name());
  for (const auto& op : w.ops()) {
    const double median = median_seconds(op.run, min_batch_seconds, batches);
    if (op.bytes > 0) {
      out[op.name] = static_cast<double>(op.bytes) / median / 1e6;
    } else {
      out[op.name] = median * 1e6;
    }
  }
  double mult = out["scalar_mult_us"], base = out["fixed_base_mult_us"];
  double server = out["server_verify_issue_us"];
  double floor = kServerVariableBaseMults * mult + kServerFixedBaseMults * base;
  out["server_floor_us"] = floor;
  out["server_over_floor"] = server / floor;
  out["server_over_scalar_mult"] = server / mult;
  out["sm2_sign_over_openssl"] =
      out["sm2_sign_us"].get<double>() / out["sm2_sign_openssl_us"].get<double>();
  out["sm2_verify_over_openssl"] =
      out["sm2_verify_us"].get<double>() / out["sm2_verify_openssl_us"].get<double>();
  return out;
}

}  // namespace anoncode::perf
