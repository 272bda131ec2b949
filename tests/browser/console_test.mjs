// The admin console in a real browser (Debian's chromium, driven by playwright-core), against the
// real `anoncode serve` on 127.0.0.1 over HTTPS, with a real clone scenario made through the CLI.
// The browser trusts the operator CA as an operator's workstation would: the CA is added to the
// NSS database of a throwaway HOME (certutil), nothing is ignored; a browser without it refuses.
//   node tests/browser/console_test.mjs        (ANONCODE_BIN, ANONCODE_SCREENSHOTS from ctest)
// Each step saves a screenshot under ANONCODE_SCREENSHOTS.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const bin = process.env.ANONCODE_BIN;
const shots = process.env.ANONCODE_SCREENSHOTS || 'browser-screenshots';
if (!bin) throw new Error('ANONCODE_BIN is not set');
mkdirSync(shots, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'anoncode-browser-'));
const data = join(tmp, 'data');

let failed = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : ' — ' + detail}`);
  if (!ok) failed = 1;
}

function cli(args, env = {}) {
  const out = execFileSync(bin, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out);
}
function cliMayFail(args) {
  try {
    return cli(args);
  } catch (e) {
    return JSON.parse(e.stdout);
  }
}

// The server, on a free port; its URL from the "listening" log line.
const token = cli(['init', '--data', data]).admin_token;
process.env.ANONCODE_CA = join(data, 'tls_ca.pem');  // every CLI call below verifies the server
const server = spawn(bin, ['serve', '--data', data, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
const url = await new Promise((resolve, reject) => {
  const lines = createInterface({ input: server.stderr });
  lines.on('line', (line) => {
    try {
      const j = JSON.parse(line);
      if (j.event === 'listening') resolve(j.url);
    } catch (e) { /* not JSON */ }
  });
  server.on('exit', () => reject(new Error('the server exited')));
  setTimeout(() => reject(new Error('the server did not start')), 20000);
});
const admin = (...args) => cli(['admin', '--server', url, '--token', token, ...args]);
const wallet = (state, ...args) => cliMayFail(['wallet', '--server', url, '--state', join(tmp, state), '--trust-root', join(data, 'trust_root'), ...args]);

let browser;
try {
  // Console accounts, one per role.
  const passwords = { sec: 'sec-Pa55word!', op: 'op-Pa55word!', aud: 'aud-Pa55word!' };
  const roles = { sec: 'security_officer', op: 'operator', aud: 'auditor' };
  for (const [user, role] of Object.entries(roles)) {
    cli(['admin', '--server', url, '--token', token, 'account', 'add', '--username', user, '--role', role],
      { ANONCODE_ADMIN_PASSWORD: passwords[user] });
  }

  // A cheater: Mallory clones her wallet; the second copy's show is caught and traced.
  const mallory = admin('user', 'add', '--user-id', 'mallory', '--name', '钱多多', '--id-number', '110105198808088888',
    '--phone', '13900008888', '--card-no', '3104000000008888');
  admin('whitelist', 'add', 'mallory');
  admin('user', 'add', '--user-id', 'newrider', '--name', '新乘客', '--id-number', '110105199909099999',
    '--phone', '13900009999', '--card-no', '3104000000009999');
  wallet('m.json', 'open', '--user-id', 'mallory', '--app-token', mallory.app_token);
  wallet('m.json', 'recharge', '--amount', '1500');
  copyFileSync(join(tmp, 'm.json'), join(tmp, 'm-clone.json'));
  wallet('m.json', 'code');
  const caught = wallet('m-clone.json', 'code');
  check('setup: the clone is refused as sn_reused', caught.error && caught.error.code === 'sn_reused', JSON.stringify(caught));

  check('the server speaks https', url.startsWith('https://127.0.0.1:'), url);
  const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-quic',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  // A browser that was not given the operator CA refuses the server.
  {
    const home = join(tmp, 'home-untrusting');
    mkdirSync(home, { recursive: true });
    const untrusting = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs, env: { ...process.env, HOME: home } });
    const page = await (await untrusting.newContext()).newPage();
    let error = '';
    try {
      await page.goto(url + '/admin/');
    } catch (e) {
      error = String(e.message || e);
    }
    check('a browser without the operator CA refuses the certificate', /ERR_CERT_AUTHORITY_INVALID/.test(error), error.slice(0, 200));
    await untrusting.close();
  }
  const home = join(tmp, 'home');
  mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
  execFileSync('certutil', ['-N', '-d', 'sql:' + join(home, '.pki', 'nssdb'), '--empty-password']);
  execFileSync('certutil', ['-A', '-d', 'sql:' + join(home, '.pki', 'nssdb'), '-n', 'anoncode operator CA', '-t', 'C,,', '-i', join(data, 'tls_ca.pem')]);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, HOME: home },
    args: chromiumArgs,
  });

  async function login(user) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    await page.goto(url + '/admin/');
    await page.fill('#login-username', user);
    await page.fill('#login-password', passwords[user]);
    await page.click('#login-submit');
    await page.waitForSelector('#who-role', { state: 'visible' });
    return { context, page };
  }
  const shot = (page, name) => page.screenshot({ path: join(shots, name + '.png'), fullPage: true });

  // Nothing without a session.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url + '/admin/');
    await page.waitForSelector('#login-form', { state: 'visible' });
    const status = await page.evaluate(async () => (await fetch('/admin/v1/violations')).status);
    check('without a session the API answers 401', status === 401, String(status));
    await page.fill('#login-username', 'sec');
    await page.fill('#login-password', 'wrong password');
    await page.click('#login-submit');
    await page.waitForSelector('#banner:not([hidden])');
    const text = await page.textContent('#banner');
    check('a wrong password is refused as unauthorized', /unauthorized/.test(text), text);
    await shot(page, '01-login-refused');
    await context.close();
  }

  // The security officer sees the wallet traced, opens its transactions, reveals the identity.
  {
    const { context, page } = await login('sec');
    check('the security officer is logged in', (await page.textContent('#who-role')) === 'security_officer');
    await page.waitForSelector('#dash-violations');
    const violations = await page.textContent('#dash-violations .value');
    check('the dashboard counts the violation', violations === '1', violations);
    await shot(page, '02-dashboard');
    await page.goto(url + '/admin/#violations');
    await page.waitForSelector('#violations-table tbody tr');
    const listed = await page.textContent('#violations-table tbody');
    check('the clone\'s evidence is verified with the published keys', listed.includes('evidence verified'), listed);
    await page.click('button[data-trace="mallory"]');
    await page.waitForSelector('#trace-transactions table');
    const txns = await page.$$eval('#trace-transactions tbody tr', (rows) => rows.length);
    check('the traced wallet and its transactions are shown', txns >= 1, String(txns));
    const wallets = await page.textContent('#trace-wallets');
    check('the traced wallet record names mallory', /mallory/.test(wallets), wallets);
    await shot(page, '03-trace');
    await page.click('#reveal-identity');
    await page.waitForSelector('#trace-identity dl');
    const identity = await page.textContent('#trace-identity');
    check('the security officer reveals the opening information', identity.includes('钱多多'), identity);
    await shot(page, '04-identity-revealed');
    // The same wallet found by its accountid in the search page.
    const accountid = await page.$eval('#violations-table tbody td', (td) => td.textContent);
    await page.goto(url + '/admin/#search');
    await page.fill('#search-q', accountid);
    await page.click('#page form button');
    await page.waitForSelector('#search-results dl');
    const found = await page.textContent('#search-results');
    check('search by accountid finds the wallet and its recharge', found.includes(accountid) && found.includes('1500'), found.slice(0, 200));
    await shot(page, '05-search');
    // A rider lost the phone without a backup: the security officer retires the identity (audited).
    await page.goto(url + '/admin/#riders');
    await page.fill('#retire-user', 'mallory');
    await page.fill('#retire-reason', 'phone lost, no backup (ticket 42)');
    await page.click('#retire-submit');
    await page.waitForSelector('#retire-result dl');
    const retired = await page.textContent('#retire-result');
    check('the security officer retires an identity', /retired/.test(retired), retired);
    await shot(page, '05b-identity-retired');
    await context.close();
  }

  // The operator whitelists a user and runs the refill job.
  {
    const { context, page } = await login('op');
    await page.goto(url + '/admin/#whitelist');
    await page.fill('#whitelist-ids', 'newrider');
    await page.click('#whitelist-add');
    await page.waitForFunction(() => document.querySelector('#whitelist-users')?.textContent.includes('newrider'));
    check('the operator whitelisted newrider', true);
    await shot(page, '06-whitelist');
    const listed = admin('whitelist', 'list');
    check('the server lists newrider', listed.whitelist.users.includes('newrider'), JSON.stringify(listed));
    await page.goto(url + '/admin/#refill');
    await page.click('#refill-run');
    await page.waitForFunction(() => /refill job: moved/.test(document.querySelector('#banner')?.textContent || ''));
    check('the operator ran the refill job', true);
    await shot(page, '07-refill-run');
    await context.close();
  }

  // The auditor reads but cannot decrypt personal data, not even by calling the API directly.
  {
    const { context, page } = await login('aud');
    await page.goto(url + '/admin/#violations');
    await page.click('button[data-trace="mallory"]');
    await page.waitForSelector('#trace-transactions');
    check('the auditor has no reveal button', (await page.$('#reveal-identity')) === null);
    const answer = await page.evaluate(async () => {
      const res = await fetch('/admin/v1/trace/identity', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.session.csrf_token },
        body: JSON.stringify({ user_id: 'mallory' }),
      });
      return { status: res.status, body: await res.json() };
    });
    check('the auditor cannot decrypt (403 forbidden)', answer.status === 403 && answer.body.error.code === 'forbidden', JSON.stringify(answer));
    await page.goto(url + '/admin/#whitelist');
    await page.waitForSelector('#whitelist-users');
    check('the auditor cannot change the whitelist', (await page.$('#whitelist-add')) === null);
    await page.goto(url + '/admin/#riders');
    await page.waitForSelector('#page h2');
    check('the auditor cannot retire an identity', (await page.$('#retire-submit')) === null);
    await shot(page, '09-auditor');
    // The audit log: the decryption and the refused attempt are on record, and the chain holds.
    await page.goto(url + '/admin/#audit');
    await page.waitForSelector('#page table');
    const log = await page.textContent('#page table');
    check('the audit log records the decryption and the refused attempt', log.includes('identity.decrypt') && log.includes('access.denied'), log.slice(0, 300));
    check('the audit log records the retired identity', log.includes('identity.retire'), log.slice(0, 300));
    await page.click('text=Verify the hash chain');
    await page.waitForSelector('#audit-verify dl');
    const verified = await page.textContent('#audit-verify');
    check('the audit chain verifies', /ok\s*true/.test(verified), verified);
    await shot(page, '10-audit-log');
    await context.close();
  }
} catch (e) {
  check('the browser test ran to the end', false, e.stack || String(e));
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
console.log(failed ? 'browser tests FAILED' : 'browser tests passed');
process.exit(failed);
