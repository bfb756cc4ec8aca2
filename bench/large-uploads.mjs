// Large binary inputs: a 1.46 MB JPEG (what an image model receives) as multipart to POST /predict,
// on a model that does no work, beside a bare node:http + busboy server doing the same parsing,
// direct (node shim.js) and under the supervisor (which hands the bytes to its worker process),
// and the same bytes as a KServe V2 binary tensor (direct and supervised; no bare server speaks
// it). wrk, 4 connections; servers alternate over rounds so that machine noise hits all alike;
// medians, with the server's CPU per request (its process and its workers, from /proc; under the
// supervisor also apart), and the load average at the start and the end.
// Usage: npm run bench -- large-uploads [-- seconds rounds connections]
// BASELINE_CLI=<another build's dist/cli.js> adds that build's supervisor beside this one's (an A/B
// in the same run).
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { noiseJpeg } from './bench-jpeg.mjs';
import { cpuSecondsApart, median, milliseconds, startServer, wrk, wrkScript } from './wrk.mjs';

const seconds = Number(process.argv[2] ?? 8);
const rounds = Number(process.argv[3] ?? 3);
const connections = Number(process.argv[4] ?? 4);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

const jpeg = await noiseJpeg(1328);
const boundary = 'benchboundary';
const multipart = {
  name: `POST /predict (multipart, ${(jpeg.length / 1e6).toFixed(2)} MB JPEG)`,
  path: '/predict',
  headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  body: Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    jpeg,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]),
};
// Triton's binary tensor extension: the JSON header, then the BYTES element as a 4-byte
// little-endian length and its bytes.
const binaryHeader = JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: jpeg.length + 4 } }] });
const lengthPrefix = Buffer.alloc(4);
lengthPrefix.writeUInt32LE(jpeg.length);
const kserve = {
  name: 'KServe V2 infer (binary tensor, same JPEG)',
  path: '/v2/models/constant-model/infer',
  headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(Buffer.byteLength(binaryHeader)) },
  body: Buffer.concat([Buffer.from(binaryHeader), lengthPrefix, jpeg]),
};
for (const scenario of [multipart, kserve]) scenario.script = wrkScript({ headers: scenario.headers, body: scenario.body });

const model = file('./constant-model.mjs');
const cli = file('../dist/cli.js');
const baselineCli = process.env.BASELINE_CLI;
const baseline = async (env = {}) => (baselineCli ? { baseline: await startServer([baselineCli, model], env) } : {});
const direct = await startServer([model]);
const answer = await (await fetch(`${direct.url}/predict`, { method: 'POST', headers: multipart.headers, body: multipart.body })).text();
const loads = [
  {
    scenario: multipart,
    servers: {
      bare: await startServer([file('./bare-http-server.mjs')], { ANSWERS: JSON.stringify({ '/predict': answer }) }),
      direct,
      supervised: await startServer([cli, model]),
      ...(await baseline()),
    },
  },
  {
    scenario: kserve,
    servers: {
      direct: await startServer([model], { MODE: 'kserve' }),
      supervised: await startServer([cli, model], { MODE: 'kserve' }),
      ...(await baseline({ MODE: 'kserve' })),
    },
  },
];

console.log(
  `Large uploads: wrk, ${connections} connections, ${seconds} s x ${rounds} rounds, ${jpeg.length}-byte JPEG, a model that does no work, default settings (node ${process.version}; load average ${loadavg()[0].toFixed(1)})`,
);
for (const { scenario, servers } of loads) {
  const figures = Object.fromEntries(Object.keys(servers).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, server] of Object.entries(servers)) {
      const cpuBefore = cpuSecondsApart(server.child.pid);
      const figure = wrk(`${server.url}${scenario.path}`, scenario.script, { connections, seconds });
      const cpuAfter = cpuSecondsApart(server.child.pid);
      const perRequest = (before, after) => ((after - before) * 1e6) / (figure.rps * seconds);
      figure.ownCpuPerRequest = perRequest(cpuBefore.own, cpuAfter.own);
      figure.childrenCpuPerRequest = perRequest(cpuBefore.children, cpuAfter.children);
      figure.cpuPerRequest = figure.ownCpuPerRequest + figure.childrenCpuPerRequest;
      figures[name].push(figure);
    }
  }
  const rps = (name) => median(figures[name].map((figure) => figure.rps));
  const range = (name) => {
    const values = figures[name].map((figure) => figure.rps);
    return `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;
  };
  const p50 = (name) => `${median(figures[name].map((figure) => milliseconds(figure.p50))).toFixed(2)} ms`;
  const cpu = (name) => `${median(figures[name].map((figure) => figure.cpuPerRequest)).toFixed(0)} µs CPU/req`;
  // Under the supervisor, its own share and its worker's: the supervisor's one thread bounds the rate.
  const apart = (name) =>
    `supervisor ${median(figures[name].map((figure) => figure.ownCpuPerRequest)).toFixed(0)} + worker ${median(figures[name].map((figure) => figure.childrenCpuPerRequest)).toFixed(0)} µs`;
  const line = (label, name) =>
    `    ${label.padEnd(34)} ${rps(name).toFixed(0).padStart(6)} req/s (${range(name).padStart(9)})   p50 ${String(p50(name)).padStart(9)}   ${cpu(name).padStart(16)}`;
  console.log(`  ${scenario.name}`);
  if (servers.bare) console.log(line('bare node:http + busboy', 'bare'));
  console.log(`${line('direct, node shim.js', 'direct')}${servers.bare ? `   ${((rps('direct') / rps('bare')) * 100).toFixed(0)}% of the bare server` : ''}`);
  console.log(`${line('under the supervisor', 'supervised')}   ${((rps('supervised') / rps('direct')) * 100).toFixed(0)}% of direct (${apart('supervised')})`);
  if (servers.baseline)
    console.log(
      `${line('supervisor of BASELINE_CLI', 'baseline')}   ${((rps('baseline') / rps('direct')) * 100).toFixed(0)}% of direct (${apart('baseline')})`,
    );
}
console.log(`  load average at the end: ${loadavg()[0].toFixed(1)}`);
await Promise.all(loads.flatMap(({ servers }) => Object.values(servers)).map((server) => server.stop()));
