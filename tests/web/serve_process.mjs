// `gradscope serve ROOT --port 0` as a child process, for the browser tests and the load test
// (bench/viewer_load.mjs): resolves to the child and the address it printed once it listens.
import { spawn } from 'node:child_process';

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
