#!/usr/bin/env node
// anoncode independent rider client — a clean-room interoperability test.
//
// Written only from docs/PROTOCOL.md, docs/API.md, docs/OPERATIONS.md and README.md, plus the
// public standards (RFC 9496, GB/T 32918, GB/T 32905). It drives a live server through the
// rider's flows on the ristretto255 group (or on sm2 with --expect-group sm2): signed key set →
// register (operator) → open → recharge (new wallet B1) → code → history → recharge B1 → B2 →
// code → ride history → a refused code on the superseded B1 → recharge B3 → refund → close.
// Every wallet operation shows the current credential once and continues with the next one.
// Each step prints one line; any failure exits non-zero with "FAILED at <step>: <reason>".
//
// Usage:
//   node client.mjs --server https://127.0.0.1:PORT --ca DIR/tls_ca.pem --trust-root DIR/trust_root
//                   --admin-token TOKEN [--user-id U] [--id-number N] [--expect-group ristretto255|sm2]
//                   [--keyset-only]
// --trust-root takes the file or its text. --admin-token is only used for the operator's part
// (registering and whitelisting the rider, API.md "Admin"); every rider call is anonymous or
// carries the app token.

import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { sm3, hmacSm3, selfTest as sm3SelfTest } from './sm3.mjs';
import { concat, u8, u64, varb, utf8, hex, b64u, unb64u } from './group.mjs';
import * as C from './credential.mjs';
import {
  configure, parseArgs, usage, step, fail, request, errText, loadTrustRoot, verifyKeyset,
  newWallet, Rider, checkQr, platformKeys, t0,
} from './rider.mjs';

// ------------------------------------------------------------------ main

/** The fields API.md documents for a history record; a missing one fails the step. */
const RECORD_FIELDS = {
  recharge: ['txn_id', 'transaction_type', 'kind', 'amount', 'at', 'wallet', 'channel', 'order_id', 'state'],
  ride: ['txn_id', 'sequence', 'terminal', 'merchant', 'counter', 'wallet', 'amount', 'scanned_at', 'settled_at', 'copy_risk'],
};
function checkRecords(stepName, type, json) {
  for (const f of ['wallet', 'accountid', 'balance', 'records']) if (!(f in json)) fail(stepName, `history answer has no "${f}"`);
  for (const rec of json.records) {
    const missing = RECORD_FIELDS[type].filter((f) => !(f in rec));
    if (missing.length) fail(stepName, `a ${type} record lacks the documented field(s) ${missing.join(', ')}: ${JSON.stringify(rec)}`);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const base = o.server || process.env.ANONCODE_SERVER;
  if (!base) throw usage('--server URL is required');
  const caFile = o.ca || process.env.ANONCODE_CA;
  if (base.startsWith('https:') && !caFile) throw usage('--ca FILE (the operator CA, tls_ca.pem) is required for https');
  configure(base, caFile ? fs.readFileSync(caFile) : null);
  const expectGroup = o['expect-group'] || 'ristretto255';

  sm3SelfTest();
  step('sm3', 'GB/T 32905 examples ok ("abc" → 66c7f0f4…, "abcd"×16 → debe9ff9…)');

  // 1. the signed issuer key set
  const root = loadTrustRoot(o['trust-root'] || process.env.ANONCODE_TRUST_ROOT);
  const kr = await request('GET', '/privacy/v1/keyset');
  if (kr.status !== 200) fail('keyset', 'GET /privacy/v1/keyset: ' + errText(kr));
  const ks = verifyKeyset(kr.json, root, { expectGroup });
  step(
    'keyset',
    `signed by the trust root; sequence ${ks.body.sequence}, group ${ks.body.group}, issuing kid ${ks.body.issuing_kid} = SM3(E(W))[0..8), ${ks.keys.size} key(s)`,
  );
  if (o.keysetOnly) return;

  // 2. the operator registers and whitelists the rider (API.md "Admin", "Services")
  const admin = o['admin-token'] || process.env.ANONCODE_ADMIN_TOKEN;
  if (!admin) throw usage('--admin-token is required to register the rider');
  const A = { Authorization: `Bearer ${admin}` };
  const userId = o['user-id'] || `ic-${Date.now()}-${randomBytes(3).toString('hex')}`;
  // a unique ID number per run: the platform resolves a refund's name + ID number to one user
  const idNumber = o['id-number'] || `1101051990${String(Date.now() % 1e8).padStart(8, '0')}`;
  const person = { name: '李雷', id_number: idNumber, phone: '13900001111', card_no: '3104000000000001' };
  const ur = await request('POST', '/admin/v1/users', { user_id: userId, ...person }, A);
  if (ur.status !== 200 || !ur.json?.app_token) fail('register', 'POST /admin/v1/users: ' + errText(ur));
  const appToken = ur.json.app_token;
  const wr = await request('POST', '/admin/v1/whitelist/add', { user_id: userId }, A);
  if (wr.status !== 200 || !wr.json?.whitelist?.users?.includes(userId)) fail('register', 'POST /admin/v1/whitelist/add: ' + errText(wr));
  step('register', `operator registered user ${userId} and whitelisted it (app token received)`);

  // 3. open (§5.1, §5.2, §9.6; API.md /app/v1/open)
  const rider = new Rider(ks);
  const G = ks.G;
  const openCtx = C.openContext(userId);
  const op = C.beginOpen(G, ks.gens, ks.issuing.kid, openCtx);
  const AT = { Authorization: `Bearer ${appToken}` };
  const or = await request('POST', '/app/v1/open', { request: b64u(op.request) }, AT);
  if (or.status !== 200 || typeof or.json?.response !== 'string') fail('open', 'POST /app/v1/open: ' + errText(or));
  try {
    rider.cred = C.finishIssue(G, ks.gens, op.pending, unb64u(or.json.response), ks.issuing);
  } catch (e) {
    fail('open', 'issuer_misbehaved: ' + e.message);
  }
  const personDigest = hex(sm3(concat(utf8('anoncode/v1/person'), varb(utf8(person.name)), varb(utf8(person.id_number)))));
  if (or.json.person !== personDigest) fail('open', `person ${or.json.person} ≠ SM3("anoncode/v1/person" ‖ var(name) ‖ var(id_number)) = ${personDigest}`);
  step('open', `opened: ${op.request.length}-byte OpenRequest accepted, issuer DLEQ verified against our Cn and W, person digest matches`);
  // the identical request again gets the identical response; another is already_opened (§9.6)
  const or2 = await request('POST', '/app/v1/open', { request: b64u(op.request) }, AT);
  if (or2.status !== 200 || or2.json?.response !== or.json.response) fail('open', 'identical open retry did not get the identical response: ' + errText(or2));
  const op3 = C.beginOpen(G, ks.gens, ks.issuing.kid, openCtx);
  const or3 = await request('POST', '/app/v1/open', { request: b64u(op3.request) }, AT);
  if (or3.status !== 409 || or3.json?.error?.code !== 'already_opened') fail('open', 'a second chain was not refused as already_opened: ' + errText(or3));
  step('open-once', 'identical open retried → identical response; a fresh open → 409 already_opened');

  // 4. first recharge: a new wallet B1 (op 1, scopes [B1], no wallet signature)
  const channel = '020001';
  const w1 = newWallet();
  const amount1 = 1000;
  const rc1 = await rider.walletOp('recharge', '/platform/v1/recharge', {
    op: 1,
    ctx: C.showContext(1, w1.B, '', amount1, concat(varb(utf8('')), varb(utf8(channel)), u8(0), varb(w1.pubBytes))),
    scopes: [w1.B],
    wallet: w1.B,
    signer: null,
    fields: { amount: amount1, channel, strong: false, new_wallet_public_key: b64u(w1.pubBytes), previous_wallet: '' },
  });
  if (rc1.status !== 200) fail('recharge', 'POST /platform/v1/recharge: ' + errText(rc1));
  if (rc1.json.wallet !== w1.B) fail('recharge', `server wallet ${rc1.json.wallet} ≠ our B ${w1.B}`);
  if (rc1.json.balance !== amount1) fail('recharge', `balance ${rc1.json.balance} ≠ ${amount1}`);
  if (!/^[0-9]{19}$/.test(rc1.json.accountid)) fail('recharge', 'accountid is not 19 digits');
  w1.accountid = rc1.json.accountid;
  step('recharge', `new wallet ${w1.B} (accountid ${w1.accountid}) credited ${amount1} fen via channel ${channel}, order ${rc1.json.order_id}; next credential verified`);

  // 5. request a code on B1 (op 2, scopes [B1])
  const pk = await platformKeys();
  const codeOp = (w) =>
    rider.walletOp('code', '/platform/v1/code', {
      op: 2,
      ctx: C.showContext(2, w.B, w.accountid, 0, new Uint8Array(0)),
      scopes: [w.B],
      wallet: w.B,
      signer: w,
      fields: {},
    });
  const cd1 = await codeOp(w1);
  if (cd1.status !== 200) fail('code', 'POST /platform/v1/code: ' + errText(cd1));
  const q1 = checkQr(cd1.json.payload, pk, cd1.json);
  if (cd1.json.accountid !== w1.accountid) fail('code', 'accountid differs');
  step('code', `QR ${q1.seq} for accountid ${q1.acct}: 125 bytes, SM2 signature by platform key ${q1.kid} verified, valid ${q1.validity / 1000} s`);

  // the ledger: the identical request again gets the identical answer (API.md "Replays")
  const rep = await request('POST', '/platform/v1/code', cd1.body);
  if (rep.status !== 200 || rep.json?.payload !== cd1.json.payload || rep.json?.response !== cd1.json.response)
    fail('code-replay', 'a resent code request did not get the recorded answer: ' + errText(rep));
  step('code-replay', 'the identical request resent → the same QR payload and the same next credential (request ledger)');

  // 6. history (op 3, extra "recharge")
  const histOp = (w, type) =>
    rider.walletOp('history', '/platform/v1/history', {
      op: 3,
      ctx: C.showContext(3, w.B, w.accountid, 0, utf8(type)),
      scopes: [w.B],
      wallet: w.B,
      signer: w,
      fields: { type },
    });
  const h1 = await histOp(w1, 'recharge');
  if (h1.status !== 200 || !Array.isArray(h1.json.records)) fail('history', 'POST /platform/v1/history: ' + errText(h1));
  checkRecords('history', 'recharge', h1.json);
  const rec = h1.json.records.find((x) => x.order_id === rc1.json.order_id);
  if (!rec || rec.amount !== amount1 || rec.kind !== 'recharge' || rec.wallet !== w1.B)
    fail('history', 'the recharge is not in the history: ' + JSON.stringify(h1.json.records));
  step('history', `${h1.json.records.length} recharge record(s), balance ${h1.json.balance}; our order ${rec.order_id} (${rec.amount} fen, type ${rec.transaction_type}) listed`);

  // 7. the chain continues: a second recharge moves B1 into a new wallet B2 (op 1, scopes [B1, B2],
  //    signed by B1's key)
  const w2 = newWallet();
  const amount2 = 500;
  const rc2 = await rider.walletOp('recharge-2', '/platform/v1/recharge', {
    op: 1,
    ctx: C.showContext(1, w2.B, '', amount2, concat(varb(utf8(w1.B)), varb(utf8(channel)), u8(0), varb(w2.pubBytes))),
    scopes: [w1.B, w2.B],
    wallet: w2.B,
    signer: w1,
    fields: { amount: amount2, channel, strong: false, new_wallet_public_key: b64u(w2.pubBytes), previous_wallet: w1.B },
  });
  if (rc2.status !== 200) fail('recharge-2', 'POST /platform/v1/recharge: ' + errText(rc2));
  if (rc2.json.wallet !== w2.B || rc2.json.balance !== amount1 + amount2 || rc2.json.accountid !== w1.accountid)
    fail('recharge-2', 'unexpected answer: ' + JSON.stringify({ ...rc2.json, response: undefined }));
  w2.accountid = rc2.json.accountid;
  step('recharge-2', `wallet ${w1.B} → ${w2.B}, +${amount2} fen, balance ${rc2.json.balance}, same accountid; two pseudonyms proven, signed by B1's key`);

  // 8. a code and the ride history from B2, with the next credentials
  const cd2 = await codeOp(w2);
  if (cd2.status !== 200) fail('code-2', 'POST /platform/v1/code: ' + errText(cd2));
  const q2 = checkQr(cd2.json.payload, pk, cd2.json);
  step('code-2', `QR ${q2.seq} from wallet ${w2.B} verified`);
  // a bus terminal takes the code offline and uploads the ride (the operator registers it; the
  // batch is MACed with HMAC-SM3 under the terminal key, API.md "POS front")
  const terminal = `T${randomBytes(4).toString('hex')}`;
  const merchant = 'M100';
  const tr = await request('POST', '/admin/v1/terminals', { terminal, merchant }, A);
  if (tr.status !== 200 || typeof tr.json?.terminal_key !== 'string') fail('ride', 'POST /admin/v1/terminals: ' + errText(tr));
  const tkey = unb64u(tr.json.terminal_key);
  const fare = 200;
  const scannedAt = Date.now();
  const payloadBytes = unb64u(cd2.json.payload);
  const mac = hmacSm3(tkey, concat(utf8('anoncode/v1/ride'), varb(utf8(terminal)), varb(utf8(merchant)), u64(1), varb(payloadBytes), u64(fare), u64(scannedAt)));
  const up = await request('POST', '/posfront/v1/batches', {
    terminal,
    merchant,
    rides: [{ counter: 1, payload: cd2.json.payload, amount: fare, scanned_at: scannedAt, mac: b64u(mac) }],
  });
  if (up.status !== 200 || up.json?.uploaded !== 1) fail('ride', 'POST /posfront/v1/batches: ' + errText(up) + ' ' + JSON.stringify(up.json));
  step('ride', `terminal ${terminal} uploaded the QR ${q2.seq} as a ${fare}-fen ride (HMAC-SM3 batch MAC accepted)`);
  const h2 = await histOp(w2, 'ride');
  if (h2.status !== 200 || !Array.isArray(h2.json.records)) fail('history-2', 'POST /platform/v1/history: ' + errText(h2));
  checkRecords('history-2', 'ride', h2.json);
  const ride = h2.json.records.find((x) => x.sequence === q2.seq);
  if (!ride || ride.amount !== fare || ride.terminal !== terminal || ride.counter !== 1 || ride.copy_risk !== false)
    fail('history-2', 'the uploaded ride is not in the ride history: ' + JSON.stringify(h2.json.records));
  if (h2.json.balance !== amount1 + amount2 - fare) fail('history-2', `balance ${h2.json.balance} ≠ ${amount1 + amount2 - fare}`);
  step('history-2', `ride history of ${w2.B}: ${h2.json.records.length} ride(s), ours (${ride.amount} fen at ${ride.terminal}) listed; balance ${h2.json.balance}`);

  // 9. the old wallet is superseded: a code on B1 is refused after the show, with a next credential
  const cd3 = await codeOp(w1);
  if (cd3.status !== 409 || cd3.json?.error?.code !== 'conflict') fail('superseded', 'a code on the superseded wallet was not 409 conflict: ' + errText(cd3));
  step('superseded', `a code on the superseded ${w1.B} → ${errText(cd3)}, with a next credential that verified (refusal after the show)`);

  // 10. refund and close (op 4 with relation (4) J_U = sk·G_J, then op 5) on a wallet of its own:
  //     a second first recharge opens a new accountid that has never had a code, so no reserve.
  const w3 = newWallet();
  const amount3 = 700;
  const rc3 = await rider.walletOp('recharge-3', '/platform/v1/recharge', {
    op: 1,
    ctx: C.showContext(1, w3.B, '', amount3, concat(varb(utf8('')), varb(utf8(channel)), u8(0), varb(w3.pubBytes))),
    scopes: [w3.B],
    wallet: w3.B,
    signer: null,
    fields: { amount: amount3, channel, strong: false, new_wallet_public_key: b64u(w3.pubBytes), previous_wallet: '' },
  });
  if (rc3.status !== 200 || rc3.json.accountid === w1.accountid) fail('recharge-3', 'unexpected answer: ' + errText(rc3));
  w3.accountid = rc3.json.accountid;
  const bank = '6222000011112222';
  // §9.4 rule 6: check the person locally before a refund show
  const mine = hex(sm3(concat(utf8('anoncode/v1/person'), varb(utf8(person.name)), varb(utf8(person.id_number)))));
  if (mine !== or.json.person) fail('refund', 'the refund person does not match the opened person; nothing sent');
  const refundOp = (w, amt) =>
    rider.walletOp('refund', '/platform/v1/refund', {
      op: 4,
      ctx: C.showContext(4, w.B, w.accountid, amt, concat(varb(utf8(person.name)), varb(utf8(person.id_number)), varb(utf8(bank)))),
      scopes: [w.B],
      wallet: w.B,
      signer: w,
      fields: { amount: amt, name: person.name, id_number: person.id_number, bank_account: bank },
    });
  const rf1 = await refundOp(w3, 300);
  if (rf1.status !== 200 || rf1.json.refunded !== 300 || rf1.json.balance !== amount3 - 300) fail('refund', 'POST /platform/v1/refund: ' + errText(rf1));
  const rf2 = await refundOp(w3, amount3 - 300);
  if (rf2.status !== 200 || rf2.json.balance !== 0) fail('refund', 'second refund: ' + errText(rf2));
  step('refund', `new accountid ${w3.accountid} (+${amount3}); refunded 300 then ${amount3 - 300} fen proving J_U (show+identity+pseudonyms1), balance 0`);
  const cl = await rider.walletOp('close', '/platform/v1/close', {
    op: 5,
    ctx: C.showContext(5, w3.B, w3.accountid, 0, new Uint8Array(0)),
    scopes: [w3.B],
    wallet: w3.B,
    signer: w3,
    fields: {},
  });
  if (cl.status !== 200 || cl.json.status !== 'closed') fail('close', 'POST /platform/v1/close: ' + errText(cl));
  step('close', `wallet ${w3.B} closed at balance 0`);
  // history is still answered on a closed wallet (API.md: only "all but history" refuse a closed one)
  const h3 = await histOp(w3, 'recharge');
  if (h3.status !== 200) fail('history-3', 'POST /platform/v1/history on the closed wallet: ' + errText(h3));
  checkRecords('history-3', 'recharge', h3.json);
  const kinds = h3.json.records.map((x) => `${x.kind}/${x.transaction_type}/${x.amount}`);
  for (const want of [`recharge/01/${amount3}`, 'refund/04/300', `refund/04/${amount3 - 300}`, 'close/05/0'])
    if (!kinds.includes(want)) fail('history-3', `no ${want} record: ${kinds.join(', ')}`);
  step('history-3', `closed wallet's history, newest first: ${kinds.join(', ')}`);

  const distinct = new Set(rider.serials).size;
  if (distinct !== rider.serials.length) fail('chain', 'a serial was shown twice');
  step('chain', `${rider.serials.length} shows, ${distinct} distinct serials, one credential chain (same sk) — done in ${Date.now() - t0} ms`);
}

main().catch((e) => {
  const stepName = e.step || 'error';
  console.error(`FAILED at ${stepName}: ${e.message}`);
  if (e.extra) console.error(JSON.stringify(e.extra));
  if (!e.step) console.error(e.stack);
  process.exit(e.exit || 1);
});
