// Several workers on a CPU-bound model: a model doing about 20 ms of pure JavaScript per inference
// (bench/cpu-model.mjs), under the supervisor with WORKERS=1 and WORKERS=2, wrk with 8
// connections, alternating over rounds. On a machine with two cores the goal is at least 1.7x.
// Usage: npm run bench:workers [-- seconds rounds]
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startServer, wrk, wrkScript, median } from './wrk.mjs';

const seconds = Number(process.argv[2] ?? 6);
const rounds = Number(process.argv[3] ?? 3);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

// Calibrate the work once, here, so every worker does the same count (a worker calibrating at
// start-up beside another would count fewer steps into its 20 ms).
process.env.CPU_CALIBRATE = '1';
const { work } = await import('./cpu-model.mjs');
delete process.env.CPU_CALIBRATE;
let iterations = 1_000_000;
for (let tries = 0; tries < 5; tries++) {
  const started = performance.now();
  work(iterations);
  iterations = Math.round((iterations * 20) / (performance.now() - started));
}

const script = wrkScript({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { note: 'bench' } }) });
const configurations = [1, 2].map((workers) => ({ workers, figures: [] }));
console.log(`several workers: a CPU-bound model (${iterations} steps, about 20 ms), wrk 8 connections, ${seconds} s x ${rounds} rounds, ${availableParallelism()} CPUs (node ${process.version})`);
for (let round = 0; round < rounds; round++) {
  for (const configuration of configurations) {
    const server = await startServer([file('../dist/cli.js'), file('./cpu-model.mjs')], { WORKERS: String(configuration.workers), CPU_ITERATIONS: String(iterations), ACCESS_LOG: 'false' });
    // Every worker ready before the load: readiness is up with the first.
    for (;;) {
      const info = await (await fetch(`${server.url}/info`)).json();
      if (info.workers.every((worker) => worker.state === 'ready')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // What one inference costs in a worker, alone (the calibration ran in another process).
    const alone = [];
    for (let call = 0; call < 5; call++) {
      const answer = await (await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { note: 'alone' } }) })).json();
      alone.push(answer.metrics.predict_time_ms);
    }
    configuration.alone = median(alone);
    configuration.figures.push(wrk(`${server.url}/predict`, script, { connections: 8, seconds }).rps);
    await server.stop();
  }
}
const [one, two] = configurations.map(({ figures }) => median(figures));
console.log(`  one inference alone, in a worker: ${configurations[0].alone.toFixed(1)} ms`);
console.log(`  WORKERS=1   ${one.toFixed(1).padStart(7)} req/s   (rounds: ${configurations[0].figures.map((rps) => rps.toFixed(1)).join(' | ')})`);
console.log(`  WORKERS=2   ${two.toFixed(1).padStart(7)} req/s   (rounds: ${configurations[1].figures.map((rps) => rps.toFixed(1)).join(' | ')})   ${(two / one).toFixed(2)}x WORKERS=1`);
