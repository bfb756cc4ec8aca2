// Several workers on a CPU-bound model: a model doing about 20 ms of pure JavaScript per inference
// (bench/cpu-model.mjs, the work calibrated in a worker), under the supervisor with WORKERS=1 and WORKERS=2, wrk with 8
// connections, alternating over rounds. On a machine with two cores the goal is at least 1.7x.
// Usage: npm run bench -- workers [-- seconds rounds]
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startServer, wrk, wrkScript, median } from './wrk.mjs';

const seconds = Number(process.argv[2] ?? 6);
const rounds = Number(process.argv[3] ?? 3);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

// Calibrate in a worker, as the model will run: a count measured in this process runs at another
// speed there (a different JIT history), so the count is scaled until one inference alone takes
// about 20 ms in the worker.
const supervised = (workers, iterations) =>
  startServer([file('../dist/cli.js'), file('./cpu-model.mjs')], { WORKERS: String(workers), CPU_ITERATIONS: String(iterations), ACCESS_LOG: 'false' });
async function aloneMs(url) {
  // Warmed up first: the first calls run before V8 has optimised the loop.
  const times = [];
  for (let call = 0; call < 17; call++) {
    const answer = await (
      await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { note: 'alone' } }) })
    ).json();
    if (call >= 10) times.push(answer.metrics.predict_time_ms);
  }
  return median(times);
}
let iterations = 1_000_000;
for (let tries = 0; tries < 3; tries++) {
  const server = await supervised(1, iterations);
  const measured = await aloneMs(server.url);
  await server.stop();
  iterations = Math.round((iterations * 20) / measured);
}

const script = wrkScript({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { note: 'bench' } }) });
const configurations = [1, 2].map((workers) => ({ workers, figures: [] }));
console.log(
  `several workers: a CPU-bound model (${iterations} steps), wrk 8 connections, ${seconds} s x ${rounds} rounds, ${availableParallelism()} CPUs (node ${process.version})`,
);
for (let round = 0; round < rounds; round++) {
  for (const configuration of configurations) {
    const server = await supervised(configuration.workers, iterations);
    // Every worker ready before the load: readiness is up with the first.
    for (;;) {
      const info = await (await fetch(`${server.url}/info`)).json();
      if (info.workers.every((worker) => worker.state === 'ready')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    configuration.alone = await aloneMs(server.url);
    configuration.figures.push(wrk(`${server.url}/predict`, script, { connections: 8, seconds }).rps);
    await server.stop();
  }
}
const [one, two] = configurations.map(({ figures }) => median(figures));
console.log(`  one inference alone, in a worker: ${configurations[0].alone.toFixed(1)} ms (WORKERS=1) | ${configurations[1].alone.toFixed(1)} ms (WORKERS=2)`);
console.log(`  WORKERS=1   ${one.toFixed(1).padStart(7)} req/s   (rounds: ${configurations[0].figures.map((rps) => rps.toFixed(1)).join(' | ')})`);
console.log(
  `  WORKERS=2   ${two.toFixed(1).padStart(7)} req/s   (rounds: ${configurations[1].figures.map((rps) => rps.toFixed(1)).join(' | ')})   ${(two / one).toFixed(2)}x WORKERS=1`,
);
