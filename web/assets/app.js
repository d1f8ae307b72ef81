// twinflow's dashboard: a small single-page app over /api/v1.
//
// Every piece of text that came from the database (crawled pages, logs,
// errors, names) reaches the page through text nodes (el() below appends
// strings as document.createTextNode): nothing is ever parsed as HTML, so a
// crawled "<script>" or "onerror=" stays text. Graphs are SVG images drawn by
// the server with Graphviz, shown in <img>, where no script can run.
'use strict';

const main = () => document.getElementById('main');
let pollTimer = null;

// --- DOM helpers --------------------------------------------------------------
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
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
function svg(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}
function link(hash, text) { return el('a', { href: '#' + hash }, text); }
// Only http(s) URLs become links: a crawled "javascript:" URL stays text.
function externalLink(url, text) {
  return /^https?:\/\//i.test(url) ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, text || url) : text || url;
}
function badge(status) { return el('span', { class: 'status s-' + status }, status); }
function table(headers, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c))))));
}
function seconds(s) {
  if (s === undefined || s === null) return '';
  return s < 1 ? (s * 1000).toFixed(0) + ' ms' : s < 120 ? s.toFixed(1) + ' s' : (s / 60).toFixed(1) + ' min';
}
function time(text) { return text ? text.slice(0, 19) : ''; }
function message(kind, text) { return el('div', { class: 'message ' + kind, role: kind === 'error' ? 'alert' : 'status' }, text); }
function show(...nodes) { const m = main(); m.replaceChildren(); append(m, nodes); }
const enc = encodeURIComponent;

// --- API ------------------------------------------------------------------------
async function api(path) {
  const response = await fetch('/api/v1' + path, { headers: { Accept: 'application/json' } });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
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
function actionButton(label, run, id) {
  const out = el('span', {});
  const button = el('button', { class: 'action', id, onclick: async () => {
    button.disabled = true;
    try { out.replaceChildren(message('ok', await run())); } catch (e) { out.replaceChildren(message('error', e.message)); }
    button.disabled = false;
  } }, label);
  return el('span', {}, button, out);
}

// --- pages ----------------------------------------------------------------------
const routes = [
  [/^\/runs\/(\d+)$/, (m) => runPage(m[1])],
  [/^\/runs$/, (m, q) => runsPage(q)],
  [/^\/pipelines$/, () => pipelinesPage()],
  [/^\/artifacts$/, () => artifactsPage()],
  [/^\/artifacts\/([^/]+)$/, (m) => artifactPage(decodeURIComponent(m[1]))],
  [/^\/artifacts\/([^/]+)\/(\d+)$/, (m) => versionPage(decodeURIComponent(m[1]), m[2])],
  [/^\/metrics$/, (m, q) => metricsPage(q)],
  [/^\/models$/, () => modelsPage()],
  [/^\/models\/([^/]+)$/, (m) => modelPage(decodeURIComponent(m[1]))],
  [/^\/schedules$/, () => schedulesPage()],
  [/^\/prompts$/, () => promptsPage()],
  [/^\/documents$/, () => documentsPage()],
  [/^\/documents\/(\d+)$/, (m) => documentPage(m[1])],
  [/^\/search$/, (m, q) => searchPage(q)],
];

async function render() {
  clearInterval(pollTimer);
  pollTimer = null;
  const hash = location.hash.slice(1) || '/runs';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  for (const [pattern, page] of routes) {
    const m = path.match(pattern);
    if (!m) continue;
    try { await page(m, params); } catch (e) { show(message('error', e.message)); }
    return;
  }
  show(message('error', 'no such page: ' + path));
}
function poll(fn, ms) { clearInterval(pollTimer); pollTimer = setInterval(fn, ms); }

async function runsPage(q) {
  const filter = { pipeline: q.get('pipeline') || '', status: q.get('status') || '', trigger: q.get('trigger') || '', before: q.get('before') || '' };
  const pipelines = (await api('/pipelines')).pipelines;
  const select = (name, options) => el('label', {}, name,
    el('select', { name, id: 'filter-' + name }, el('option', { value: '' }, 'any'),
      options.map((o) => el('option', { value: o, selected: filter[name] === o }, o))));
  const form = el('form', { class: 'filters', id: 'runs-filter', onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const name of ['pipeline', 'status', 'trigger']) { const v = form.elements[name].value; if (v) p.set(name, v); }
    location.hash = '/runs?' + p.toString();
  } },
  select('pipeline', pipelines.map((p) => p.name)),
  select('status', ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']),
  select('trigger', ['manual', 'rerun', 'schedule', 'event', 'api']),
  el('button', { type: 'submit' }, 'Filter'));
  const list = el('div', { id: 'runs-list' });
  show(el('h1', {}, 'Runs'), form, list);
  const load = async () => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v) p.set(k, v);
    p.set('limit', '50');
    const page = await api('/runs?' + p.toString());
    const rows = page.runs.map((r) => [link('/runs/' + r.id, String(r.id)), r.pipeline, badge(r.status), r.trigger,
      r.parent_run_id ? link('/runs/' + r.parent_run_id, String(r.parent_run_id)) : '', time(r.started_at || r.created_at),
      seconds(r.duration_seconds), r.error]);
    const older = new URLSearchParams(p); older.delete('limit');
    if (page.next_before) older.set('before', page.next_before);
    list.replaceChildren(page.runs.length ? table(['run', 'pipeline', 'status', 'trigger', 'parent', 'started', 'duration', 'error'], rows) : el('p', {}, 'No runs.'),
      filter.before ? link('/runs', 'Newest') : '', ' ',
      page.next_before ? el('a', { href: '#/runs?' + older.toString(), id: 'older' }, 'Older runs') : '');
  };
  await load();
  // Live status: the newest page refreshes itself.
  if (!filter.before) poll(() => load().catch(() => {}), 3000);
}

function timeline(run, attempts) {
  const starts = attempts.filter((a) => a.started_at).map((a) => Date.parse(a.started_at.replace(' ', 'T')));
  if (!starts.length) return el('p', { class: 'muted' }, 'No attempts yet.');
  const t0 = Math.min(...starts);
  const end = Math.max(...attempts.map((a) => Date.parse(a.started_at.replace(' ', 'T')) + 1000 * a.duration_seconds));
  const span = Math.max(end - t0, 1);
  const colours = { succeeded: '#52b788', failed: '#e5383b', timed_out: '#e5383b', running: '#4ea8de', cached: '#95d5b2', cancelled: '#9d8ec4', interrupted: '#f4a261' };
  return el('div', { class: 'timeline', id: 'timeline' }, attempts.map((a) => {
    const bar = el('div', { class: 'bar', title: a.status + ', ' + seconds(a.duration_seconds) });
    bar.style.left = (100 * (Date.parse(a.started_at.replace(' ', 'T')) - t0) / span) + '%';
    bar.style.width = (100 * 1000 * a.duration_seconds / span) + '%';
    bar.style.background = colours[a.status] || '#999';
    return el('div', { class: 'row' }, el('span', { class: 'label' }, a.step_id + ' #' + a.attempt), el('div', { class: 'lane' }, bar));
  }));
}

function versionLinks(list) {
  return (list || []).map((e) => el('div', {}, e.name + ': ', link('/artifacts/' + enc(e.version.artifact) + '/' + e.version.version, e.version.artifact + ' v' + e.version.version)));
}

async function runPage(id) {
  let data = await api('/runs/' + id);
  const header = el('div', {});
  const graph = el('div', { class: 'graph' });
  const steps = el('div', {});
  const attempts = el('div', {});
  const logBox = el('div', { id: 'log-box' });
  const metrics = el('div', { id: 'run-metrics' });
  const actions = el('div', {},
    actionButton('Rerun failed steps', async () => { const r = await act('/runs/' + id + '/rerun'); return 'queued run ' + r.run_id; }, 'rerun'), ' ',
    actionButton('Cancel', async () => { await act('/runs/' + id + '/cancel'); return 'cancel requested'; }, 'cancel'));
  show(header, actions, el('h2', {}, 'DAG'), graph, el('h2', {}, 'Timeline'), attempts, el('h2', {}, 'Steps'), steps, el('h2', {}, 'Log'), logBox, el('h2', {}, 'Metrics'), metrics);
  let lastState = '';
  const draw = () => {
    const r = data.run;
    header.replaceChildren(el('h1', {}, 'Run ' + r.id + ' of ' + r.pipeline + ' ', badge(r.status)),
      el('p', {}, 'trigger ' + r.trigger, r.parent_run_id ? ' · rerun of ' : '', r.parent_run_id ? link('/runs/' + r.parent_run_id, String(r.parent_run_id)) : '',
        ' · started ' + time(r.started_at || r.created_at) + ' · ' + seconds(r.duration_seconds), ' · params ' + JSON.stringify(r.params)),
      r.error ? message('error', r.error) : '', data.dag_error ? message('error', data.dag_error) : '');
    const state = JSON.stringify(data.steps.map((s) => [s.step_id, s.status, s.attempts]));
    if (state !== lastState) {
      lastState = state;
      graph.replaceChildren(el('img', { id: 'dag-graph', alt: 'DAG of run ' + r.id, src: '/api/v1/runs/' + r.id + '/graph.svg?v=' + enc(state.length + '-' + Date.now()) }));
    }
    attempts.replaceChildren(timeline(r, data.attempts), table(['step', 'attempt', 'status', 'exit code', 'signal', 'duration', 'error', 'log'],
      data.attempts.map((a) => [a.step_id, String(a.attempt), badge(a.status), a.exit_code === null ? '' : String(a.exit_code),
        a.signal === null ? '' : String(a.signal), seconds(a.duration_seconds), a.error,
        a.status === 'cached' ? '' : el('button', { onclick: () => showLog(r.id, a.step_id, a.attempt, logBox) }, 'log')])));
    steps.replaceChildren(table(['step', 'type', 'status', 'attempts', 'needs', 'duration', 'inputs', 'outputs'],
      data.steps.map((s) => [s.step_id, s.type || '', badge(s.status), String(s.attempts), (s.needs || []).join(', '), seconds(s.duration_seconds), versionLinks(s.inputs), versionLinks(s.outputs)])));
  };
  draw();
  const series = (await api('/runs/' + id + '/metrics')).series;
  metrics.replaceChildren(series.length ? el('div', {}, series.map((s) => chart(s.step + ' ' + s.key, [{ name: 'run ' + id, points: s.points }])), el('p', {}, link('/metrics?runs=' + id, 'compare with other runs'))) : el('p', { class: 'muted' }, 'No metrics.'));
  const failed = data.attempts.filter((a) => a.status === 'failed' || a.status === 'timed_out').pop();
  if (failed) showLog(data.run.id, failed.step_id, failed.attempt, logBox);
  poll(async () => {
    if (!['queued', 'running'].includes(data.run.status)) return;
    data = await api('/runs/' + id);
    draw();
  }, 2000);
}

// A step's log: the tail, then (when following) what is appended, by offset.
function showLog(runId, stepId, attempt, box) {
  const pre = el('pre', { class: 'log', id: 'log' });
  const follow = el('input', { type: 'checkbox', id: 'follow', checked: true });
  const status = el('span', { class: 'muted' });
  box.replaceChildren(el('p', {}, stepId + ' attempt ' + attempt + ' ',
    el('a', { href: '/api/v1/runs/' + runId + '/steps/' + enc(stepId) + '/log/raw?attempt=' + attempt }, 'download'), ' ',
    el('label', {}, follow, ' follow'), ' ', status), pre);
  const base = '/runs/' + runId + '/steps/' + enc(stepId) + '/log?attempt=' + attempt;
  let offset = null;
  const fetchMore = async () => {
    if (!box.contains(pre)) return;
    try {
      const chunk = await api(base + (offset === null ? '&tail=65536' : '&offset=' + offset));
      pre.appendChild(document.createTextNode(chunk.text));
      offset = chunk.next_offset;
      status.textContent = chunk.size + ' bytes, ' + chunk.status;
      if (!chunk.complete && follow.checked) setTimeout(fetchMore, 1000);
    } catch (e) { status.textContent = e.message; }
  };
  fetchMore();
}

// A line chart of one or more series of [step, value] points.
function chart(title, series) {
  const w = 420, h = 180, pad = 34;
  const all = series.flatMap((s) => s.points);
  if (!all.length) return el('div', {});
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + (w - 2 * pad) * (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0));
  const sy = (y) => h - pad + (2 * pad - h) * (y1 === y0 ? 0.5 : (y - y0) / (y1 - y0));
  const colours = ['#1565c0', '#e5383b', '#2d6a4f', '#9d4edd', '#f77f00', '#555'];
  const root = svg('svg', { width: w, height: h, class: 'chart-svg' });
  const label = (x, y, text, anchor) => { const t = svg('text', { x, y, 'font-size': 10, 'text-anchor': anchor || 'start' }); t.textContent = text; return t; };
  root.appendChild(svg('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: '#999' }));
  root.appendChild(svg('line', { x1: pad, y1: pad, x2: pad, y2: h - pad, stroke: '#999' }));
  root.appendChild(label(pad, 14, title));
  root.appendChild(label(pad - 2, h - pad, String(+y0.toPrecision(4)), 'end'));
  root.appendChild(label(pad - 2, pad + 4, String(+y1.toPrecision(4)), 'end'));
  root.appendChild(label(w - pad, h - pad + 14, String(x1), 'end'));
  series.forEach((s, i) => {
    root.appendChild(svg('polyline', { fill: 'none', stroke: colours[i % colours.length], 'stroke-width': 1.5,
      points: s.points.map((p) => sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1)).join(' ') }));
    if (s.points.length === 1) root.appendChild(svg('circle', { cx: sx(s.points[0][0]), cy: sy(s.points[0][1]), r: 3, fill: colours[i % colours.length] }));
  });
  const legend = el('div', { class: 'legend' }, series.map((s, i) => { const sp = el('span', {}, '■ ' + s.name); sp.style.color = colours[i % colours.length]; return sp; }));
  return el('div', { class: 'chart' }, root, legend);
}

async function metricsPage(q) {
  const runs = q.get('runs') || '';
  const input = el('input', { name: 'runs', value: runs, placeholder: 'run ids, e.g. 12,13' });
  const form = el('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); location.hash = '/metrics?runs=' + enc(input.value.replace(/\s/g, '')); } },
    el('label', {}, 'runs to compare', input), el('button', { type: 'submit' }, 'Compare'));
  if (!runs) return show(el('h1', {}, 'Metrics'), form);
  const data = await api('/metrics?runs=' + enc(runs));
  // One chart per step and metric key, a line per run: runs side by side.
  const byKey = new Map();
  for (const r of data.runs) for (const s of r.series) {
    const key = s.step.replace(/#\d+$/, '') + ' ' + s.key;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push({ name: 'run ' + r.run.id + ' ' + s.step.replace(/^.*#/, '#'), points: s.points });
  }
  const last = (s) => s.points.length ? s.points[s.points.length - 1][1] : '';
  show(el('h1', {}, 'Metrics'), form,
    table(['metric'].concat(data.runs.map((r) => 'run ' + r.run.id + ' (' + r.run.pipeline + ')')),
      [...byKey.keys()].map((key) => [key].concat(data.runs.map((r) => { const s = r.series.find((x) => x.step.replace(/#\d+$/, '') + ' ' + x.key === key); return s ? String(+Number(last(s)).toPrecision(6)) : ''; })))),
    el('div', { id: 'charts' }, [...byKey.entries()].map(([key, series]) => chart(key, series))));
}

async function pipelinesPage() {
  const data = await api('/pipelines');
  show(el('h1', {}, 'Pipelines'), table(['pipeline', 'DAG file', 'runs', 'last run', 'paused', ''],
    data.pipelines.map((p) => [link('/runs?pipeline=' + enc(p.name), p.name), p.dag_file, String(p.runs),
      p.last_run_id ? el('span', {}, link('/runs/' + p.last_run_id, String(p.last_run_id)), ' ', badge(p.last_status)) : '',
      p.paused ? 'paused' : '', actionButton('Trigger', async () => { const r = await act('/pipelines/' + enc(p.name) + '/trigger'); return 'queued run ' + r.run_id; })])));
}

async function artifactsPage() {
  const data = await api('/artifacts');
  show(el('h1', {}, 'Artifacts'), table(['artifact', 'type', 'latest', 'created'],
    data.artifacts.map((a) => [link('/artifacts/' + enc(a.name), a.name), a.type, link('/artifacts/' + enc(a.name) + '/' + a.latest_version, 'v' + a.latest_version), time(a.created_at)])));
}

async function artifactPage(name) {
  const data = await api('/artifacts/' + enc(name) + '/versions');
  show(el('h1', {}, 'Artifact ' + name), table(['version', 'sha256', 'size', 'created'],
    data.versions.map((v) => [link('/artifacts/' + enc(name) + '/' + v.version, 'v' + v.version), v.sha256.slice(0, 16), v.size_bytes + ' B', time(v.created_at)])));
}

async function versionPage(name, version) {
  const data = await api('/artifacts/' + enc(name) + '/versions/' + version);
  const v = data.version;
  const lineage = await api('/lineage/' + v.id);
  const files = '/api/v1/artifacts/' + enc(name) + '/versions/' + version + '/files/';
  const docs = lineage.nodes.filter((n) => n.kind === 'document');
  const models = lineage.nodes.filter((n) => n.kind === 'model');
  show(el('h1', {}, name + ' v' + version),
    table(['type', 'sha256', 'size', 'created', 'produced by', 'metadata'], [[v.type, v.sha256, v.size_bytes + ' B', time(v.created_at),
      v.producer_step_run_id ? String(v.producer_step_run_id) : '', JSON.stringify(v.metadata)]]),
    el('h2', {}, 'Files'), table(['file', 'size'], data.files.map((f) => [el('a', { href: files + (data.is_directory ? f.path.split('/').map(enc).join('/') : 'content') }, f.path), f.size_bytes + ' B'])),
    el('h2', {}, 'Used by'), table(['direction', 'run', 'step', 'as'], data.edges.map((e) => [e.direction, link('/runs/' + e.run_id, String(e.run_id)), e.step_id, e.name])),
    el('h2', {}, 'Lineage'), el('div', { class: 'graph' }, el('img', { id: 'lineage-graph', alt: 'lineage', src: '/api/v1/lineage/' + v.id + '/graph.svg' })),
    el('h2', {}, 'Sources'), docs.length ? table(['document', 'title', 'url'], docs.map((d) => [link('/documents/' + d.document_id, String(d.document_id)), d.title, externalLink(d.url)])) : el('p', { class: 'muted' }, 'No source documents upstream.'),
    el('h2', {}, 'Models'), models.length ? table(['model', 'version', 'stage'], models.map((m) => [link('/models/' + enc(m.model), m.model), 'v' + m.version, m.stage])) : el('p', { class: 'muted' }, 'No model downstream.'));
}

async function modelsPage() {
  const data = await api('/models');
  show(el('h1', {}, 'Models'), table(['model', 'latest', 'production', 'versions'],
    data.models.map((m) => [link('/models/' + enc(m.name), m.name), 'v' + m.latest_version, m.production_version ? 'v' + m.production_version : '-', String(m.versions)])));
}

async function modelPage(name) {
  const data = await api('/models/' + enc(name));
  const promote = (v) => {
    const stage = el('select', {}, ['production', 'staging', 'archived', 'none'].map((s) => el('option', { value: s }, s)));
    return el('span', {}, stage, ' ', actionButton('Set stage', async () => { const r = await act('/models/' + enc(name) + '/promote', { version: v.version, stage: stage.value }); return name + ' v' + r.version + ' is ' + r.stage; }));
  };
  show(el('h1', {}, 'Model ' + name), actionButton('Roll back production', async () => { const r = await act('/models/' + enc(name) + '/rollback'); return 'v' + r.version + ' is ' + r.stage; }, 'rollback'),
    el('h2', {}, 'Versions'), table(['version', 'stage', 'artifact', 'run', 'metrics', 'created', ''],
      data.versions.map((v) => [('v' + v.version), badge(v.stage), link('/artifacts/' + enc(v.artifact) + '/' + v.artifact_version, v.artifact + ' v' + v.artifact_version),
        v.run_id ? link('/runs/' + v.run_id, String(v.run_id)) : '', JSON.stringify(v.metrics), time(v.created_at), promote(v)])),
    el('h2', {}, 'Stage history'), table(['when', 'version', 'from', 'to', 'by', 'reason', 'evaluation'],
      data.history.map((c) => [time(c.changed_at), 'v' + c.version, c.from, c.to, c.actor, c.reason, JSON.stringify(c.evaluation)])));
}

async function schedulesPage() {
  const data = await api('/schedules');
  show(el('h1', {}, 'Schedules'), el('p', { class: 'muted' }, 'DAG files under ' + data.dags_dir),
    table(['pipeline', 'cron', 'zone', 'paused', 'next fire times', 'file'],
      data.schedules.map((s) => [link('/runs?pipeline=' + enc(s.pipeline), s.pipeline), s.cron, s.timezone, s.paused ? 'paused' : 'active', (s.error ? [s.error] : s.next).join('\n'), s.file])));
}

async function promptsPage() {
  const data = await api('/prompts?limit=100');
  show(el('h1', {}, 'Prompt log'), table(['when', 'query', 'answer', 'model', 'status', 'latency'],
    data.prompts.map((p) => [time(p.created_at), p.query, p.answer || p.error, p.model + (p.model_version ? ' v' + p.model_version : ''), String(p.status), seconds(p.latency_ms / 1000)])));
}

async function documentsPage() {
  const data = await api('/documents?limit=200');
  show(el('h1', {}, 'Documents'), table(['id', 'platform', 'title', 'url', 'fetched'],
    data.documents.map((d) => [link('/documents/' + d.id, String(d.id)), d.platform, d.title, externalLink(d.url), time(d.fetched_at)])));
}

async function documentPage(id) {
  const d = await api('/documents/' + id);
  show(el('h1', { id: 'doc-title' }, d.title || d.url), el('p', {}, d.platform + ' · ' + d.author + ' · ', externalLink(d.url), ' · version ' + d.version),
    d.subtitle ? el('p', {}, d.subtitle) : '', el('pre', { class: 'doc', id: 'doc-content' }, d.content));
}

async function searchPage(q) {
  const text = q.get('q') || '';
  const input = el('input', { name: 'q', value: text, size: 50, placeholder: 'search the feature store', id: 'search-input' });
  const form = el('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); location.hash = '/search?q=' + enc(input.value); } }, input, el('button', { type: 'submit' }, 'Search'));
  if (!text) return show(el('h1', {}, 'Search'), form);
  show(el('h1', {}, 'Search'), form, el('p', {}, 'Searching…'));
  let result;
  try { result = await api('/search?k=10&q=' + enc(text)); } catch (e) { return show(el('h1', {}, 'Search'), form, message('error', e.message)); }
  show(el('h1', {}, 'Search'), form, el('div', { id: 'hits' }, result.hits.map((h) => el('div', { class: 'hit' },
    el('h2', {}, h.title || h.url, ' ', el('span', { class: 'muted' }, h.score.toFixed(3))), el('p', {}, externalLink(h.url), ' · ', link('/documents/' + h.document_id, 'document')), el('pre', { class: 'doc' }, h.content)))));
}

// --- start ------------------------------------------------------------------------
async function start() {
  const input = document.getElementById('token');
  input.value = token();
  input.addEventListener('change', () => sessionStorage.setItem('twinflow-token', input.value));
  document.getElementById('token-form').addEventListener('submit', (e) => { e.preventDefault(); sessionStorage.setItem('twinflow-token', input.value); });
  try {
    const info = await api('/info');
    document.getElementById('mode').textContent = info.read_only ? 'read-only' : '';
  } catch (e) { /* the pages say what is wrong */ }
  window.addEventListener('hashchange', render);
  render();
}
document.addEventListener('DOMContentLoaded', start);
