// `gradscope serve ROOT --port 0` as a child process, for the browser tests and the load test
// (bench/viewer_load.mjs): resolves to the child and the address it printed once it listens. Also
// what the browser tests share: headless chromium with a page, and waiting for a condition.
import { spawn } from 'node:child_process';
import { chromium } from '../../web/node_modules/playwright-core/index.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls f every 50 ms until it returns something truthy (returned), or throws after ms.
export async function until(what, f, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(50);
  }
}

// Debian's headless chromium and a 1300 x 900 page whose script errors fail the test.
export async function openBrowser() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  page.on('pageerror', (e) => { throw e; });
  return { browser, page };
}

export function startServer(binary, root) {
  const server = spawn(binary, ['serve', root, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/at (http:\/\/127\.0\.0\.1:(\d+)\/)/);
      if (m) resolve({ server, base: m[1], port: Number(m[2]) });
    });
    server.on('exit', (code) => reject(new Error('gradscope serve exited with ' + code)));
  });
}

// A page in a fresh context that has opened `file` from file:// with every other request blocked;
// `asked` collects the blocked URLs.
export async function openOffline(browser, file) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const asked = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    asked.push(url);
    return route.abort();
  });
  await page.goto('file://' + file);
  return { context, page, asked };
}
