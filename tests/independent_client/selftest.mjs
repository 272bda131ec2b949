// Offline self-consistency check of credential.mjs: a toy issuer written from PROTOCOL.md §5
// (verify_open, issue, verify_show with x) plays against the client code. No server involved.
import { ristretto, sm2group, concat, u8, bytesEqual, hex } from './group.mjs';
import * as C from './credential.mjs';
import { selfTest as sm3SelfTest } from './sm3.mjs';

// Known-answer values computed by this client. The server accepted every proof built on them
// (opens, issues, shows on both groups), so they are the server's too. PROTOCOL.md §7 has none.
export const KAT = {
  ristretto255: {
    H0: '98f8048b913cef981bf87750113315e8409527487276186636f2e40878b34207',
    H1: 'c4c9add95cd5ea6cf0943ddc659a9ddcea7bebd8e58a7c630043e4a50746d166',
    H2: 'a0871a4484e927a37fd472bfee236fc7d5ded2ad7773a26cda307d7aff4bcd6a',
    H3: '00424dc4aa31d1a2a5598e3d2aeebcbbc5d180d8e22c6b3b2de03201453cc541',
    GJ: 'ccb8295c8330a9baa23d1b0ce391b632808e406c8b24b868fde1c0c988b49140',
    GB_A24: '88a50a6eb7522300e03c99a4421c5cf85ff9f3f121a7260f9fd72967cf67f770',
  },
  sm2: {
    H0: '0390015d1fe606582a56b3ee87a9d4f62a356d605bb5f4623838cbd41f9b973d35',
    H1: '0320c40051c81d206cc4b4e632de17654083623ef2bad0dc80ce2f68515d40017d',
    H2: '024d267fba4dc4ad4062a7954259e5c5566a4ad502d463a3d3eac161576e1e1c95',
    H3: '02b55610c2d7e275a0ea6a2c7b849d2d24cc250c28409941f8d5e4c539831d76d6',
    GJ: '03f0241b74a54553711e078260e30b56606135c9da27e02fcb210d4095446072d4',
    GB_A24: '0211af219ebf70526fbaca0a9c0f98f96246e3d80739c4f2fc013c3dfdadd84632',
  },
};

export function selfTest(G) {
  const gens = C.generators(G);
  const kat = KAT[G.name];
  for (const n of ['H0', 'H1', 'H2', 'H3', 'GJ'])
    if (hex(G.encodePoint(gens[n])) !== kat[n]) throw new Error(`${G.name} ${n} differs from the known answer`);
  if (hex(G.encodePoint(C.walletBase(G, 'A'.repeat(24)))) !== kat.GB_A24) throw new Error(`${G.name} G_B differs`);
  const x = G.randomNonzeroScalar();
  const W = G.mul(gens.B, x);
  const kid = C.kidOf(G, W);
  const pub = { kid, W };
  function issue(Cn) {
    const e = G.randomScalar();
    const rpp = G.randomScalar();
    const M = gens.B.add(Cn).add(G.mul(gens.H0, rpp));
    const A = G.mul(M, G.inv(x + e));
    const X = G.mul(A, x);
    const tr = new C.Transcript(G, 'anoncode/v1/issue');
    tr.append('kid', kid); tr.appendPoint('Cn', Cn); tr.appendScalar('e', e); tr.appendScalar("r''", rpp);
    const proof = C.prove(G, tr, C.ISSUE_ST, { W, B: gens.B, X, A }, { x });
    return concat(new Uint8Array([1, 0x21, G.id]), kid, G.encodePoint(A), G.encodeScalar(e), G.encodeScalar(rpp), proof);
  }
  const ctx = C.openContext('alice');
  const { request, pending, J } = C.beginOpen(G, gens, kid, ctx);
  if (request.length !== 3 + 8 + 32 + 2 * G.P + 160) throw new Error('open length');
  // verify_open
  const P = G.P;
  const Cn = G.decodePoint(request.subarray(43, 43 + P));
  const J2 = G.decodePoint(request.subarray(43 + P, 43 + 2 * P));
  const tr = new C.Transcript(G, 'anoncode/v1/open');
  tr.append('kid', kid); tr.append('ctx', ctx);
  if (!C.verifyProof(G, tr, C.OPEN_ST, { Cn, H0: gens.H0, H1: gens.H1, H2: gens.H2, H3: gens.H3, J: J2, GJ: gens.GJ }, request.subarray(43 + 2 * P)))
    throw new Error('open proof does not verify');
  let cred = C.finishIssue(G, gens, pending, issue(Cn), pub);
  // tampered response must fail
  const bad = issue(Cn); bad[bad.length - 1] ^= 1;
  let refused = false;
  try { C.finishIssue(G, gens, pending, bad, pub); } catch { refused = true; }
  if (!refused) throw new Error('tampered issue response accepted');
  // show with two scopes, verified as §5.5 with x
  for (const [op, scopes] of [[1, ['AAAA', 'BBBB']], [2, ['BBBB']], [4, ['BBBB']]]) {
    const nonce = new Uint8Array(32).fill(op);
    const sctx = C.showContext(op, 'BBBB', '', 5, new Uint8Array(0));
    const sh = C.show(G, gens, cred, pub, { op, nonce, ctx: sctx, scopes });
    if (sh.bytes.length !== 3 + 2 + 8 + 32 + 32 + 3 * P + 64 + P + scopes.length * P + 288) throw new Error('show length');
    // parse + verify
    const b = sh.bytes; let o = 3;
    const opb = b[o++]; const k = b[o++]; const kd = b.subarray(o, o += 8); const n = b.subarray(o, o += 32); const cx = b.subarray(o, o += 32);
    const Ap = G.decodePoint(b.subarray(o, o += P)); const Abar = G.decodePoint(b.subarray(o, o += P), true); const D = G.decodePoint(b.subarray(o, o += P), true);
    const s = G.decodeScalar(b.subarray(o, o += 32)); const R = G.decodeScalar(b.subarray(o, o += 32)); const Cn2 = G.decodePoint(b.subarray(o, o += P));
    const Ps = []; for (let i = 0; i < k; i++) Ps.push(G.decodePoint(b.subarray(o, o += P)));
    const proof = b.subarray(o);
    const Cc = G.hashToScalar('anoncode/v1/dschal', concat(n, u8(opb)));
    const t = new C.Transcript(G, 'anoncode/v1/show');
    t.append('op', u8(opb)); t.append('kid', kd); t.append('nonce', n); t.append('ctx', cx);
    t.appendPoint("A'", Ap); t.appendPoint('Abar', Abar); t.appendPoint('D', D); t.appendScalar('s', s); t.appendScalar('R', R); t.appendScalar('C', Cc);
    const pts = { 'Abar-D': Abar.subtract(D), "A'": Ap, H0: gens.H0, 'B+sH2+RH3': gens.B.add(G.mul(gens.H2, s)).add(G.mul(gens.H3, R)), D,
      'H1-CH3': gens.H1.subtract(G.mul(gens.H3, Cc)), Cn: Cn2, H1: gens.H1, H2: gens.H2, H3: gens.H3 };
    if (op === 4) { pts.J = J; pts.GJ = gens.GJ; }
    scopes.forEach((sc, i) => { pts['P' + i] = Ps[i]; pts['G' + i] = C.walletBase(G, sc); });
    if (!C.verifyProof(G, t, C.showStatement(op === 4, k), pts, proof)) throw new Error('show proof does not verify, op ' + op);
    if (!G.eq(Abar, G.mul(Ap, x))) throw new Error('MAC check fails');
    cred = C.finishIssue(G, gens, sh.pending, issue(Cn2), pub);
  }
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  sm3SelfTest();
  const only = process.argv[2];
  for (const G of [ristretto, sm2group].filter((g) => !only || g.name === only)) { const t = Date.now(); selfTest(G); console.log(`selftest ${G.name}: ok (${Date.now() - t} ms)`); }
}
