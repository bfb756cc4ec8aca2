// Start-up: how long a container's process takes before it is useful, beside a bare Node process
// doing the same I/O, measured in the same run. (1) From spawn to the first 200 on /health (the
// readiness route): MODE=http run directly (node shim.js) and under the supervisor
// (ai-integration shim.js), beside bench/bare-health-server.mjs. (2) From spawn to exit for a
// stdin mode (MODE=test_inputs_dict_json, a 5.5 KB JPEG as base64 in a JSON object piped in),
// beside bench/bare-stdin-script.mjs. The model is bench/constant-model.mjs (no work). The
// processes take turns, one at a time, over rounds (the order turns too), so machine noise hits
// all alike; the figures are medians. Beside each, the CPU its processes used (a server's
// including its stop), which a busy machine moves less than the times. Given other checkouts
// (built), their shims are measured in the same turns: the figures before a change.
// Usage: npm run bench -- startup [-- rounds [other-checkout ...]]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchJpeg } from './bench-jpeg.mjs';

const rounds = Number(process.argv[2] ?? 15);
const others = process.argv.slice(3).map((path) => resolve(path));
if (!Number.isInteger(rounds) || rounds < 1 || others.some((other) => !existsSync(join(other, 'dist/cli.js')))) {
  console.error(
    `usage: node bench/startup.mjs [rounds [other-checkout ...]]: rounds a whole number above 0, each other checkout built (npm run build) (given ${JSON.stringify(process.argv.slice(2))})`,
  );
  process.exit(2);
}
const here = fileURLToPath(new URL('..', import.meta.url));
const bench = (name) => join(here, 'bench', name);
const goals = { direct: 60, supervised: 150, stdin: 50 };

const input = JSON.stringify({ image: benchJpeg.toString('base64') });
const checkouts = [{ label: '', root: here }, ...others.map((other) => ({ label: ` [${other}]`, root: other }))];
const servers = [
  { name: 'bare node:http server', args: [bench('bare-health-server.mjs')], baseline: true },
  ...checkouts.flatMap(({ label, root }) => [
    { name: `MODE=http, node shim.js${label}`, args: [join(root, 'bench/constant-model.mjs')], goal: goals.direct },
    { name: `MODE=http, ai-integration shim.js${label}`, args: [join(root, 'dist/cli.js'), join(root, 'bench/constant-model.mjs')], goal: goals.supervised },
  ]),
];
const scripts = [
  { name: 'bare node script (stdin to stdout)', args: [bench('bare-stdin-script.mjs')], baseline: true },
  ...checkouts.map(({ label, root }) => ({
    name: `MODE=test_inputs_dict_json, node shim.js${label}`,
    args: [join(root, 'bench/constant-model.mjs')],
    goal: goals.stdin,
  })),
];

// Every variable that could change what is measured is set here; the rest of the environment is kept.
const environment = (mode) => {
  const env = { ...process.env, MODE: mode, PORT: '0', HOST: '127.0.0.1' };
  for (const name of ['LOG_FORMAT', 'WORKERS', 'NODE_OPTIONS', 'AI_INTEGRATION_SHIM']) delete env[name];
  return env;
};

// CPU milliseconds of this process's children that have ended (cutime + cstime in /proc/self/stat,
// at 100 ticks a second): a supervisor reaps its worker before it exits, so the worker counts too.
const endedChildrenCpuMs = () => {
  if (!existsSync('/proc/self/stat')) return Number.NaN;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
};

const statusOf = (url) =>
  new Promise((done) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      done(response.statusCode);
    }).on('error', () => done(0));
  });

/** Milliseconds from spawn to the first 200 on /health, and CPU; the server is stopped (and gone) before it returns. */
async function toFirstHealthy(args) {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: here, env: environment('http'), stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((done) => child.once('exit', done));
  try {
    const url = await new Promise((found, failed) => {
      let head = '';
      child.stderr.on('data', (chunk) => {
        head += chunk;
        const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(head);
        if (match) found(match[1].replace('0.0.0.0', '127.0.0.1'));
      });
      void exited.then((code) => failed(new Error(`${args.join(' ')} exited (${code}) before listening:\n${head}`)));
    });
    // Listening comes before ready where a model still loads: ask until it says 200.
    while ((await statusOf(`${url}/health`)) !== 200) await new Promise((wait) => setTimeout(wait, 2));
    return performance.now() - started;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function measureServer(args) {
  const cpuBefore = endedChildrenCpuMs();
  const ms = await toFirstHealthy(args);
  return { ms, cpu: endedChildrenCpuMs() - cpuBefore };
}

/** Milliseconds from spawn to exit of a stdin mode with `input` piped in, and CPU; its answer is checked. */
async function toExit(args) {
  const cpuBefore = endedChildrenCpuMs();
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: here, env: environment('test_inputs_dict_json'), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(input);
  const code = await new Promise((done) => child.once('close', done));
  const elapsed = performance.now() - started;
  if (code !== 0 || JSON.parse(stdout).label !== 'cat') throw new Error(`${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`);
  return { ms: elapsed, cpu: endedChildrenCpuMs() - cpuBefore };
}

const figures = new Map([...servers, ...scripts].map((scenario) => [scenario, []]));
const inTurn = (list, round) => list.map((_, index) => list[(index + round) % list.length]);
for (let round = 0; round < rounds; round++) {
  for (const scenario of inTurn(servers, round)) figures.get(scenario).push(await measureServer(scenario.args));
  for (const scenario of inTurn(scripts, round)) figures.get(scenario).push(await toExit(scenario.args));
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const width = Math.max(...[...servers, ...scripts].map((scenario) => scenario.name.length));
const print = (title, list, baselineName) => {
  console.log(title);
  const baseline = median(figures.get(list[0]).map((run) => run.ms));
  for (const scenario of list) {
    const figure = median(figures.get(scenario).map((run) => run.ms));
    const cpu = median(figures.get(scenario).map((run) => run.cpu));
    const versus = scenario.baseline
      ? ''
      : `${figure - baseline >= 0 ? '+' : ''}${(figure - baseline).toFixed(0)} ms over the ${baselineName} (goal: within ${scenario.goal} ms)`;
    console.log(`  ${scenario.name.padEnd(width)} ${figure.toFixed(0).padStart(5)} ms   CPU ${cpu.toFixed(0).padStart(4)} ms   ${versus}`.trimEnd());
  }
};
console.log(`Start-up: medians of ${rounds} rounds, one process at a time, in turns (node ${process.version}, ${availableParallelism()} cores)`);
print('spawn to the first 200 on /health', servers, 'bare server');
print('spawn to exit, a JSON object with a 5.5 KB JPEG piped in', scripts, 'bare script');
