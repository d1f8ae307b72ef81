// twinflow's dashboard, shared helpers: DOM building, formatting, the API, actions.
//
// Every piece of text that came from the database (crawled pages, logs,
// errors, names) reaches the page through text nodes (el() below appends
// strings as document.createTextNode): nothing is ever parsed as HTML, so a
// crawled "<script>" or "onerror=" stays text. Graphs are SVG built with
// createElementNS, their labels set as textContent.
'use strict';

const main = () => document.getElementById('main');
// Bumped on every navigation: a poller whose generation is stale stops.
let generation = 0;
let serverInfo = { read_only: true };

// --- DOM ------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}
function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
function svg(tag, attrs, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}
function link(hash, text, attrs) { return el('a', Object.assign({ href: '#' + hash }, attrs || {}), text); }
// Only http(s) URLs become links: a crawled "javascript:" URL stays text.
function externalLink(url, text) {
  return /^https?:\/\//i.test(url || '') ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, text || url) : (text || url || '');
}
function badge(status) { return el('span', { class: 'status s-' + status }, status || 'none'); }
function table(headers, rows, attrs) {
  return el('div', { class: 'scroll' }, el('table', attrs || {},
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c, i) => el('td', { 'data-label': headers[i] || null }, c)))))));
}
function message(kind, text) { return el('div', { class: 'message ' + kind, role: kind === 'error' ? 'alert' : 'status' }, text); }
function muted(text) { return el('p', { class: 'muted' }, text); }
function show(...nodes) { const m = main(); m.replaceChildren(); append(m, nodes); }
const enc = encodeURIComponent;

// --- values -----------------------------------------------------------------------
function num(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e7) ? x.toExponential(3) : String(+x.toPrecision(5));
}
function seconds(s) {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '';
  return s < 1 ? (s * 1000).toFixed(0) + ' ms' : s < 120 ? s.toFixed(1) + ' s' : s < 7200 ? (s / 60).toFixed(1) + ' min' : (s / 3600).toFixed(1) + ' h';
}
// An RFC 3339 time from the API, shown in UTC to the second.
function time(text) { return typeof text === 'string' && text ? text.slice(0, 19).replace('T', ' ') : ''; }
function ms(text) { const t = typeof text === 'string' ? Date.parse(text) : NaN; return Number.isFinite(t) ? t : null; }
function bytes(n) {
  if (typeof n !== 'number') return '';
  return n < 1024 ? n + ' B' : n < 1 << 20 ? (n / 1024).toFixed(1) + ' KiB' : n < 1 << 30 ? (n / 1048576).toFixed(1) + ' MiB' : (n / 1073741824).toFixed(2) + ' GiB';
}
// Any JSON value as something readable: scalars as text, objects as nested
// key/value tables, lists as lists. Never a JSON string in a cell.
function value(v, depth) {
  depth = depth || 0;
  if (v === null || v === undefined) return el('span', { class: 'muted' }, '—');
  if (typeof v === 'number') return num(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    if (!v.length) return el('span', { class: 'muted' }, 'none');
    if (v.every((x) => x === null || typeof x !== 'object')) return v.map((x) => (typeof x === 'number' ? num(x) : String(x))).join(', ');
    if (depth > 3) return v.length + ' items';
    return el('ol', { class: 'kv-list' }, v.slice(0, 50).map((x) => el('li', {}, value(x, depth + 1))), v.length > 50 ? el('li', {}, '… ' + (v.length - 50) + ' more') : '');
  }
  if (depth > 3) return Object.keys(v).length + ' fields';
  return kvTable(v, depth + 1);
}
function kvTable(obj, depth) {
  const keys = Object.keys(obj || {});
  if (!keys.length) return el('span', { class: 'muted' }, 'none');
  return el('table', { class: 'kv' }, el('tbody', {}, keys.map((k) => el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, value(obj[k], depth || 0))))));
}

// --- API ------------------------------------------------------------------------
async function api(path) {
  const response = await fetch('/api/v1' + path, { headers: { Accept: 'application/json' } });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}
// A conditional GET: null when the server answers 304 (unchanged since `etag`).
async function apiIfChanged(path, etag) {
  const headers = { Accept: 'application/json' };
  if (etag) headers['If-None-Match'] = etag;
  const response = await fetch('/api/v1' + path, { headers, cache: 'no-store' });
  window.__twinflowPolls = window.__twinflowPolls || { requests: 0, notModified: 0 };
  window.__twinflowPolls.requests++;
  if (response.status === 304) { window.__twinflowPolls.notModified++; return null; }
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return { body, etag: response.headers.get('ETag') };
}
function token() { return sessionStorage.getItem('twinflow-token') || ''; }
async function act(path, body) {
  const response = await fetch('/api/v1' + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token() },
    body: JSON.stringify(body || {}),
  });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}
// A button that runs an action and reports how it went next to itself.
function actionButton(label, run, id, hint) {
  const out = el('span', { 'aria-live': 'polite' });
  const button = el('button', { type: 'button', class: 'action', id, title: hint, 'aria-label': hint, onclick: async () => {
    button.disabled = true;
    try { out.replaceChildren(message('ok', await run())); } catch (e) { out.replaceChildren(message('error', e.message)); }
    button.disabled = false;
  } }, label);
  return el('span', { class: 'action-wrap' }, button, out);
}
// Actions only make sense with the token the server was started with.
function actionsOrNote(buttons) {
  const list = buttons.filter(Boolean);
  if (!list.length) return '';
  if (serverInfo.read_only) return muted('Read-only dashboard: start `twinflow web` with TWINFLOW_WEB_TOKEN to act.');
  return el('div', { class: 'actions' }, list);
}
// The links of a keyset page (the API's cursors): in an id list (newest
// first) "Newer" asks ?after= and "Older" ?before=; in a name list
// (`byName`) "Previous" asks ?before= and "Next" ?after=.
function pager(hashBase, params, page, label, byName) {
  const at = (key, cursor) => {
    const p = new URLSearchParams(params);
    for (const k of ['before', 'after']) p.delete(k);
    if (key) p.set(key, cursor);
    return hashBase + (p.toString() ? '?' + p : '');
  };
  const has = (x) => x !== null && x !== undefined;
  const prev = byName ? page.prev_before : page.prev_after, next = byName ? page.next_after : page.next_before;
  const paged = params.get('before') || params.get('after');
  return el('nav', { class: 'pager', 'aria-label': 'pages of ' + label },
    paged ? link(at(null), byName ? 'First' : 'Newest', { id: 'first-page' }) : '',
    has(prev) ? link(at(byName ? 'before' : 'after', prev), (byName ? 'Previous ' : 'Newer ') + label, { id: 'newer', rel: 'prev' }) : '',
    has(next) ? link(at(byName ? 'after' : 'before', next), (byName ? 'Next ' : 'Older ') + label, { id: 'older', rel: 'next' }) : '');
}
// The paging parameters of a page's hash (cursor and page size), for its
// API request and its links.
function cursorOf(q) {
  const p = new URLSearchParams();
  for (const k of ['before', 'after']) if (q && q.get(k)) p.set(k, q.get(k));
  if (q && /^\d+$/.test(q.get('limit') || '')) p.set('limit', q.get('limit'));
  return p;
}
// The API query of a list page: its paging parameters, `limit` rows unless the hash says.
function listQuery(p, limit) {
  const x = new URLSearchParams(p);
  if (!x.get('limit')) x.set('limit', String(limit));
  return x.toString();
}
// Runs `fn` every `ms` while the page is the one it was started on and `fn`
// returns true.
function pollWhile(fn, ms) {
  const mine = generation;
  const tick = async () => {
    if (mine !== generation) return;
    let again = false;
    try { again = await fn(); } catch (e) { again = true; }
    if (again && mine === generation) setTimeout(tick, ms);
  };
  setTimeout(tick, ms);
}
