// Constant-time building blocks for the SM2-curve arithmetic: masks that the optimizer cannot
// turn back into branches, and the ctgrind hooks (Langley's technique: secrets are marked
// "undefined" for valgrind's memcheck, which then reports every branch and every memory index
// that depends on them; results are marked "defined" again where they become public).
//
// The hooks are valgrind client requests: a few no-op instructions when the program does not run
// under valgrind, and nothing at all when valgrind's headers are absent.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define ANONCODE_SM2P256_CTGRIND 1
#endif
#endif

namespace anoncode::crypto::sm2p256 {

// Hides x from the optimizer, so that mask arithmetic stays arithmetic.
inline uint64_t value_barrier(uint64_t x) {
  __asm__("" : "+r"(x));
  return x;
}

// All ones if x == 0, else 0.
inline uint64_t mask_is_zero(uint64_t x) {
  return value_barrier(((x | (0 - x)) >> 63) - 1);
}
// All ones if a == b, else 0.
inline uint64_t mask_eq(uint64_t a, uint64_t b) {
  return mask_is_zero(a ^ b);
}
// All ones if the low bit of b is set, else 0.
inline uint64_t mask_from_bit(uint64_t b) {
  return value_barrier(0 - (b & 1));
}

// ctgrind: `classify` marks memory as secret, `declassify` as public (see the file comment).
inline void classify(const void* p, size_t n) {
#ifdef ANONCODE_SM2P256_CTGRIND
  (void)VALGRIND_MAKE_MEM_UNDEFINED(p, n);
#else
  (void)p;
  (void)n;
#endif
}
inline void declassify(const void* p, size_t n) {
#ifdef ANONCODE_SM2P256_CTGRIND
  (void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
  (void)p;
  (void)n;
#endif
}

}  // namespace anoncode::crypto::sm2p256
