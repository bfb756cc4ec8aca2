// HTTP throughput of MODE=http on a model that returns a constant, beside a bare node:http +
// busboy server doing the same parsing and answering the same bytes, measured in one run with
// wrk (a C load generator; a Node one takes CPU from the servers on a 2-core machine): POST / with
// a 5 KB JPEG (multipart), and POST /predict with JSON (the same JPEG as base64).
// Usage: npm run bench:http [-- seconds connections]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchJpeg } from './bench-jpeg.mjs';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 10);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

const jpeg = benchJpeg;
const boundary = 'benchboundary';
const multipart = Buffer.concat([
  Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
  jpeg,
  Buffer.from(`\r\n--${boundary}--\r\n`),
]);
const json = JSON.stringify({ inputs: { image: jpeg.toString('base64') } });
const scenarios = [
  { name: 'POST / (multipart, 5 KB JPEG)', path: '/', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: multipart },
  { name: 'POST /predict (JSON)', path: '/predict', headers: { 'content-type': 'application/json' }, body: json },
];

function start(script, env) {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(stderr);
      if (match) resolve({ url: match[1].replace('0.0.0.0', '127.0.0.1'), child });
    });
    child.on('exit', () => reject(new Error(stderr)));
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'bench-http-'));
for (const [index, scenario] of scenarios.entries()) {
  const bodyFile = join(scratch, `body-${index}`);
  writeFileSync(bodyFile, scenario.body);
  scenario.script = join(scratch, `script-${index}.lua`);
  const headers = Object.entries(scenario.headers).map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  writeFileSync(scenario.script, ['wrk.method = "POST"', ...headers, `local f = io.open(${JSON.stringify(bodyFile)}, "rb")`, 'wrk.body = f:read("*a")', 'f:close()', ''].join('\n'));
}

function load(url, scenario) {
  const output = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', scenario.script, `${url}${scenario.path}`], { encoding: 'utf8' });
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(output)?.[1];
  if (non2xx > 0 || errors) throw new Error(`${scenario.name}: ${non2xx} non-2xx answers, socket errors ${errors ?? 'none'}`);
  const latency = (percentile) => new RegExp(`\\s${percentile}%\\s+(\\S+)`).exec(output)?.[1] ?? '?';
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]), p50: latency(50), p99: latency(99) };
}

const ours = await start(file('./constant-model.mjs'), { MODE: 'http', PORT: '0', HOST: '127.0.0.1' });
// The bare server answers exactly what ours answers (same bytes, minus the per-request id).
const answers = {};
for (const scenario of scenarios) {
  const response = await fetch(`${ours.url}${scenario.path}`, { method: 'POST', headers: scenario.headers, body: scenario.body });
  answers[scenario.path] = await response.text();
}
const bare = await start(file('./bare-http-server.mjs'), { ANSWERS: JSON.stringify(answers) });

console.log(`HTTP throughput: wrk, ${connections} connections, ${seconds} s per run, ${jpeg.length}-byte JPEG (node ${process.version})`);
for (const scenario of scenarios) {
  // Alternate the servers so that machine noise hits both alike.
  const bareFigures = await load(bare.url, scenario);
  const ourFigures = await load(ours.url, scenario);
  const line = (label, figures) => `    ${label.padEnd(28)} ${figures.rps.toFixed(0).padStart(6)} req/s   p50 ${String(figures.p50).padStart(7)}   p99 ${String(figures.p99).padStart(7)}`;
  console.log(`  ${scenario.name}`);
  console.log(line('bare node:http + busboy', bareFigures));
  console.log(line('ai-integration MODE=http', ourFigures));
  console.log(`    ratio: ${((ourFigures.rps / bareFigures.rps) * 100).toFixed(0)}% of the bare server's throughput`);
}
ours.child.kill('SIGTERM');
bare.child.kill('SIGTERM');
