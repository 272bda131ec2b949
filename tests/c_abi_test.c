/* The rider SDK through its C ABI (include/anoncode.h), against a running server:
 *   c_abi_test SERVER_URL CA_FILE STATE_FILE USER_ID APP_TOKEN TRUST_ROOT
 * open → recharge → code over TLS, plus the barrier's own checks (null arguments, error JSON,
 * URLs and CA files it must refuse).
 * Exits 0 when every check passed; prints one line per check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anoncode.h"

static int failures = 0;

static void check(int ok, const char* what, const char* json) {
  printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, json ? "  " : "", json ? json : "");
  if (!ok) failures++;
}

int main(int argc, char** argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s SERVER_URL CA_FILE STATE_FILE USER_ID APP_TOKEN TRUST_ROOT\n",
            argv[0]);
    return 2;
  }
  const char* url = argv[1];
  const char* ca = argv[2];
  const char* not_pem = argv[0]; /* this program: a file that holds no certificate */
  argv += 1; /* argv[2..5]: state, user id, app token, trust root, as before the CA */
  anoncode_wallet* w = NULL;
  char* out = NULL;

  check(anoncode_wallet_new(NULL, url, ca, &w) == ANONCODE_E_INVALID_ARGUMENT && w == NULL,
        "null state path is invalid_argument", NULL);
  check(anoncode_wallet_new(argv[2], "http://transit.example.org:8080", ca, &w) ==
                ANONCODE_E_INVALID_ARGUMENT &&
            w == NULL,
        "plain http to a host that is not loopback is invalid_argument", NULL);
  check(anoncode_wallet_new(argv[2], url, "/nonexistent/ca.pem", &w) == ANONCODE_E_NOT_FOUND &&
            w == NULL,
        "a missing CA file is not_found", NULL);
  check(anoncode_wallet_new(argv[2], url, not_pem, &w) == ANONCODE_E_MALFORMED && w == NULL,
        "a CA file without a certificate is malformed", NULL);
  check(anoncode_wallet_new(argv[2], url, ca, &w) == ANONCODE_OK && w != NULL, "wallet_new", NULL);
  if (w == NULL) return 1;

  int rc = anoncode_wallet_code(w, &out);
  check(rc == ANONCODE_E_CONFLICT && out && strstr(out, "\"code\":\"conflict\""),
        "code before open is a conflict with error JSON", out);
  anoncode_string_free(out);

  rc = anoncode_wallet_open(w, argv[3], argv[4], &out);
  check(rc == ANONCODE_E_INVALID_ARGUMENT, "open without a trust root is refused", out);
  anoncode_string_free(out);
  out = NULL;
  check(anoncode_wallet_set_trust_root(w, "not a key") == ANONCODE_E_INVALID_ARGUMENT,
        "a malformed trust root is invalid_argument", NULL);
  check(anoncode_wallet_set_trust_root(w, argv[5]) == ANONCODE_OK, "set_trust_root", NULL);

  rc = anoncode_wallet_open(w, argv[3], argv[4], &out);
  check(rc == ANONCODE_OK && out && strstr(out, "\"status\":\"opened\""), "open", out);
  anoncode_string_free(out);

  rc = anoncode_wallet_recharge(w, 1000, "010001", 0, &out);
  check(rc == ANONCODE_OK && out && strstr(out, "\"balance\":1000"), "recharge 1000 fen", out);
  anoncode_string_free(out);

  rc = anoncode_wallet_recharge(w, -5, "010001", 0, &out);
  check(rc == ANONCODE_E_INVALID_ARGUMENT && out && strstr(out, "invalid_argument"),
        "negative recharge is invalid_argument", out);
  anoncode_string_free(out);

  rc = anoncode_wallet_code(w, &out);
  check(rc == ANONCODE_OK && out && strstr(out, "\"payload\"") && strstr(out, "\"sequence\":\"nm"),
        "code", out);
  anoncode_string_free(out);

  rc = anoncode_wallet_history(w, NULL, &out);
  check(rc == ANONCODE_E_INVALID_ARGUMENT, "null history type is invalid_argument", out);
  anoncode_string_free(out);
  rc = anoncode_wallet_balance(NULL, &out);
  check(rc == ANONCODE_E_INVALID_ARGUMENT, "null wallet is invalid_argument", out);
  anoncode_string_free(out);

  anoncode_wallet_free(w);
  printf("%d passed, %d failed\n", 9 - failures, failures);
  return failures == 0 ? 0 : 1;
}
