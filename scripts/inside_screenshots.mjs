// Screenshots of a run's inside page at two steps side by side (docs/img/inside-*.png, in
// docs/VIEWER.md): `gradscope serve ROOT` in headless chromium, the page twice in one window, each
// slider at its step, and the window saved as OUT_PREFIX.png.
// Also prints how long the slider took to show each frame (the page's data-show-ms).
//   node scripts/inside_screenshots.mjs BINARY ROOT RUN STEP_A STEP_B OUT_PREFIX
import fs from 'node:fs';
import { chromium } from '../web/node_modules/playwright-core/index.mjs';
import { startServer } from '../tests/web/serve_process.mjs';

const [binary, root, run, stepA, stepB, out] = process.argv.slice(2);
const { server, base } = await startServer(binary, root);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 2700, height: 1500 } });
  const src = base + '#/inside/' + encodeURIComponent(run);
  await page.setContent(`<body style="margin:0;display:flex">
    <iframe id="a" src="${src}" style="width:1350px;height:1500px;border:0"></iframe>
    <iframe id="b" src="${src}" style="width:1350px;height:1500px;border:0;border-left:2px solid #999"></iframe></body>`);
  for (const [id, step] of [['a', stepA], ['b', stepB]]) {
    const f = (await (await page.$('#' + id)).contentFrame());
    await f.waitForFunction((r) => document.getElementById('app').dataset.ready === '#/inside/' + r, encodeURIComponent(run));
    const steps = (await (await fetch(base + 'api/inside?dir=' + encodeURIComponent(run))).json()).steps;
    const i = steps.indexOf(Number(step));
    if (i < 0) throw new Error(`no frame at step ${step} (steps: ${steps.join(', ')})`);
    for (const k of [steps.length - 1, i]) {  // the slider's time to a frame not yet seen
      await f.$eval('#inside-step', (el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }, k);
      await f.waitForFunction((s) => document.getElementById('app').dataset.step === String(s), steps[k]);
    }
    console.log(`step ${step}: shown in ${await f.getAttribute('#app', 'data-show-ms')} ms`);
  }
  await page.screenshot({ path: out + '.png' });
  console.log('wrote', out + '.png');
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
fs.existsSync(out + '.png') || process.exit(1);
