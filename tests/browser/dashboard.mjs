// Browser checks of `twinflow web` in Debian's headless Chromium, driven by
// playwright-core (no browser download). tests/web_browser_test.cc seeds the
// database, starts the server and runs:
//   node dashboard.mjs SEED.json
// SEED.json: {url, token, out, ok, failed, train: [a, b], live, flag,
// xss_document, changed_document, manifest_version_id}. Each check prints
// "OK name" or "FAIL name: why"; the exit code is the number of failures.
// A 1400x1000 screenshot of every page goes to `out`, and an 800 px wide one
// (NAME-800.png) of the runs, run, pipelines, model, compare, document and
// lineage pages.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const seed = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { url, token, out } = seed;
fs.mkdirSync(out, { recursive: true });
const userData = fs.mkdtempSync(path.join(out, 'chromium-profile-'));
let failures = 0;
const check = (name, ok, why) => {
  console.log(ok ? `OK ${name}` : `FAIL ${name}: ${why}`);
  if (!ok) failures++;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// page.waitForFunction polls with eval, which the dashboard's CSP forbids: poll with evaluate instead.
const waitUntil = async (page, fn, timeout, arg) => {
  const end = Date.now() + (timeout || 15000);
  for (;;) {
    if (await page.evaluate(fn, arg).catch(() => false)) return true;
    if (Date.now() > end) return false;
    await sleep(200);
  }
};

const context = await chromium.launchPersistentContext(userData, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const dirty = [];
const consoleErrors = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  await page.setViewportSize({ width: 1400, height: 1000 });
  // Anything a payload could do that we would notice: a dialog, a global, a console error from CSP.
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(page.url() + ': ' + m.text()); });

  // Every page: no NaN, undefined or [object Object] in its text or its
  // drawings' attributes; every control labelled; a screenshot.
  const visit = async (hash, ready, shot) => {
    await page.goto(url + '/#' + hash);
    await page.waitForSelector(ready, { timeout: 20000 });
    await sleep(300);
    const bad = await page.evaluate(() => {
      const text = document.body.innerText;
      const found = (text.match(/\bNaN\b|\bundefined\b|\[object Object\]|\bInfinity\b/g) || []);
      for (const node of document.querySelectorAll('svg *, [style]'))
        for (const a of node.attributes) if (/NaN|undefined|Infinity/.test(a.value)) found.push(node.tagName + '@' + a.name + '=' + a.value.slice(0, 60));
      return found;
    });
    if (bad.length) dirty.push(hash + ': ' + bad.slice(0, 5).join(', '));
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, button, textarea')].filter((c) => {
      if (c.type === 'hidden' || c.closest('[hidden]')) return false;
      const labelledBy = (c.getAttribute('aria-labelledby') || '').split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map((e) => e.textContent).join(' ');
      const name = (c.getAttribute('aria-label') || labelledBy || c.title || (c.tagName === 'BUTTON' ? c.textContent : '') ||
        (c.id && document.querySelector(`label[for="${c.id}"]`) ? 'label' : '') || (c.closest('label') ? 'label' : '')).trim();
      return !name;
    }).map((c) => c.outerHTML.slice(0, 80)));
    if (unlabelled.length) labelProblems.push(hash + ': ' + unlabelled.join(' | '));
    if (shot) await page.screenshot({ path: path.join(out, shot + '.png') });
  };
  const labelProblems = [];

  // 1. The runs page lists the seeded runs.
  await visit('/runs', `#runs-list a[href="#/runs/${seed.failed}"]`, 'runs');
  check('runs-list', (await page.locator('#runs-list tbody tr').count()) >= 5, 'too few rows');

  // 2. A training run: the Gantt (a retry as a second bar), the charts with epoch marks, params as a table.
  await visit(`/runs/${seed.train[0]}`, '#run-metrics .chart-svg path.series', 'run');
  await waitUntil(page, () => { const i = document.querySelector('#dag-graph'); return i && i.complete && i.naturalWidth > 0; }, 15000);
  const size = await page.$eval('#dag-graph', (i) => [i.naturalWidth, i.naturalHeight]);
  check('dag-graph', size[0] > 50 && size[1] > 20, `image is ${size}`);
  const bars = await page.$$eval('#timeline .bar', (list) => list.map((b) => {
    const r = b.getBoundingClientRect(), lane = b.parentElement.getBoundingClientRect();
    return { x: r.x - lane.x, w: r.width, laneW: lane.width, retry: b.classList.contains('retry') };
  }));
  check('timeline-bars', bars.length >= 3 && bars.every((b) => b.w >= 2 && b.x >= -0.5 && b.x + b.w <= b.laneW + 1) && bars.some((b) => b.x > 5),
    JSON.stringify(bars));
  check('timeline-retry', bars.filter((b) => b.retry).length === 1, JSON.stringify(bars));
  const charts = await page.$$eval('#run-metrics path.series', (ps) => ps.map((p) => ({ points: Number(p.dataset.points), d: p.getAttribute('d').length, w: p.getBoundingClientRect().width })));
  check('charts', charts.length >= 3 && charts.some((c) => c.points >= 60) && charts.every((c) => c.points >= 2 && c.w > 50), JSON.stringify(charts));
  const charted = await page.$$eval('#run-metrics .chart-svg', (l) => l.map((s) => s.getAttribute('aria-label')));
  check('epoch-marks', (await page.locator('#run-metrics line.mark').count()) >= 4 && charted.some((t) => /loss/.test(t)) && charted.some((t) => /learning_rate/.test(t)), JSON.stringify(charted));
  const params = await page.$$eval('#params table.kv th', (l) => l.map((t) => t.textContent));
  const cells = await page.$$eval('main td', (l) => l.map((t) => t.textContent).filter((t) => /^\s*[{[]\s*"/.test(t)));
  check('params-table', params.includes('lr') && params.includes('epochs') && cells.length === 0, JSON.stringify({ params, cells }));
  check('no-actions-on-succeeded', (await page.locator('#rerun, #cancel').count()) === 0, 'rerun or cancel offered');

  // 3. The failed run's log and rerun button (with the token).
  await page.fill('#token', token);
  await page.dispatchEvent('#token', 'change');
  await visit(`/runs/${seed.failed}`, '#log', 'run-failed');
  await waitUntil(page, () => document.querySelector('#log').textContent.length > 0, 15000);
  const log = await page.$eval('#log', (e) => e.textContent);
  check('failed-log', log.includes('about to fail') && (await page.locator('#cancel').count()) === 0, JSON.stringify(log.slice(0, 200)));
  await page.click('#rerun');
  await page.waitForSelector('#run-actions .message', { timeout: 15000 });
  const answer = await page.locator('#run-actions .message').first().textContent();
  check('rerun', /queued run \d+/.test(answer), answer);

  // 4. The live run: polled with If-None-Match (304s), updated without a reload when it ends, then polling stops.
  await visit(`/runs/${seed.live}`, '#timeline .bar', 'run-live');
  check('live-indicator', (await page.textContent('#live')).includes('live'), await page.textContent('#live'));
  await waitUntil(page, () => window.__twinflowPolls && window.__twinflowPolls.notModified >= 2, 20000);
  const polls = await page.evaluate(() => window.__twinflowPolls || {});
  check('live-304', polls.notModified >= 2, JSON.stringify(polls));
  await waitUntil(page, () => document.querySelector('#log') && document.querySelector('#log').textContent.includes('waiting for the flag'), 15000);
  const liveLog = await page.$eval('#log', (e) => e.textContent).catch(() => '');
  const barsBefore = await page.locator('#timeline .bar').count();
  fs.writeFileSync(seed.flag, 'go\n');
  await waitUntil(page, () => /succeeded/.test(document.querySelector('main h1').textContent), 30000);
  const liveTitle = await page.textContent('main h1');
  const barsAfter = await page.locator('#timeline .bar').count();
  check('live-update', /succeeded/.test(liveTitle) && barsAfter > barsBefore && liveLog.includes('waiting for the flag'),
    JSON.stringify({ liveTitle, barsBefore, barsAfter, liveLog: liveLog.slice(0, 100) }));
  // The page redraws before its last poll returns: wait for that poll to say it was the last.
  await waitUntil(page, () => window.__twinflowPollingStopped === true, 10000);
  const stoppedAt = await page.evaluate(() => [window.__twinflowPollingStopped === true, window.__twinflowPolls.requests]);
  await sleep(4000);
  const laterRequests = await page.evaluate(() => window.__twinflowPolls.requests);
  check('live-stopped', stoppedAt[0] && laterRequests === stoppedAt[1] && !(await page.textContent('#live')).includes('live'), JSON.stringify({ stoppedAt, laterRequests }));
  await page.screenshot({ path: path.join(out, 'run-live-ended.png') });

  // 5. The pipelines grid: a row per DAG, a cell per run and step, the schedule, the trigger action.
  await visit('/pipelines', '#pipelines-grid', 'pipelines');
  const grid = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('#pipelines-grid tbody tr')];
    const train = rows.find((r) => r.dataset.pipeline === 'web_train');
    const nightly = rows.find((r) => r.dataset.pipeline === 'web_nightly');
    const cells = train ? [...train.querySelectorAll('.run-grid a.cell')].map((c) => c.getBoundingClientRect()) : [];
    return { rows: rows.length, cells: cells.length, sized: cells.every((c) => c.width >= 10 && c.height >= 10),
      triggers: document.querySelectorAll('#pipelines-grid button.action').length, nightly: nightly ? nightly.textContent : null };
  });
  // web_train: 2 runs x (run + 2 steps) cells. web_nightly never ran: only its schedule knows it.
  check('pipelines-grid', grid.rows >= 6 && grid.cells === 6 && grid.sized && grid.triggers === grid.rows - 1 && /0 3 \* \* \*/.test(grid.nightly || ''), JSON.stringify(grid));

  // 6. Compare the two training runs: params diff, final metric deltas, overlaid series.
  await visit(`/compare?pipeline=web_train&runs=${seed.train[0]},${seed.train[1]}`, '#charts', 'compare');
  const compare = await page.evaluate(() => ({
    diff: [...document.querySelectorAll('#params-diff tbody tr')].map((r) => r.textContent),
    deltas: document.querySelectorAll('#metric-deltas tbody tr').length,
    overlaid: [...document.querySelectorAll('#charts svg')].map((s) => s.querySelectorAll('path.series').length),
  }));
  check('compare', compare.diff.length === 1 && compare.diff[0].includes('0.01') && compare.diff[0].includes('0.02') && compare.deltas >= 3 && compare.overlaid.some((n) => n === 2), JSON.stringify(compare));

  // 7. Models: evaluation rendered, stage history, rollback only with a previous production version.
  await visit('/models', '#models', 'models');
  await visit('/models/twin', '#model-versions', 'model');
  const model = await page.evaluate(() => ({
    gate: [...document.querySelectorAll('.evaluation')].map((e) => e.textContent),
    history: document.querySelectorAll('#stage-history li').length,
    rollback: document.querySelector('#rollback') ? document.querySelector('#rollback').textContent : null,
  }));
  check('model-evaluation', model.gate.some((g) => /perplexity/.test(g) && /passed/.test(g) && /baseline/.test(g) && /candidate/.test(g)) && model.history >= 2, JSON.stringify(model));
  check('rollback-offered', model.rollback && model.rollback.includes('v1'), JSON.stringify(model.rollback));
  await visit('/models/solo', '#model-versions', 'model-solo');
  check('no-rollback-single', (await page.locator('#rollback').count()) === 0, 'rollback offered with one version');

  // 8. Lineage: 30 documents of one platform fold into a group; a click unfolds; nodes link to their pages.
  await visit(`/lineage/${seed.manifest_version_id}`, '#lineage svg', 'lineage');
  const folded = await page.evaluate(() => ({
    groups: [...document.querySelectorAll('#lineage .node.kind-group')].map((g) => g.getAttribute('aria-label')),
    nodes: document.querySelectorAll('#lineage .node').length,
    edges: [...document.querySelectorAll('#lineage path.edge')].filter((p) => p.getBoundingClientRect().width > 5).length,
  }));
  check('lineage-folded', folded.groups.some((g) => /github: 30/.test(g)) && folded.nodes < 12 && folded.edges >= 2, JSON.stringify(folded));
  await page.click('#lineage .node.kind-group');
  const unfolded = await page.locator('#lineage .node').count();
  await page.focus('#lineage .node.kind-version');
  await page.keyboard.press('Enter');
  await waitUntil(page, () => /^#\/artifacts\//.test(location.hash), 10000);
  const landed = await page.evaluate(() => location.hash);
  check('lineage-expand', unfolded >= 30 && /^#\/artifacts\/web_crawl_documents\/\d+$/.test(landed), JSON.stringify({ unfolded, landed }));
  await page.waitForSelector('main h1', { timeout: 10000 });
  await visit(landed.slice(1), 'main table', 'artifact-version');

  // 9. Documents: the list, a document's versions and the diff between them.
  await visit('/documents', '#documents', 'documents');
  await visit(`/documents/${seed.changed_document}`, '#doc-diff', 'document');
  const diff = await page.evaluate(() => ({
    added: [...document.querySelectorAll('#doc-diff .add')].map((e) => e.textContent).join(' '),
    removed: document.querySelectorAll('#doc-diff .del').length,
  }));
  check('document-diff', diff.added.includes('hybrid search') && diff.removed === 0, JSON.stringify(diff));

  // 10. The remaining pages, for their text and screenshots.
  await visit('/artifacts', '#artifacts', 'artifacts');
  await visit('/schedules', 'main table', 'schedules');
  await visit('/prompts', 'main h1', 'prompts');
  await visit('/search', '#search-input', 'search');

  // 11. Keyboard: Tab reaches the navigation, Enter follows a link.
  await page.goto(url + '/#/runs');
  await page.waitForSelector('#runs-list table');
  await page.focus('header a.brand');
  let reached = false;
  const focused = [];
  for (let i = 0; i < 8 && !reached; i++) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate(() => document.activeElement ? document.activeElement.tagName + ' ' + (document.activeElement.getAttribute('href') || '') : 'none');
    focused.push(now);
    reached = now === 'A #/pipelines';
  }
  if (reached) await page.keyboard.press('Enter');
  await page.waitForSelector('#pipelines-grid', { timeout: 10000 }).catch(() => {});
  check('keyboard-nav', reached && (await page.evaluate(() => location.hash)) === '#/pipelines', 'Tab/Enter did not reach the pipelines page: ' + focused.join(', '));

  // 12. Keyset paging in the browser: "Older" and "Newer" walk the documents
  // 10 at a time (by keyboard), and come back to the same rows.
  const ids = async () => page.$$eval('#documents tbody tr td:first-child', (l) => l.map((t) => Number(t.textContent)));
  await visit('/documents?limit=10', '#documents', null);
  const first = await ids();
  const firstLinks = await page.evaluate(() => [!!document.querySelector('#older'), !!document.querySelector('#newer')]);
  await page.focus('#older');
  await page.keyboard.press('Enter');
  await waitUntil(page, () => /before=/.test(location.hash), 10000);
  await page.waitForSelector('#documents');
  await sleep(300);
  const second = await ids();
  const secondLinks = await page.evaluate(() => [!!document.querySelector('#older'), !!document.querySelector('#newer')]);
  await page.click('#newer');
  await waitUntil(page, () => /after=/.test(location.hash), 10000);
  await sleep(500);
  const back = await ids();
  check('paging', first.length === 10 && second.length === 10 && Math.max(...second) < Math.min(...first) &&
    JSON.stringify(back) === JSON.stringify(first) && firstLinks[0] && !firstLinks[1] && secondLinks[0] && secondLinks[1],
  JSON.stringify({ first, second, back, firstLinks, secondLinks }));
  // The runs list two at a time: the oldest page has no "Older".
  await visit('/runs?limit=2', '#runs-list table', null);
  let hops = 0;
  while (hops < 20 && (await page.locator('#older').count()) > 0) {
    const before = page.url();
    await page.click('#older');
    await waitUntil(page, (u) => location.href !== u, 10000, before);
    await page.waitForSelector('#runs-list table, #runs-list p');
    await sleep(200);
    hops++;
  }
  const lastRuns = await page.$$eval('#runs-list tbody tr', (l) => l.length);
  check('paging-runs', hops >= 3 && hops < 20 && lastRuns >= 1 && (await page.locator('#newer').count()) === 1, JSON.stringify({ hops, lastRuns }));

  // An artifact's versions one at a time (the crawl made two): "Older" to
  // v1, then "Newer" back to v2; the newest page has no "Newer", the oldest no "Older".
  const versionsShown = async () => page.$$eval('#versions tbody tr td:first-child', (l) => l.map((t) => t.textContent.trim()));
  const versionLinks = async () => page.evaluate(() => [!!document.querySelector('#older'), !!document.querySelector('#newer')]);
  await visit('/artifacts/web_crawl_documents?limit=1', '#versions', 'artifact-versions');
  const newestVersion = await versionsShown();
  const newestLinks = await versionLinks();
  await page.click('#older');
  await waitUntil(page, () => /before=/.test(location.hash), 10000);
  await page.waitForSelector('#versions');
  await sleep(300);
  const olderVersion = await versionsShown();
  const olderLinks = await versionLinks();
  await page.focus('#newer');
  await page.keyboard.press('Enter');
  await waitUntil(page, () => /after=/.test(location.hash), 10000);
  await page.waitForSelector('#versions');
  await sleep(300);
  const newerAgain = await versionsShown();
  const newerAgainLinks = await versionLinks();
  check('paging-versions', JSON.stringify(newestVersion) === '["v2"]' && JSON.stringify(olderVersion) === '["v1"]' &&
    JSON.stringify(newerAgain) === '["v2"]' && newestLinks[0] && !newestLinks[1] && !olderLinks[0] && olderLinks[1] &&
    newerAgainLinks[0] && !newerAgainLinks[1], JSON.stringify({ newestVersion, newestLinks, olderVersion, olderLinks, newerAgain, newerAgainLinks }));

  // 13. Readable at 800 px: no page wider than the window (tables scroll
  // inside their box), every control labelled; a screenshot of each.
  await page.setViewportSize({ width: 800, height: 1000 });
  const wide = [];
  for (const [hash, ready, shot] of [['/runs', '#runs-list table', 'runs-800'], [`/runs/${seed.train[0]}`, '#run-metrics .chart-svg', 'run-800'],
    ['/pipelines', '#pipelines-grid', 'pipelines-800'], ['/models/twin', '#model-versions', 'model-800'],
    [`/compare?pipeline=web_train&runs=${seed.train[0]},${seed.train[1]}`, '#charts', 'compare-800'],
    [`/documents/${seed.changed_document}`, '#doc-diff', 'document-800'], [`/lineage/${seed.manifest_version_id}`, '#lineage svg', 'lineage-800']]) {
    await visit(hash, ready, shot);
    const w = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    if (w[0] > w[1] + 1) wide.push(hash + ' ' + w);
  }
  check('width-800', wide.length === 0, wide.join('; '));
  await page.setViewportSize({ width: 1400, height: 1000 });
  check('labels', labelProblems.length === 0, labelProblems.join('\n'));

  // 14. A crawled document carrying <script> and onerror= payloads is shown as text.
  await page.goto(url + `/#/documents/${seed.xss_document}`);
  await page.waitForSelector('#doc-content', { timeout: 15000 });
  await sleep(500);
  const shown = await page.$eval('#doc-title', (e) => e.textContent);
  const injected = await page.evaluate(() => ({
    pwned: window.__pwned === true,
    scripts: document.querySelectorAll('main script').length,
    images: document.querySelectorAll('main img').length,
  }));
  check('xss-shown-as-text', shown.includes('<script>'), JSON.stringify(shown));
  check('xss-not-executed', !injected.pwned && dialogs.length === 0 && injected.scripts === 0 && injected.images === 0,
    JSON.stringify({ injected, dialogs }));
  await page.goto(url + '/#/documents');
  await page.waitForSelector('main table', { timeout: 15000 });
  await sleep(300);
  check('xss-list-not-executed', !(await page.evaluate(() => window.__pwned === true)) && dialogs.length === 0, JSON.stringify(dialogs));
  await page.screenshot({ path: path.join(out, 'xss.png') });
  check('clean-text', dirty.length === 0, dirty.join('\n'));
  check('no-console-errors', consoleErrors.length === 0, consoleErrors.join('\n'));
  check('no-page-errors', pageErrors.length === 0, pageErrors.join('; '));
} catch (e) {
  check('unexpected', false, e.stack || String(e));
} finally {
  await context.close();
  fs.rmSync(userData, { recursive: true, force: true });
}
process.exit(failures);
