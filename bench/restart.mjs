// The supervisor's costs, in one run, for two shims: the example (shims/image-stats.ts: sharp
// statistics of a 64 x 48 JPEG, about a millisecond of work; a JPEG cut in its scan data makes sharp throw)
// and a model that does no work at all (the worst case for the supervisor's overhead):
// (1) the time from a throw to the next ready worker (median of 21 restarts), beside the shim's
// own start-up (a worker spawned by hand until it reports ready); (2) HTTP throughput of the same
// shim supervised and run directly, alternating.
// Usage: npm run bench -- restart [-- seconds]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import sharp from 'sharp';

const seconds = Number(process.argv[2] ?? 8);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
  .jpeg()
  .toBuffer();

const shims = [
  {
    name: 'example shim (image-stats)',
    path: file('../dist/shims/image-stats.js'),
    work: JSON.stringify({ inputs: { image: jpeg.toString('base64') } }),
    // Cut in the scan data: the header passes the input check, and sharp throws on decoding.
    throwing: JSON.stringify({ inputs: { image: jpeg.subarray(0, jpeg.length - 10).toString('base64') } }),
  },
  {
    name: 'a model that does no work',
    path: file('./throwing-model.mjs'),
    work: JSON.stringify({ inputs: { throw: false } }),
    throwing: JSON.stringify({ inputs: { throw: true } }),
  },
];

function start(args, env) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MODE: 'http', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(stderr);
      if (match) resolve({ url: match[1], child });
    });
    child.on('exit', () => reject(new Error(stderr)));
  });
}

// The shim's own start-up: spawn it as the supervisor does and wait for its 'ready' message.
async function shimStartup(path) {
  const started = performance.now();
  const child = spawn(process.execPath, [path], {
    env: { ...process.env, AI_INTEGRATION_WORKER: '1' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  await new Promise((resolve) => child.once('message', resolve));
  const elapsed = performance.now() - started;
  child.disconnect(); // a worker exits when the supervisor goes away
  await new Promise((resolve) => child.once('exit', resolve));
  return elapsed;
}

async function restartTime(url, body) {
  const thrown = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const after = performance.now();
  if (thrown.status !== 500) throw new Error(`expected 500, got ${thrown.status}`);
  for (;;) {
    const health = await fetch(`${url}/health`);
    if (health.status === 200) return performance.now() - after;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function throughput(url, body) {
  const result = await autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: 10,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

console.log(`supervisor benchmark (node ${process.version}, ${seconds} s per throughput run)`);
for (const shim of shims) {
  const startups = [];
  for (let run = 0; run < 11; run++) startups.push(await shimStartup(shim.path));
  const supervised = await start([file('../dist/cli.js'), shim.path]);
  const restarts = [];
  for (let run = 0; run < 21; run++) restarts.push(await restartTime(supervised.url, shim.throwing));
  const direct = await start([shim.path]);
  const directRps = await throughput(direct.url, shim.work);
  const supervisedRps = await throughput(supervised.url, shim.work);
  direct.child.kill('SIGTERM');
  supervised.child.kill('SIGTERM');

  console.log(`${shim.name}`);
  console.log(`  shim start-up alone (spawn to ready, median of 11)    ${median(startups).toFixed(0)} ms`);
  console.log(`  throw to next ready worker (median of 21 restarts)   ${median(restarts).toFixed(0)} ms`);
  console.log(`  restart cost beyond the shim's own start-up          ${(median(restarts) - median(startups)).toFixed(0)} ms`);
  console.log(`  HTTP POST /predict, direct                           ${directRps.toFixed(0)} req/s`);
  console.log(
    `  HTTP POST /predict, supervised                       ${supervisedRps.toFixed(0)} req/s   ${((supervisedRps / directRps) * 100).toFixed(0)}% of direct`,
  );
}
