// The prime-order groups of docs/PROTOCOL.md §1, and the hashes H64, HashToScalar, HashToGroup.
// ristretto255 from @noble/curves (RFC 9496); the SM2 curve from sm2.mjs (GB/T 32918.5).

import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { concat, sm3 } from './sm3.mjs';
import { Sm2Point, SM2, intBE, be32 } from './sm2.mjs';

export const enc = new TextEncoder();
export const utf8 = (s) => enc.encode(s);

export { concat };
export const u8 = (v) => new Uint8Array([v & 0xff]);
export const u32 = (v) => new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
export function u64(v) {
  const out = new Uint8Array(8);
  let x = BigInt(v);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
/** var(x) = u32(len(x)) ‖ x (PROTOCOL.md §0). */
export const varb = (x) => concat(u32(x.length), x);
export const hex = (b) => Buffer.from(b).toString('hex');
export const b64u = (b) => Buffer.from(b).toString('base64url');
export const unb64u = (s) => {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url: ' + s);
  return new Uint8Array(Buffer.from(s, 'base64url'));
};
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** H64(m) = SM3(0x00 ‖ m) ‖ SM3(0x01 ‖ m). */
export const H64 = (m) => concat(sm3(concat(u8(0), m)), sm3(concat(u8(1), m)));

const mod = (a, m) => ((a % m) + m) % m;
const intLE = (b) => {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
};
const le32 = (x) => {
  const out = new Uint8Array(32);
  let v = x;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new Error('le32: too large');
  return out;
};

function makeGroup({ name, id, q, P, Point, encodePoint, decodeRaw, scalarToBytes, scalarFromBytes, hashToPoint }) {
  const G = {
    name,
    id, // wire byte (§1, §6)
    q,
    P, // point size
    B: Point.BASE,
    identity: Point.ZERO,
    encodePoint,
    /** Decode a point; the identity only where allowed (§1). Throws otherwise. */
    decodePoint(bytes, allowIdentity = false) {
      if (!(bytes instanceof Uint8Array) || bytes.length !== P) throw new Error(`${name}: point must be ${P} bytes`);
      if (bytes.every((x) => x === 0)) {
        if (allowIdentity) return Point.ZERO;
        throw new Error(`${name}: identity not allowed here`);
      }
      return decodeRaw(bytes);
    },
    encodeScalar: (k) => scalarToBytes(mod(k, q)),
    /** Canonical 32-byte scalar (< q), else throws. */
    decodeScalar(b) {
      if (b.length !== 32) throw new Error('scalar must be 32 bytes');
      const v = scalarFromBytes(b);
      if (v >= q) throw new Error('non-canonical scalar');
      return v;
    },
    reduceWide: (b64) => mod(scalarFromBytes(b64), q),
    randomScalar: () => mod(scalarFromBytes(randomBytes(64)), q),
    randomNonzeroScalar() {
      for (;;) {
        const k = G.randomScalar();
        if (k !== 0n) return k;
      }
    },
    mul(Pt, k) {
      const kk = mod(k, q);
      return kk === 0n || Pt.is0() ? Point.ZERO : Pt.multiply(kk);
    },
    /** Σ k_i·P_i for public inputs (variable time is fine: §4.2 verify). */
    msm(terms) {
      let acc = Point.ZERO;
      for (const [k, Pt] of terms) {
        const kk = mod(k, q);
        if (kk !== 0n && !Pt.is0()) acc = acc.add(Pt.multiplyUnsafe(kk));
      }
      return acc;
    },
    inv: (k) => {
      const kk = mod(k, q);
      if (kk === 0n) throw new Error('inverse of zero');
      return modPow(kk, q - 2n, q);
    },
    hashToScalar: (tag, m) => G.reduceWide(H64(concat(utf8(tag), m))),
    hashToGroup: (tag, m) => hashToPoint(concat(utf8(tag), m)),
    eq: (a, b) => a.equals(b),
  };
  return G;
}

function modPow(b, e, m) {
  let r = 1n;
  b = mod(b, m);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

const RP = ristretto255.Point;
export const ristretto = makeGroup({
  name: 'ristretto255',
  id: 0x01,
  q: 2n ** 252n + 27742317777372353535851937790883648493n,
  P: 32,
  Point: RP,
  encodePoint: (Pt) => Pt.toBytes(), // identity encodes as 32 zero bytes (RFC 9496)
  decodeRaw: (b) => RP.fromBytes(b), // RFC 9496 canonical decoding, throws on invalid
  scalarToBytes: le32,
  scalarFromBytes: intLE,
  hashToPoint: (m) => ristretto255_hasher.deriveToCurve(H64(m)), // RFC 9496 §4.3.4 from 64 bytes
});

export const sm2group = makeGroup({
  name: 'sm2',
  id: 0x03,
  q: SM2.n,
  P: 33,
  Point: Sm2Point,
  encodePoint: (Pt) => (Pt.is0() ? new Uint8Array(33) : Pt.toBytes(true)),
  decodeRaw: (b) => {
    if (b[0] !== 2 && b[0] !== 3) throw new Error('sm2: bad prefix');
    const Pt = Sm2Point.fromBytes(b);
    Pt.assertValidity();
    return Pt;
  },
  scalarToBytes: be32,
  scalarFromBytes: intBE,
  hashToPoint: (m) => {
    // try-and-increment, PROTOCOL.md §1 and §11
    for (let i = 0; i < 256; i++) {
      const h = H64(concat(m, u8(i)));
      const x = intBE(h) % SM2.p;
      const enc33 = concat(u8(0x02 + (h[63] & 1)), be32(x));
      try {
        const Pt = Sm2Point.fromBytes(enc33);
        Pt.assertValidity();
        return Pt;
      } catch {
        /* not on the curve: next counter */
      }
    }
    throw new Error('HashToGroup: 256 misses');
  },
});

export const groupByName = { ristretto255: ristretto, sm2: sm2group };
export const groupById = { 0x01: ristretto, 0x03: sm2group };
