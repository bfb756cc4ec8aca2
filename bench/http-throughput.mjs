// HTTP throughput of MODE=http on a model that returns a constant, beside a bare node:http +
// busboy server doing the same parsing and answering the same bytes, and the same model under the
// supervisor (its worst case: a model that does no work), measured in one run with wrk (a C load
// generator; a Node one takes CPU from the servers on a 2-core machine): POST / with a 5 KB JPEG
// (multipart), and POST /predict with JSON (the same JPEG as base64). Servers alternate over
// rounds, so that machine noise hits all alike; the figures are medians. Beside each, the server's
// CPU per request (its process and its workers, from /proc), which the load generator's share of
// the two cores does not move.
// Usage: npm run bench -- http [-- seconds connections rounds]
import { fileURLToPath } from 'node:url';
import { answersOf, jpeg, scenarios } from './http-scenarios.mjs';
import { cpuSeconds, median, milliseconds, startServer, wrk } from './wrk.mjs';

const seconds = Number(process.argv[2] ?? 8);
const connections = Number(process.argv[3] ?? 10);
const rounds = Number(process.argv[4] ?? 3);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

const model = file('./constant-model.mjs');
const direct = await startServer([model]);
// The bare server answers exactly what ours answers (same bytes, minus the per-request id).
const answers = await answersOf(direct.url);
const servers = {
  bare: await startServer([file('./bare-http-server.mjs')], { ANSWERS: JSON.stringify(answers) }),
  direct,
  supervised: await startServer([file('../dist/cli.js'), model]),
};

console.log(
  `HTTP throughput: wrk, ${connections} connections, ${seconds} s x ${rounds} rounds, ${jpeg.length}-byte JPEG, default settings (node ${process.version})`,
);
for (const scenario of scenarios) {
  const figures = { bare: [], direct: [], supervised: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, server] of Object.entries(servers)) {
      const cpuBefore = cpuSeconds(server.child.pid);
      const figure = wrk(`${server.url}${scenario.path}`, scenario.script, { connections, seconds });
      figure.cpuPerRequest = ((cpuSeconds(server.child.pid) - cpuBefore) * 1e6) / (figure.rps * seconds);
      figures[name].push(figure);
    }
  }
  const rps = (name) => median(figures[name].map((figure) => figure.rps));
  const p50 = (name) => `${median(figures[name].map((figure) => milliseconds(figure.p50))).toFixed(2)} ms`;
  const cpu = (name) => `${median(figures[name].map((figure) => figure.cpuPerRequest)).toFixed(0)} µs CPU/req`;
  const line = (label, name) =>
    `    ${label.padEnd(34)} ${rps(name).toFixed(0).padStart(6)} req/s   p50 ${String(p50(name)).padStart(8)}   ${cpu(name).padStart(15)}`;
  console.log(`  ${scenario.name}`);
  console.log(line('bare node:http + busboy', 'bare'));
  console.log(`${line('MODE=http, node shim.js', 'direct')}   ${((rps('direct') / rps('bare')) * 100).toFixed(0)}% of the bare server`);
  console.log(`${line('MODE=http, under the supervisor', 'supervised')}   ${((rps('supervised') / rps('direct')) * 100).toFixed(0)}% of direct`);
}
await Promise.all(Object.values(servers).map((server) => server.stop()));
