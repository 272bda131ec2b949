#!/usr/bin/env node
// Experiments behind the documentation gaps reported by the independent client: where the docs
// admit more than one reading, each plausible reading is tried against the live server and the
// answer printed. Not part of the pass/fail test; run by hand:
//   node probes.mjs --server URL --ca DIR/tls_ca.pem --trust-root DIR/trust_root --admin-token T
// Every probe that sends a deliberately wrong request uses one that the platform refuses before
// the show (no "response", nothing spent), so re-showing that credential is not a clone.

import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { sm3 } from './sm3.mjs';
import * as sm2 from './sm2.mjs';
import { concat, u8, varb, utf8, hex, b64u, unb64u } from './group.mjs';
import * as C from './credential.mjs';
import {
  configure, parseArgs, request, errText, loadTrustRoot, verifyKeyset, newWallet, base32, Rider,
  platformKeys, StepError,
} from './rider.mjs';

const o = parseArgs(process.argv.slice(2));
configure(o.server, fs.readFileSync(o.ca));
const A = { Authorization: `Bearer ${o['admin-token']}` };
const root = loadTrustRoot(o['trust-root']);
const ks = verifyKeyset((await request('GET', '/privacy/v1/keyset')).json, root, {});
const G = ks.G;
const channel = '020001';
const say = (id, text) => console.log(`${id}: ${text}`);

async function newRider(person) {
  const userId = `probe-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const ur = await request('POST', '/admin/v1/users', { user_id: userId, ...person }, A);
  if (ur.status !== 200) throw new Error('users: ' + errText(ur));
  await request('POST', '/admin/v1/whitelist/add', { user_id: userId }, A);
  const AT = { Authorization: `Bearer ${ur.json.app_token}` };
  const op = C.beginOpen(G, ks.gens, ks.issuing.kid, C.openContext(userId));
  const or = await request('POST', '/app/v1/open', { request: b64u(op.request) }, AT);
  if (or.status !== 200) throw new Error('open: ' + errText(or));
  const rider = new Rider(ks);
  rider.cred = C.finishIssue(G, ks.gens, op.pending, unb64u(or.json.response), ks.issuing);
  return { rider, userId, AT, person };
}
const uniquePerson = () => ({ name: '韩梅梅', id_number: `2201011990${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`, phone: '13900002222', card_no: '3104000000000002' });

async function tryOp(fn) {
  try {
    const r = await fn();
    return `${r.status}${r.json?.error ? ` ${r.json.error.code} "${r.json.error.message}"` : ''}${r.json?.response ? ' (with response)' : ''}`;
  } catch (e) {
    if (e instanceof StepError) return e.message;
    throw e;
  }
}

function firstRecharge(rider, w, { B = w.B, pubForCtx = w.pubBytes, amount = 100, mutate } = {}) {
  return rider.walletOp('recharge', '/platform/v1/recharge', {
    op: 1,
    ctx: C.showContext(1, B, '', amount, concat(varb(utf8('')), varb(utf8(channel)), u8(0), varb(pubForCtx))),
    scopes: [B],
    wallet: B,
    signer: null,
    fields: { amount, channel, strong: false, new_wallet_public_key: b64u(w.pubBytes), previous_wallet: '' },
    mutate,
  });
}
function code(rider, w, signFn) {
  return rider.walletOp('code', '/platform/v1/code', {
    op: 2,
    ctx: C.showContext(2, w.B, w.accountid, 0, new Uint8Array(0)),
    scopes: [w.B],
    wallet: w.B,
    signer: w,
    fields: {},
    signFn,
  });
}

// SM2 signature on a given e (to try the readings that differ only in what e is)
function signE(d, e) {
  const n = sm2.SM2.n;
  for (;;) {
    const k = (sm2.intBE(randomBytes(40)) % (n - 1n)) + 1n;
    const x1 = sm2.Sm2Point.BASE.multiply(k).toAffine().x;
    const r = (e + x1) % n;
    if (r === 0n || r + k === n) continue;
    const inv = modInv(1n + d, n);
    const s = (((inv * (k - r * d)) % n) + n) % n;
    if (s === 0n) continue;
    return concat(sm2.be32(r), sm2.be32(s));
  }
}
function modInv(a, m) {
  let [r0, r1, s0, s1] = [((a % m) + m) % m, m, 1n, 0n];
  while (r1) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

// ---------------------------------------------------------------- P1 the wallet name B
{
  const { rider } = await newRider(uniquePerson());
  const w = newWallet();
  const cx = w.pubBytes.slice(0, 33);
  cx[0] = 0x02 + (w.pubBytes[64] & 1);
  const variants = [
    ['lower-case base32', base32(sm3(w.pubBytes).subarray(0, 15)).toLowerCase()],
    ['SM3 of the 33-byte compressed key', base32(sm3(cx).subarray(0, 15))],
    ['SM3 of x‖y (64 bytes, no 04)', base32(sm3(w.pubBytes.subarray(1)).subarray(0, 15))],
    ['base32 with padding of 16 bytes', base32(sm3(w.pubBytes).subarray(0, 16))],
  ];
  for (const [label, B] of variants) say('P1 wallet name', `${label} (${B}) → ${await tryOp(() => firstRecharge(rider, w, { B }))}`);
  say('P1 wallet name', `RFC 4648 upper-case base32 of SM3(65-byte 04‖x‖y)[0..15) → ${await tryOp(() => firstRecharge(rider, w))}`);
}

// ---------------------------------------------------------------- P2 the wallet signature, P3 first recharge signature
{
  const { rider } = await newRider(uniquePerson());
  const w = newWallet();
  say('P3 first recharge', `wallet_signature "" → ${await tryOp(() => firstRecharge(rider, w, { mutate: (b) => (b.wallet_signature = '') }))}`);
  const w1 = newWallet();
  say('P3 first recharge', `wallet_signature = a valid signature by the new key → ${await tryOp(() =>
    firstRecharge(rider, w1, { mutate: (b) => (b.wallet_signature = b64u(sm2.sign(w1.d, w1.pub, sm3(unb64u(b.show))))) }))}`);
  const w1b = newWallet();
  say('P3 first recharge', `wallet_signature = 64 random bytes → ${await tryOp(() =>
    firstRecharge(rider, w1b, { mutate: (b) => (b.wallet_signature = b64u(randomBytes(64))) }))}`);
  const w2 = newWallet();
  const r = await firstRecharge(rider, w2);
  w2.accountid = r.json.accountid;
  const variants = [
    ['e = SM3(show) (no Z_A)', (s, show) => signE(s.d, sm2.intBE(sm3(show)))],
    ['M = show bytes, e = SM3(Z_A ‖ show)', (s, show) => sm2.sign(s.d, s.pub, show)],
    ['Z_A with an empty id', (s, show) => sm2.sign(s.d, s.pub, sm3(show), new Uint8Array(0))],
    ['DER instead of r‖s', (s, show) => {
      const sig = sm2.sign(s.d, s.pub, sm3(show));
      const int = (b) => { let i = 0; while (i < 31 && b[i] === 0) i++; let v = b.subarray(i); if (v[0] & 0x80) v = concat(u8(0), v); return concat(u8(2), u8(v.length), v); };
      const body = concat(int(sig.subarray(0, 32)), int(sig.subarray(32)));
      return concat(u8(0x30), u8(body.length), body);
    }],
  ];
  for (const [label, fn] of variants) say('P2 wallet signature', `${label} → ${await tryOp(() => code(rider, w2, fn))}`);
  say('P2 wallet signature', `M = SM3(show), e = SM3(Z_A("1234567812345678") ‖ M), r‖s → ${await tryOp(() => code(rider, w2))}`);
}

// ---------------------------------------------------------------- P4 the largest recharge amount (step 1, before the show)
{
  const w = newWallet();
  const body = (amount) => ({ show: 'AAAA', wallet: w.B, amount, channel, strong: false, new_wallet_public_key: b64u(w.pubBytes), previous_wallet: '' });
  const probe = async (amount) => request('POST', '/platform/v1/recharge', body(amount));
  const r0 = await probe(0);
  const r1 = await probe(1);
  say('P4 recharge amount', `amount 0 → ${errText(r0)}; amount 1 with a show that does not decode → ${errText(r1)}`);
  let lo = 1, hi = 2 ** 53 - 1;
  const isAmountError = async (a) => {
    const r = await probe(a);
    return r.status === 400 && r.json?.error?.code === 'invalid_argument' && /amount/i.test(r.json.error.message);
  };
  if (await isAmountError(hi)) {
    while (lo + 1 < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await isAmountError(mid)) hi = mid;
      else lo = mid;
    }
    say('P4 recharge amount', `largest accepted at step 1: ${lo} fen; ${hi} → ${errText(await probe(hi))}`);
  } else say('P4 recharge amount', `no amount limit found up to 2^53-1: ${errText(await probe(hi))}`);
}

// ---------------------------------------------------------------- P5 what the QR signature covers
{
  const { rider } = await newRider(uniquePerson());
  const w = newWallet();
  const r = await firstRecharge(rider, w, { amount: 200 });
  w.accountid = r.json.accountid;
  const c = await code(rider, w);
  const p = unb64u(c.json.payload);
  const pk = (await platformKeys()).find((k) => k.kid === hex(p.subarray(37, 45)));
  const readings = [
    ['bytes 0..60 inclusive (61 bytes), Z_A default id', sm2.verify(pk.P, p.subarray(0, 61), p.subarray(61))],
    ['bytes 0..59 (60 bytes)', sm2.verify(pk.P, p.subarray(0, 60), p.subarray(61))],
    ['SM3(bytes 0..60) as M', sm2.verify(pk.P, sm3(p.subarray(0, 61)), p.subarray(61))],
    ['Z_A with an empty id', sm2.verify(pk.P, p.subarray(0, 61), p.subarray(61), new Uint8Array(0))],
  ];
  for (const [label, ok] of readings) say('P5 QR signature', `${label}: ${ok ? 'verifies' : 'does not verify'}`);
  const dv = new DataView(p.buffer, p.byteOffset);
  say('P5 QR fields', `issued_at ${dv.getBigUint64(45)}, expires_at ${dv.getBigUint64(53)} (answer's expires_at ${c.json.expires_at}), sequence ${c.json.sequence}, answer's sequence type ${typeof c.json.sequence}`);
}

// ---------------------------------------------------------------- P6 two users with the same name and ID number
{
  const person = uniquePerson();
  const a = await newRider(person);
  const b = await newRider(person); // POST /admin/v1/users accepted the same name + ID number again
  say('P6 same person', `two users ${a.userId}, ${b.userId} registered with one name + ID number: accepted`);
  for (const [label, x] of [['first-registered', a], ['second-registered', b]]) {
    const w = newWallet();
    const r = await firstRecharge(x.rider, w, { amount: 300 });
    w.accountid = r.json.accountid;
    const out = await tryOp(() =>
      x.rider.walletOp('refund', '/platform/v1/refund', {
        op: 4,
        ctx: C.showContext(4, w.B, w.accountid, 100, concat(varb(utf8(person.name)), varb(utf8(person.id_number)), varb(utf8('6222000011110000')))),
        scopes: [w.B],
        wallet: w.B,
        signer: w,
        fields: { amount: 100, name: person.name, id_number: person.id_number, bank_account: '6222000011110000' },
      }),
    );
    say('P6 same person', `refund by the ${label} user → ${out}`);
  }
}

// ---------------------------------------------------------------- P7 /app/v1/close with another wallet still open
{
  const x = await newRider(uniquePerson());
  const w = newWallet();
  const r = await firstRecharge(x.rider, w, { amount: 300 });
  w.accountid = r.json.accountid;
  const c1 = await request('POST', '/app/v1/close', {}, x.AT);
  say('P7 app close', `POST /app/v1/close while wallet ${w.B} holds 300 fen → ${errText(c1)} ${JSON.stringify(c1.json)}`);
  say('P7 app close', `a code on that wallet afterwards → ${await tryOp(() => code(x.rider, w))}`);
  const op = C.beginOpen(G, ks.gens, ks.issuing.kid, C.openContext(x.userId));
  const or = await request('POST', '/app/v1/open', { request: b64u(op.request) }, x.AT);
  say('P7 app close', `a new open after the app close → ${errText(or)}`);
}

// ---------------------------------------------------------------- P8 the open context binds the user id
{
  const person = uniquePerson();
  const userId = `probe-${Date.now()}-ctx`;
  const ur = await request('POST', '/admin/v1/users', { user_id: userId, ...person }, A);
  await request('POST', '/admin/v1/whitelist/add', { user_id: userId }, A);
  const AT = { Authorization: `Bearer ${ur.json.app_token}` };
  const bad = C.beginOpen(G, ks.gens, ks.issuing.kid, C.openContext(userId + 'x'));
  say('P8 open ctx', `ctx over another user id → ${errText(await request('POST', '/app/v1/open', { request: b64u(bad.request) }, AT))}`);
  const raw = C.beginOpen(G, ks.gens, ks.issuing.kid, sm3(concat(utf8('anoncode/v1/open-ctx'), utf8(userId))));
  say('P8 open ctx', `ctx without var() around the user id → ${errText(await request('POST', '/app/v1/open', { request: b64u(raw.request) }, AT))}`);
  const good = C.beginOpen(G, ks.gens, ks.issuing.kid, C.openContext(userId));
  say('P8 open ctx', `SM3("anoncode/v1/open-ctx" ‖ var(user_id)) → ${errText(await request('POST', '/app/v1/open', { request: b64u(good.request) }, AT))}`);
}

// ---------------------------------------------------------------- P9 OPERATIONS "Keys": kid = SM3(W) or SM3(E(W))?
{
  const k = ks.body.keys[0];
  const enc = unb64u(k.public_key);
  say('P9 kid', `listed ${k.kid}; SM3(E(W))[0..8) = ${hex(sm3(enc.subarray(3)).subarray(0, 8))}; SM3(01 10 gid ‖ E(W))[0..8) = ${hex(sm3(enc).subarray(0, 8))}`);
}

// ---------------------------------------------------------------- P10 the payment channel simulator
{
  const { rider } = await newRider(uniquePerson());
  for (const [ch, amount] of [['010001', 1], ['010002', 99], ['020001', 100000000]]) {
    const w = newWallet();
    const out = await tryOp(() =>
      rider.walletOp('recharge', '/platform/v1/recharge', {
        op: 1,
        ctx: C.showContext(1, w.B, '', amount, concat(varb(utf8('')), varb(utf8(ch)), u8(0), varb(w.pubBytes))),
        scopes: [w.B],
        wallet: w.B,
        signer: null,
        fields: { amount, channel: ch, strong: false, new_wallet_public_key: b64u(w.pubBytes), previous_wallet: '' },
      }),
    );
    say('P10 channels', `channel ${ch}, ${amount} fen → ${out}`);
  }
  const w = newWallet();
  const bad = await request('POST', '/platform/v1/recharge', { show: 'AAAA', wallet: w.B, amount: 1, channel: '999999', strong: false, new_wallet_public_key: b64u(w.pubBytes), previous_wallet: '' });
  say('P10 channels', `channel 999999 → ${errText(bad)}`);
}

// ---------------------------------------------------------------- P11 a strong-mode recharge, P12 reserve and empty wallet
{
  const x = await newRider(uniquePerson());
  const w1 = newWallet();
  const r1 = await firstRecharge(x.rider, w1, { amount: 500 });
  w1.accountid = r1.json.accountid;
  const w2 = newWallet();
  const r2 = await x.rider.walletOp('recharge', '/platform/v1/recharge', {
    op: 1,
    ctx: C.showContext(1, w2.B, '', 100, concat(varb(utf8(w1.B)), varb(utf8(channel)), u8(1), varb(w2.pubBytes))),
    scopes: [w1.B, w2.B],
    wallet: w2.B,
    signer: w1,
    fields: { amount: 100, channel, strong: true, new_wallet_public_key: b64u(w2.pubBytes), previous_wallet: w1.B },
  });
  w2.accountid = r2.json.accountid;
  say('P11 strong', `strong recharge ${w1.B} (accountid ${w1.accountid}, 500) → ${w2.B}: ${r2.status}, accountid ${r2.json.accountid} (${r2.json.accountid === w1.accountid ? 'same' : 'new'}), balance ${r2.json.balance}`);
  const c = await code(x.rider, w2);
  say('P12 reserve', `code on ${w2.B} → ${c.status}`);
  const bank = '6222000011113333';
  const refund = (amt) =>
    x.rider.walletOp('refund', '/platform/v1/refund', {
      op: 4,
      ctx: C.showContext(4, w2.B, w2.accountid, amt, concat(varb(utf8(x.person.name)), varb(utf8(x.person.id_number)), varb(utf8(bank)))),
      scopes: [w2.B],
      wallet: w2.B,
      signer: w2,
      fields: { amount: amt, name: x.person.name, id_number: x.person.id_number, bank_account: bank },
    });
  say('P12 reserve', `refund 100 with one unscanned code → ${await tryOp(() => refund(100))}`);
}
{
  const x = await newRider(uniquePerson());
  const w = newWallet();
  const r = await firstRecharge(x.rider, w, { amount: 100 });
  w.accountid = r.json.accountid;
  const bank = '6222000011114444';
  const rf = await x.rider.walletOp('refund', '/platform/v1/refund', {
    op: 4,
    ctx: C.showContext(4, w.B, w.accountid, 100, concat(varb(utf8(x.person.name)), varb(utf8(x.person.id_number)), varb(utf8(bank)))),
    scopes: [w.B],
    wallet: w.B,
    signer: w,
    fields: { amount: 100, name: x.person.name, id_number: x.person.id_number, bank_account: bank },
  });
  say('P12 empty', `refund all → ${rf.status} balance ${rf.json.balance}; a code at balance 0 → ${await tryOp(() => code(x.rider, w))}`);
}

// ---------------------------------------------------------------- P13 backup / restore at the API level (blob opaque to the server)
{
  const x = await newRider({ ...uniquePerson(), phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` });
  const keyProof = randomBytes(32);
  const blob = randomBytes(100);
  const b = await request('POST', '/app/v1/backup', { phone: x.person.phone, blob: b64u(blob), verifier: b64u(sm3(keyProof)) }, x.AT);
  const wrong = await request('POST', '/app/v1/restore', { phone: x.person.phone, key_proof: b64u(randomBytes(32)) });
  const rs = await request('POST', '/app/v1/restore', { phone: x.person.phone, key_proof: b64u(keyProof) });
  const cf = await request('POST', '/app/v1/restore/confirm', { phone: x.person.phone, key_proof: b64u(keyProof) });
  const again = await request('POST', '/app/v1/restore', { phone: x.person.phone, key_proof: b64u(keyProof) });
  say('P13 backup', `backup → ${errText(b)}; wrong key → ${errText(wrong)}; right key → ${rs.status}, blob ${rs.json?.blob === b64u(blob) ? 'identical' : 'DIFFERENT'}; confirm → ${errText(cf)}; restore after confirm → ${errText(again)}`);
}

// ---------------------------------------------------------------- P14 a first recharge's wallet_signature is unchecked but in the ledger digest
{
  const { rider } = await newRider(uniquePerson());
  const w = newWallet();
  const nr = await request('POST', '/privacy/v1/nonce', {});
  const nonce = unb64u(nr.json.nonce);
  const ctx = C.showContext(1, w.B, '', 100, concat(varb(utf8('')), varb(utf8(channel)), u8(0), varb(w.pubBytes)));
  const sh = C.show(G, ks.gens, rider.cred, rider.pubFor(rider.cred.kid), { op: 1, nonce, ctx, scopes: [w.B] });
  const body = { show: b64u(sh.bytes), wallet: w.B, amount: 100, channel, strong: false, new_wallet_public_key: b64u(w.pubBytes), previous_wallet: '' };
  const copy = await request('POST', '/platform/v1/recharge', { ...body, wallet_signature: b64u(randomBytes(64)) });
  const own = await request('POST', '/platform/v1/recharge', body);
  say('P14 first-recharge copy', `a copy with 64 random bytes as wallet_signature, sent first → ${copy.status}${copy.json?.error ? ' ' + copy.json.error.code : ''}${copy.json?.response ? ' (with response, recharge executed)' : ''}; the rider's own request after it → ${errText(own)}${own.json?.response ? ' (with response)' : ' (no response: the SDK would resend it forever)'}`);
}
