// What a framework on node:http may spend per request for a given share of the bare server's
// throughput: the bare node:http + busboy server (bench/bare-http-server.mjs) with a fixed number
// of microseconds of pure JavaScript added to each request, beside the same server without it and
// MODE=http direct, measured with wrk in one run (servers alternate over rounds; medians). Over
// loopback a slower server also pays more per request in the kernel (each answer has to wake the
// load generator, which had time to fall asleep), so a microsecond of work costs more than a
// microsecond of throughput; this measures the real exchange rate instead of assuming one.
// Usage: npm run bench -- budget [-- seconds rounds]
import { fileURLToPath } from 'node:url';
import { answersOf, scenarios } from './http-scenarios.mjs';
import { cpuSeconds, median, startServer, wrk } from './wrk.mjs';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const extraWork = [0, 2, 4, 6, 8, 12, 16];
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

const direct = await startServer([file('./constant-model.mjs')]);
const answers = JSON.stringify(await answersOf(direct.url));
const servers = { direct };
for (const microseconds of extraWork)
  servers[`bare+${microseconds}`] = await startServer([file('./bare-http-server.mjs')], { ANSWERS: answers, EXTRA_WORK_US: String(microseconds) });

console.log(`HTTP budget: wrk, 10 connections, ${seconds} s x ${rounds} rounds (node ${process.version})`);
for (const scenario of scenarios) {
  const figures = Object.fromEntries(Object.keys(servers).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, server] of Object.entries(servers)) {
      const cpuBefore = cpuSeconds(server.child.pid);
      const { rps } = wrk(`${server.url}${scenario.path}`, scenario.script, { seconds });
      figures[name].push({ rps, cpu: ((cpuSeconds(server.child.pid) - cpuBefore) * 1e6) / (rps * seconds) });
    }
  }
  const rps = (name) => median(figures[name].map((figure) => figure.rps));
  const cpu = (name) => median(figures[name].map((figure) => figure.cpu));
  const line = (label, name) =>
    `    ${label.padEnd(40)} ${rps(name).toFixed(0).padStart(6)} req/s ${`${((rps(name) / rps('bare+0')) * 100).toFixed(0)}%`.padStart(5)} of bare   ${cpu(name).toFixed(1).padStart(5)} µs CPU/req`;
  console.log(`  ${scenario.name}`);
  for (const microseconds of extraWork)
    console.log(line(microseconds === 0 ? 'bare node:http + busboy' : `bare + ${microseconds} µs of JavaScript per request`, `bare+${microseconds}`));
  // Where direct falls on the bare server's curve: the work per request it amounts to.
  const ratio = rps('direct') / rps('bare+0');
  const points = extraWork.map((microseconds) => ({ microseconds, ratio: rps(`bare+${microseconds}`) / rps('bare+0') }));
  const below = points.findIndex((point) => point.ratio <= ratio);
  let equivalent;
  if (below === -1) equivalent = `more than ${extraWork.at(-1)} µs`;
  else if (below === 0) equivalent = 'no more than the bare server';
  else {
    const [a, b] = [points[below - 1], points[below]];
    equivalent = `about ${(a.microseconds + ((a.ratio - ratio) / (a.ratio - b.ratio)) * (b.microseconds - a.microseconds)).toFixed(1)} µs`;
  }
  console.log(`${line('MODE=http, node shim.js', 'direct')}   = the bare server + ${equivalent} of work per request`);
}
await Promise.all(Object.values(servers).map((server) => server.stop()));
