// Lambda invocations per second: MODE=lambda on the no-op model (bench/constant-model.mjs, a
// 5.5 KB JPEG in as base64, a constant JSON out), run directly and under the supervisor, against
// the tests' Lambda runtime API (test/helpers/lambda-runtime-api.ts, compiled here with esbuild),
// beside a baseline measured in the same run on the same server: a bare Node loop doing the same
// next / parse / response calls with undici and no model. The processes take turns over rounds,
// so machine noise hits all alike; every answer is checked before the load.
// Usage: npm run bench -- lambda [-- seconds rounds]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { benchJpeg } from './bench-jpeg.mjs';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'bench-lambda-'));

// The runtime API the tests use, as JavaScript.
const helper = join(scratch, 'lambda-runtime-api.mjs');
await build({
  entryPoints: [file('../test/helpers/lambda-runtime-api.ts')],
  outfile: helper,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'error',
});
const { startRuntimeApi } = await import(pathToFileURL(helper).href);

const jpeg = benchJpeg;
const event = { image: jpeg.toString('base64') };

// The baseline: what any runtime must do per invocation (next, read and parse the event, post a
// JSON response), with the same client and the same settings as MODE=lambda, and no model.
const bareLoop = `
import { Client } from 'undici';
const client = new Client('http://' + process.env.AWS_LAMBDA_RUNTIME_API, { pipelining: 1 });
const answer = JSON.stringify({ status: 'succeeded', output: { label: 'cat', score: 0.98 }, content_type: 'application/json', metrics: { predict_time_ms: 0 } });
const controller = new AbortController();
process.on('SIGTERM', () => controller.abort());
for (;;) {
  let next;
  try {
    next = await client.request({ method: 'GET', path: '/2018-06-01/runtime/invocation/next', headersTimeout: 0, bodyTimeout: 0, signal: controller.signal });
  } catch {
    break;
  }
  const id = next.headers['lambda-runtime-aws-request-id'];
  const parsed = JSON.parse(await next.body.text());
  if (typeof parsed.image !== 'string') throw new Error('no image in the event');
  const posted = await client.request({ method: 'POST', path: '/2018-06-01/runtime/invocation/' + encodeURIComponent(id) + '/response', body: answer, headers: { 'content-type': 'application/json' } });
  await posted.body.dump();
}
await client.close();
`;

const scenarios = [
  { name: 'bare Node loop (next, parse, response)', command: ['--input-type=module', '-e', bareLoop], check: (output) => output.output.label === 'cat' },
  {
    name: 'MODE=lambda, node shim.js',
    command: [file('./constant-model.mjs')],
    check: (output) => output.output.label === 'cat' && output.status === 'succeeded',
  },
  {
    name: 'MODE=lambda, ai-integration shim.js',
    command: [file('../dist/cli.js'), file('./constant-model.mjs')],
    check: (output) => output.output.label === 'cat' && output.status === 'succeeded',
  },
];

const api = await startRuntimeApi();

function startFunction(scenario) {
  const child = spawn(process.execPath, scenario.command, {
    cwd: file('..'),
    env: { ...process.env, MODE: 'lambda', AWS_LAMBDA_RUNTIME_API: api.address },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

/** Invocations per second over `seconds`, the queue never empty: batches of 64 queued at once. */
async function measure(scenario) {
  const fn = startFunction(scenario);
  try {
    const first = await api.invoke(event);
    if (first.kind !== 'response' || !scenario.check(first.json())) throw new Error(`${scenario.name}: ${first.kind} ${first.body}\n${fn.stderr()}`);
    for (let warm = 0; warm < 5; warm++) await Promise.all(Array.from({ length: 64 }, () => api.invoke(event)));
    let count = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      const answers = await Promise.all(Array.from({ length: 64 }, () => api.invoke(event)));
      if (answers.some((posted) => posted.kind !== 'response')) throw new Error(`${scenario.name}: an invocation failed`);
      count += answers.length;
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    fn.child.kill('SIGTERM');
    await fn.exited;
  }
}

const figures = new Map(scenarios.map((scenario) => [scenario.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const scenario of scenarios) figures.get(scenario.name).push(await measure(scenario));
}
await api.close();
rmSync(scratch, { recursive: true, force: true });

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const baseline = median(figures.get(scenarios[0].name));
console.log(
  `Lambda runtime API loop: ${seconds} s x ${rounds} rounds, one invocation at a time (as Lambda runs them), a ${jpeg.length}-byte JPEG as base64 in the event, no-op model (node ${process.version})`,
);
for (const [name, values] of figures) {
  const rate = median(values);
  const share = name === scenarios[0].name ? '' : `   ${((rate / baseline) * 100).toFixed(0)}% of the bare loop`;
  console.log(`  ${name.padEnd(40)} ${rate.toFixed(0).padStart(6)} invocations/s (median; runs ${values.map((value) => value.toFixed(0)).join(', ')})${share}`);
}
