// Dynamic batching: a model whose call costs 20 ms plus 1 ms per item (bench/sleep-batch-model.mjs),
// batched (maxSize 8) against the same model unbatched (a call per request, 21 ms), run directly
// and under the supervisor: throughput with 16 concurrent clients (goal: at least 4x), and the
// median latency with one client (goal: batched within 1 ms of unbatched, since an idle model
// never waits for a batch). wrk, alternating over rounds.
// Usage: npm run bench -- batching [-- seconds rounds]
import { fileURLToPath } from 'node:url';
import { median, milliseconds, startServer, wrk, wrkScript } from './wrk.mjs';

const seconds = Number(process.argv[2] ?? 6);
const rounds = Number(process.argv[3] ?? 3);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const script = wrkScript({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { note: 'bench' } }) });
const model = file('./sleep-batch-model.mjs');

const configurations = [];
for (const supervised of [false, true]) {
  for (const batched of [false, true]) configurations.push({ supervised, batched, loaded: [], single: [] });
}
console.log(`dynamic batching: a call costs 20 ms + 1 ms per item; wrk, ${seconds} s x ${rounds} rounds (node ${process.version})`);
for (let round = 0; round < rounds; round++) {
  for (const configuration of configurations) {
    const args = configuration.supervised ? [file('../dist/cli.js'), model] : [model];
    const server = await startServer(args, { BATCHED: configuration.batched ? '1' : '0', ACCESS_LOG: 'false' });
    configuration.loaded.push(wrk(`${server.url}/predict`, script, { connections: 16, seconds }).rps);
    configuration.single.push(milliseconds(wrk(`${server.url}/predict`, script, { connections: 1, seconds }).p50));
    await server.stop();
  }
}
for (const supervised of [false, true]) {
  const [plain, batched] = [false, true].map((flag) => configurations.find((entry) => entry.supervised === supervised && entry.batched === flag));
  const rps = (entry) => median(entry.loaded);
  const p50 = (entry) => median(entry.single);
  console.log(`  ${supervised ? 'under the supervisor' : 'run directly'}`);
  console.log(`    unbatched            16 clients ${rps(plain).toFixed(0).padStart(5)} req/s    1 client p50 ${p50(plain).toFixed(2)} ms`);
  console.log(`    batched (maxSize 8)  16 clients ${rps(batched).toFixed(0).padStart(5)} req/s    1 client p50 ${p50(batched).toFixed(2)} ms`);
  console.log(`    batching: ${(rps(batched) / rps(plain)).toFixed(2)}x the throughput; p50 at one client ${(p50(batched) - p50(plain)).toFixed(2)} ms apart`);
}
