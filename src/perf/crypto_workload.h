// The cryptographic operations we measure, prepared once per group, so that the Google
// Benchmark programs (bench/) and `anoncode bench crypto` time exactly the same work.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crypto/credential.h"
#include "crypto/sm2.h"

namespace anoncode::perf {

class CryptoWorkload {
 public:
  explicit CryptoWorkload(const crypto::Group& g);

  struct Op {
    std::string name;  // the JSON key, e.g. "scalar_mult_us"
    std::function<void()> run;
    size_t bytes = 0;  // for throughput figures: bytes processed per run
  };
  // Every operation: group arithmetic, client show, server verify + issue, SM2, SM3, SM4.
  const std::vector<Op>& ops() const { return ops_; }

 private:
  const crypto::Group& g_;
  std::vector<Op> ops_;
  // State the operations work on.
  crypto::Scalar k_;
  crypto::Point P_, Q_;
  std::unique_ptr<crypto::IssuerKey> key_;
  std::unique_ptr<crypto::Issuer> issuer_;
  std::unique_ptr<crypto::Credential> cred_;
  std::unique_ptr<crypto::ShowRequest> show_;
  Bytes show_bytes_;         // the show as the server receives it
  Bytes show_wallet_bytes_;  // with one wallet pseudonym, as a code request shows
  std::vector<std::string> scopes_{"BENCHWALLETAAAAAAAAAAAAA"};
  crypto::ContextHash ctx_{};
  std::unique_ptr<crypto::Sm2PrivateKey> sm2_key_;
  std::unique_ptr<crypto::Sm2PublicKey> sm2_pub_;  // parsed once, as a verifier keeps it
  Bytes sm2_sig_, sm2_sig_openssl_, message_, bulk_, iv_;
  SecretBytes sm4_key_;
};

// The median time of one run of `run`, in seconds: `batches` batches, each at least
// `min_batch_seconds` long, after one run to warm up.
double median_seconds(const std::function<void()>& run, double min_batch_seconds = 0.05,
                      int batches = 5);

// Times every operation (median of batches, each at least `min_batch_seconds`) and returns the
// JSON object `anoncode bench crypto` prints: group, *_us figures, *_mb_s throughputs, and the
// ratios of server_verify_issue_us to one scalar multiplication and to the floor.
nlohmann::json measure_crypto(const crypto::Group& g, double min_batch_seconds = 0.05,
                              int batches = 5);

// Server-side group operations per show + issue (DESIGN §3.3 cost model): 20 variable-base
// multiplications and 1 fixed-base one.
constexpr int kServerVariableBaseMults = 20;
constexpr int kServerFixedBaseMults = 1;

}  // namespace anoncode::perf
