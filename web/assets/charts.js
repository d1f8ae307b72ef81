// twinflow's dashboard, drawings: line charts, the attempts' Gantt timeline.
'use strict';

const palette = ['#1565c0', '#e5383b', '#2d6a4f', '#9d4edd', '#f77f00', '#555555', '#00838f', '#ad1457'];
const statusColours = {
  succeeded: '#52b788', failed: '#e5383b', timed_out: '#c1121f', running: '#4ea8de', retrying: '#ffd166',
  cached: '#95d5b2', reused: '#b7e4c7', cancelled: '#9d8ec4', interrupted: '#f4a261', queued: '#bdbdbd',
  pending: '#e0e0e0', upstream_failed: '#f4a3a3',
};

// About five round tick values covering [lo, hi].
function ticks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / (count || 5);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

// A line chart: series [{name, points: [[x, y], ...]}], optional vertical
// marks [{x, label}] (epochs). Points that are not finite numbers are skipped.
function lineChart(title, series, options) {
  options = options || {};
  const w = options.width || 460, h = options.height || 220;
  const left = 56, right = 14, top = 24, bottom = 30;
  const clean = series.map((s) => ({ name: s.name, points: (s.points || []).filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])) }))
    .filter((s) => s.points.length);
  if (!clean.length) return el('div', { class: 'chart' }, muted(title + ': no points'));
  const all = clean.flatMap((s) => s.points);
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
  const sx = (x) => left + (w - left - right) * (x - x0) / (x1 - x0);
  const sy = (y) => h - bottom - (h - top - bottom) * (y - y0) / (y1 - y0);
  const root = svg('svg', { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: 'chart-svg', role: 'img', 'aria-label': title });
  root.appendChild(svg('title', {}, title));
  root.appendChild(svg('text', { x: left, y: 15, class: 'chart-title' }, title));
  for (const t of ticks(y0, y1, 4)) {
    root.appendChild(svg('line', { x1: left, x2: w - right, y1: sy(t), y2: sy(t), class: 'grid' }));
    root.appendChild(svg('text', { x: left - 4, y: sy(t) + 3, 'text-anchor': 'end', class: 'tick' }, num(t)));
  }
  for (const t of ticks(x0, x1, 5)) root.appendChild(svg('text', { x: sx(t), y: h - bottom + 14, 'text-anchor': 'middle', class: 'tick' }, num(t)));
  root.appendChild(svg('line', { x1: left, y1: h - bottom, x2: w - right, y2: h - bottom, class: 'axis' }));
  root.appendChild(svg('line', { x1: left, y1: top, x2: left, y2: h - bottom, class: 'axis' }));
  if (options.xLabel) root.appendChild(svg('text', { x: w - right, y: h - 3, 'text-anchor': 'end', class: 'tick' }, options.xLabel));
  for (const m of options.marks || []) {
    if (!(m.x >= x0 && m.x <= x1)) continue;
    root.appendChild(svg('line', { x1: sx(m.x), x2: sx(m.x), y1: top, y2: h - bottom, class: 'mark' }));
    if (m.label) root.appendChild(svg('text', { x: sx(m.x) + 2, y: top + 9, class: 'mark-label' }, m.label));
  }
  clean.forEach((s, i) => {
    const colour = palette[i % palette.length];
    const d = s.points.map((p, k) => (k ? 'L' : 'M') + sx(p[0]).toFixed(1) + ' ' + sy(p[1]).toFixed(1)).join(' ');
    root.appendChild(svg('path', { d, fill: 'none', stroke: colour, 'stroke-width': 1.6, class: 'series', 'data-points': s.points.length }));
    if (s.points.length < 30) for (const p of s.points) root.appendChild(svg('circle', { cx: sx(p[0]).toFixed(1), cy: sy(p[1]).toFixed(1), r: 2.5, fill: colour }));
  });
  const legend = clean.length > 1 || options.legend
    ? el('div', { class: 'legend' }, clean.map((s, i) => { const sp = el('span', {}, '■ ' + s.name); sp.style.color = palette[i % palette.length]; return sp; }))
    : '';
  return el('figure', { class: 'chart' }, root, legend);
}

// The run's attempts as a Gantt chart: a row per step, a bar per attempt
// from its start to its end (now while running), coloured by status; a retry
// is a second bar in the same row, labelled with its attempt number.
function timeline(run, attempts) {
  const dated = attempts.filter((a) => ms(a.started_at) !== null);
  if (!dated.length) return muted('No attempts have started yet.');
  const now = Date.now();
  const endOf = (a) => ms(a.finished_at) ?? (a.status === 'running' ? now : ms(a.started_at) + 1000 * (a.duration_seconds || 0));
  const t0 = Math.min(ms(run.started_at) ?? Infinity, ...dated.map((a) => ms(a.started_at)));
  const t1 = Math.max(...dated.map(endOf), ms(run.finished_at) ?? 0);
  const span = Math.max(t1 - t0, 1);
  const steps = [];
  for (const a of dated) if (!steps.includes(a.step_id)) steps.push(a.step_id);
  const rows = steps.map((step) => {
    const lane = el('div', { class: 'lane' });
    for (const a of dated.filter((x) => x.step_id === step)) {
      const start = ms(a.started_at), end = Math.max(endOf(a), start);
      const label = `${a.step_id} attempt ${a.attempt}: ${a.status}, ${seconds((end - start) / 1000)} from +${seconds((start - t0) / 1000)}`;
      const bar = el('div', { class: 'bar' + (a.attempt > 1 ? ' retry' : ''), title: label, role: 'img', 'aria-label': label, 'data-status': a.status },
        a.attempt > 1 ? '#' + a.attempt : '');
      bar.style.left = (100 * (start - t0) / span).toFixed(3) + '%';
      bar.style.width = (100 * (end - start) / span).toFixed(3) + '%';
      bar.style.background = statusColours[a.status] || '#999';
      lane.appendChild(bar);
    }
    const tries = dated.filter((x) => x.step_id === step).length;
    return el('div', { class: 'row' }, el('span', { class: 'label', title: step }, step, tries > 1 ? el('span', { class: 'muted' }, ' ×' + tries) : ''), lane);
  });
  const axis = el('div', { class: 'row axis-row' }, el('span', { class: 'label' }, ''),
    el('div', { class: 'lane axis' }, ticks(0, span / 1000, 6).filter((t) => t * 1000 <= span * 0.92).map((t) => {
      const tick = el('span', { class: 'tick' }, '+' + seconds(t));
      tick.style.left = (100 * t * 1000 / span).toFixed(3) + '%';
      return tick;
    })));
  const used = [...new Set(dated.map((a) => a.status))];
  const legend = el('div', { class: 'legend' }, used.map((s) => { const sp = el('span', {}, '■ ' + s); sp.style.color = statusColours[s] || '#999'; return sp; }));
  return el('div', { class: 'timeline', id: 'timeline' }, rows, axis, legend);
}
