// The credential protocol of docs/PROTOCOL.md §3–§6: generators, transcript, sigma engine,
// open / finish_issue / show, and the byte layouts. Written from the document alone.

import { concat, u8, varb, utf8, bytesEqual } from './group.mjs';
import { sm3 } from './sm3.mjs';

// ---------------------------------------------------------------- §3 generators

export function generators(G) {
  const gen = (n) => G.hashToGroup('anoncode/v1/gen', utf8(n));
  return { B: G.B, H0: gen('H0'), H1: gen('H1'), H2: gen('H2'), H3: gen('H3'), GJ: gen('G_J') };
}
/** G_B = HashToGroup("anoncode/v1/wallet", B) — B's bytes, no length (§2, §3). */
export const walletBase = (G, walletName) => G.hashToGroup('anoncode/v1/wallet', utf8(walletName));

/** kid = SM3(E(W))[0..8) (§3). */
export const kidOf = (G, W) => sm3(G.encodePoint(W)).subarray(0, 8);

// ---------------------------------------------------------------- §4.1 transcript

export class Transcript {
  constructor(G, protocol) {
    this.G = G;
    this.parts = [utf8('anoncode/v1/transcript'), varb(utf8(protocol))];
  }
  append(label, data) {
    this.parts.push(varb(utf8(label)), varb(data));
  }
  appendPoint(label, P) {
    this.append(label, this.G.encodePoint(P));
  }
  appendScalar(label, k) {
    this.append(label, this.G.encodeScalar(k));
  }
  challenge(label) {
    const absorbed = concat(...this.parts, varb(utf8(label)));
    const c = this.G.hashToScalar('anoncode/v1/challenge', absorbed);
    this.appendScalar(label, c);
    return c;
  }
}

// ---------------------------------------------------------------- §4.2 sigma engine
// A statement: { name, relations: [{ lhs: pointName, terms: [[sign(+1|-1), varName, pointName], …] }] }
// Points and variables are numbered in order of first appearance: the LHS first, then the terms.

function layout(st) {
  const points = [];
  const vars = [];
  for (const rel of st.relations) {
    if (!points.includes(rel.lhs)) points.push(rel.lhs);
    for (const [, v, p] of rel.terms) {
      if (!vars.includes(v)) vars.push(v);
      if (!points.includes(p)) points.push(p);
    }
  }
  return { points, vars };
}

function absorbInstance(tr, st, pts) {
  const { points } = layout(st);
  tr.append('statement', utf8(st.name));
  for (const p of points) {
    if (!pts[p]) throw new Error('sigma: missing point ' + p);
    tr.appendPoint(p, pts[p]);
  }
}

export function prove(G, tr, st, pts, witness) {
  const { vars } = layout(st);
  const k = {};
  for (const v of vars) k[v] = G.randomScalar();
  absorbInstance(tr, st, pts);
  for (const rel of st.relations) {
    let T = G.identity;
    for (const [sgn, v, p] of rel.terms) T = T.add(G.mul(pts[p], BigInt(sgn) * k[v]));
    tr.appendPoint('T', T);
  }
  const c = tr.challenge('challenge');
  const out = [G.encodeScalar(c)];
  for (const v of vars) {
    if (witness[v] === undefined) throw new Error('sigma: missing witness ' + v);
    out.push(G.encodeScalar(k[v] - c * witness[v]));
  }
  return concat(...out);
}

export function verifyProof(G, tr, st, pts, proof) {
  const { vars } = layout(st);
  if (proof.length !== 32 * (1 + vars.length)) return false;
  let c, z;
  try {
    c = G.decodeScalar(proof.subarray(0, 32));
    z = {};
    vars.forEach((v, i) => (z[v] = G.decodeScalar(proof.subarray(32 * (i + 1), 32 * (i + 2)))));
  } catch {
    return false;
  }
  absorbInstance(tr, st, pts);
  for (const rel of st.relations) {
    const terms = rel.terms.map(([sgn, v, p]) => [BigInt(sgn) * z[v], pts[p]]);
    terms.push([c, pts[rel.lhs]]);
    tr.appendPoint('T', G.msm(terms));
  }
  const c2 = tr.challenge('challenge');
  return bytesEqual(G.encodeScalar(c), G.encodeScalar(c2));
}

// ---------------------------------------------------------------- §4.3 statements

const commitRel = {
  lhs: 'Cn',
  terms: [
    [1, "r'", 'H0'],
    [1, 'sk', 'H1'],
    [1, "s'", 'H2'],
    [1, "u'", 'H3'],
  ],
};
export const OPEN_ST = {
  name: 'anoncode/v1/open',
  relations: [commitRel, { lhs: 'J', terms: [[1, 'sk', 'GJ']] }],
};
export const ISSUE_ST = {
  name: 'anoncode/v1/issue',
  relations: [
    { lhs: 'W', terms: [[1, 'x', 'B']] },
    { lhs: 'X', terms: [[1, 'x', 'A']] },
  ],
};
export function showStatement(refund, k) {
  const rels = [
    {
      lhs: 'Abar-D',
      terms: [
        [-1, 'e', "A'"],
        [1, 'r2', 'H0'],
      ],
    },
    {
      lhs: 'B+sH2+RH3',
      terms: [
        [1, 'r3', 'D'],
        [-1, 'rhat', 'H0'],
        [-1, 'sk', 'H1-CH3'],
      ],
    },
    commitRel,
  ];
  let name = 'anoncode/v1/show';
  if (refund) {
    name += '+identity';
    rels.push({ lhs: 'J', terms: [[1, 'sk', 'GJ']] });
  }
  if (k > 0) name += '+pseudonyms' + k;
  for (let i = 0; i < k; i++) rels.push({ lhs: 'P' + i, terms: [[1, 'sk', 'G' + i]] });
  return { name, relations: rels };
}

// ---------------------------------------------------------------- §6 byte layouts

const HDR = (type, G) => new Uint8Array([0x01, type, G.id]);
function checkHeader(bytes, type, G, len) {
  if (bytes.length < 3) throw new Error('malformed: shorter than the header');
  if (bytes[0] !== 0x01 || bytes[1] !== type || bytes[2] !== G.id)
    throw new Error(`malformed: header ${Buffer.from(bytes.subarray(0, 3)).toString('hex')}`);
  if (bytes.length !== len) throw new Error(`malformed: length ${bytes.length}, want ${len}`);
}

export function decodeIssuerPublicKey(G, bytes) {
  checkHeader(bytes, 0x10, G, 3 + G.P);
  return G.decodePoint(bytes.subarray(3));
}

export function encodeOpenRequest(G, r) {
  return concat(HDR(0x20, G), r.kid, r.ctx, G.encodePoint(r.Cn), G.encodePoint(r.J), r.proof);
}

export function decodeIssueResponse(G, bytes) {
  const P = G.P;
  checkHeader(bytes, 0x21, G, 3 + 8 + P + 32 + 32 + 64);
  let o = 3;
  const kid = bytes.slice(o, (o += 8));
  const A = G.decodePoint(bytes.subarray(o, (o += P)), true); // A = 𝟘 is refused by finishIssue
  const e = G.decodeScalar(bytes.subarray(o, (o += 32)));
  const r2 = G.decodeScalar(bytes.subarray(o, (o += 32)));
  const proof = bytes.slice(o, o + 64);
  return { kid, A, e, rpp: r2, proof };
}

export function encodeShowRequest(G, s) {
  return concat(
    HDR(0x22, G),
    u8(s.op),
    u8(s.pseudonyms.length),
    s.kid,
    s.nonce,
    s.ctx,
    G.encodePoint(s.Ap),
    G.encodePoint(s.Abar),
    G.encodePoint(s.D),
    G.encodeScalar(s.s),
    G.encodeScalar(s.R),
    G.encodePoint(s.Cn),
    ...s.pseudonyms.map((P) => G.encodePoint(P)),
    s.proof,
  );
}

// ---------------------------------------------------------------- §5 protocols

function commitNext(G, gens, sk) {
  const rp = G.randomScalar();
  const sp = G.randomScalar();
  const up = G.randomScalar();
  const C = G.mul(gens.H0, rp).add(G.mul(gens.H1, sk)).add(G.mul(gens.H2, sp)).add(G.mul(gens.H3, up));
  return { Cn: C, rp, sp, up };
}

/** §5.1: the client's open request; returns { request bytes, pending }. */
export function beginOpen(G, gens, kid, ctx) {
  const sk = G.randomNonzeroScalar();
  const J = G.mul(gens.GJ, sk);
  const { Cn, rp, sp, up } = commitNext(G, gens, sk);
  const tr = new Transcript(G, 'anoncode/v1/open');
  tr.append('kid', kid);
  tr.append('ctx', ctx);
  const pts = { Cn, H0: gens.H0, H1: gens.H1, H2: gens.H2, H3: gens.H3, J, GJ: gens.GJ };
  const proof = prove(G, tr, OPEN_ST, pts, { "r'": rp, sk, "s'": sp, "u'": up });
  const request = encodeOpenRequest(G, { kid, ctx, Cn, J, proof });
  return { request, J, pending: { kid, Cn, rp, sk, sp, up } };
}

/**
 * §5.2 finish_issue: checks the issuer's DLEQ against OUR OWN Cn and the key W, and returns the
 * credential (kid, A, e, r = r' + r'', sk, s = s', u = u'). Throws 'verification_failed'.
 */
export function finishIssue(G, gens, pending, respBytes, pub /* {kid, W} */) {
  const resp = decodeIssueResponse(G, respBytes);
  const fail = (why) => {
    const e = new Error('verification_failed: issue response: ' + why);
    e.code = 'verification_failed';
    throw e;
  };
  if (!bytesEqual(resp.kid, pending.kid) || !bytesEqual(resp.kid, pub.kid)) fail('kid differs');
  if (resp.A.is0()) fail('A is the identity');
  const M = gens.B.add(pending.Cn).add(G.mul(gens.H0, resp.rpp));
  const X = M.subtract(G.mul(resp.A, resp.e));
  const tr = new Transcript(G, 'anoncode/v1/issue');
  tr.append('kid', resp.kid);
  tr.appendPoint('Cn', pending.Cn);
  tr.appendScalar('e', resp.e);
  tr.appendScalar("r''", resp.rpp);
  if (!verifyProof(G, tr, ISSUE_ST, { W: pub.W, B: gens.B, X, A: resp.A }, resp.proof)) fail('DLEQ does not verify');
  const cred = {
    kid: resp.kid,
    A: resp.A,
    e: resp.e,
    r: (pending.rp + resp.rpp) % G.q,
    sk: pending.sk,
    s: pending.sp,
    u: pending.up,
  };
  return cred;
}

/** §5.3 show. scopes: wallet names B_0..B_{k-1}. J_U only for a refund (not sent). */
export function show(G, gens, cred, pub, { op, nonce, ctx, scopes = [] }) {
  if (!bytesEqual(cred.kid, pub.kid)) throw new Error('unknown_key: credential kid is not the key given');
  if (scopes.length > 2) throw new Error('invalid_argument: at most two scopes');
  const { sk, e, r, s, u, A } = cred;
  const { Cn, rp, sp, up } = commitNext(G, gens, sk);
  const C = G.hashToScalar('anoncode/v1/dschal', concat(nonce, u8(op)));
  const R = (sk * C + u) % G.q;
  const r1 = G.randomNonzeroScalar();
  const r2 = G.randomScalar();
  const Bm = gens.B.add(G.mul(gens.H0, r)).add(G.mul(gens.H1, sk)).add(G.mul(gens.H2, s)).add(G.mul(gens.H3, u));
  const Ap = G.mul(A, r1);
  const r1Bm = G.mul(Bm, r1);
  const Abar = r1Bm.subtract(G.mul(Ap, e));
  const D = r1Bm.subtract(G.mul(gens.H0, r2));
  const r3 = G.inv(r1);
  const rhat = (((r - r2 * r3) % G.q) + G.q) % G.q;
  const Gs = scopes.map((b) => walletBase(G, b));
  const Ps = Gs.map((Gi) => G.mul(Gi, sk));
  const refund = op === 4;

  const tr = new Transcript(G, 'anoncode/v1/show');
  tr.append('op', u8(op));
  tr.append('kid', cred.kid);
  tr.append('nonce', nonce);
  tr.append('ctx', ctx);
  tr.appendPoint("A'", Ap);
  tr.appendPoint('Abar', Abar);
  tr.appendPoint('D', D);
  tr.appendScalar('s', s);
  tr.appendScalar('R', R);
  tr.appendScalar('C', C);
  const st = showStatement(refund, scopes.length);
  const pts = {
    'Abar-D': Abar.subtract(D),
    "A'": Ap,
    H0: gens.H0,
    'B+sH2+RH3': gens.B.add(G.mul(gens.H2, s)).add(G.mul(gens.H3, R)),
    D,
    'H1-CH3': gens.H1.subtract(G.mul(gens.H3, C)),
    Cn,
    H1: gens.H1,
    H2: gens.H2,
    H3: gens.H3,
  };
  if (refund) {
    pts.J = G.mul(gens.GJ, sk);
    pts.GJ = gens.GJ;
  }
  Gs.forEach((Gi, i) => {
    pts['P' + i] = Ps[i];
    pts['G' + i] = Gi;
  });
  const proof = prove(G, tr, st, pts, { e, r2, r3, rhat, sk, "r'": rp, "s'": sp, "u'": up });
  const bytes = encodeShowRequest(G, { op, pseudonyms: Ps, kid: cred.kid, nonce, ctx, Ap, Abar, D, s, R, Cn, proof });
  return { bytes, pseudonyms: Ps, serial: s, pending: { kid: cred.kid, Cn, rp, sk, sp, up } };
}

// ---------------------------------------------------------------- §9.1 contexts

/** ctx = SM3("anoncode/v1/ctx" ‖ u8(op) ‖ var(B) ‖ var(accountid) ‖ u64(amount) ‖ var(extra)). */
export function showContext(op, B, accountid, amount, extra) {
  return sm3(concat(utf8('anoncode/v1/ctx'), u8(op), varb(utf8(B)), varb(utf8(accountid)), u64be(amount), varb(extra)));
}
/** open ctx = SM3("anoncode/v1/open-ctx" ‖ var(user_id)). */
export const openContext = (userId) => sm3(concat(utf8('anoncode/v1/open-ctx'), varb(utf8(userId))));

function u64be(v) {
  const out = new Uint8Array(8);
  let x = BigInt(v);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
