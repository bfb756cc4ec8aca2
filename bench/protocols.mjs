// What each protocol adapter costs on the shared HTTP core: throughput of the same no-op model
// (bench/constant-model.mjs, a 5.5 KB JPEG in, a constant JSON out) through the native
// POST /predict, KServe's V2 infer (JSON, and binary tensors), KServe's V1 predict, Cog's
// POST /predictions, SageMaker's /invocations (JSON, and a raw JPEG) and Vertex's predict route,
// with a bare node:http server doing the same I/O as the baseline, measured
// with wrk (a C load generator: a Node one would take CPU from the server on 2 cores), servers
// alternating over rounds so that machine noise hits all alike. Every answer is checked before
// the load. Usage: npm run bench -- protocols [-- seconds rounds]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jpeg, json, scenarios } from './protocol-scenarios.mjs';

const seconds = Number(process.argv[2] ?? 8);
const rounds = Number(process.argv[3] ?? 3);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'bench-protocols-'));

function start(script, env) {
  // GRPC_PORT=0: MODE=kserve serves REST only here (bench/grpc.mjs measures its gRPC).
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', GRPC_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(stderr);
      if (match) resolve({ url: match[1], child });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
}

// A wrk script per scenario: the body is read from a file, so binary bodies go as they are.
function wrkScript(scenario, index) {
  const bodyFile = join(scratch, `body-${index}`);
  writeFileSync(bodyFile, scenario.body);
  const headers = Object.entries(scenario.headers).map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  const script = join(scratch, `script-${index}.lua`);
  writeFileSync(
    script,
    ['wrk.method = "POST"', ...headers, `local f = io.open(${JSON.stringify(bodyFile)}, "rb")`, 'wrk.body = f:read("*a")', 'f:close()', ''].join('\n'),
  );
  return script;
}

function load(url, scenario) {
  const output = execFileSync('wrk', ['-t1', '-c10', `-d${seconds}s`, '--latency', '-s', scenario.script, `${url}${scenario.path}`], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(output)?.[1];
  if (non2xx > 0 || errors) throw new Error(`${scenario.name}: ${non2xx} non-2xx answers, socket errors ${errors ?? 'none'}`);
  return rps;
}

const servers = {};
for (const mode of ['http', 'kserve', 'cog', 'sagemaker', 'vertex']) servers[mode] = await start(file('./constant-model.mjs'), { MODE: mode });
// The bare server answers the native API's bytes for its path.
const nativeAnswer = await (await fetch(`${servers.http.url}/predict`, { method: 'POST', headers: json, body: scenarios[0].body })).text();
const bare = await start(file('./bare-http-server.mjs'), { ANSWERS: JSON.stringify({ '/predict': nativeAnswer, '/': nativeAnswer }) });

// Every scenario must succeed once before it is measured.
for (const [index, scenario] of scenarios.entries()) {
  const response = await fetch(`${servers[scenario.mode].url}${scenario.path}`, { method: 'POST', headers: scenario.headers, body: scenario.body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${scenario.name}: ${response.status} ${text}`);
  scenario.script = wrkScript(scenario, index);
}
const bareScenario = { ...scenarios[0], name: 'bare node:http, the same JSON' };

const figures = new Map([[bareScenario.name, []], ...scenarios.map((scenario) => [scenario.name, []])]);
for (let round = 0; round < rounds; round++) {
  figures.get(bareScenario.name).push(load(bare.url, bareScenario));
  for (const scenario of scenarios) figures.get(scenario.name).push(load(servers[scenario.mode].url, scenario));
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const native = median(figures.get(scenarios[0].name));
console.log(
  `protocol adapters on the shared core: wrk, 10 connections, ${seconds} s x ${rounds} rounds, ${jpeg.length}-byte JPEG, no-op model (node ${process.version})`,
);
for (const [name, values] of figures) {
  const rps = median(values);
  const cost = name === bareScenario.name || name === scenarios[0].name ? '' : `   adapter cost ${((1 - rps / native) * 100).toFixed(0)}% vs native`;
  console.log(`  ${name.padEnd(32)} ${rps.toFixed(0).padStart(6)} req/s (median; runs ${values.map((value) => value.toFixed(0)).join(', ')})${cost}`);
}
console.log(`  native keeps ${((native / median(figures.get(bareScenario.name))) * 100).toFixed(0)}% of the bare server`);

for (const server of [...Object.values(servers), bare]) server.child.kill('SIGTERM');
