// The web viewer in a real browser: Debian's headless chromium driven by playwright-core (pinned in
// web/package-lock.json). A small sweep is trained into a temporary root, `gradscope serve` serves
// it on a free loopback port, and each test drives a page: the runs table, a run page that gains
// points while a run trains beside it, hover values, a phase-diagram click, the compare view and
// the HTML report from file:// with the network blocked. With GRADSCOPE_SCREENSHOTS=<dir> it also
// saves the screenshots of docs/img.
//   node --test tests/web/viewer.test.mjs   (GRADSCOPE_BINARY=<build>/gradscope)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, openBrowser, openOffline, until } from './serve_process.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.resolve(here, '../..');
const binary = process.env.GRADSCOPE_BINARY || path.join(source, 'build/gradscope');
const shots = process.env.GRADSCOPE_SCREENSHOTS || '';
const example = path.join(source, 'examples/grok-mlp-small.toml');
// The sweep's axes (the screenshots of docs/img use a larger one: GRADSCOPE_WEB_SWEEP).
const sweepArgs = (process.env.GRADSCOPE_WEB_SWEEP ||
  'optim.weight_decay=0.1,1.0 task.train_fraction=0.4,0.6 train.steps=600').split(' ');
const seedSteps = process.env.GRADSCOPE_WEB_SEED_STEPS || '300';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gs-web-'));
let server, base, browser, page, trainer;

// Lines of a run's metrics.jsonl so far.
const rowsOf = (dir) => {
  try { return fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.endsWith('}')).length; } catch { return 0; }
};
// Opens a page of the viewer and waits until it has drawn it.
async function open(hash) {
  await page.goto(base + hash);
  await page.waitForFunction((h) => document.getElementById('app').dataset.ready === h, hash);
}
const sweepRuns = () => fs.readdirSync(path.join(root, 'grok-mlp-small')).filter((d) => /^[0-9a-f]{16}$/.test(d));

before(async () => {
  execFileSync(binary, ['sweep', example, ...sweepArgs, '--root', root, '--jobs', '2'], { stdio: 'ignore' });
  ({ server, base } = await startServer(binary, root));
  ({ browser, page } = await openBrowser());
});

after(async () => {
  if (trainer) trainer.kill('SIGKILL');
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  fs.rmSync(root, { recursive: true, force: true });
});

test('the runs table lists the sweep\'s runs', async () => {
  await open('#/');
  const dirs = await page.$$eval('#runs tbody tr', (rows) => rows.map((r) => r.dataset.dir));
  assert.deepEqual(dirs.sort(), sweepRuns().map((d) => 'grok-mlp-small/' + d).sort());
  // A filter by a config key keeps the runs that match it.
  const runs = (await (await fetch(base + 'api/runs')).json()).runs;
  const heavy = runs.filter((r) => r['optim.weight_decay'] === 1).length;
  assert.ok(heavy > 0 && heavy < runs.length);
  await page.fill('#filter', 'optim.weight_decay=1');
  await until('the filter', async () => (await page.$$('#runs tbody tr')).length === heavy);
});

test('a run page gains points while the run trains, within 2 s of a new row', async () => {
  const dir = path.join(root, 'live');
  trainer = spawn(binary, ['run', example, 'train.steps=200000', 'train.log_every=100',
    'probe.every=1000', '--out', dir], { stdio: 'ignore' });
  await until('the first rows', () => rowsOf(dir) >= 3);
  await open('#/run/live');
  await page.waitForSelector('#charts .chart[data-points]');
  const points = () => page.$eval('#charts .chart', (c) => Number(c.dataset.points));
  const first = await points();
  // The delay from a row's arrival in metrics.jsonl to the page showing it, three times.
  const delays = [];
  for (let i = 0; i < 3; ++i) {
    const shown = await page.$eval('#rows', (e) => parseInt(e.textContent, 10));
    await until('a new row on disk', () => rowsOf(dir) > shown);
    const t0 = Date.now(), want = rowsOf(dir);
    await until('the page to show it', async () => (await page.$eval('#rows', (e) => parseInt(e.textContent, 10))) >= want, 5000);
    delays.push(Date.now() - t0);
  }
  console.log(`live update delays (ms): ${delays.join(', ')}`);
  assert.ok(Math.max(...delays) <= 2000, `a new row took ${Math.max(...delays)} ms to show`);
  assert.ok(await points() > first, 'the loss chart gained points');
  const status = await page.textContent('#status');
  assert.match(status, /running/);
  assert.match(status, /ETA/);
  if (shots) {
    await page.screenshot({ path: path.join(shots, 'viewer-run-live.png') });
    await open('#/');  // the runs table with the training run's progress
    await page.waitForSelector('#runs tr[data-dir="live"] .progress');
    await page.screenshot({ path: path.join(shots, 'viewer-runs.png') });
  }
  trainer.kill('SIGINT');
});

test('hovering a chart shows the values under the cursor', async () => {
  const run = sweepRuns()[0];
  await open('#/run/' + encodeURIComponent('grok-mlp-small/' + run));
  await page.waitForSelector('.chart[data-title="Loss"] .u-over');
  const over = await page.$('.chart[data-title="Loss"] .u-over');
  const box = await over.boundingBox();
  const values = () => page.$$eval('.chart[data-title="Loss"] .u-legend .u-series:not(:first-child) .u-value', (v) => v.map((e) => e.textContent));
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  const shown = await until('legend values', async () => {
    const v = await values();
    return v.length && v.every((t) => /^[-0-9.e+]+$/.test(t)) ? v : null;
  }, 5000);
  assert.ok(shown.length >= 2, 'train and test loss values');
  // A finished run's status: its state and rows, no progress line (and no "null" in its place).
  assert.match(await page.textContent('#status'), /^complete · \d+ rows logged$/);
  assert.match(await page.textContent('.chart[data-title="Loss"] .u-legend .u-series:first-child .u-value'), /^\d+$/);
});

test('a classification run shows its numerical-stability measures', async () => {
  const run = sweepRuns()[0];
  await open('#/run/' + encodeURIComponent('grok-mlp-small/' + run));
  await page.waitForSelector('.chart[data-title="Numerical stability"] .u-over');
  const labels = await page.$$eval('.chart[data-title="Numerical stability"] .u-legend .u-series:not(:first-child) .u-label',
    (v) => v.map((e) => e.textContent));
  for (const k of ['numerics.sc_torch_float32', 'numerics.absorbed_target', 'numerics.nlm_cosine'])
    assert.ok(labels.includes(k), `${k} in ${labels}`);
  await page.waitForSelector('.chart[data-title="Logit margins"]');
  assert.match(await page.textContent('#summary'), /numerics: sc_torch_float32_half_step/);
});

test('a run with probe.hessian and probe.llc shows the sharpness beside 2 / lr and the LLC', async () => {
  execFileSync(binary, ['run', path.join(source, 'examples/eos-mlp.toml'), 'train.steps=400',
    'train.log_every=100', 'probe.every=100', 'probe.llc=true', 'llc.draws=20', '--out',
    path.join(root, 'eos')], { stdio: 'ignore' });
  await open('#/run/eos');
  await page.waitForSelector('.chart[data-title="Sharpness and 2 / lr"] .u-over');
  const labels = await page.$$eval('.chart[data-title="Sharpness and 2 / lr"] .u-legend .u-series:not(:first-child) .u-label',
    (v) => v.map((e) => e.textContent));
  assert.deepEqual(labels, ['hessian.top', '2 / lr']);
  const lines = await page.$$eval('.chart[data-title="Sharpness and 2 / lr"] .u-legend .u-series:not(:first-child) .u-value',
    (v) => v.map((e) => e.textContent));
  assert.equal(lines.length, 2);
  await page.waitForSelector('.chart[data-title="Local learning coefficient"] .u-over');
  const summary = await page.textContent('#summary');
  assert.match(summary, /hessian: last/);
  assert.match(summary, /llc: peak/);
});

test('the LLC and the sharpness measured by the commands after training are charted too', async () => {
  const dir = path.join(root, 'probed-later');  // (named to sort after the compare test's runs)
  execFileSync(binary, ['run', path.join(source, 'examples/pair-mlp.toml'), 'train.steps=40',
    'train.checkpoint_steps="every:20"', '--out', dir], { stdio: 'ignore' });
  execFileSync(binary, ['llc', dir, 'llc.draws=10', 'llc.chains=2'], { stdio: 'ignore' });
  execFileSync(binary, ['hessian', dir, 'hessian.iterations=5', 'hessian.trace_probes=2',
    'hessian.per_tensor=false'], { stdio: 'ignore' });
  await open('#/run/probed-later');
  for (const [title, label] of [['Local learning coefficient', 'llc.mean'], ['Sharpness', 'hessian.top']]) {
    const chart = `.chart[data-title="${title}"]`;
    await page.waitForSelector(chart + ' .u-over');
    const labels = await page.$$eval(chart + ' .u-legend .u-series:not(:first-child) .u-label',
      (v) => v.map((e) => e.textContent));
    assert.deepEqual(labels, [label]);
  }
  const llc = await (await fetch(base + 'api/metrics?dir=probed-later&keys=llc.mean')).json();
  assert.deepEqual(llc.series['llc.mean'].x, [0, 20, 40]);  // a point per checkpoint
});

test("an Adam run shows its preconditioned sharpness beside 38 / lr, and no 2 / lr", async () => {
  const [steps, every] = shots ? [4000, 200] : [400, 100];  // the screenshot's run is longer
  execFileSync(binary, ['run', path.join(source, 'examples/eos-mlp.toml'), `train.steps=${steps}`,
    `train.log_every=${every}`, `probe.every=${every}`, 'optim.name=adam', 'optim.lr=1e-3',
    'hessian.preconditioned=true', '--out', path.join(root, 'probed-adam')], { stdio: 'ignore' });
  await open('#/run/probed-adam');  // (named to sort after the runs the compare test takes first)
  const chart = ".chart[data-title=\"Adam's preconditioned sharpness\"]";
  await page.waitForSelector(chart + ' .u-over');
  const labels = await page.$$eval(chart + ' .u-legend .u-series:not(:first-child) .u-label',
    (v) => v.map((e) => e.textContent));
  assert.deepEqual(labels, ['hessian.preconditioned', '38 / lr']);
  await page.waitForSelector('.chart[data-title="Sharpness"] .u-over');
  assert.equal(await page.$('.chart[data-title="Sharpness and 2 / lr"]'), null);
  assert.match(await page.textContent('#summary'), /hessian preconditioned: last/);
  if (shots) await page.screenshot({ path: path.join(shots, 'viewer-run-geometry.png'), fullPage: true });
});

test('clicking a phase-diagram cell opens that run', async () => {
  await open('#/sweep/grok-mlp-small');
  await page.waitForSelector('svg.phase rect.cell');
  const cells = await page.$$('svg.phase rect.cell');
  assert.equal(cells.length, sweepRuns().length);
  await cells[0].hover();
  assert.match(await page.textContent('.tooltip'), /optim\.weight_decay|task\.train_fraction/);
  if (shots) await page.screenshot({ path: path.join(shots, 'viewer-sweep.png') });
  const dir = await cells[0].getAttribute('data-dirs');
  await cells[0].click();
  await until('the run page', async () => (await page.getAttribute('#app', 'data-ready')) === '#/run/' + encodeURIComponent(dir));
  assert.equal(await page.textContent('h1 + .muted'), dir);
});

test('a regime has the same colour in the browser as in the SVG phase diagram', async () => {
  const svgFile = path.join(root, 'phase.svg');
  execFileSync(binary, ['plot', path.join(root, 'grok-mlp-small'), '--x', 'optim.weight_decay',
    '--y', 'task.train_fraction', '--out', svgFile], { stdio: 'ignore' });
  const svg = fs.readFileSync(svgFile, 'utf8');
  const inSvg = {};
  for (const m of svg.matchAll(/fill='(#[0-9a-f]{6})'\/>\n<text[^>]*>(confusion|memorization|grokking|comprehension)</g)) inSvg[m[2]] = m[1];
  assert.equal(Object.keys(inSvg).length, 4, svg.slice(0, 400));
  await open('#/sweep/grok-mlp-small');
  await page.waitForSelector('.legend-swatch');
  const inPage = await page.evaluate(() => {
    const hex = (rgb) => '#' + rgb.match(/\d+/g).slice(0, 3).map((v) => Number(v).toString(16).padStart(2, '0')).join('');
    const out = {};
    for (const s of document.querySelectorAll('.legend-swatch'))
      out[s.nextSibling.textContent.trim()] = hex(getComputedStyle(s).backgroundColor);
    return out;
  });
  assert.deepEqual(inPage, inSvg);
});

test('the compare view overlays runs and lists their config differences', async () => {
  await open('#/');
  const boxes = page.locator('#runs tbody tr input[type=checkbox]');
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await page.click('#compare');
  await page.waitForSelector('#charts .chart');
  const keys = await page.$$eval('#diff tr td:first-child', (tds) => tds.map((t) => t.textContent));
  assert.ok(keys.includes('name'), 'name differs');
  assert.ok(keys.some((k) => k === 'optim.weight_decay' || k === 'task.train_fraction'));
  assert.ok((await page.$$('#charts .chart')).length >= 2);
});

test('runs that differ only in seed are drawn as a mean and a min-max band', async () => {
  execFileSync(binary, ['sweep', example, 'name=seeds', 'seed=0,1,2', 'train.steps=' + seedSteps, '--root', root, '--jobs', '2'], { stdio: 'ignore' });
  const runs = (await (await fetch(base + 'api/runs')).json()).runs.filter((r) => r.sweep === 'seeds');
  assert.equal(runs.length, 3);
  await open('#/compare/' + runs.map((r) => encodeURIComponent(r.dir)).join(','));
  await page.waitForSelector('#charts .chart');
  assert.equal(await page.isChecked('#band'), true);
  const labels = await page.$$eval('#charts .chart:first-child .u-legend .u-series .u-label', (l) => l.map((e) => e.textContent));
  assert.ok(labels.some((l) => /mean of 3 seeds/.test(l)), labels.join('; '));
  assert.ok(labels.some((l) => / min$/.test(l)) && labels.some((l) => / max$/.test(l)));
  if (shots) await page.screenshot({ path: path.join(shots, 'viewer-compare.png') });
});

test('the HTML report opens from file:// with no network', async () => {
  const out = path.join(root, 'report.html');
  execFileSync(binary, ['report', path.join(root, 'grok-mlp-small'), '--html', out], { stdio: 'ignore' });
  const { context, page: offline, asked } = await openOffline(browser, out);
  await offline.waitForSelector('svg.phase rect.cell');
  assert.equal((await offline.$$('svg.phase rect.cell')).length, sweepRuns().length);
  await (await offline.$('svg.phase rect.cell')).click();
  await offline.waitForSelector('#charts .chart[data-points]');
  assert.ok((await offline.$$('#probes canvas')).length >= 1, 'the spectra heatmaps');
  assert.deepEqual(asked, [], 'the report asked the network');
  await context.close();
});
