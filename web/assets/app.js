// twinflow's dashboard: a small single-page app over /api/v1 (core.js,
// charts.js, graph.js, run.js, pipelines.js, records.js): the routes, and
// starting up.
'use strict';

const routes = [
  [/^\/runs\/(\d+)$/, (m) => runPage(m[1])],
  [/^\/runs$/, (m, q) => runsPage(q)],
  [/^\/pipelines$/, () => pipelinesPage()],
  [/^\/artifacts$/, (m, q) => artifactsPage(q)],
  [/^\/artifacts\/([^/]+)$/, (m, q) => artifactPage(decodeURIComponent(m[1]), q)],
  [/^\/artifacts\/([^/]+)\/(\d+)$/, (m) => versionPage(decodeURIComponent(m[1]), m[2])],
  [/^\/lineage\/(\d+)$/, (m) => lineagePage(m[1])],
  [/^\/(compare|metrics)$/, (m, q) => comparePage(q)],
  [/^\/models$/, (m, q) => modelsPage(q)],
  [/^\/models\/([^/]+)$/, (m) => modelPage(decodeURIComponent(m[1]))],
  [/^\/schedules$/, () => schedulesPage()],
  [/^\/prompts$/, (m, q) => promptsPage(q)],
  [/^\/documents$/, (m, q) => documentsPage(q)],
  [/^\/documents\/(\d+)$/, (m, q) => documentPage(m[1], q)],
  [/^\/search$/, (m, q) => searchPage(q)],
];

async function render() {
  generation++;
  const hash = location.hash.slice(1) || '/runs';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  for (const a of document.querySelectorAll('header nav a'))
    if (a.getAttribute('href') === '#/' + path.split('/')[1]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  for (const [pattern, page] of routes) {
    const m = path.match(pattern);
    if (!m) continue;
    try { await page(m, params); } catch (e) { show(message('error', e.message)); }
    return;
  }
  show(message('error', 'no such page: ' + path));
}

async function start() {
  const input = document.getElementById('token');
  input.value = token();
  input.addEventListener('change', () => sessionStorage.setItem('twinflow-token', input.value));
  document.getElementById('token-form').addEventListener('submit', (e) => { e.preventDefault(); sessionStorage.setItem('twinflow-token', input.value); });
  try {
    serverInfo = await api('/info');
    document.getElementById('mode').textContent = serverInfo.read_only ? 'read-only' : '';
    document.getElementById('token-form').hidden = serverInfo.read_only;
  } catch (e) { /* the pages say what is wrong */ }
  // The skip link focuses the content without touching the route in the hash.
  document.querySelector('.skip').addEventListener('click', (e) => { e.preventDefault(); main().focus(); });
  window.addEventListener('hashchange', render);
  render();
}
document.addEventListener('DOMContentLoaded', start);
