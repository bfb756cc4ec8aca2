// A/B of two builds of this repository on every HTTP route of the http and protocols benchmarks: each
// root (a worktree with its own dist/, e.g. `git worktree add /tmp/ab-base <commit>` and
// `npm run build` there) serves bench/constant-model.mjs from its own code, run directly
// (MODE=http and each protocol mode) and under its supervisor (MODE=http), beside one bare
// node:http server answering the native bytes. Within each round every route is loaded with wrk on
// base, head (and bare) one after the other, the order rotating from round to round, so machine
// noise hits all alike; the figures are medians, and the per-round head/base pairs the two runs of
// each round, seconds apart.
// CPU per request is the server's (its process and its workers, from /proc).
// Usage: npm run bench -- ab -- BASE_ROOT HEAD_ROOT [seconds] [rounds] (or node bench/ab.mjs ...)
// (ROUTES=regex measures only the routes whose names match, e.g. ROUTES=supervised.)
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answersOf, jpeg, scenarios as httpScenarios } from './http-scenarios.mjs';
import { scenarios as protocolScenarios } from './protocol-scenarios.mjs';
import { cpuSeconds, median, startServer, wrk, wrkScript } from './wrk.mjs';

const [baseRoot, headRoot] = process.argv.slice(2, 4).map((root) => root && resolve(root));
const seconds = Number(process.argv[4] ?? 5);
const rounds = Number(process.argv[5] ?? 5);
if (!baseRoot || !headRoot || !(seconds > 0) || !(rounds > 0)) {
  console.error('usage: npm run bench -- ab -- BASE_ROOT HEAD_ROOT [seconds] [rounds]');
  process.exit(2);
}
const commit = (root) => execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();

/** The servers of one root: MODE=http direct and supervised, and each protocol mode direct. */
async function serversOf(root) {
  const model = join(root, 'bench/constant-model.mjs');
  const servers = { direct: await startServer([model]), supervised: await startServer([join(root, 'dist/cli.js'), model]) };
  for (const mode of ['kserve', 'cog', 'sagemaker', 'vertex']) servers[mode] = await startServer([model], { MODE: mode });
  return servers;
}
const builds = { base: await serversOf(baseRoot), head: await serversOf(headRoot) };
const bare = await startServer([fileURLToPath(new URL('./bare-http-server.mjs', import.meta.url))], {
  ANSWERS: JSON.stringify(await answersOf(builds.head.direct.url)),
});

// The routes: the http benchmark's two, direct (beside the bare server) and supervised, then protocols'
// adapters (its native POST /predict is the http benchmark's JSON route, the same bytes).
let routes = [];
for (const scenario of httpScenarios) {
  routes.push({ ...scenario, name: `${scenario.name}, direct`, server: 'direct', bare: true });
  routes.push({ ...scenario, name: `${scenario.name}, supervised`, server: 'supervised' });
}
for (const scenario of protocolScenarios.filter((scenario) => scenario.mode !== 'http')) {
  routes.push({ ...scenario, server: scenario.mode, script: wrkScript({ headers: scenario.headers, body: scenario.body }) });
}
if (process.env.ROUTES) routes = routes.filter((route) => new RegExp(process.env.ROUTES).test(route.name));

// Every route must answer 200 on both builds before it is loaded; a different answer is reported
// (ids and times aside), since its size is part of what is measured.
const comparable = (text) => text.replace(/"(id|\w*_at|\w*time\w*)":\s*("[^"]*"|[\d.]+)/g, '"$1":_');
for (const route of routes) {
  const answers = {};
  for (const [build, servers] of Object.entries(builds)) {
    const response = await fetch(`${servers[route.server].url}${route.path}`, { method: 'POST', headers: route.headers, body: route.body });
    answers[build] = await response.text();
    if (response.status !== 200) throw new Error(`${route.name} on ${build}: ${response.status} ${answers[build]}`);
  }
  if (comparable(answers.base) !== comparable(answers.head))
    console.log(`note: ${route.name} answers differently\n  base ${answers.base}\n  head ${answers.head}`);
}

// One second of load on each server and route first, so that no round measures the JIT's warm-up.
for (const route of routes) {
  for (const server of [builds.base[route.server], builds.head[route.server], ...(route.bare ? [bare] : [])])
    wrk(`${server.url}${route.path}`, route.script, { seconds: 1 });
}

const figures = routes.map(() => ({ base: [], head: [], bare: [] }));
for (let round = 0; round < rounds; round++) {
  for (const [index, route] of routes.entries()) {
    const contestants = route.bare ? ['base', 'head', 'bare'] : ['base', 'head'];
    for (let turn = 0; turn < contestants.length; turn++) {
      const name = contestants[(turn + round) % contestants.length];
      const server = name === 'bare' ? bare : builds[name][route.server];
      const cpuBefore = cpuSeconds(server.child.pid);
      const figure = wrk(`${server.url}${route.path}`, route.script, { seconds });
      figure.cpu = ((cpuSeconds(server.child.pid) - cpuBefore) * 1e6) / (figure.rps * seconds);
      figures[index][name].push(figure);
    }
  }
  process.stderr.write(`round ${round + 1}/${rounds} done\n`);
}

const rps = (runs) => median(runs.map((figure) => figure.rps));
const cpu = (runs) => median(runs.map((figure) => figure.cpu));
const percent = (ratio) => `${(ratio * 100).toFixed(0)}%`;
console.log(
  `\nA/B: base ${commit(baseRoot)} (${baseRoot}) vs head ${commit(headRoot)} (${headRoot}): wrk, 10 connections, ${seconds} s x ${rounds} rounds, ${jpeg.length}-byte JPEG, no-op model (node ${process.version})\n`,
);
console.log('| route | base req/s | head req/s | head/base | per-round head/base: median (range) | base µs CPU/req | head µs CPU/req |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [index, route] of routes.entries()) {
  const { base, head } = figures[index];
  const pairs = base.map((figure, round) => head[round].rps / figure.rps);
  const range = `${median(pairs).toFixed(2)} (${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)})`;
  console.log(
    `| ${route.name} | ${rps(base).toFixed(0)} | ${rps(head).toFixed(0)} | ${(rps(head) / rps(base)).toFixed(2)} | ${range} | ${cpu(base).toFixed(0)} | ${cpu(head).toFixed(0)} |`,
  );
}
const native = httpScenarios.filter((scenario) =>
  ['direct', 'supervised'].every((server) => routes.some((route) => route.name === `${scenario.name}, ${server}`)),
);
if (native.length > 0)
  console.log(
    '\n| native route | bare req/s | base direct/bare | head direct/bare | base supervised/direct | head supervised/direct |\n|---|---:|---:|---:|---:|---:|',
  );
for (const scenario of native) {
  const direct = figures[routes.findIndex((route) => route.name === `${scenario.name}, direct`)];
  const supervised = figures[routes.findIndex((route) => route.name === `${scenario.name}, supervised`)];
  const cells = ['base', 'head'].map((build) => [percent(rps(direct[build]) / rps(direct.bare)), percent(rps(supervised[build]) / rps(direct[build]))]);
  console.log(`| ${scenario.name} | ${rps(direct.bare).toFixed(0)} | ${cells[0][0]} | ${cells[1][0]} | ${cells[0][1]} | ${cells[1][1]} |`);
}

await Promise.all([bare, ...Object.values(builds).flatMap((servers) => Object.values(servers))].map((server) => server.stop()));
