// The rider's building blocks for client.mjs and probes.mjs: HTTP over TLS pinned to the operator
// CA, the signed issuer key set (PROTOCOL §9.9), wallet names, one wallet operation following the
// SDK rules (§9.4), and the QR payload check (API.md "QR payload").

import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { sm3 } from './sm3.mjs';
import * as sm2 from './sm2.mjs';
import { groupByName, concat, varb, utf8, hex, unb64u, b64u } from './group.mjs';
import * as C from './credential.mjs';

// ------------------------------------------------------------------ options and output

export function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw usage(`unexpected argument ${a}`);
    const k = a.slice(2);
    if (k === 'keyset-only') o.keysetOnly = true;
    else {
      if (i + 1 >= argv.length) throw usage(`${a} needs a value`);
      o[k] = argv[++i];
    }
  }
  return o;
}
export function usage(msg) {
  const e = new Error(msg);
  e.step = 'usage';
  e.exit = 2;
  return e;
}

export const t0 = Date.now();
export function step(name, text) {
  console.log(`[${String(Date.now() - t0).padStart(5)} ms] ${name}: ${text}`);
}
export class StepError extends Error {
  constructor(step, msg, extra) {
    super(msg);
    this.step = step;
    this.extra = extra;
  }
}
export const fail = (stepName, msg, extra) => {
  throw new StepError(stepName, msg, extra);
};

// ------------------------------------------------------------------ HTTP (API.md "Conventions", PROTOCOL §9.11)

let CA = null;
let BASE = null;
export function configure(base, ca) {
  BASE = base;
  CA = ca;
}
export function request(method, path, body, headers = {}) {
  const url = new URL(path, BASE);
  const isHttps = url.protocol === 'https:';
  const lib = isHttps ? https : http;
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const opts = {
    method,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port,
    path: url.pathname + url.search,
    headers: { Accept: 'application/json', ...headers },
    agent: false, // a fresh connection per request: nothing links the nonce fetch and the show
  };
  if (isHttps) {
    // The operator CA is the only trust anchor (§9.11 rule 2); Node checks the chain and the
    // certificate's names against the host (IP SAN for 127.0.0.1) during the handshake.
    opts.ca = CA;
    opts.rejectUnauthorized = true;
    opts.minVersion = 'TLSv1.2';
  }
  if (data) {
    opts.headers['Content-Type'] = 'application/json';
    opts.headers['Content-Length'] = data.length;
  }
  return new Promise((resolve, reject) => {
    const req = lib.request(opts, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode, json, text, headers: res.headers });
      });
    });
    req.on('error', (e) => {
      // no answer at all: a refused TLS handshake counts as none (PROTOCOL §9.11 rule 4)
      const err = new StepError('connection', `unavailable: no answer from ${url.origin}${url.pathname}: ${e.message} (the server's certificate must chain to the --ca given and name the host)`);
      err.cause = e;
      reject(err);
    });
    req.setTimeout(30000, () => req.destroy(new Error('timeout')));
    if (data) req.write(data);
    req.end();
  });
}
export const errText = (r) => (r.json && r.json.error ? `${r.status} ${r.json.error.code} "${r.json.error.message}"` : `${r.status} ${r.text.slice(0, 200)}`);

// ------------------------------------------------------------------ §9.9 the signed issuer key set

export function loadTrustRoot(arg) {
  if (!arg) fail('trust-root', 'no trust root given (--trust-root FILE|TEXT): a client takes no issuer keys without one (PROTOCOL §9.4 rule 7)');
  let text = arg;
  if (fs.existsSync(arg)) text = fs.readFileSync(arg, 'utf8');
  text = text.replace(/[\s]+$/, '');
  let bytes;
  try {
    bytes = unb64u(text);
  } catch {
    fail('trust-root', 'trust root is not base64url');
  }
  if (bytes.length !== 65 && bytes.length !== 33) fail('trust-root', `trust root is ${bytes.length} bytes, want 65 (or 33)`);
  try {
    return sm2.publicKeyFromBytes(bytes);
  } catch (e) {
    fail('trust-root', 'trust root is not an SM2 point: ' + e.message);
  }
}

/** Returns { group G, gens, keys: Map kidHex -> {kid, W}, issuing } after the checks of §9.9. */
export function verifyKeyset(answer, root, { highestSequence = 0, now = Date.now(), expectGroup }) {
  const S = 'keyset';
  if (!answer || typeof answer.body !== 'string') fail(S, 'refused: the answer has no "body" string (an unsigned answer, e.g. the /params shape)');
  if (typeof answer.signature !== 'string') fail(S, 'malformed: no "signature"');
  let sig;
  try {
    sig = unb64u(answer.signature);
  } catch {
    fail(S, 'malformed: signature is not base64url');
  }
  // check 1: signature over "anoncode/v1/issuer-keyset" ‖ body, exactly as received (raw tag)
  const m = concat(utf8('anoncode/v1/issuer-keyset'), utf8(answer.body));
  if (!sm2.verify(root, m, sig)) fail(S, 'REFUSED: verification_failed — the issuer key set is not signed by the trust root; nothing stored, nothing sent');
  // check 2: parse
  let body;
  try {
    body = JSON.parse(answer.body);
  } catch {
    fail(S, 'malformed: body is not JSON');
  }
  const isInt = (v) => Number.isSafeInteger(v);
  if (body.version !== 1) fail(S, 'malformed: version ≠ 1');
  if (!isInt(body.sequence) || body.sequence < 1) fail(S, 'malformed: sequence');
  if (typeof body.group !== 'string' || !groupByName[body.group]) fail(S, `malformed/unsupported group ${body.group}`);
  if (typeof body.issuing_kid !== 'string' || !/^[0-9a-f]{16}$/.test(body.issuing_kid)) fail(S, 'malformed: issuing_kid');
  if (!isInt(body.published_at)) fail(S, 'malformed: published_at');
  if (!Array.isArray(body.keys) || body.keys.length < 1 || body.keys.length > 64) fail(S, 'malformed: keys (1–64 entries)');
  const G = groupByName[body.group];
  if (expectGroup && body.group !== expectGroup) fail(S, `the key set is for group ${body.group}, expected ${expectGroup}`);
  const keys = new Map();
  for (const k of body.keys) {
    if (typeof k.kid !== 'string' || !/^[0-9a-f]{16}$/.test(k.kid)) fail(S, 'malformed: key kid');
    if (!isInt(k.valid_from) || !isInt(k.valid_until)) fail(S, 'malformed: key validity');
    let W;
    try {
      W = C.decodeIssuerPublicKey(G, unb64u(k.public_key));
    } catch (e) {
      fail(S, 'malformed: public_key: ' + e.message);
    }
    // kid = SM3(E(W))[0..8) (§3): a listed kid must be the key's own
    if (hex(C.kidOf(G, W)) !== k.kid) fail(S, `key ${k.kid}: kid ≠ SM3(E(W))[0..8)`);
    keys.set(k.kid, { kid: C.kidOf(G, W), W, valid_from: k.valid_from, valid_until: k.valid_until });
  }
  // check 3: not older than seen before
  if (body.sequence < highestSequence) fail(S, 'verification_failed: the key set is older than one seen before');
  // check 4: issuing kid listed
  if (!keys.has(body.issuing_kid)) fail(S, 'malformed: issuing_kid is not among the keys');
  // check 5: at most two keys valid now
  const valid = [...keys.values()].filter((k) => k.valid_from <= now && now <= k.valid_until).length;
  if (valid > 2) fail(S, 'issuer_misbehaved: more than two keys valid at once');
  return { G, gens: C.generators(G), keys, issuing: keys.get(body.issuing_kid), body };
}

// ------------------------------------------------------------------ wallets (API.md "Code platform")

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export function base32(bytes) {
  let bits = 0,
    val = 0,
    out = '';
  for (const b of bytes) {
    val = (val << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(val >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(val << (5 - bits)) & 31];
  return out;
}
/** B = Base32(SM3(wallet public key))[first 15 bytes] (24 characters). */
export const walletName = (pub65) => base32(sm3(pub65).subarray(0, 15));

export function newWallet() {
  const kp = sm2.generateKeyPair();
  return { ...kp, B: walletName(kp.pubBytes), accountid: null };
}

// ------------------------------------------------------------------ the rider

export class Rider {
  constructor(ks) {
    this.ks = ks;
    this.G = ks.G;
    this.gens = ks.gens;
    this.cred = null;
    this.serials = [];
    this.halted = false;
  }
  pubFor(kid) {
    const k = this.ks.keys.get(hex(kid));
    if (!k) fail('key', `credential kid ${hex(kid)} is not in the signed key set`);
    return k;
  }

  /**
   * One wallet operation (PROTOCOL §9.4): one nonce, one show of the current credential, the
   * journal kept in memory; the same body resent on no answer / 5xx / no response; the next
   * credential taken only after its DLEQ verifies. Returns { status, json }.
   */
  async walletOp(stepName, path, { op, ctx, scopes, wallet, signer, fields, signFn, mutate }) {
    if (this.halted) fail(stepName, 'issuer_misbehaved: the wallet is halted');
    const nr = await request('POST', '/privacy/v1/nonce', {});
    if (nr.status !== 200 || !nr.json || typeof nr.json.nonce !== 'string') fail(stepName, 'nonce: ' + errText(nr));
    const nonce = unb64u(nr.json.nonce);
    if (nonce.length !== 32) fail(stepName, `nonce is ${nonce.length} bytes, want 32`);
    const pub = this.pubFor(this.cred.kid);
    const sh = C.show(this.G, this.gens, this.cred, pub, { op, nonce, ctx, scopes });
    const body = { show: b64u(sh.bytes), wallet, ...fields };
    // wallet_signature: SM2 (Z_A with the default id) over the message SM3(show) (API.md, §9.4 rule 1)
    if (signer) body.wallet_signature = b64u(signFn ? signFn(signer, sh.bytes) : sm2.sign(signer.d, signer.pub, sm3(sh.bytes)));
    if (mutate) mutate(body);
    const journal = { path, body, pending: sh.pending };
    // resend-only loop (rule 2, 3)
    let r;
    for (let attempt = 1; ; attempt++) {
      try {
        r = await request('POST', journal.path, journal.body);
      } catch (e) {
        r = { status: 0, text: String(e), json: null };
      }
      const definitive = r.status > 0 && r.status < 500 && r.json && typeof r.json.response === 'string';
      if (definitive) break;
      if (r.status >= 400 && r.status < 500)
        fail(stepName, `refused before the show (no "response"; journal kept, the wallet would resend it): ${errText(r)}`);
      if (r.status === 200) fail(stepName, 'issuer_misbehaved: a 200 without "response"');
      if (attempt >= 5) fail(stepName, `no definitive answer after ${attempt} sends: ${errText(r)}`);
      await new Promise((res) => setTimeout(res, 200 * attempt));
    }
    let next;
    try {
      next = C.finishIssue(this.G, this.gens, journal.pending, unb64u(r.json.response), this.pubFor(journal.pending.kid));
    } catch (e) {
      this.halted = true; // rule 4: stop, never show the spent credential again
      fail(stepName, 'issuer_misbehaved: the next credential does not verify (' + e.message + '); wallet halted');
    }
    this.serials.push(hex(this.G.encodeScalar(this.cred.s)));
    this.cred = next;
    return { status: r.status, json: r.json, show: sh, body: journal.body };
  }
}

// ------------------------------------------------------------------ QR payload (API.md "QR payload")

export function checkQr(payloadB64, platformKeys, expect) {
  const S = 'code';
  const p = unb64u(payloadB64);
  if (p.length !== 125) fail(S, `QR payload is ${p.length} bytes, want 125`);
  if (p[0] !== 0x01) fail(S, 'QR version ≠ 0x01');
  if (p[1] !== 0x4e) fail(S, 'QR code type ≠ N');
  const seq = Buffer.from(p.subarray(2, 18)).toString('latin1');
  if (!/^nm[0-9]{14}$/.test(seq)) fail(S, 'QR sequence is not nm + 14 digits: ' + JSON.stringify(seq));
  const acct = Buffer.from(p.subarray(18, 37)).toString('latin1');
  if (!/^[0-9]{19}$/.test(acct)) fail(S, 'QR accountid is not 19 digits');
  const kid = hex(p.subarray(37, 45));
  const dv = new DataView(p.buffer, p.byteOffset);
  const issuedAt = Number(dv.getBigUint64(45));
  const expiresAt = Number(dv.getBigUint64(53));
  const key = platformKeys.find((k) => k.kid === kid);
  if (!key) fail(S, `QR platform kid ${kid} is not among /platform/v1/keys`);
  if (!sm2.verify(key.P, p.subarray(0, 61), p.subarray(61))) fail(S, 'QR SM2 signature over bytes 0..60 does not verify');
  if (seq !== expect.sequence) fail(S, `QR sequence ${seq} ≠ the answer's ${expect.sequence}`);
  if (acct !== expect.accountid) fail(S, `QR accountid ${acct} ≠ the wallet's ${expect.accountid}`);
  if (expiresAt !== expect.expires_at) fail(S, `QR expires_at ${expiresAt} ≠ the answer's ${expect.expires_at}`);
  if (!(issuedAt <= expiresAt)) fail(S, 'QR issued_at after expires_at');
  if (!(key.valid_from <= issuedAt && issuedAt <= key.valid_until)) fail(S, 'QR key not valid at issued_at');
  return { seq, acct, kid, issuedAt, expiresAt, validity: expiresAt - issuedAt };
}

export async function platformKeys() {
  const r = await request('GET', '/platform/v1/keys');
  if (r.status !== 200 || !r.json || !Array.isArray(r.json.keys)) fail('code', '/platform/v1/keys: ' + errText(r));
  return r.json.keys.map((k) => {
    const pubBytes = unb64u(k.public_key);
    if (pubBytes.length !== 65) fail('code', 'platform key is not 65 bytes');
    const P = sm2.publicKeyFromBytes(pubBytes);
    // key id: first 8 bytes of SM3(platform public key, 65 bytes)
    if (hex(sm3(pubBytes).subarray(0, 8)) !== k.kid) fail('code', `platform key ${k.kid}: kid ≠ SM3(key)[0..8)`);
    return { ...k, P };
  });
}

