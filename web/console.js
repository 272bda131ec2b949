// The anoncode admin console (后管页面): one page, hash-routed, calling the /admin/v1 API with the
// administrator's session cookie (HttpOnly, SameSite=Strict) and the session's CSRF token on every
// change. Everything is rendered with textContent: no server value is ever parsed as HTML.
'use strict';

const state = { session: null };

// Who may do what (the server enforces it; the page only hides what would be refused).
const can = {
  changeWhitelist: (role) => role === 'operator',
  runRefill: (role) => role === 'operator',
  revealIdentity: (role) => role === 'security_officer',
  retireIdentity: (role) => role === 'security_officer',
  readAudit: (role) => role === 'auditor' || role === 'security_officer',
};

// --- DOM helpers ---

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'onclick' || key === 'onsubmit') node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function isTime(key, value) {
  return typeof value === 'number' && value > 1e12 && /(^at|_at|date|_from|_until|^now|_start)$/.test(key);
}

function show(key, value) {
  if (value === null || value === undefined) return '—';
  if (isTime(key, value)) return new Date(value).toISOString().replace('T', ' ').replace('.000Z', 'Z');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// Any JSON value as DOM: arrays of objects as tables, objects as definition lists.
function render(value, key = '') {
  if (Array.isArray(value)) {
    if (value.length === 0) return el('p', { class: 'empty', text: 'none' });
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) return table(value);
    return el('ul', {}, ...value.map((v) => el('li', { text: show(key, v) })));
  }
  if (value && typeof value === 'object') {
    const dl = el('dl');
    for (const [k, v] of Object.entries(value)) {
      dl.append(el('dt', { text: k }));
      dl.append(el('dd', {}, v && typeof v === 'object' ? render(v, k) : show(k, v)));
    }
    return dl;
  }
  return el('span', { text: show(key, value) });
}

function table(rows, extra) {
  const columns = [];
  for (const row of rows) for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
  const head = el('tr', {}, ...columns.map((c) => el('th', { text: c })), extra ? el('th', { text: '' }) : null);
  const body = rows.map((row) => {
    const tr = el('tr', {}, ...columns.map((c) =>
      el('td', { class: typeof row[c] === 'number' && !isTime(c, row[c]) ? 'num' : '' }, show(c, row[c]))));
    if (extra) tr.append(el('td', {}, extra(row)));
    return tr;
  });
  return el('table', {}, el('thead', {}, head), el('tbody', {}, ...body));
}

function banner(kind, text) {
  const b = document.getElementById('banner');
  b.className = kind;
  b.textContent = text;
  b.hidden = !text;
}

// --- the API ---

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (state.session) headers['X-CSRF-Token'] = state.session.csrf_token;
  }
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: method === 'GET' ? undefined : JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await res.json(); } catch (e) { data = {}; }
  if (!res.ok) {
    const err = data.error || {};
    if (res.status === 401 && path !== '/admin/v1/session/login') {
      state.session = null;
      showLogin();
    }
    throw new ApiError(res.status, err.code || 'internal', err.message || res.statusText);
  }
  return data;
}

// Runs an action; its error goes to the banner as "code: message".
async function attempt(action) {
  try {
    banner('', '');
    return await action();
  } catch (e) {
    banner('error', e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    return undefined;
  }
}

// --- pages ---

const pages = {
  async dashboard(page) {
    const d = await api('GET', '/admin/v1/dashboard');
    const yuan = (fen) => (fen / 100).toFixed(2) + ' yuan';
    const card = (id, value, label) => el('div', { class: 'card', id },
      el('div', { class: 'value', text: value }), el('div', { class: 'label', text: label }));
    const sum = (x) => x || { count: 0, amount: 0 };
    page.append(el('h2', { text: 'Today (UTC, since ' + show('day_start', d.day_start) + ')' }),
      el('div', { class: 'cards' },
        card('dash-recharges', yuan(sum(d.recharges).amount), `${sum(d.recharges).count} recharges`),
        card('dash-rides', yuan(sum(d.rides).amount), `${sum(d.rides).count} rides settled`),
        card('dash-refunds', yuan(sum(d.refunds).amount), `${sum(d.refunds).count} refunds`),
        card('dash-violations', String(d.open_violations ?? 0), 'violations on record'),
        card('dash-copies', String(d.copy_risks ?? 0), 'copied codes today')),
      el('h2', { text: 'POS terminals' }),
      el('div', { id: 'dash-terminals' }, render(d.terminals || [])));
  },

  async violations(page) {
    const v = await api('GET', '/admin/v1/violations');
    page.append(el('h2', { text: 'Violations (违规追踪)' }),
      el('p', { class: 'hint', text: 'Wallets caught by the cryptography: a clone (a serial shown twice, traced to its owner) or a copied code (a copy risk).' }));
    // DESIGN §3.6 rule 7: the server checked each clone's evidence with the published issuer keys.
    const marks = { verified: 'evidence verified', absent: 'no evidence', invalid: 'evidence INVALID' };
    const rows = (v.violations || []).map((row) => ({ ...row, evidence: marks[row.evidence] || 'no evidence' }));
    const traceBox = el('div', { id: 'trace' });
    page.append(el('div', { id: 'violations-table' }, table(rows, (row) => row.user_id
      ? el('button', { class: 'secondary', 'data-trace': row.user_id, text: 'Trace', onclick: () => attempt(() => trace(traceBox, row.user_id)) })
      : el('span', { class: 'empty', text: 'no user' }))), traceBox);
  },

  async search(page) {
    const results = el('div', { id: 'search-results' });
    const input = el('input', { id: 'search-q', name: 'q', placeholder: 'accountid, wallet B or nm… sequence', size: '40' });
    page.append(el('h2', { text: 'Wallet and transaction search' }),
      el('form', { onsubmit: (e) => { e.preventDefault(); attempt(async () => {
        results.replaceChildren(render(await api('GET', '/admin/v1/search?q=' + encodeURIComponent(input.value.trim()))));
      }); } }, input, el('button', { type: 'submit', text: 'Search' })), results);
  },

  async whitelist(page) {
    const w = (await api('GET', '/admin/v1/whitelist')).whitelist || {};
    page.append(el('h2', { text: 'Whitelist (白名单)' }),
      el('p', { id: 'whitelist-all', text: w.all ? 'Everyone sees the anonymous code.' : 'Only the users listed see the anonymous code.' }),
      el('div', { id: 'whitelist-users' }, w.users && w.users.length
        ? el('ul', {}, ...w.users.map((u) => el('li', { text: u })))
        : el('p', { class: 'empty', text: 'no user listed' })));
    if (!can.changeWhitelist(state.session.role)) {
      page.append(el('p', { class: 'hint', text: 'Only an operator can change the whitelist.' }));
      return;
    }
    const ids = el('textarea', { id: 'whitelist-ids', rows: '3', cols: '40', placeholder: 'user ids, one per line or comma-separated' });
    const change = (path) => attempt(async () => {
      const list = ids.value.split(/[\s,]+/).filter(Boolean);
      if (list.length === 0) throw new Error('enter at least one user id');
      await api('POST', path, list.length === 1 ? { user_id: list[0] } : { user_ids: list });
      await go('whitelist');
      banner('info', `${path.endsWith('add') ? 'added' : 'removed'}: ${list.join(', ')}`);
    });
    page.append(el('form', { onsubmit: (e) => { e.preventDefault(); change('/admin/v1/whitelist/add'); } },
      el('label', {}, 'User ids', ids),
      el('button', { id: 'whitelist-add', type: 'submit', text: 'Add' }),
      el('button', { id: 'whitelist-remove', type: 'button', class: 'secondary', text: 'Remove', onclick: () => change('/admin/v1/whitelist/remove') })),
    el('button', { id: 'whitelist-toggle-all', type: 'button', class: 'secondary',
      text: w.all ? 'Limit to the list' : 'Open to everyone',
      onclick: () => attempt(async () => { await api('POST', '/admin/v1/whitelist/all', { on: !w.all }); await go('whitelist'); }) }));
  },

  async refill(page) {
    const r = await api('GET', '/admin/v1/refill');
    page.append(el('h2', { text: 'Refill jobs (钱包余额返充)' }),
      el('p', { class: 'hint', text: 'A strong-privacy recharge opens a new wallet; after the delay the job moves the old wallet\'s balance into it.' }));
    if (can.runRefill(state.session.role)) {
      page.append(el('button', { id: 'refill-run', type: 'button', text: 'Run the job now', onclick: () => attempt(async () => {
        const out = await api('POST', '/admin/v1/refill/run', {});
        await go('refill');
        banner('info', `refill job: moved ${out.moved}`);
      }) }));
    }
    page.append(el('div', { id: 'refill-records' }, render(r)));
  },

  // DESIGN §3.6 rule 2: a rider who lost the phone without a backup opens again only after a
  // security officer retired the old identity (audited; the old J stays on record for tracing).
  async riders(page) {
    page.append(el('h2', { text: 'Riders: re-open after a lost phone' }),
      el('p', { text: 'A rider opens the anonymous code once. After a phone was lost without a backup, retiring the rider\'s identity lets the rider open once more, with a new one. A clone of the old one is still traced to the rider.' }));
    if (!can.retireIdentity(state.session.role)) {
      page.append(el('p', { class: 'hint', text: 'Only a security officer can retire an identity.' }));
      return;
    }
    const userId = el('input', { id: 'retire-user', type: 'text', maxlength: '64', placeholder: 'user id' });
    const reason = el('input', { id: 'retire-reason', type: 'text', maxlength: '200', placeholder: 'reason (no personal data: it is audited)' });
    const result = el('div', { id: 'retire-result' });
    page.append(el('form', { onsubmit: (e) => { e.preventDefault(); attempt(async () => {
      if (!userId.value || !reason.value) throw new Error('enter the user id and a reason');
      if (!window.confirm(`Retire the identity of ${userId.value}? This is written to the audit log.`)) return;
      result.replaceChildren(render(await api('POST', '/admin/v1/identity/retire', { user_id: userId.value, reason: reason.value })));
      banner('info', `retired: ${userId.value}`);
    }); } },
    el('label', {}, 'User id', userId), el('label', {}, 'Reason', reason),
    el('button', { id: 'retire-submit', type: 'submit', class: 'danger', text: 'Retire the identity (audited)' })), result);
  },

  async keys(page) {
    page.append(el('h2', { text: 'Keys' }), render(await api('GET', '/admin/v1/keys')));
  },

  async audit(page) {
    page.append(el('h2', { text: 'Audit log' }));
    if (!can.readAudit(state.session.role)) {
      page.append(el('p', { class: 'hint', text: 'The audit log is for auditors and security officers.' }));
      return;
    }
    const result = el('div', { id: 'audit-verify' });
    page.append(el('button', { type: 'button', class: 'secondary', text: 'Verify the hash chain', onclick: () => attempt(async () => {
      result.replaceChildren(render(await api('GET', '/admin/v1/audit/verify')));
    }) }), result);
    const a = await api('GET', '/admin/v1/audit?limit=200');
    page.append(render(a));
  },
};

// seed 000 §2.7: a traced user's wallets and every transaction of them; the opening information
// only on an explicit, audited action of a security officer.
async function trace(box, userId) {
  const t = await api('GET', '/admin/v1/trace?user_id=' + encodeURIComponent(userId));
  const identity = el('div', { id: 'trace-identity' });
  box.replaceChildren(el('h3', { text: `Trace of ${userId}` }),
    el('h3', { text: 'Wallets' }), el('div', { id: 'trace-wallets' }, render(t.wallets || [])),
    el('h3', { text: 'Transactions' }), el('div', { id: 'trace-transactions' }, render(t.transactions || [])));
  if (can.revealIdentity(state.session.role)) {
    box.append(el('button', { id: 'reveal-identity', type: 'button', class: 'danger',
      text: 'Reveal the opening information (audited)', onclick: () => attempt(async () => {
        if (!window.confirm(`Decrypt the personal data of ${userId}? This is written to the audit log.`)) return;
        identity.replaceChildren(render(await api('POST', '/admin/v1/trace/identity', { user_id: userId })));
      }) }));
  } else {
    box.append(el('p', { class: 'hint', text: 'Only a security officer can reveal the opening information.' }));
  }
  box.append(identity);
}

async function go(name) {
  const page = document.getElementById('page');
  const draw = pages[name] || pages.dashboard;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.getAttribute('href') === '#' + name);
  page.replaceChildren();
  page.dataset.page = name;
  await attempt(() => draw(page));
}

function showLogin() {
  document.getElementById('login-page').hidden = false;
  document.getElementById('page').hidden = true;
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
}

function showConsole() {
  document.getElementById('login-page').hidden = true;
  document.getElementById('page').hidden = false;
  document.getElementById('nav').hidden = false;
  document.getElementById('who').hidden = false;
  document.getElementById('who-name').textContent = state.session.username;
  document.getElementById('who-role').textContent = state.session.role;
  go((location.hash || '#dashboard').slice(1));
}

document.getElementById('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  attempt(async () => {
    state.session = await api('POST', '/admin/v1/session/login', {
      username: document.getElementById('login-username').value,
      password: document.getElementById('login-password').value,
    });
    document.getElementById('login-password').value = '';
    showConsole();
  });
});

document.getElementById('logout').addEventListener('click', () => attempt(async () => {
  await api('POST', '/admin/v1/session/logout', {});
  state.session = null;
  showLogin();
}));

window.addEventListener('hashchange', () => { if (state.session) go(location.hash.slice(1)); });

// An existing session (a reload) goes straight to the console.
(async () => {
  try {
    state.session = await api('GET', '/admin/v1/session');
    showConsole();
  } catch (e) {
    showLogin();
  }
})();
