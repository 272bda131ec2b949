// Montgomery multiplication and squaring on x86-64 with MULX/ADCX/ADOX (BMI2 + ADX): 4 × 64-bit
// limbs, two independent carry chains (CF for the low halves of the products, OF for the high
// halves). Straight-line code: no branch, no memory index depends on the operands, and
// the final correction is a CMOV. GCC compiles the portable __int128 version (limbs.h) to code
// about three times slower, which is why this exists; limbs.h calls it only when the CPU has
// BMI2 and ADX, and sm2p256_test.cpp checks it against the portable version.
//
// The accumulator t0..t5 lives in six registers A0..A5 that rotate by one limb per row: after
// a row is reduced its t0 is zero and becomes the next row's t5, so nothing is ever moved.
#pragma once

#include <cstdint>

#include "crypto/sm2p256/modulus.h"

namespace anoncode::crypto::sm2p256::x86_64 {

// Whether M is the SM2 prime p = 2^256 − 2^224 − 2^96 + 2^64 − 1 (its special-form reduction).
constexpr bool is_sm2_prime(const Modulus& M) {
  return M.m[0] == ~uint64_t{0} && M.m[1] == 0xFFFFFFFF00000000 && M.m[2] == ~uint64_t{0} &&
         M.m[3] == 0xFFFFFFFEFFFFFFFF;
}

// t0..t5 (t4, t5 = 0) = a·b[0].
#define ANONCODE_SM2P256_ROW0(t0, t1, t2, t3, t4, t5) \
  "movq 0(%[b]), %%rdx\n\t"                           \
  "xorl %%eax, %%eax\n\t"                             \
  "mulxq 0(%[a]), " t0 ", " t1                        \
  "\n\t"                                              \
  "mulxq 8(%[a]), %[lo], " t2                         \
  "\n\t"                                              \
  "adcxq %[lo], " t1                                  \
  "\n\t"                                              \
  "mulxq 16(%[a]), %[lo], " t3                        \
  "\n\t"                                              \
  "adcxq %[lo], " t2                                  \
  "\n\t"                                              \
  "mulxq 24(%[a]), %[lo], " t4                        \
  "\n\t"                                              \
  "adcxq %[lo], " t3                                  \
  "\n\t"                                              \
  "adcxq %%rax, " t4                                  \
  "\n\t"                                              \
  "movq $0, " t5 "\n\t"

// t += a·b[i] (offset = 8·i).
#define ANONCODE_SM2P256_ROW(offset, t0, t1, t2, t3, t4, t5) \
  "movq " offset                                             \
  "(%[b]), %%rdx\n\t"                                        \
  "xorl %%eax, %%eax\n\t"                                    \
  "mulxq 0(%[a]), %[lo], %[hi]\n\t"                          \
  "adcxq %[lo], " t0                                         \
  "\n\t"                                                     \
  "adoxq %[hi], " t1                                         \
  "\n\t"                                                     \
  "mulxq 8(%[a]), %[lo], %[hi]\n\t"                          \
  "adcxq %[lo], " t1                                         \
  "\n\t"                                                     \
  "adoxq %[hi], " t2                                         \
  "\n\t"                                                     \
  "mulxq 16(%[a]), %[lo], %[hi]\n\t"                         \
  "adcxq %[lo], " t2                                         \
  "\n\t"                                                     \
  "adoxq %[hi], " t3                                         \
  "\n\t"                                                     \
  "mulxq 24(%[a]), %[lo], %[hi]\n\t"                         \
  "adcxq %[lo], " t3                                         \
  "\n\t"                                                     \
  "adoxq %[hi], " t4                                         \
  "\n\t"                                                     \
  "movq $0, " t5                                             \
  "\n\t"                                                     \
  "adcxq %%rax, " t4                                         \
  "\n\t"                                                     \
  "adoxq %%rax, " t5                                         \
  "\n\t"                                                     \
  "adcxq %%rax, " t5 "\n\t"

// t += q·m with q in rdx, which makes t0 zero.
#define ANONCODE_SM2P256_ADD_QM(t0, t1, t2, t3, t4, t5) \
  "xorl %%eax, %%eax\n\t"                               \
  "mulxq %[m0], %[lo], %[hi]\n\t"                       \
  "adcxq %[lo], " t0                                    \
  "\n\t"                                                \
  "adoxq %[hi], " t1                                    \
  "\n\t"                                                \
  "mulxq %[m1], %[lo], %[hi]\n\t"                       \
  "adcxq %[lo], " t1                                    \
  "\n\t"                                                \
  "adoxq %[hi], " t2                                    \
  "\n\t"                                                \
  "mulxq %[m2], %[lo], %[hi]\n\t"                       \
  "adcxq %[lo], " t2                                    \
  "\n\t"                                                \
  "adoxq %[hi], " t3                                    \
  "\n\t"                                                \
  "mulxq %[m3], %[lo], %[hi]\n\t"                       \
  "adcxq %[lo], " t3                                    \
  "\n\t"                                                \
  "adoxq %[hi], " t4                                    \
  "\n\t"                                                \
  "adcxq %%rax, " t4                                    \
  "\n\t"                                                \
  "adoxq %%rax, " t5                                    \
  "\n\t"                                                \
  "adcxq %%rax, " t5 "\n\t"

// The SM2 prime's special form, p = 2^256 − 2^224 − 2^96 + 2^64 − 1, with −p⁻¹ ≡ 1 mod 2^64:
// q = t0, and q·p = q·2^256 − q·2^224 − q·2^96 + q·2^64 − q takes shifts, additions and
// subtractions instead of four multiplications. The −q cancels t0 exactly; the rest is added to
// t1..t5 in two carry chains (+q at limbs 1 and 4, then −(q·2^32) at limbs 1–2 and 3–4). The
// exact sum fits t1..t5 (it is what the generic step computes), so a carry out of the first
// chain is always taken back by a borrow in the second, and the arithmetic is exact mod 2^320.
#define ANONCODE_SM2P256_REDUCE_SM2P(t0, t1, t2, t3, t4, t5) \
  "movq " t0                                                 \
  ", %%rdx\n\t"                                              \
  "movq " t0                                                 \
  ", %%rax\n\t"                                              \
  "shlq $32, %%rdx\n\t"                                      \
  "shrq $32, %%rax\n\t"                                      \
  "addq " t0 ", " t1                                         \
  "\n\t"                                                     \
  "adcq $0, " t2                                             \
  "\n\t"                                                     \
  "adcq $0, " t3                                             \
  "\n\t"                                                     \
  "adcq " t0 ", " t4                                         \
  "\n\t"                                                     \
  "adcq $0, " t5                                             \
  "\n\t"                                                     \
  "subq %%rdx, " t1                                          \
  "\n\t"                                                     \
  "sbbq %%rax, " t2                                          \
  "\n\t"                                                     \
  "sbbq %%rdx, " t3                                          \
  "\n\t"                                                     \
  "sbbq %%rax, " t4                                          \
  "\n\t"                                                     \
  "sbbq $0, " t5 "\n\t"

// q = t0 (for a modulus with −m⁻¹ ≡ 1 mod 2^64, such as the SM2 prime) or q = t0·minv.
#define ANONCODE_SM2P256_REDUCE_UNIT(t0, t1, t2, t3, t4, t5) \
  "movq " t0 ", %%rdx\n\t" ANONCODE_SM2P256_ADD_QM(t0, t1, t2, t3, t4, t5)
#define ANONCODE_SM2P256_REDUCE(t0, t1, t2, t3, t4, t5) \
  "movq " t0                                            \
  ", %%rdx\n\t"                                         \
  "imulq %[minv], %%rdx\n\t" ANONCODE_SM2P256_ADD_QM(t0, t1, t2, t3, t4, t5)

// (r4:r0..r3) < 2m: subtract m unless that borrows.
#define ANONCODE_SM2P256_FINAL(r0, r1, r2, r3, r4) \
  "movq " r0                                       \
  ", %%rax\n\t"                                    \
  "subq %[m0], %%rax\n\t"                          \
  "movq " r1                                       \
  ", %%rdx\n\t"                                    \
  "sbbq %[m1], %%rdx\n\t"                          \
  "movq " r2                                       \
  ", %[lo]\n\t"                                    \
  "sbbq %[m2], %[lo]\n\t"                          \
  "movq " r3                                       \
  ", %[hi]\n\t"                                    \
  "sbbq %[m3], %[hi]\n\t"                          \
  "sbbq $0, " r4                                   \
  "\n\t"                                           \
  "cmovncq %%rax, " r0                             \
  "\n\t"                                           \
  "cmovncq %%rdx, " r1                             \
  "\n\t"                                           \
  "cmovncq %[lo], " r2                             \
  "\n\t"                                           \
  "cmovncq %[hi], " r3 "\n\t"

// The whole multiplication: four rows, each followed by its reduction step (REDUCE is
// ANONCODE_SM2P256_REDUCE_UNIT or ANONCODE_SM2P256_REDUCE), registers rotating by one limb per
// row; the result ends up in A4, A5, A0, A1.
// clang-format off
#define ANONCODE_SM2P256_MUL_BODY(REDUCE)                                             \
  ANONCODE_SM2P256_ROW0("%[A0]", "%[A1]", "%[A2]", "%[A3]", "%[A4]", "%[A5]")         \
  REDUCE("%[A0]", "%[A1]", "%[A2]", "%[A3]", "%[A4]", "%[A5]")                        \
  ANONCODE_SM2P256_ROW("8", "%[A1]", "%[A2]", "%[A3]", "%[A4]", "%[A5]", "%[A0]")     \
  REDUCE("%[A1]", "%[A2]", "%[A3]", "%[A4]", "%[A5]", "%[A0]")                        \
  ANONCODE_SM2P256_ROW("16", "%[A2]", "%[A3]", "%[A4]", "%[A5]", "%[A0]", "%[A1]")    \
  REDUCE("%[A2]", "%[A3]", "%[A4]", "%[A5]", "%[A0]", "%[A1]")                        \
  ANONCODE_SM2P256_ROW("24", "%[A3]", "%[A4]", "%[A5]", "%[A0]", "%[A1]", "%[A2]")    \
  REDUCE("%[A3]", "%[A4]", "%[A5]", "%[A0]", "%[A1]", "%[A2]")                        \
  ANONCODE_SM2P256_FINAL("%[A4]", "%[A5]", "%[A0]", "%[A1]", "%[A2]")
// clang-format on

// r = a·b·2^-256 mod m, for a, b < m. The modulus is a template parameter so that its limbs
// are addressed directly (no register spent on them). For −m⁻¹ ≡ 1 mod 2^64 (the SM2 prime)
// q = t0 needs no multiplication.
template <const Modulus& M>
__attribute__((always_inline)) inline void mont_mul(uint64_t r[4], const uint64_t a[4],
                                                    const uint64_t b[4]) {
  uint64_t A0, A1, A2, A3, A4, A5, lo, hi;
  if constexpr (is_sm2_prime(M)) {
    __asm__(ANONCODE_SM2P256_MUL_BODY(ANONCODE_SM2P256_REDUCE_SM2P)
            : [A0] "=&r"(A0), [A1] "=&r"(A1), [A2] "=&r"(A2), [A3] "=&r"(A3), [A4] "=&r"(A4),
              [A5] "=&r"(A5), [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [a] "r"(a), [b] "r"(b), "m"(*reinterpret_cast<const uint64_t(*)[4]>(a)),
              "m"(*reinterpret_cast<const uint64_t(*)[4]>(b)), [m0] "m"(M.m[0]), [m1] "m"(M.m[1]),
              [m2] "m"(M.m[2]), [m3] "m"(M.m[3])
            : "rax", "rdx", "cc");
  } else if constexpr (M.minv == 1) {
    __asm__(ANONCODE_SM2P256_MUL_BODY(ANONCODE_SM2P256_REDUCE_UNIT)
            : [A0] "=&r"(A0), [A1] "=&r"(A1), [A2] "=&r"(A2), [A3] "=&r"(A3), [A4] "=&r"(A4),
              [A5] "=&r"(A5), [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [a] "r"(a), [b] "r"(b), "m"(*reinterpret_cast<const uint64_t(*)[4]>(a)),
              "m"(*reinterpret_cast<const uint64_t(*)[4]>(b)), [m0] "m"(M.m[0]), [m1] "m"(M.m[1]),
              [m2] "m"(M.m[2]), [m3] "m"(M.m[3])
            : "rax", "rdx", "cc");
  } else {
    __asm__(ANONCODE_SM2P256_MUL_BODY(ANONCODE_SM2P256_REDUCE)
            : [A0] "=&r"(A0), [A1] "=&r"(A1), [A2] "=&r"(A2), [A3] "=&r"(A3), [A4] "=&r"(A4),
              [A5] "=&r"(A5), [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [a] "r"(a), [b] "r"(b), "m"(*reinterpret_cast<const uint64_t(*)[4]>(a)),
              "m"(*reinterpret_cast<const uint64_t(*)[4]>(b)), [m0] "m"(M.m[0]), [m1] "m"(M.m[1]),
              [m2] "m"(M.m[2]), [m3] "m"(M.m[3]), [minv] "m"(M.minv)
            : "rax", "rdx", "cc");
  }
  r[0] = A4;
  r[1] = A5;
  r[2] = A0;
  r[3] = A1;
}

// t0..t7 = a² (10 multiplications: the six cross products once, doubled, plus the squares).
#define ANONCODE_SM2P256_SQUARE      \
  "movq 0(%[a]), %%rdx\n\t"          \
  "mulxq 8(%[a]), %[t1], %[t2]\n\t"  \
  "mulxq 16(%[a]), %[lo], %[t3]\n\t" \
  "addq %[lo], %[t2]\n\t"            \
  "mulxq 24(%[a]), %[lo], %[t4]\n\t" \
  "adcq %[lo], %[t3]\n\t"            \
  "adcq $0, %[t4]\n\t"               \
  "movq 8(%[a]), %%rdx\n\t"          \
  "mulxq 16(%[a]), %[lo], %[hi]\n\t" \
  "mulxq 24(%[a]), %[t6], %[t5]\n\t" \
  "addq %[lo], %[t3]\n\t"            \
  "adcq %[hi], %[t4]\n\t"            \
  "adcq $0, %[t5]\n\t"               \
  "addq %[t6], %[t4]\n\t"            \
  "adcq $0, %[t5]\n\t"               \
  "movq 16(%[a]), %%rdx\n\t"         \
  "mulxq 24(%[a]), %[lo], %[t6]\n\t" \
  "addq %[lo], %[t5]\n\t"            \
  "adcq $0, %[t6]\n\t"               \
  "movq $0, %[t7]\n\t"               \
  "addq %[t1], %[t1]\n\t"            \
  "adcq %[t2], %[t2]\n\t"            \
  "adcq %[t3], %[t3]\n\t"            \
  "adcq %[t4], %[t4]\n\t"            \
  "adcq %[t5], %[t5]\n\t"            \
  "adcq %[t6], %[t6]\n\t"            \
  "adcq $0, %[t7]\n\t"               \
  "movq 0(%[a]), %%rdx\n\t"          \
  "mulxq %%rdx, %[t0], %[hi]\n\t"    \
  "addq %[hi], %[t1]\n\t"            \
  "movq 8(%[a]), %%rdx\n\t"          \
  "mulxq %%rdx, %[lo], %[hi]\n\t"    \
  "adcq %[lo], %[t2]\n\t"            \
  "adcq %[hi], %[t3]\n\t"            \
  "movq 16(%[a]), %%rdx\n\t"         \
  "mulxq %%rdx, %[lo], %[hi]\n\t"    \
  "adcq %[lo], %[t4]\n\t"            \
  "adcq %[hi], %[t5]\n\t"            \
  "movq 24(%[a]), %%rdx\n\t"         \
  "mulxq %%rdx, %[lo], %[hi]\n\t"    \
  "adcq %[lo], %[t6]\n\t"            \
  "adcq %[hi], %[t7]\n\t"

// One Montgomery step on the low half: (u0..u3, u4 = 0) += q·m with q = u0 (times minv unless
// the modulus has minv = 1), which makes u0 zero; u0 then serves as the next step's u4. The
// running value stays below 2^256 after the shift, so u4 never overflows.
#define ANONCODE_SM2P256_REDC_STEP(q_setup, u0, u1, u2, u3, u4) \
  "movq " u0 ", %%rdx\n\t" q_setup                              \
  "xorl %%eax, %%eax\n\t"                                       \
  "mulxq %[m0], %[lo], %[hi]\n\t"                               \
  "adcxq %[lo], " u0                                            \
  "\n\t"                                                        \
  "adoxq %[hi], " u1                                            \
  "\n\t"                                                        \
  "mulxq %[m1], %[lo], %[hi]\n\t"                               \
  "adcxq %[lo], " u1                                            \
  "\n\t"                                                        \
  "adoxq %[hi], " u2                                            \
  "\n\t"                                                        \
  "mulxq %[m2], %[lo], %[hi]\n\t"                               \
  "adcxq %[lo], " u2                                            \
  "\n\t"                                                        \
  "adoxq %[hi], " u3                                            \
  "\n\t"                                                        \
  "mulxq %[m3], %[lo], %[hi]\n\t"                               \
  "adcxq %[lo], " u3                                            \
  "\n\t"                                                        \
  "adoxq %[hi], " u4                                            \
  "\n\t"                                                        \
  "adcxq %%rax, " u4 "\n\t"

// REDC_STEP for the SM2 prime (see ANONCODE_SM2P256_REDUCE_SM2P): exact mod 2^256 on u1..u4,
// whose true result is below 2^256; u0 is cleared for its next role as u4.
#define ANONCODE_SM2P256_REDC_STEP_SM2P(q_setup, u0, u1, u2, u3, u4) \
  "movq " u0                                                         \
  ", %%rdx\n\t"                                                      \
  "movq " u0                                                         \
  ", %%rax\n\t"                                                      \
  "shlq $32, %%rdx\n\t"                                              \
  "shrq $32, %%rax\n\t"                                              \
  "addq " u0 ", " u1                                                 \
  "\n\t"                                                             \
  "adcq $0, " u2                                                     \
  "\n\t"                                                             \
  "adcq $0, " u3                                                     \
  "\n\t"                                                             \
  "adcq " u0 ", " u4                                                 \
  "\n\t"                                                             \
  "subq %%rdx, " u1                                                  \
  "\n\t"                                                             \
  "sbbq %%rax, " u2                                                  \
  "\n\t"                                                             \
  "sbbq %%rdx, " u3                                                  \
  "\n\t"                                                             \
  "sbbq %%rax, " u4                                                  \
  "\n\t"                                                             \
  "movq $0, " u0 "\n\t"

// The whole squaring: a², four steps on its low half t0..t3 (the register that held `a` serves
// as the fifth limb), giving U ≤ m in (a, t0, t1, t2); U plus the high half t4..t7 (< m) is
// below 2m, so one conditional subtraction finishes it (t3, zero by then, takes the carry).
// clang-format off
#define ANONCODE_SM2P256_SQR_BODY(STEP, q)                                            \
  ANONCODE_SM2P256_SQUARE                                                             \
  "movq $0, %[a]\n\t"                                                                 \
  STEP(q, "%[t0]", "%[t1]", "%[t2]", "%[t3]", "%[a]")                                 \
  STEP(q, "%[t1]", "%[t2]", "%[t3]", "%[a]", "%[t0]")                                 \
  STEP(q, "%[t2]", "%[t3]", "%[a]", "%[t0]", "%[t1]")                                 \
  STEP(q, "%[t3]", "%[a]", "%[t0]", "%[t1]", "%[t2]")                                 \
  "addq %[a], %[t4]\n\t"                                                              \
  "adcq %[t0], %[t5]\n\t"                                                             \
  "adcq %[t1], %[t6]\n\t"                                                             \
  "adcq %[t2], %[t7]\n\t"                                                             \
  "adcq $0, %[t3]\n\t" ANONCODE_SM2P256_FINAL("%[t4]", "%[t5]", "%[t6]", "%[t7]", "%[t3]")
// clang-format on

// r = a²·2^-256 mod m for a < m.
template <const Modulus& M>
__attribute__((always_inline)) inline void mont_sqr(uint64_t r[4], const uint64_t a_in[4]) {
  uint64_t t0, t1, t2, t3, t4, t5, t6, t7, lo, hi;
  const uint64_t* a = a_in;  // its register is reused as a limb: an in-out operand
  if constexpr (is_sm2_prime(M)) {
    __asm__(ANONCODE_SM2P256_SQR_BODY(ANONCODE_SM2P256_REDC_STEP_SM2P, "")
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
              [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi),
              [a] "+&r"(a)
            : "m"(*reinterpret_cast<const uint64_t(*)[4]>(a_in)), [m0] "m"(M.m[0]),
              [m1] "m"(M.m[1]), [m2] "m"(M.m[2]), [m3] "m"(M.m[3])
            : "rax", "rdx", "cc");
  } else if constexpr (M.minv == 1) {
    __asm__(ANONCODE_SM2P256_SQR_BODY(ANONCODE_SM2P256_REDC_STEP, "")
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
              [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi),
              [a] "+&r"(a)
            : "m"(*reinterpret_cast<const uint64_t(*)[4]>(a_in)), [m0] "m"(M.m[0]),
              [m1] "m"(M.m[1]), [m2] "m"(M.m[2]), [m3] "m"(M.m[3])
            : "rax", "rdx", "cc");
  } else {
    __asm__(ANONCODE_SM2P256_SQR_BODY(ANONCODE_SM2P256_REDC_STEP, "imulq %[minv], %%rdx\n\t")
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
              [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi),
              [a] "+&r"(a)
            : "m"(*reinterpret_cast<const uint64_t(*)[4]>(a_in)), [m0] "m"(M.m[0]),
              [m1] "m"(M.m[1]), [m2] "m"(M.m[2]), [m3] "m"(M.m[3]), [minv] "m"(M.minv)
            : "rax", "rdx", "cc");
  }
  r[0] = t4;
  r[1] = t5;
  r[2] = t6;
  r[3] = t7;
}

}  // namespace anoncode::crypto::sm2p256::x86_64
