// twinflow's dashboard: the runs list and the run page (live while running).
'use strict';

const activeStatuses = ['queued', 'running'];

async function runsPage(q) {
  const filter = { pipeline: q.get('pipeline') || '', status: q.get('status') || '', trigger: q.get('trigger') || '', before: q.get('before') || '', after: q.get('after') || '' };
  const pipelines = (await api('/pipelines')).pipelines;
  const select = (name, options) => el('label', { for: 'filter-' + name }, name,
    el('select', { name, id: 'filter-' + name }, el('option', { value: '' }, 'any'),
      options.map((o) => el('option', { value: o, selected: filter[name] === o }, o))));
  const form = el('form', { class: 'filters', id: 'runs-filter', onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const name of ['pipeline', 'status', 'trigger']) { const v = form.elements[name].value; if (v) p.set(name, v); }
    location.hash = '/runs' + (p.toString() ? '?' + p : '');
  } },
  select('pipeline', pipelines.map((p) => p.name)),
  select('status', ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']),
  select('trigger', ['manual', 'rerun', 'schedule', 'event', 'api']),
  el('button', { type: 'submit' }, 'Filter'));
  const list = el('div', { id: 'runs-list' });
  show(el('h1', {}, 'Runs'), form, list);
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) p.set(k, v);
  if (/^\d+$/.test(q.get('limit') || '')) p.set('limit', q.get('limit'));
  const load = async () => {
    const page = await api('/runs?' + listQuery(p, 50));
    const rows = page.runs.map((r) => [link('/runs/' + r.id, String(r.id)), link('/runs?pipeline=' + enc(r.pipeline), r.pipeline), badge(r.status), r.trigger,
      r.parent_run_id ? link('/runs/' + r.parent_run_id, String(r.parent_run_id)) : '', time(r.started_at || r.created_at),
      seconds(r.duration_seconds), r.error]);
    list.replaceChildren(page.runs.length ? table(['run', 'pipeline', 'status', 'trigger', 'parent', 'started (UTC)', 'duration', 'error'], rows) : muted('No runs.'),
      pager('/runs', p, page, 'runs'));
    return true;
  };
  await load();
  // The newest page refreshes itself.
  if (!filter.before && !filter.after) pollWhile(load, 3000);
}

function versionLinks(list) {
  return (list || []).map((e) => el('div', {}, e.name + ': ', link('/artifacts/' + enc(e.version.artifact) + '/' + e.version.version, e.version.artifact + ' v' + e.version.version)));
}

// Outputs of the run's steps: one table row per output with its metadata.
function outputsTable(steps) {
  const rows = [];
  for (const s of steps) for (const o of s.outputs || []) {
    const v = o.version;
    rows.push([s.step_id, o.name, link('/artifacts/' + enc(v.artifact) + '/' + v.version, v.artifact + ' v' + v.version), bytes(v.size_bytes),
      link('/lineage/' + v.id, 'lineage'), value(v.metadata)]);
  }
  return rows.length ? table(['step', 'output', 'version', 'size', '', 'metadata'], rows, { id: 'outputs' }) : muted('No outputs recorded.');
}

// The run's metric series drawn: per attempt, loss and learning rate with
// the epochs marked, then the other series; one-point series as a table.
function metricCharts(series) {
  const byStep = new Map();
  for (const s of series) {
    if (!byStep.has(s.step)) byStep.set(s.step, []);
    byStep.get(s.step).push(s);
  }
  const out = [];
  for (const [step, list] of byStep) {
    const epoch = list.find((s) => s.key === 'epoch' && s.points.length > 1);
    const marks = [];
    if (epoch) {
      let last = null;
      for (const [x, e] of epoch.points) { if (e !== last && last !== null) marks.push({ x, label: 'epoch ' + e }); last = e; }
    }
    const order = (k) => (k === 'loss' ? 0 : k === 'learning_rate' ? 1 : 2);
    const charts = list.filter((s) => s.points.length > 1 && s !== epoch).sort((a, b) => order(a.key) - order(b.key) || a.key.localeCompare(b.key))
      .map((s) => lineChart(step + ' · ' + s.key, [{ name: s.key, points: s.points }], { marks: order(s.key) < 2 ? marks : [], xLabel: order(s.key) < 2 || s.points.length > 50 ? 'step' : 'epoch' }));
    const finals = list.filter((s) => s.points.length === 1);
    out.push(el('section', { class: 'metric-step' }, el('h3', {}, step),
      finals.length ? kvTable(Object.fromEntries(finals.map((s) => [s.key, s.points[0][1]]))) : '',
      el('div', { class: 'charts' }, charts)));
  }
  return out.length ? out : [muted('No metrics recorded.')];
}

async function runPage(id) {
  let first = await apiIfChanged('/runs/' + id, null);
  let data = first.body, etag = first.etag;
  const header = el('div', {}), actions = el('div', { id: 'run-actions' }), live = el('span', { id: 'live', 'aria-live': 'polite' });
  const graph = el('div', { class: 'graph' }), gantt = el('div', {}), steps = el('div', {}), attempts = el('div', {});
  const params = el('div', { id: 'params' }), outputs = el('div', {}), events = el('div', {});
  const logBox = el('div', { id: 'log-box' }), metrics = el('div', { id: 'run-metrics' }, muted('Loading metrics…'));
  show(header, actions, el('h2', {}, 'Timeline'), gantt, el('h2', {}, 'Metrics'), metrics,
    el('div', { class: 'two-col' }, el('section', {}, el('h2', {}, 'Params'), params), el('section', {}, el('h2', {}, 'DAG'), graph)),
    el('h2', {}, 'Steps'), steps, el('h2', {}, 'Outputs'), outputs, events, el('h2', {}, 'Attempts'), attempts, el('h2', {}, 'Log'), logBox);
  let lastGraph = '', logShown = '';
  const draw = () => {
    const r = data.run;
    header.replaceChildren(el('h1', {}, 'Run ' + r.id + ' of ', link('/runs?pipeline=' + enc(r.pipeline), r.pipeline), ' ', badge(r.status), ' ', live),
      el('p', {}, 'trigger ' + r.trigger, r.parent_run_id ? [' · rerun of ', link('/runs/' + r.parent_run_id, String(r.parent_run_id))] : '',
        r.logical_time ? ' · tick ' + time(r.logical_time) : '', ' · created ' + time(r.created_at),
        r.started_at ? ' · started ' + time(r.started_at) : '', r.finished_at ? ' · finished ' + time(r.finished_at) : '',
        ' · ' + (r.duration_seconds === null ? (ms(r.started_at) ? seconds((Date.now() - ms(r.started_at)) / 1000) + ' so far' : 'not started') : seconds(r.duration_seconds)),
        r.host ? ' · on ' + r.host : ''),
      r.error ? message('error', r.error) : '', data.dag_error ? message('error', data.dag_error) : '');
    const failed = data.steps.some((s) => ['failed', 'upstream_failed', 'cancelled', 'interrupted'].includes(s.status));
    actions.replaceChildren(actionsOrNote([
      !activeStatuses.includes(r.status) && r.status !== 'succeeded' && failed
        ? actionButton('Rerun failed steps', async () => { const x = await act('/runs/' + id + '/rerun'); return 'queued run ' + x.run_id; }, 'rerun') : null,
      activeStatuses.includes(r.status) && !r.cancel_requested
        ? actionButton('Cancel', async () => { await act('/runs/' + id + '/cancel'); return 'cancel requested'; }, 'cancel') : null,
    ]));
    params.replaceChildren(kvTable(r.params || {}));
    const state = JSON.stringify(data.steps.map((s) => [s.step_id, s.status, s.attempts]));
    if (state !== lastGraph) {
      lastGraph = state;
      graph.replaceChildren(el('img', { id: 'dag-graph', alt: 'DAG of run ' + r.id + ', steps coloured by state', src: '/api/v1/runs/' + r.id + '/graph.svg?v=' + enc(String(Date.now())) }));
    }
    gantt.replaceChildren(timeline(r, data.attempts));
    steps.replaceChildren(table(['step', 'type', 'status', 'attempts', 'needs', 'duration', 'inputs'],
      data.steps.map((s) => [s.step_id, s.type || '', badge(s.status), String(s.attempts), (s.needs || []).join(', '), seconds(s.duration_seconds), versionLinks(s.inputs)]), { id: 'steps' }));
    outputs.replaceChildren(outputsTable(data.steps));
    if (Array.isArray(data.events) && data.events.length)
      events.replaceChildren(el('h2', {}, 'Events consumed'), table(Object.keys(data.events[0]), data.events.map((e) => Object.keys(data.events[0]).map((k) => value(e[k])))));
    attempts.replaceChildren(table(['step', 'attempt', 'status', 'started (UTC)', 'exit code', 'signal', 'duration', 'error', 'log'],
      data.attempts.map((a) => [a.step_id, String(a.attempt), badge(a.status), time(a.started_at), a.exit_code === null ? '' : String(a.exit_code),
        a.signal === null ? '' : String(a.signal), seconds(a.duration_seconds), a.error,
        a.status === 'cached' ? '' : el('button', { type: 'button', 'aria-label': 'log of ' + a.step_id + ' attempt ' + a.attempt, onclick: () => showLog(r.id, a.step_id, a.attempt, logBox) }, 'log')])));
    // The log worth reading: the running attempt's, else the last failure's.
    const pick = data.attempts.filter((a) => a.status === 'running').pop() || data.attempts.filter((a) => a.status === 'failed' || a.status === 'timed_out').pop();
    const key = pick ? pick.step_id + '#' + pick.attempt : '';
    if (pick && key !== logShown) { logShown = key; showLog(r.id, pick.step_id, pick.attempt, logBox); }
    if (!pick && !logShown) logBox.replaceChildren(muted('Pick an attempt\'s log above.'));
    live.textContent = activeStatuses.includes(r.status) ? '● live' : '';
  };
  draw();
  const loadMetrics = async () => metrics.replaceChildren(...metricCharts((await api('/runs/' + id + '/metrics')).series),
    el('p', {}, link('/compare?pipeline=' + enc(data.run.pipeline) + '&runs=' + id, 'compare with other runs')));
  await loadMetrics();
  if (!activeStatuses.includes(data.run.status)) return;
  // Live: ask again with If-None-Match; redraw what changed; stop at the end.
  let ticks = 0;
  pollWhile(async () => {
    const next = await apiIfChanged('/runs/' + id, etag);
    if (next) { data = next.body; etag = next.etag; draw(); } else gantt.replaceChildren(timeline(data.run, data.attempts));
    const going = activeStatuses.includes(data.run.status);
    if (!going) window.__twinflowPollingStopped = true;
    if (++ticks % 5 === 0 || (next && !going)) await loadMetrics();
    return going;
  }, 1500);
}

// A step's log: the tail, then (when following) what is appended, by offset.
function showLog(runId, stepId, attempt, box) {
  const pre = el('pre', { class: 'log', id: 'log', tabindex: 0, 'aria-label': 'log of ' + stepId + ' attempt ' + attempt });
  const follow = el('input', { type: 'checkbox', id: 'follow', checked: true });
  const status = el('span', { class: 'muted' });
  box.replaceChildren(el('p', {}, stepId + ' attempt ' + attempt + ' ',
    el('a', { href: '/api/v1/runs/' + runId + '/steps/' + enc(stepId) + '/log/raw?attempt=' + attempt }, 'download'), ' ',
    el('label', { for: 'follow' }, follow, ' follow'), ' ', status), pre);
  const base = '/runs/' + runId + '/steps/' + enc(stepId) + '/log?attempt=' + attempt;
  let offset = null;
  const mine = generation;
  const fetchMore = async () => {
    if (!box.contains(pre) || mine !== generation) return;
    try {
      const chunk = await api(base + (offset === null ? '&tail=65536' : '&offset=' + offset));
      pre.appendChild(document.createTextNode(chunk.text));
      if (chunk.text && follow.checked) pre.scrollTop = pre.scrollHeight;
      offset = chunk.next_offset;
      status.textContent = bytes(chunk.size) + ', ' + chunk.status;
      if (!chunk.complete && follow.checked) setTimeout(fetchMore, 1000);
    } catch (e) { status.textContent = e.message; }
  };
  fetchMore();
}
