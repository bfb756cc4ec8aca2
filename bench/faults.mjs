// What the service holds under faults, measured in one run against the supervised fault model
// (bench/fault-model.mjs under dist/cli.js), each figure beside its own baseline:
//   1. sustained load: requests, errors, and the processes' RSS and open files before and after;
//   2. the worker SIGKILLed every 2 s under load: sent, answered, failed (what the killed worker
//      was running), lost (no answer at all: must be 0);
//   3. a hung model: time from the 504 to the next ready worker, beside the worker's own start-up
//      after a throw, and the requests queued behind it that were lost;
//   4. concurrent large uploads: peak RSS beside the body budget (MAX_BUFFERED_BYTES);
//   5. slow clients (slowloris) holding every socket: connections the server keeps, and whether
//      readiness is answered.
// Usage: npm run bench -- faults [-- seconds]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

const seconds = Number(process.argv[2] ?? 20);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const supervisor = file('../dist/cli.js');
const model = file('./fault-model.mjs');
const pause = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function start(env = {}) {
  const child = spawn(process.execPath, [supervisor, model], {
    env: { ...process.env, MODE: 'http', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(stderr);
      if (match) resolve({ url: match[1], child, stderr: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
}

async function stop(server) {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

const childrenOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const status = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const openFiles = (pid) => readdirSync(`/proc/${pid}/fd`).length;
/** RSS and open files of the supervisor and its worker together. */
const footprint = (pid) => {
  const pids = [pid, ...childrenOf(pid)];
  return { rss: pids.reduce((sum, each) => sum + status(each, 'VmRSS'), 0), files: pids.reduce((sum, each) => sum + openFiles(each), 0) };
};

const predict = (url, inputs, dispatcher) =>
  request(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs }),
    dispatcher,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });

/** `loops` keep-alive clients sending requests back to back until `until()`; every answer is counted by status. */
async function load(url, loops, until, inputs = () => ({})) {
  const agent = new Agent({ connections: loops });
  const tally = { sent: 0, byStatus: {}, connectionErrors: 0, wrong: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (!until()) {
        const note = `request ${next++}`;
        tally.sent++;
        try {
          const response = await predict(url, { note, ...inputs() }, agent);
          const body = await response.body.json();
          tally.byStatus[response.statusCode] = (tally.byStatus[response.statusCode] ?? 0) + 1;
          if (response.statusCode === 200 && body.output?.note !== note) tally.wrong++;
        } catch {
          tally.connectionErrors++;
        }
      }
    }),
  );
  await agent.close();
  const answered = Object.values(tally.byStatus).reduce((sum, count) => sum + count, 0);
  // A connection error is a request that got no answer: it counts as lost.
  return { ...tally, answered, lost: tally.sent - answered };
}

console.log(`fault benchmark (node ${process.version}, ${seconds} s per load)`);

// 1. Sustained load.
{
  const server = await start({ MAX_QUEUE: '256' });
  await (await predict(server.url, { note: 'warm-up' })).body.dump();
  const before = footprint(server.child.pid);
  const deadline = Date.now() + seconds * 1000;
  const tally = await load(server.url, 16, () => Date.now() > deadline);
  await pause(500);
  const after = footprint(server.child.pid);
  console.log('1. sustained load, 16 connections');
  console.log(
    `   requests ${tally.sent}, answered 200: ${tally.byStatus[200] ?? 0}, other statuses: ${JSON.stringify(Object.fromEntries(Object.entries(tally.byStatus).filter(([code]) => code !== '200')))}, connection errors ${tally.connectionErrors}, wrong answers ${tally.wrong}, lost ${tally.lost}`,
  );
  console.log(`   RSS (supervisor + worker)  before ${mb(before.rss)}   after ${mb(after.rss)}`);
  console.log(`   open files                 before ${before.files}   after ${after.files}`);
  await stop(server);
}

// 2. SIGKILL of the worker every 2 s under load.
{
  const server = await start({ MAX_QUEUE: '256' });
  const deadline = Date.now() + seconds * 1000;
  let kills = 0;
  const killer = setInterval(() => {
    const [worker] = childrenOf(server.child.pid);
    if (worker) {
      process.kill(worker, 'SIGKILL');
      kills++;
    }
  }, 2000);
  const tally = await load(
    server.url,
    8,
    () => Date.now() > deadline,
    () => ({ delay_ms: 5 }),
  );
  clearInterval(killer);
  console.log(`2. the worker SIGKILLed every 2 s under load (8 connections, 5 ms inferences): ${kills} kills`);
  console.log(
    `   sent ${tally.sent}, answered ${tally.answered} (200: ${tally.byStatus[200] ?? 0}, 500 worker died: ${tally.byStatus[500] ?? 0}, other: ${tally.answered - (tally.byStatus[200] ?? 0) - (tally.byStatus[500] ?? 0)}), connection errors ${tally.connectionErrors}, wrong ${tally.wrong}, lost ${tally.lost}`,
  );
  await stop(server);
}

// 3. A hung model.
{
  const server = await start({ INFERENCE_TIMEOUT_MS: '1000', WORKER_KILL_GRACE_MS: '1000' });
  const readyAgain = async (from) => {
    for (;;) {
      if ((await request(`${server.url}/health`)).statusCode === 200) return performance.now() - from;
      await pause(5);
    }
  };
  const replacements = [];
  const restarts = [];
  let lost = 0;
  let queued = 0;
  for (let round = 0; round < 5; round++) {
    const stuck = predict(server.url, { hang: true });
    await pause(100);
    const behind = Array.from({ length: 4 }, (_, index) => predict(server.url, { note: `behind ${round}.${index}` }));
    queued += behind.length;
    const timedOut = await stuck;
    const at = performance.now();
    await timedOut.body.dump();
    if (timedOut.statusCode !== 504) throw new Error(`expected 504, got ${timedOut.statusCode}`);
    replacements.push(await readyAgain(at));
    for (const response of await Promise.all(behind)) {
      if (response.statusCode !== 200) lost++;
      await response.body.dump();
    }
    // The baseline: a worker that is replaced after a throw (here: SIGKILL), from the death to ready.
    const [worker] = childrenOf(server.child.pid);
    const killedAt = performance.now();
    process.kill(worker, 'SIGKILL');
    await pause(20);
    restarts.push(await readyAgain(killedAt));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log('3. a hung model (INFERENCE_TIMEOUT_MS=1000), 5 rounds, 4 requests queued behind it each time');
  console.log(
    `   504 to the next ready worker: median ${median(replacements).toFixed(0)} ms   (baseline: a SIGKILLed worker to the next ready one, median ${median(restarts).toFixed(0)} ms)`,
  );
  console.log(`   requests queued behind the hung one: ${queued}, not served: ${lost}`);
  await stop(server);
}

// 4. Concurrent large uploads.
{
  const budget = 256 * 1024 * 1024;
  const server = await start({ MAX_BUFFERED_BYTES: String(budget) });
  await (await predict(server.url, { note: 'warm-up' })).body.dump();
  const before = status(server.child.pid, 'VmRSS');
  const size = 95 * 1024 * 1024;
  const boundary = 'faultsbenchboundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="delay_ms"\r\n\r\n1500\r\n--${boundary}--\r\n`);
  const payload = Buffer.alloc(size, 0x61);
  const uploads = 24;
  const agent = new Agent({ connections: uploads });
  const statuses = {};
  let errors = 0;
  await Promise.all(
    Array.from({ length: uploads }, async () => {
      try {
        const response = await request(`${server.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
          body: Buffer.concat([head, payload, tail]),
          dispatcher: agent,
          headersTimeout: 120_000,
          bodyTimeout: 120_000,
        });
        await response.body.dump();
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      } catch {
        errors++;
      }
    }),
  );
  await agent.close();
  const peak = status(server.child.pid, 'VmHWM');
  console.log(`4. ${uploads} concurrent ${mb(size)} uploads, MAX_BUFFERED_BYTES ${mb(budget)}`);
  console.log(`   answers ${JSON.stringify(statuses)}, connection errors ${errors}`);
  console.log(
    `   supervisor RSS before ${mb(before)}, peak ${mb(peak)}: ${mb(peak - before)} above the baseline, for a budget of ${mb(budget)} (${uploads} x ${mb(size)} = ${mb(uploads * size)} offered)`,
  );
  await stop(server);
}

// 5. Slow clients.
{
  const server = await start({ MAX_CONNECTIONS: '100', HEADERS_TIMEOUT_MS: '20000' });
  const { port } = new URL(server.url);
  const sockets = [];
  let closedByServer = 0;
  for (let index = 0; index < 500; index++) {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => closedByServer++);
    socket.write('POST /predict HTTP/1.1\r\nHost: x\r\n'); // and never the rest
    sockets.push(socket);
    if (index % 50 === 49) await pause(20);
  }
  await pause(500);
  const held = readdirSync(`/proc/${server.child.pid}/fd`).length;
  const probes = { 200: 0, other: 0, failed: 0 };
  for (let index = 0; index < 20; index++) {
    try {
      const response = await request(`${server.url}/health`, { headersTimeout: 5000, bodyTimeout: 5000 });
      await response.body.dump();
      if (response.statusCode === 200) probes[200]++;
      else probes.other++;
    } catch {
      probes.failed++;
    }
  }
  console.log('5. 500 slowloris sockets (half a request, then silence), MAX_CONNECTIONS=100');
  console.log(`   sockets the server closed: ${closedByServer}; open files in the supervisor: ${held}`);
  console.log(`   20 readiness probes meanwhile: ${probes[200]} answered 200, ${probes.other} another status, ${probes.failed} failed`);
  for (const socket of sockets) socket.destroy();
  await stop(server);
}
