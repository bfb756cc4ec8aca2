// What the access log and bearer auth cost: throughput of the native POST /predict with the same
// no-op model (bench/constant-model.mjs, the 5.5 KB JPEG of bench/protocols.mjs, a constant JSON
// out) with ACCESS_LOG off and no AUTH_TOKEN (the baseline), with the access log as text and as
// JSON, with auth, and with the text log and auth together, measured with wrk, servers
// alternating over rounds so that machine noise hits all alike. Each server's stderr is a pipe
// this process reads and drops, as a container runtime's log driver does.
// Usage: npm run bench -- access [-- seconds rounds]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchJpeg } from './bench-jpeg.mjs';

const seconds = Number(process.argv[2] ?? 8);
const rounds = Number(process.argv[3] ?? 3);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'bench-access-'));
const token = 'bench-token-5b0e7f2a9c';

const jpeg = benchJpeg;
const body = JSON.stringify({ inputs: { image: jpeg.toString('base64') } });

const scenarios = [
  { name: 'baseline (no access log, no auth)', env: { ACCESS_LOG: 'false' } },
  { name: 'access log, text', env: {} },
  { name: 'access log, JSON', env: { LOG_FORMAT: 'json' } },
  { name: 'auth (AUTH_TOKEN)', env: { ACCESS_LOG: 'false', AUTH_TOKEN: token } },
  { name: 'access log (text) and auth', env: { AUTH_TOKEN: token } },
  { name: 'access log (JSON) and auth', env: { LOG_FORMAT: 'json', AUTH_TOKEN: token } },
];

// The bench's own environment must not set what the scenarios compare.
function withoutOurs(env) {
  const copy = { ...env };
  for (const name of ['ACCESS_LOG', 'LOG_FORMAT', 'AUTH_TOKEN', 'AUTH_TOKEN_FILE']) delete copy[name];
  return copy;
}

function start(env) {
  const child = spawn(process.execPath, [file('./constant-model.mjs')], {
    env: { ...withoutOurs(process.env), MODE: 'http', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = { count: 0 };
  return new Promise((resolve, reject) => {
    let head = '';
    child.stderr.on('data', (chunk) => {
      // Counted without decoding: the reader should cost about what a log driver's does.
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines.count++;
      if (head !== undefined) {
        head += chunk;
        const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(head);
        if (match) {
          head = undefined;
          resolve({ url: match[1], child, lines });
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${head}`)));
  });
}

const bodyFile = join(scratch, 'body.json');
writeFileSync(bodyFile, body);
function wrkScript(headers) {
  const script = join(scratch, `script-${Object.keys(headers).length}.lua`);
  const lines = Object.entries({ 'content-type': 'application/json', ...headers }).map(
    ([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`,
  );
  writeFileSync(
    script,
    ['wrk.method = "POST"', ...lines, `local f = io.open(${JSON.stringify(bodyFile)}, "rb")`, 'wrk.body = f:read("*a")', 'f:close()', ''].join('\n'),
  );
  return script;
}

function load(url, script) {
  const output = execFileSync('wrk', ['-t1', '-c10', `-d${seconds}s`, '-s', script, `${url}/predict`], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(output)?.[1];
  if (non2xx > 0 || errors) throw new Error(`${non2xx} non-2xx answers, socket errors ${errors ?? 'none'}`);
  return { rps, requests: Number(/(\d+) requests in/.exec(output)?.[1]) };
}

for (const scenario of scenarios) {
  const env = { ...scenario.env };
  scenario.server = await start(env);
  const headers = env.AUTH_TOKEN ? { authorization: `Bearer ${token}` } : {};
  // Every server must answer once, and refuse without the token when it has one.
  const answer = await fetch(`${scenario.server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  if (answer.status !== 200) throw new Error(`${scenario.name}: ${answer.status} ${await answer.text()}`);
  if (env.AUTH_TOKEN) {
    const refused = await fetch(`${scenario.server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (refused.status !== 401) throw new Error(`${scenario.name}: ${refused.status} without the token`);
  }
  scenario.script = wrkScript(headers);
  scenario.figures = [];
}

for (let round = 0; round < rounds; round++) {
  // Each round starts at another scenario, so that none always runs first or last.
  for (const scenario of [...scenarios.slice(round % scenarios.length), ...scenarios.slice(0, round % scenarios.length)]) {
    const before = scenario.server.lines.count;
    const { rps, requests } = load(scenario.server.url, scenario.script);
    scenario.figures.push(rps);
    // The log must have kept up: one line per request (written asynchronously, so wait for the last).
    if (scenario.env.ACCESS_LOG !== 'false') {
      for (let waited = 0; scenario.server.lines.count - before < requests && waited < 100; waited++) await new Promise((resolve) => setTimeout(resolve, 20));
      if (scenario.server.lines.count - before < requests)
        throw new Error(`${scenario.name}: ${scenario.server.lines.count - before} access lines for ${requests} requests`);
    }
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const baseline = median(scenarios[0].figures);
console.log(
  `access log and auth on the native POST /predict: wrk, 10 connections, ${seconds} s x ${rounds} rounds, ${jpeg.length}-byte JPEG, no-op model (node ${process.version})`,
);
for (const scenario of scenarios) {
  const rps = median(scenario.figures);
  const cost = scenario === scenarios[0] ? '' : `   cost ${((1 - rps / baseline) * 100).toFixed(1)}% vs baseline`;
  console.log(
    `  ${scenario.name.padEnd(34)} ${rps.toFixed(0).padStart(6)} req/s (median; runs ${scenario.figures.map((value) => value.toFixed(0)).join(', ')})${cost}`,
  );
}

for (const scenario of scenarios) scenario.server.child.kill('SIGTERM');
