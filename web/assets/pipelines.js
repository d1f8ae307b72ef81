// twinflow's dashboard: the pipelines grid, schedules, and comparing runs.
'use strict';

// One row per pipeline: its schedule, next fire time, paused state, the
// trigger action, and its last runs as a grid (a column per run, oldest on
// the left; the run's state on top, a cell per step below), like Airflow's.
async function pipelinesPage() {
  const [data, schedules] = await Promise.all([api('/pipelines?recent=14'), api('/schedules?count=1').catch(() => ({ schedules: [] }))]);
  const scheduleOf = new Map(schedules.schedules.map((s) => [s.pipeline, s]));
  // Scheduled DAGs that never ran yet have a row too (nothing to trigger: no snapshot).
  const known = new Set(data.pipelines.map((p) => p.name));
  const all = data.pipelines.concat(schedules.schedules.filter((s) => !known.has(s.pipeline)).map((s) => ({ name: s.pipeline, runs: 0, never: true, recent_runs: [] })));
  const rows = all.map((p) => {
    const s = scheduleOf.get(p.name);
    const paused = s ? s.paused : p.paused;
    return el('tr', { 'data-pipeline': p.name },
      el('th', { scope: 'row' }, link('/runs?pipeline=' + enc(p.name), p.name), el('div', { class: 'muted small' }, p.runs + ' runs')),
      el('td', {}, s ? [el('code', {}, s.cron), el('div', { class: 'muted small' }, s.timezone)] : el('span', { class: 'muted' }, 'none')),
      el('td', {}, s && s.next && s.next.length ? time(s.next[0]) : s && s.error ? s.error : el('span', { class: 'muted' }, '—')),
      el('td', {}, paused ? el('span', { class: 'status s-paused' }, 'paused') : el('span', { class: 'status s-active' }, 'active')),
      el('td', {}, runGrid(p)),
      el('td', {}, serverInfo.read_only || p.never ? '' : actionButton('Trigger', async () => { const r = await act('/pipelines/' + enc(p.name) + '/trigger'); return 'queued run ' + r.run_id; }, null, 'Trigger a run of ' + p.name)));
  });
  show(el('h1', {}, 'Pipelines'),
    all.length ? el('div', { class: 'scroll' }, el('table', { id: 'pipelines-grid', class: 'grid-table' },
      el('thead', {}, el('tr', {}, ['pipeline', 'schedule (UTC cron zone)', 'next fire (UTC)', 'state', 'last runs (oldest → newest)', ''].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))) : muted('No pipelines have run yet.'),
    serverInfo.read_only ? muted('Read-only dashboard: start `twinflow web` with TWINFLOW_WEB_TOKEN to trigger runs.') : '',
    el('div', { class: 'legend' }, ['succeeded', 'failed', 'running', 'queued', 'cached', 'upstream_failed', 'cancelled'].map((st) => { const x = el('span', {}, '■ ' + st); x.style.color = statusColours[st]; return x; })));
}

function runGrid(p) {
  const runs = (p.recent_runs || []).slice().reverse();
  if (!runs.length) return el('span', { class: 'muted' }, 'no runs');
  const steps = p.steps || [];
  const grid = el('div', { class: 'run-grid', role: 'group', 'aria-label': 'last runs of ' + p.name });
  grid.style.gridTemplateColumns = `8em repeat(${runs.length}, 14px)`;
  const cell = (run, status, label, cls) => {
    const a = el('a', { href: '#/runs/' + run.id, class: 'cell ' + (cls || ''), title: label, 'aria-label': label });
    a.style.background = statusColours[status] || '#eee';
    return a;
  };
  append(grid, [el('span', { class: 'grid-label' }, 'run')]);
  for (const r of runs) append(grid, [cell(r, r.status, `run ${r.id}: ${r.status}, ${r.trigger}, ${time(r.created_at)}, ${seconds(r.duration_seconds)}`, 'run-cell')]);
  for (const step of steps) {
    append(grid, [el('span', { class: 'grid-label', title: step }, step)]);
    for (const r of runs) {
      const st = r.steps && r.steps[step];
      append(grid, [st ? cell(r, st[0], `run ${r.id} · ${step}: ${st[0]}${st[1] > 1 ? ', ' + st[1] + ' attempts' : ''}`, st[1] > 1 ? 'retried' : '')
        : el('span', { class: 'cell empty', title: `run ${r.id} · ${step}: not in this run` })]);
    }
  }
  return grid;
}

async function schedulesPage() {
  const data = await api('/schedules');
  show(el('h1', {}, 'Schedules'), muted('DAG files under ' + data.dags_dir),
    data.schedules.length ? table(['pipeline', 'cron', 'zone', 'state', 'next fire times (UTC)', 'file'],
      data.schedules.map((s) => [link('/runs?pipeline=' + enc(s.pipeline), s.pipeline), el('code', {}, s.cron), s.timezone, s.paused ? 'paused' : 'active',
        s.error ? s.error : el('div', {}, s.next.map((t) => el('div', {}, time(t)))), s.file])) : muted('No scheduled DAGs.'));
}

// Compare runs of a pipeline: pick two or more, see the params that differ,
// the final value of every metric with its delta to the first run, and the
// series drawn over each other.
async function comparePage(q) {
  const pipelines = (await api('/pipelines')).pipelines;
  const pipeline = q.get('pipeline') || (pipelines[0] && pipelines[0].name) || '';
  const chosen = (q.get('runs') || '').split(',').filter((x) => /^\d+$/.test(x));
  const pick = el('select', { id: 'compare-pipeline', name: 'pipeline', onchange: () => { location.hash = '/compare?pipeline=' + enc(pick.value); } },
    pipelines.map((p) => el('option', { value: p.name, selected: p.name === pipeline }, p.name)));
  const recent = pipeline ? (await api('/runs?limit=30&pipeline=' + enc(pipeline))).runs : [];
  for (const id of chosen) if (!recent.some((r) => String(r.id) === id)) recent.push({ id: Number(id), status: '', pipeline, created_at: null });
  const boxes = recent.map((r) => el('label', { class: 'run-pick' }, el('input', { type: 'checkbox', value: String(r.id), checked: chosen.includes(String(r.id)), 'aria-label': 'compare run ' + r.id }),
    ' run ' + r.id + ' ', r.status ? badge(r.status) : '', ' ' + time(r.started_at || r.created_at)));
  const form = el('form', { class: 'compare-form', id: 'compare-form', onsubmit: (e) => {
    e.preventDefault();
    const ids = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
    location.hash = '/compare?pipeline=' + enc(pipeline) + '&runs=' + ids.join(',');
  } }, el('label', { for: 'compare-pipeline' }, 'pipeline ', pick),
  el('fieldset', {}, el('legend', {}, 'runs (pick two or more)'), boxes.length ? boxes : muted('No runs.')),
  el('button', { type: 'submit', id: 'compare-button' }, 'Compare'));
  if (chosen.length < 2) return show(el('h1', {}, 'Compare runs'), form, muted('Pick at least two runs.'));
  const data = await api('/metrics?runs=' + chosen.slice(0, 10).join(','));
  const runs = data.runs;
  // Params that differ.
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.run.params || {})))].sort();
  const show1 = (v) => (v === undefined ? el('span', { class: 'muted' }, 'unset') : value(v));
  const same = (k) => runs.every((r) => JSON.stringify((r.run.params || {})[k]) === JSON.stringify((runs[0].run.params || {})[k]));
  const differing = keys.filter((k) => !same(k));
  // Final values per step and key.
  const seriesKey = (s) => s.step.replace(/#\d+$/, '') + ' · ' + s.key;
  const metricKeys = [...new Set(runs.flatMap((r) => r.series.map(seriesKey)))].sort();
  const final = (r, k) => { const s = r.series.filter((x) => seriesKey(x) === k).pop(); return s && s.points.length ? s.points[s.points.length - 1][1] : undefined; };
  const delta = (v, base) => {
    if (typeof v !== 'number' || typeof base !== 'number') return '';
    const d = v - base;
    return el('span', { class: d === 0 ? 'muted' : d > 0 ? 'up' : 'down' }, (d > 0 ? '+' : '') + num(d));
  };
  const runHead = (r) => link('/runs/' + r.run.id, 'run ' + r.run.id);
  const charts = metricKeys.filter((k) => runs.some((r) => r.series.some((s) => seriesKey(s) === k && s.points.length > 1)))
    .map((k) => lineChart(k, runs.map((r) => { const s = r.series.filter((x) => seriesKey(x) === k).pop(); return { name: 'run ' + r.run.id, points: s ? s.points : [] }; }), { legend: true }));
  show(el('h1', {}, 'Compare runs of ' + pipeline), form,
    el('h2', {}, 'Params that differ'),
    differing.length ? table(['param'].concat(runs.map((r) => 'run ' + r.run.id)), differing.map((k) => [k].concat(runs.map((r) => show1((r.run.params || {})[k])))), { id: 'params-diff' })
      : muted(keys.length ? 'All ' + keys.length + ' params are the same.' : 'No params.'),
    el('h2', {}, 'Final metrics'),
    metricKeys.length ? el('div', { class: 'scroll' }, el('table', { id: 'metric-deltas' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'metric'), runs.map((r, i) => el('th', { scope: 'col' }, runHead(r), i ? ' (Δ vs run ' + runs[0].run.id + ')' : '')))),
      el('tbody', {}, metricKeys.map((k) => el('tr', {}, el('th', { scope: 'row' }, k), runs.map((r) => {
        const v = final(r, k), base = final(runs[0], k);
        return el('td', {}, v === undefined ? el('span', { class: 'muted' }, '—') : num(v), r === runs[0] ? '' : [' ', delta(v, base)]);
      })))))) : muted('No metrics in these runs.'),
    el('h2', {}, 'Series'), el('div', { class: 'charts', id: 'charts' }, charts.length ? charts : muted('No series with more than one point.')));
}
