/* anoncode.h — the rider SDK's C ABI, for embedding in Android (JNI) and iOS apps.
 *
 * Every call returns ANONCODE_OK (0) or a negative error code, and hands back one JSON object in
 * *out_json (the same object the `anoncode wallet …` command prints, or
 * {"error":{"code":"…","message":"…"}}), which the caller frees with anoncode_string_free.
 * No call throws, aborts or keeps a pointer the caller passed in. A wallet handle is not
 * thread-safe: use one handle from one thread at a time.
 */
#ifndef ANONCODE_H
#define ANONCODE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  ANONCODE_OK = 0,
  ANONCODE_E_INVALID_ARGUMENT = -1,
  ANONCODE_E_MALFORMED = -2,
  ANONCODE_E_VERIFICATION_FAILED = -3,
  ANONCODE_E_BAD_SIGNATURE = -4,
  ANONCODE_E_EXPIRED = -5,
  ANONCODE_E_SN_REUSED = -6,
  ANONCODE_E_CONFLICT = -7,
  ANONCODE_E_NOT_FOUND = -8,
  ANONCODE_E_UNAUTHORIZED = -9,
  ANONCODE_E_FORBIDDEN = -10,
  ANONCODE_E_NOT_WHITELISTED = -11,
  ANONCODE_E_INSUFFICIENT_BALANCE = -12,
  ANONCODE_E_UNKNOWN_KEY = -13,
  ANONCODE_E_UNAVAILABLE = -14,
  ANONCODE_E_INTERNAL = -15,
  ANONCODE_E_RATE_LIMITED = -16,
  ANONCODE_E_ALREADY_OPENED = -17,
  ANONCODE_E_ISSUER_MISBEHAVED = -18
};

typedef struct anoncode_wallet anoncode_wallet;

/* Opens (or starts) the wallet state file and connects it to the server "https://host:port",
   whose TLS certificate must chain to the operator CA in the PEM file `ca_file` (as the app build
   ships it; NULL: the system's trust store). "http://" is accepted for a loopback host only.
   A URL that is neither, or a CA file without a certificate, is ANONCODE_E_INVALID_ARGUMENT,
   ANONCODE_E_NOT_FOUND or ANONCODE_E_MALFORMED. */
int anoncode_wallet_new(const char* state_path, const char* server_url, const char* ca_file,
                        anoncode_wallet** out);
void anoncode_wallet_free(anoncode_wallet* wallet);
/* The operator's root public key (base64url of the 65-byte SM2 key), as the app build ships it.
   Issuer keys are accepted only in a key set it signed. Needed before the first open. */
int anoncode_wallet_set_trust_root(anoncode_wallet* w, const char* trust_root);

int anoncode_wallet_open(anoncode_wallet* w, const char* user_id, const char* app_token,
                         char** out_json);
/* channel: "010001" WeChat, "010002" Alipay, "020001" UnionPay; strong: 0 or 1. */
int anoncode_wallet_recharge(anoncode_wallet* w, int64_t amount_fen, const char* channel,
                             int strong, char** out_json);
int anoncode_wallet_balance(anoncode_wallet* w, char** out_json);
int anoncode_wallet_code(anoncode_wallet* w, char** out_json);
/* type: "recharge" or "ride". */
int anoncode_wallet_history(anoncode_wallet* w, const char* type, char** out_json);
int anoncode_wallet_refund(anoncode_wallet* w, int64_t amount_fen, const char* name,
                           const char* id_number, const char* bank_account, char** out_json);
int anoncode_wallet_close(anoncode_wallet* w, char** out_json);
int anoncode_wallet_backup(anoncode_wallet* w, const char* phone, const char* passphrase,
                           char** out_json);
int anoncode_wallet_restore(anoncode_wallet* w, const char* phone, const char* passphrase,
                            char** out_json);

void anoncode_string_free(char* s);

#ifdef __cplusplus
}
#endif

#endif /* ANONCODE_H */
