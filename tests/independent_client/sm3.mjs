// SM3 (GB/T 32905-2016), written from the standard. Pure JS, no dependencies.
// Checked by selfTest() against the standard's two examples (Annex A).

const IV = [
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
];

const rotl = (x, n) => ((x << (n & 31)) | (x >>> ((32 - n) & 31))) >>> 0;
const P0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const P1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;
const T = (j) => (j < 16 ? 0x79cc4519 : 0x7a879d8a);
const FF = (j, x, y, z) => (j < 16 ? x ^ y ^ z : (x & y) | (x & z) | (y & z)) >>> 0;
const GG = (j, x, y, z) => (j < 16 ? x ^ y ^ z : (x & y) | (~x & z)) >>> 0;

function compress(V, block /* Uint8Array(64) at offset */, off) {
  const W = new Array(68);
  const W1 = new Array(64);
  for (let j = 0; j < 16; j++) {
    const i = off + 4 * j;
    W[j] = ((block[i] << 24) | (block[i + 1] << 16) | (block[i + 2] << 8) | block[i + 3]) >>> 0;
  }
  for (let j = 16; j < 68; j++) {
    W[j] = (P1(W[j - 16] ^ W[j - 9] ^ rotl(W[j - 3], 15)) ^ rotl(W[j - 13], 7) ^ W[j - 6]) >>> 0;
  }
  for (let j = 0; j < 64; j++) W1[j] = (W[j] ^ W[j + 4]) >>> 0;
  let [A, B, C, D, E, F, G, H] = V;
  for (let j = 0; j < 64; j++) {
    const SS1 = rotl((rotl(A, 12) + E + rotl(T(j), j % 32)) >>> 0, 7);
    const SS2 = (SS1 ^ rotl(A, 12)) >>> 0;
    const TT1 = (FF(j, A, B, C) + D + SS2 + W1[j]) >>> 0;
    const TT2 = (GG(j, E, F, G) + H + SS1 + W[j]) >>> 0;
    D = C;
    C = rotl(B, 9);
    B = A;
    A = TT1;
    H = G;
    G = rotl(F, 19);
    F = E;
    E = P0(TT2);
  }
  return [A ^ V[0], B ^ V[1], C ^ V[2], D ^ V[3], E ^ V[4], F ^ V[5], G ^ V[6], H ^ V[7]].map(
    (x) => x >>> 0,
  );
}

/** SM3 of a byte string (Uint8Array), 32 bytes. */
export function sm3(msg) {
  if (!(msg instanceof Uint8Array)) throw new TypeError('sm3: Uint8Array expected');
  const len = msg.length;
  const bitLen = BigInt(len) * 8n;
  // padding: 1 bit, k zeros, 64-bit big-endian length; total a multiple of 512 bits
  const padLen = (len + 9 + 63) & ~63;
  const buf = new Uint8Array(padLen);
  buf.set(msg);
  buf[len] = 0x80;
  for (let i = 0; i < 8; i++) buf[padLen - 1 - i] = Number((bitLen >> BigInt(8 * i)) & 0xffn);
  let V = IV.slice();
  for (let off = 0; off < padLen; off += 64) V = compress(V, buf, off);
  const out = new Uint8Array(32);
  V.forEach((w, i) => {
    out[4 * i] = w >>> 24;
    out[4 * i + 1] = (w >>> 16) & 0xff;
    out[4 * i + 2] = (w >>> 8) & 0xff;
    out[4 * i + 3] = w & 0xff;
  });
  return out;
}

/** HMAC-SM3 (RFC 2104 with SM3, block 64 bytes). Not needed by the rider flows; kept for completeness. */
export function hmacSm3(key, msg) {
  let k = key.length > 64 ? sm3(key) : key;
  const kb = new Uint8Array(64);
  kb.set(k);
  const ipad = kb.map((b) => b ^ 0x36);
  const opad = kb.map((b) => b ^ 0x5c);
  const inner = sm3(concat(ipad, msg));
  return sm3(concat(opad, inner));
}

// Byte strings joined (shared by sm2.mjs and group.mjs).
export function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const hex = (b) => Buffer.from(b).toString('hex');

/** The two examples of GB/T 32905-2016 Annex A. Throws on mismatch. */
export function selfTest() {
  const abc = hex(sm3(new TextEncoder().encode('abc')));
  if (abc !== '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0')
    throw new Error('SM3 self-test failed on "abc": ' + abc);
  const abcd16 = hex(sm3(new TextEncoder().encode('abcd'.repeat(16))));
  if (abcd16 !== 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732')
    throw new Error('SM3 self-test failed on "abcd"x16: ' + abcd16);
  return true;
}
