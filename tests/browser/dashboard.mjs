// Browser checks of `twinflow web` in Debian's headless Chromium, driven by
// playwright-core (no browser download). tests/web_browser_test.cc seeds the
// database, starts the server and runs:
//   node dashboard.mjs URL TOKEN FAILED_RUN_ID SUCCEEDED_RUN_ID XSS_DOCUMENT_ID OUT_DIR
// Each check prints "OK name" or "FAIL name: why"; the exit code is the number
// of failures. Screenshots go to OUT_DIR.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [url, token, failedRun, succeededRun, xssDocument, outDir] = process.argv.slice(2);
fs.mkdirSync(outDir, { recursive: true });
const userData = fs.mkdtempSync(path.join(outDir, 'chromium-profile-'));
let failures = 0;
const check = (name, ok, why) => {
  console.log(ok ? `OK ${name}` : `FAIL ${name}: ${why}`);
  if (!ok) failures++;
};

const context = await chromium.launchPersistentContext(userData, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  // Anything a payload could do that we would notice: a dialog, a global, a console error from CSP.
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  // 1. The runs page lists the seeded runs.
  await page.goto(url + '/#/runs');
  await page.waitForSelector(`#runs-list a[href="#/runs/${failedRun}"]`, { timeout: 15000 });
  const rows = await page.locator('#runs-list tbody tr').count();
  check('runs-list', rows >= 2, `${rows} rows`);
  await page.screenshot({ path: path.join(outDir, 'runs.png'), fullPage: true });

  // 2. A run's DAG is drawn: the Graphviz SVG loaded into the page.
  await page.goto(url + `/#/runs/${succeededRun}`);
  await page.waitForSelector('#dag-graph', { timeout: 15000 });
  await page.waitForFunction(() => { const i = document.querySelector('#dag-graph'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 15000 });
  const size = await page.$eval('#dag-graph', (i) => [i.naturalWidth, i.naturalHeight]);
  check('dag-graph', size[0] > 50 && size[1] > 20, `image is ${size}`);
  await page.waitForSelector('#timeline .bar', { timeout: 15000 });
  check('timeline', (await page.locator('#timeline .bar').count()) >= 2, 'no bars');
  await page.screenshot({ path: path.join(outDir, 'run.png'), fullPage: true });

  // 3. The failed run's rerun button, with the token, queues a run.
  await page.goto(url + `/#/runs/${failedRun}`);
  await page.waitForSelector('#log', { timeout: 15000 });
  await page.waitForFunction(() => document.querySelector('#log').textContent.length > 0, null, { timeout: 15000 });
  const log = await page.$eval('#log', (e) => e.textContent);
  check('failed-log', log.includes('about to fail'), JSON.stringify(log.slice(0, 200)));
  await page.fill('#token', token);
  await page.dispatchEvent('#token', 'change');
  await page.click('#rerun');
  await page.waitForSelector('.message', { timeout: 15000 });
  const answer = await page.locator('.message').first().textContent();
  check('rerun', /queued run \d+/.test(answer), answer);
  await page.screenshot({ path: path.join(outDir, 'rerun.png'), fullPage: true });

  // 4. A crawled document carrying <script> and onerror= payloads is shown as text.
  await page.goto(url + `/#/documents/${xssDocument}`);
  await page.waitForSelector('#doc-content', { timeout: 15000 });
  await page.waitForTimeout(500);
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
  await page.waitForTimeout(300);
  check('xss-list-not-executed', !(await page.evaluate(() => window.__pwned === true)) && dialogs.length === 0, JSON.stringify(dialogs));
  await page.screenshot({ path: path.join(outDir, 'xss.png'), fullPage: true });
  check('no-page-errors', pageErrors.length === 0, pageErrors.join('; '));
} catch (e) {
  check('unexpected', false, e.stack || String(e));
} finally {
  await context.close();
  fs.rmSync(userData, { recursive: true, force: true });
}
process.exit(failures);
