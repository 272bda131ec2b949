// SM2 signatures (GB/T 32918.2-2016) on the recommended curve (GB/T 32918.5-2017).
// Curve arithmetic from @noble/curves' generic short-Weierstrass implementation; the
// signature scheme and Z_A are written here from the standard.

import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import { randomBytes } from 'node:crypto';
import { concat, sm3 } from './sm3.mjs';

export const SM2 = {
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
  h: 1n,
};

export const Sm2Point = weierstrass({ ...SM2 });

const DEFAULT_ID = new TextEncoder().encode('1234567812345678');

export const be32 = (x) => {
  const out = new Uint8Array(32);
  let v = x;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new Error('be32: value too large');
  return out;
};
export const intBE = (b) => {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
};
const mod = (a, m) => ((a % m) + m) % m;
function invMod(a, m) {
  // extended Euclid; inputs are public or blinded enough for a test client
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return mod(s0, m);
}

/** Public key bytes (33 compressed or 65 uncompressed SEC1) -> point (validated on the curve). */
export function publicKeyFromBytes(bytes) {
  const P = Sm2Point.fromBytes(bytes);
  P.assertValidity();
  if (P.is0()) throw new Error('SM2 public key is the identity');
  return P;
}

/** Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2 §5.5). */
export function zA(pub, id = DEFAULT_ID) {
  const entl = id.length * 8;
  const { x, y } = pub.toAffine();
  return sm3(
    concat(
      new Uint8Array([(entl >> 8) & 0xff, entl & 0xff]),
      id,
      be32(SM2.a),
      be32(SM2.b),
      be32(SM2.Gx),
      be32(SM2.Gy),
      be32(x),
      be32(y),
    ),
  );
}

function randomScalarN() {
  for (;;) {
    const k = mod(intBE(randomBytes(40)), SM2.n - 1n) + 1n; // [1, n-1]
    if (k > 0n && k < SM2.n) return k;
  }
}

export function generateKeyPair() {
  // d in [1, n-2] so that 1 + d is invertible
  let d;
  do d = randomScalarN();
  while (d === SM2.n - 1n);
  const pub = Sm2Point.BASE.multiply(d);
  return { d, pub, pubBytes: pub.toBytes(false) /* 65 bytes 04‖x‖y */ };
}

/** SM2 signature r‖s (64 bytes, big-endian) over message m, e = SM3(Z_A ‖ m). */
export function sign(d, pub, m, id = DEFAULT_ID) {
  const e = intBE(sm3(concat(zA(pub, id), m)));
  const n = SM2.n;
  for (;;) {
    const k = randomScalarN();
    const x1 = Sm2Point.BASE.multiply(k).toAffine().x;
    const r = mod(e + x1, n);
    if (r === 0n || r + k === n) continue;
    const s = mod(invMod(1n + d, n) * (k - r * d), n);
    if (s === 0n) continue;
    return concat(be32(r), be32(s));
  }
}

/** Verify an r‖s signature (64 bytes) over m under the public point `pub`. */
export function verify(pub, m, sig, id = DEFAULT_ID) {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return false;
  const n = SM2.n;
  const r = intBE(sig.subarray(0, 32));
  const s = intBE(sig.subarray(32));
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const e = intBE(sm3(concat(zA(pub, id), m)));
  const t = mod(r + s, n);
  if (t === 0n) return false;
  const X = Sm2Point.BASE.multiply(s).add(pub.multiply(t));
  if (X.is0()) return false;
  const R = mod(e + X.toAffine().x, n);
  return R === r;
}
