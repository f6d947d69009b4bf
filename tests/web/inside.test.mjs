// The inside view in a real browser (headless chromium, playwright-core): small committed runs
// trained with probe.inside (tests/web/fixtures/inside: a modular transformer, a 2-layer induction
// model, an in-context regression model; scripts/web-fixtures.sh), copied into a temporary root
// and served by `gradscope serve`. Each panel is drawn, the slider moves to the first and last
// frame, hover values equal the .npy files, a run training beside the page gains frames on it, and
// the HTML report holds the view offline.
//   node --test tests/web/inside.test.mjs   (GRADSCOPE_BINARY=<build>/gradscope)
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
const examples = path.join(source, 'examples');
const fixtures = path.join(here, 'fixtures', 'inside');  // scripts/web-fixtures.sh writes them
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gs-inside-'));
// The live run's settings: the modular fixture's (scripts/web-fixtures.sh).
const NANDA = ['task.p=23', 'train.steps=300', 'train.stop_after_generalized=0', 'probe.fourier=false',
  'probe.restricted_loss=false', 'probe.spectra=false', 'model.d_model=32', 'model.d_mlp=64'];
let server, base, browser, page, trainer;

// A float32 .npy file as {shape, data}.
function npy(file) {
  const b = fs.readFileSync(file);
  const headerLength = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + headerLength);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const body = b.subarray(10 + headerLength);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)) };
}
const frameDir = (run, step) => path.join(root, run, 'inside', String(step));
const stepsOf = (run) => fs.readdirSync(path.join(root, run, 'inside')).filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => a - b);

async function open(hash, p = page) {
  await p.goto(base + hash);
  await p.waitForFunction((h) => document.getElementById('app').dataset.ready === h, hash);
}
// Moves the slider to frame i and waits until the page shows its step.
async function slide(i, step, p = page) {
  await p.$eval('#inside-step', (el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }, i);
  await p.waitForFunction((s) => document.getElementById('app').dataset.step === String(s), step);
  return Number(await p.getAttribute('#app', 'data-show-ms'));
}
// Hovers cell (r, c) of a canvas of rows x cols and returns the readout's last number.
async function hover(selector, r, c, rows, cols, p = page) {
  const el = await p.$(selector);
  await el.scrollIntoViewIfNeeded();
  const box = await el.boundingBox();
  await p.mouse.move(box.x + (c + 0.5) * box.width / cols, box.y + (r + 0.5) * box.height / rows);
  const text = await p.textContent('#inside-readout');
  return { text, value: Number(text.trim().split(/[ :=]+/).pop()) };
}
const close = (got, want) => Math.abs(got - want) <= 1e-5 + 1e-5 * Math.abs(want);

before(async () => {
  fs.cpSync(fixtures, root, { recursive: true });  // the committed runs: nanda, ind, icl
  ({ server, base } = await startServer(binary, root));
  ({ browser, page } = await openBrowser());
});

after(async () => {
  if (trainer) trainer.kill('SIGKILL');
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  fs.rmSync(root, { recursive: true, force: true });
});

test('a modular run: every panel drawn, the slider at the first and last frame', async () => {
  await open('#/run/nanda');
  await page.click('#inside-link');
  await page.waitForFunction(() => document.getElementById('app').dataset.ready === '#/inside/nanda');
  const steps = stepsOf('nanda');
  assert.deepEqual(steps, [0, 60, 120, 180, 240, 300]);
  assert.equal(await page.getAttribute('#app', 'data-step'), '300');
  assert.equal((await page.$$('#neurons canvas')).length, 16);
  assert.equal((await page.$$('#embed-pca circle')).length, 23);
  assert.equal((await page.$$('#embed-key circle')).length, 23);
  assert.equal((await page.$$('#attention canvas')).length, 4);
  assert.ok(await page.$('#param-canvas'));
  assert.equal((await page.$$('.chart')).length, 2, 'the loss and accuracy curves');
  const first = await slide(0, 0);
  const last = await slide(steps.length - 1, 300);
  assert.ok(first >= 0 && last >= 0);
  await slide(0, 0);
  assert.match(await page.textContent('#inside-step-label'), /step 0/);
});

test('hover values equal the frame\'s arrays', async () => {
  await open('#/inside/nanda');
  await slide(2, 120);
  const neurons = npy(path.join(frameDir('nanda', 120), 'neurons.npy'));
  let got = await hover('#neurons canvas[data-neuron="3"]', 5, 7, 23, 23);
  assert.match(got.text, /a = 5, b = 7/);
  assert.ok(close(got.value, neurons.data[(3 * 23 + 5) * 23 + 7]), got.text + ' vs ' + neurons.data[(3 * 23 + 5) * 23 + 7]);
  const attention = npy(path.join(frameDir('nanda', 120), 'attention.npy'));  // [4, 23, 23, 3]
  await page.selectOption('#attention-key', '1');
  got = await hover('#attention canvas[data-head="2"]', 9, 4, 23, 23);
  assert.ok(close(got.value, attention.data[((2 * 23 + 9) * 23 + 4) * 3 + 1]), got.text);
  await page.uncheck('#param-sort');
  const W_E = npy(path.join(frameDir('nanda', 120), 'param.embed.W_E.npy'));  // [24, 32]
  got = await hover('#param-canvas', 2, 10, 24, 32);
  assert.match(got.text, /embed\.W_E\[2, 10\]/);
  assert.ok(close(got.value, W_E.data[2 * 32 + 10]), got.text);
  await page.selectOption('#param', 'blocks.0.mlp.W_in');
  const W_in = npy(path.join(frameDir('nanda', 120), 'param.blocks.0.mlp.W_in.npy'));  // [32, 64]
  got = await hover('#param-canvas', 31, 63, 32, 64);
  assert.ok(close(got.value, W_in.data[31 * 64 + 63]), got.text);
});

test('an induction run: each head\'s pattern with tokens, hover values equal the array', async () => {
  await open('#/inside/ind');
  const attention = npy(path.join(frameDir('ind', 40), 'attention.npy'));  // [LH, W, T, T]
  const [LH, , T] = attention.shape;
  assert.equal((await page.$$('#attention canvas')).length, LH);
  await page.selectOption('#attention-window', '1');
  const got = await hover(`#attention canvas[data-head="${LH - 1}"]`, T - 1, T - 5, T, T);
  assert.match(got.text, new RegExp(`query ${T - 1} \\(token \\d+\\) → key ${T - 5}`));
  const want = attention.data[(((LH - 1) * 2 + 1) * T + T - 1) * T + T - 5];
  assert.ok(close(got.value, want), got.text + ' vs ' + want);
  // A click shows the head large, the window's tokens beside its rows and above its columns.
  await page.click(`#attention canvas[data-head="${LH - 1}"]`);
  await page.waitForFunction((hd) => document.querySelector('#attention-focus h3').textContent.includes(`(head ${hd})`), LH - 1);
  const tokens = JSON.parse(fs.readFileSync(path.join(root, 'ind', 'inside', 'inside.json')))['windows'][1].map(String);
  assert.deepEqual(await page.$$eval('#attention-focus .token-rows span', (s) => s.map((x) => x.textContent)), tokens);
  assert.deepEqual(await page.$$eval('#attention-focus .token-cols span', (s) => s.map((x) => x.textContent)), tokens);
  const large = await hover('#attention-focus-canvas', T - 1, T - 5, T, T);
  assert.ok(close(large.value, want), large.text + ' vs ' + want);
  await slide(0, 0);
});

test('a regression run: the predictions beside the targets', async () => {
  await open('#/inside/icl');
  assert.equal((await page.$$('.chart')).length, 1 + 2, 'the loss curve and two examples');
  await slide(0, 0);
});

test('a training run\'s inside page gains frames as they are written', async () => {
  const dir = path.join(root, 'live');
  trainer = spawn(binary, ['run', path.join(examples, 'nanda-fourier.toml'), ...NANDA,
    'train.steps=100000', 'probe.inside=true', 'inside.every=20', 'train.checkpoint_every=40',
    '--out', dir], { stdio: 'ignore' });
  await until('the first frames', () => fs.existsSync(path.join(dir, 'inside', '40', 'frame.json')));
  await open('#/inside/live');
  const before = Number(await page.getAttribute('#inside-step', 'max'));
  await until('a new frame on the page', async () => Number(await page.getAttribute('#inside-step', 'max')) > before, 30000);
  trainer.kill('SIGKILL');
  trainer = null;
});

test('the HTML report holds the inside view at four steps, offline', async () => {
  const out = path.join(root, 'report.html');
  execFileSync(binary, ['report', path.join(root, 'nanda'), '--html', out], { stdio: 'ignore' });
  const { context, page: offline, asked } = await openOffline(browser, out);
  await offline.click('#inside-link');
  await offline.waitForFunction(() => document.getElementById('app').dataset.ready === '#/inside/nanda');
  assert.equal(await offline.getAttribute('#inside-step', 'max'), '3');
  for (const [i, step] of [[0, 0], [1, 60], [2, 180], [3, 300]]) await slide(i, step, offline);
  assert.equal((await offline.$$('#neurons canvas')).length, 16);
  assert.deepEqual(asked, [], 'the report asked the network');
  await context.close();
});

test('a frame as bytes holds the same arrays as its JSON', async () => {
  const json = await (await fetch(base + 'api/inside?dir=nanda&step=60')).json();
  const buf = await (await fetch(base + 'api/inside?dir=nanda&format=binary&step=60')).arrayBuffer();
  const n = new DataView(buf).getUint32(0, true);
  assert.equal((4 + n) % 4, 0);
  const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  assert.deepEqual(head.frame, json.frame);
  assert.deepEqual(Object.keys(head.arrays), Object.keys(json.arrays));
  for (const [name, x] of Object.entries(head.arrays)) {
    assert.deepEqual(x.shape, json.arrays[name].shape, name);
    const bytes = Buffer.from(buf, 4 + n + x.offset, 4 * x.length);
    assert.equal(bytes.toString('base64'), json.arrays[name].data, name);
    const file = npy(path.join(frameDir('nanda', 60), name + '.npy'));
    assert.deepEqual(Array.from(new Float32Array(buf, 4 + n + x.offset, x.length)), Array.from(file.data), name);
  }
});

test('the inside endpoint refuses bad input and paths outside the root', async () => {
  for (const [query, status, words] of [
    ['dir=nanda&step=7', 404, 'no inside frame there'],
    ['dir=nanda&step=-1', 400, 'step=-1'],
    ['dir=nanda&step=1e3', 400, 'step=1e3'],
    ['dir=../etc&step=0', 404, 'dir'],
    ['dir=nanda/inside/0&step=0', 404, 'not a run directory'],
    ['dir=nanda&step=0&format=npz', 400, 'format=npz'],
  ]) {
    const res = await fetch(base + 'api/inside?' + query);
    const body = await res.json();
    assert.equal(res.status, status, query);
    assert.ok(body.error.includes(words), query + ': ' + body.error);
    assert.ok(!body.error.includes(root), 'names no host path');
  }
});
