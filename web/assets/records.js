// twinflow's dashboard: artifacts, lineage, models, prompts, documents, search.
'use strict';

async function artifactsPage(q) {
  const p = cursorOf(q);
  const data = await api('/artifacts?' + listQuery(p, 100));
  show(el('h1', {}, 'Artifacts'), data.artifacts.length ? table(['artifact', 'type', 'latest', 'created (UTC)'],
    data.artifacts.map((a) => [link('/artifacts/' + enc(a.name), a.name), a.type, link('/artifacts/' + enc(a.name) + '/' + a.latest_version, 'v' + a.latest_version), time(a.created_at)]), { id: 'artifacts' })
    : muted('No artifacts yet.'), pager('/artifacts', p, data, 'artifacts', true));
}

async function artifactPage(name, q) {
  const p = cursorOf(q);
  const data = await api('/artifacts/' + enc(name) + '/versions?' + listQuery(p, 50));
  show(el('h1', {}, 'Artifact ' + name), pager('/artifacts/' + enc(name), p, data, 'versions'), table(['version', 'sha256', 'size', 'created (UTC)', 'produced by', 'metadata'],
    data.versions.map((v) => [link('/artifacts/' + enc(name) + '/' + v.version, 'v' + v.version), el('code', {}, v.sha256.slice(0, 16)), bytes(v.size_bytes), time(v.created_at),
      v.producer_step_run_id ? link('/lineage/' + v.id, 'lineage') : '', value(v.metadata)]), { id: 'versions' }));
}

async function versionPage(name, version) {
  const data = await api('/artifacts/' + enc(name) + '/versions/' + version);
  const v = data.version;
  const files = '/api/v1/artifacts/' + enc(name) + '/versions/' + version + '/files/';
  show(el('h1', {}, name + ' v' + version),
    el('p', {}, v.type + ' · ' + bytes(v.size_bytes) + ' · created ' + time(v.created_at) + ' · ', link('/lineage/' + v.id, 'lineage graph')),
    el('p', {}, 'sha256 ', el('code', {}, v.sha256)),
    el('h2', {}, 'Metadata'), kvTable(v.metadata),
    el('h2', {}, 'Files'), table(['file', 'size'], data.files.map((f) => [el('a', { href: files + (data.is_directory ? f.path.split('/').map(enc).join('/') : 'content') }, f.path), bytes(f.size_bytes)])),
    el('h2', {}, 'Produced and used by'), data.edges.length ? table(['direction', 'run', 'step', 'as'], data.edges.map((e) => [e.direction, link('/runs/' + e.run_id, String(e.run_id)), e.step_id, e.name])) : muted('No recorded use.'));
}

// The lineage around an artifact version: the graph (big layers folded),
// then the sources and models it reaches as lists.
async function lineagePage(id) {
  const data = await api('/lineage/' + id);
  const nodes = data.nodes || [];
  const root = nodes.find((n) => n.id === data.root);
  const kinds = {};
  for (const n of nodes) kinds[n.kind] = (kinds[n.kind] || 0) + 1;
  const docs = nodes.filter((n) => n.kind === 'document' || n.kind === 'url');
  const models = nodes.filter((n) => n.kind === 'model');
  show(el('h1', {}, 'Lineage of ', root ? link(nodeHref(root) || '/artifacts', nodeLabel(root)) : 'version ' + id),
    el('p', { class: 'muted' }, Object.entries(kinds).map(([k, c]) => c + ' ' + k.replace('_', ' ') + (c > 1 ? 's' : '')).join(' · ') || 'no nodes'),
    lineageGraph(data),
    el('h2', {}, 'Sources'), docs.length ? table(['document', 'platform', 'title', 'url'], docs.slice(0, 200).map((d) => [d.document_id ? link('/documents/' + d.document_id, String(d.document_id)) : '', d.platform || '', d.title || '', externalLink(d.url)]))
      : muted('No source documents upstream.'),
    el('h2', {}, 'Models'), models.length ? table(['model', 'version', 'stage'], models.map((m) => [link('/models/' + enc(m.model), m.model), 'v' + m.version, badge(m.stage)])) : muted('No model downstream.'));
}

async function modelsPage(q) {
  const p = cursorOf(q);
  const data = await api('/models?' + listQuery(p, 100));
  show(el('h1', {}, 'Models'), data.models.length ? table(['model', 'latest', 'production', 'versions', 'created (UTC)'],
    data.models.map((m) => [link('/models/' + enc(m.name), m.name), 'v' + m.latest_version, m.production_version ? 'v' + m.production_version : '—', String(m.versions), time(m.created_at)]), { id: 'models' })
    : muted('No models registered yet.'), pager('/models', p, data, 'models', true));
}

// An evaluation (evaluate step): the gate and its decision, then each figure
// of the baseline beside the candidate's.
function evaluationView(e) {
  if (!e || typeof e !== 'object' || !Object.keys(e).length) return muted('no evaluation');
  const gate = e.gate || {};
  const figures = [...new Set(Object.keys(e.candidate || {}).concat(Object.keys(e.baseline || {})))];
  const rest = Object.fromEntries(Object.entries(e).filter(([k]) => !['gate', 'candidate', 'baseline'].includes(k)));
  return el('div', { class: 'evaluation' },
    el('p', {}, 'gate: ', el('strong', {}, gate.metric || '?'), ' ' + (gate.direction || '') + (gate.margin !== undefined ? ' by ' + num(gate.margin) : '') + ' → ',
      gate.passed === undefined ? '' : el('span', { class: 'status s-' + (gate.passed ? 'succeeded' : 'failed') }, gate.passed ? 'passed' : 'failed'),
      gate.reason ? ' · ' + gate.reason : ''),
    figures.length ? el('table', { class: 'kv' }, el('thead', {}, el('tr', {}, el('th', {}, 'figure'), el('th', {}, 'baseline' + (e.baseline_kind ? ' (' + e.baseline_kind.replace('_', ' ') + ')' : '')), el('th', {}, 'candidate'), el('th', {}, 'Δ'))),
      el('tbody', {}, figures.map((k) => {
        const b = (e.baseline || {})[k], c = (e.candidate || {})[k];
        return el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, value(b)), el('td', {}, value(c)), el('td', {}, typeof b === 'number' && typeof c === 'number' ? num(c - b) : ''));
      }))) : '',
    Object.keys(rest).length ? kvTable(rest) : '');
}

async function modelPage(name) {
  const data = await api('/models/' + enc(name));
  const production = data.versions.find((v) => v.stage === 'production');
  // Rollback puts back the version that was in production before: possible
  // only when another version has been in production.
  const previous = data.history.filter((c) => c.to === 'production' && (!production || c.version !== production.version)).pop();
  // A version's evaluation: the one that judged it (an archiving change carries its successor's).
  const evaluationOf = (v) => (data.history.filter((c) => c.version === v.version && c.evaluation && Object.keys(c.evaluation).length &&
    (c.evaluation.candidate_version === undefined ? c.to !== 'archived' : c.evaluation.candidate_version === v.version)).pop() || {}).evaluation;
  const versionActions = (v) => serverInfo.read_only ? '' : el('div', {},
    v.stage !== 'production' ? actionButton('Promote to production', async () => { const r = await act('/models/' + enc(name) + '/promote', { version: v.version, stage: 'production', reason: 'promoted from the dashboard' }); render(); return name + ' v' + r.version + ' is ' + r.stage; }, 'promote-' + v.version, 'Promote v' + v.version + ' to production') : '',
    v.stage === 'none' ? actionButton('To staging', async () => { const r = await act('/models/' + enc(name) + '/promote', { version: v.version, stage: 'staging', reason: 'staged from the dashboard' }); render(); return name + ' v' + r.version + ' is ' + r.stage; }, 'stage-' + v.version, 'Move v' + v.version + ' to staging') : '');
  show(el('h1', {}, 'Model ' + name, production ? [' ', el('span', { class: 'muted' }, 'production v' + production.version)] : ''),
    actionsOrNote([previous && production ? actionButton('Roll back production to v' + previous.version, async () => { const r = await act('/models/' + enc(name) + '/rollback', { reason: 'rolled back from the dashboard' }); render(); return 'v' + r.version + ' is ' + r.stage; }, 'rollback') : null]),
    el('h2', {}, 'Versions'), table(['version', 'stage', 'artifact', 'run', 'metrics', 'evaluation', 'created (UTC)', ''],
      data.versions.map((v) => [el('strong', {}, 'v' + v.version), badge(v.stage),
        el('div', {}, link('/artifacts/' + enc(v.artifact) + '/' + v.artifact_version, v.artifact + ' v' + v.artifact_version), ' · ', link('/lineage/' + v.artifact_version_id, 'lineage')),
        v.run_id ? link('/runs/' + v.run_id, String(v.run_id)) : '', kvTable(v.metrics), evaluationView(evaluationOf(v)), time(v.created_at), versionActions(v)]), { id: 'model-versions', class: 'stack' }),
    el('h2', {}, 'Stage history'), data.history.length ? el('ol', { class: 'history', id: 'stage-history' }, data.history.slice().reverse().map((c) => el('li', {},
      el('span', { class: 'when' }, time(c.changed_at)), ' ', el('strong', {}, 'v' + c.version), ' ', badge(c.from || 'none'), ' → ', badge(c.to),
      ' by ' + c.actor, c.reason ? ' · ' + c.reason : '', c.step_run_id ? ' · attempt ' + c.step_run_id : ''))) : muted('No stage changes yet.'));
}

async function promptsPage(q) {
  const p = cursorOf(q);
  const data = await api('/prompts?' + listQuery(p, 50));
  show(el('h1', {}, 'Prompt log'), muted('The prompts of the RAG server, newest first.'), data.prompts.length ? table(['id', 'when (UTC)', 'query', 'answer', 'model', 'status', 'latency'],
    data.prompts.map((x) => [String(x.id), time(x.created_at), x.query, x.answer || x.error, x.model + (x.model_version ? ' v' + x.model_version : ''), String(x.status), seconds(x.latency_ms / 1000)]), { id: 'prompts' })
    : muted('No prompts yet.'), pager('/prompts', p, data, 'prompts'));
}

async function documentsPage(q) {
  const p = cursorOf(q);
  const data = await api('/documents?' + listQuery(p, 100));
  show(el('h1', {}, 'Documents'), data.documents.length ? table(['id', 'platform', 'title', 'url', 'version', 'fetched (UTC)'],
    data.documents.map((d) => [link('/documents/' + d.id, String(d.id)), d.platform, d.title, externalLink(d.url), 'v' + d.version, time(d.fetched_at)]), { id: 'documents' })
    : muted('No documents crawled yet.'), pager('/documents', p, data, 'documents'));
}

// A line diff: common prefix and suffix cut, the middle by LCS (bounded).
function lineDiff(a, b) {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length, endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const x = a.slice(start, endA), y = b.slice(start, endB);
  const out = a.slice(0, start).map((l) => [' ', l]);
  if (x.length * y.length > 4e6) {
    out.push(...x.map((l) => ['-', l]), ...y.map((l) => ['+', l]));
  } else {
    const n = x.length, m = y.length, w = m + 1;
    const L = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
      L[i * w + j] = x[i] === y[j] ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) { out.push([' ', x[i]]); i++; j++; } else if (j < m && (i >= n || L[i * w + j + 1] >= L[(i + 1) * w + j])) { out.push(['+', y[j]]); j++; } else { out.push(['-', x[i]]); i++; }
    }
  }
  out.push(...a.slice(endA).map((l) => [' ', l]));
  return out;
}

function diffView(older, newer) {
  const lines = lineDiff((older.content || '').split('\n'), (newer.content || '').split('\n'));
  const changed = lines.filter((l) => l[0] !== ' ').length;
  // Unchanged stretches longer than 6 lines are folded to their ends.
  const rows = [];
  for (let i = 0; i < lines.length;) {
    if (lines[i][0] !== ' ') { rows.push(lines[i]); i++; continue; }
    let j = i;
    while (j < lines.length && lines[j][0] === ' ') j++;
    if (j - i > 6) { rows.push(...lines.slice(i, i + 2), ['…', (j - i - 4) + ' unchanged lines'], ...lines.slice(j - 2, j)); } else rows.push(...lines.slice(i, j));
    i = j;
  }
  return el('div', { id: 'doc-diff' }, el('p', {}, 'v' + older.version + ' → v' + newer.version + ': ' + changed + ' changed lines',
    older.title !== newer.title ? ' · title: “' + older.title + '” → “' + newer.title + '”' : ''),
  el('pre', { class: 'diff' }, rows.map(([k, text]) => el('span', { class: k === '+' ? 'add' : k === '-' ? 'del' : k === '…' ? 'fold' : 'same' }, (k === '…' ? '⋯ ' : k + ' ') + text + '\n'))));
}

async function documentPage(id, q) {
  const d = await api('/documents/' + id);
  const versions = d.versions || [];
  const diffBox = el('div', { id: 'diff-box' });
  const pickA = el('select', { id: 'diff-a', name: 'a' }, versions.map((v, i) => el('option', { value: v.id, selected: i === 1 }, 'v' + v.version + ' · ' + time(v.fetched_at))));
  const pickB = el('select', { id: 'diff-b', name: 'b' }, versions.map((v, i) => el('option', { value: v.id, selected: i === 0 }, 'v' + v.version + ' · ' + time(v.fetched_at))));
  const diff = async () => {
    const [a, b] = await Promise.all([api('/documents/' + pickA.value), api('/documents/' + pickB.value)]);
    diffBox.replaceChildren(a.version <= b.version ? diffView(a, b) : diffView(b, a));
  };
  show(el('h1', { id: 'doc-title' }, d.title || d.url),
    el('p', {}, d.platform + ' · ' + d.author + ' · ', externalLink(d.url), ' · version ' + d.version + ' · fetched ' + time(d.fetched_at), d.published_at ? ' · published ' + time(d.published_at) : ''),
    d.subtitle ? el('p', {}, d.subtitle) : '',
    el('h2', {}, 'Versions'), table(['version', 'fetched (UTC)', 'sha256', 'length', 'title'], versions.map((v) => [v.id === d.id ? el('strong', {}, 'v' + v.version) : link('/documents/' + v.id, 'v' + v.version),
      time(v.fetched_at), el('code', {}, (v.sha256 || '').slice(0, 12)), v.content_length + ' chars', v.title])),
    versions.length > 1 ? el('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); diff().catch((err) => diffBox.replaceChildren(message('error', err.message))); } },
      el('label', { for: 'diff-a' }, 'from', pickA), el('label', { for: 'diff-b' }, 'to', pickB), el('button', { type: 'submit', id: 'diff-button' }, 'Diff')) : muted('Only one version: nothing to diff.'),
    diffBox, el('h2', {}, 'Text'), el('pre', { class: 'doc', id: 'doc-content', tabindex: 0 }, d.content));
  if (versions.length > 1 && q && q.get('diff') !== 'no') await diff();
}

async function searchPage(q) {
  const text = q.get('q') || '';
  const input = el('input', { name: 'q', value: text, size: 50, placeholder: 'search the feature store', id: 'search-input', type: 'search' });
  const form = el('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); location.hash = '/search?q=' + enc(input.value); } },
    el('label', { for: 'search-input' }, 'query', input), el('button', { type: 'submit' }, 'Search'));
  if (!text) return show(el('h1', {}, 'Search'), form);
  show(el('h1', {}, 'Search'), form, el('p', {}, 'Searching…'));
  let result;
  try { result = await api('/search?k=10&q=' + enc(text)); } catch (e) { return show(el('h1', {}, 'Search'), form, message('error', e.message)); }
  show(el('h1', {}, 'Search'), form, el('div', { id: 'hits' }, result.hits.length ? result.hits.map((h) => el('div', { class: 'hit' },
    el('h2', {}, h.title || h.url, ' ', el('span', { class: 'muted' }, num(h.score))), el('p', {}, externalLink(h.url), ' · ', link('/documents/' + h.document_id, 'document')), el('pre', { class: 'doc' }, h.content))) : muted('No hits.')));
}
