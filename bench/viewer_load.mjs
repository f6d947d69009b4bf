// A bounded load test of `gradscope serve` on loopback: 50 concurrent clients ask a training run's
// page data (/api/status, /api/metrics, /api/run, /api/probe, and its inside page's /api/inside:
// the frames' index and a frame) for 10 s while the run trains, and
// the run's speed over those 10 s is set beside the same run's speed over 10 s with nobody
// watching. Prints requests served, errors, p50/p99 latency and both speeds (docs/VIEWER.md).
//   node bench/viewer_load.mjs [build/gradscope]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../tests/web/serve_process.mjs';

const source = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binary = process.argv[2] || path.join(source, 'build/gradscope');
const CLIENTS = 50, SECONDS = 10;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gs-load-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The last logged step of a run (metrics.jsonl), 0 before its first row.
function lastStep(dir) {
  try {
    const lines = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    return JSON.parse(lines[lines.length - 1]).step;
  } catch { return 0; }
}

// Trains a long run and returns [its process, its directory] once it logs.
async function startRun(name) {
  const dir = path.join(root, name);
  const proc = spawn(binary, ['run', path.join(source, 'examples/grok-mlp-small.toml'),
    'train.steps=10000000', 'train.log_every=50', 'probe.every=2000', 'probe.inside=true',
    'inside.every=2000', '--out', dir], { stdio: 'ignore' });
  while (lastStep(dir) < 500) await sleep(50);
  return [proc, dir];
}

// Steps per second of the run over `seconds` (from its logged steps).
async function speed(dir, seconds, during) {
  const s0 = lastStep(dir), t0 = Date.now();
  await Promise.all([sleep(seconds * 1000), during]);
  return (lastStep(dir) - s0) / ((Date.now() - t0) / 1000);
}

function request(agent, port, target) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    http.get({ host: '127.0.0.1', port, path: target, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: res.statusCode === 200, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    }).on('error', () => resolve({ ok: false, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
  });
}

async function main() {
  const [quiet, quietDir] = await startRun('unobserved');
  const unobserved = await speed(quietDir, SECONDS);
  quiet.kill('SIGKILL');

  const { server, port } = await startServer(binary, root);
  const [run, runDir] = await startRun('observed');
  const dir = encodeURIComponent('observed');
  const targets = [`/api/status?dir=${dir}`, `/api/metrics?buckets=600&dir=${dir}`,
    `/api/run?dir=${dir}`, `/api/probe?dir=${dir}&kind=spectra`, `/api/inside?dir=${dir}`,
    `/api/inside?dir=${dir}&step=0`];
  // The clients run at the server's priority (nice 10; the runs were started before, at 0): the
  // measurement shows what serving takes from training, not what a load generator as busy as 50
  // browsers would.
  os.setPriority(10);
  const latencies = [];
  let errors = 0;
  const end = Date.now() + SECONDS * 1000;
  const client = async (i) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let k = i; Date.now() < end; ++k) {
      const r = await request(agent, port, targets[k % targets.length]);
      latencies.push(r.ms);
      if (!r.ok) ++errors;
    }
    agent.destroy();
  };
  const clients = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  const observed = await speed(runDir, SECONDS, clients);
  run.kill('SIGKILL');
  server.kill('SIGTERM');
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  console.log(`${CLIENTS} clients, ${SECONDS} s: ${latencies.length} requests served ` +
    `(${(latencies.length / SECONDS).toFixed(0)}/s), ${errors} errors, ` +
    `latency p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${q(1).toFixed(1)} ms`);
  console.log(`training (grok-mlp-small, 1 thread): ${unobserved.toFixed(0)} steps/s unobserved, ` +
    `${observed.toFixed(0)} steps/s while served (${(100 * observed / unobserved).toFixed(0)}%)`);
  fs.rmSync(root, { recursive: true, force: true });
}

main();
