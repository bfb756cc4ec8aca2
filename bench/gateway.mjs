// The gateway and the fleet: (1) POST /predict through a gateway (QUEUE_BACKEND, no model) to one
// local MODE=queue worker, beside MODE=http direct with the same no-op model (wrk, 10
// connections, alternating); (2) a CPU-bound model (about 20 ms of JavaScript per job) drained by
// two MODE=queue worker containers against one.
// Usage: npm run bench -- gateway [-- seconds rounds jobs]
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { benchJpeg } from './bench-jpeg.mjs';
import { drain, startRedis } from './redis.mjs';
import { median, startServer, wrk, wrkScript } from './wrk.mjs';

const seconds = Number(process.argv[2] ?? 6);
const rounds = Number(process.argv[3] ?? 3);
const jobs = Number(process.argv[4] ?? 300);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));
const cli = file('../dist/cli.js');
const redis = await startRedis();

console.log(`the gateway and the fleet (node ${process.version})`);
const script = wrkScript({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: { image: benchJpeg.toString('base64') } }) });
const direct = await startServer([file('./constant-model.mjs')], { ACCESS_LOG: 'false' });
const queueWorker = await startServer([cli, file('./constant-model.mjs')], {
  MODE: 'queue',
  REDIS_URL: redis.url,
  QUEUE_NAME: 'gateway-bench',
  ACCESS_LOG: 'false',
});
const gateway = await startServer([cli], { MODE: 'http', QUEUE_BACKEND: redis.url, QUEUE_NAME: 'gateway-bench', ACCESS_LOG: 'false' });
for (;;) {
  if ((await fetch(`${gateway.url}/health`)).status === 200) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const figures = { direct: [], gateway: [] };
for (let round = 0; round < rounds; round++) {
  figures.direct.push(wrk(`${direct.url}/predict`, script, { connections: 10, seconds }).rps);
  figures.gateway.push(wrk(`${gateway.url}/predict`, script, { connections: 10, seconds }).rps);
}
await Promise.all([direct.stop(), queueWorker.stop(), gateway.stop()]);
console.log(`  POST /predict, MODE=http direct                   ${median(figures.direct).toFixed(0).padStart(6)} req/s`);
console.log(
  `  POST /predict, gateway + one local queue worker    ${median(figures.gateway).toFixed(0).padStart(6)} req/s   ${((median(figures.gateway) / median(figures.direct)) * 100).toFixed(0)}% of direct`,
);

// A CPU-bound model: one container (one model process) against two, on the same queue.
const iterations = String(process.env.CPU_ITERATIONS ?? 2_600_000);
const scaling = { 1: [], 2: [] };
for (let round = 0; round < rounds; round++) {
  for (const count of [1, 2]) {
    const name = `cpu-${round}-${count}`;
    const workers = [];
    for (let index = 0; index < count; index++)
      workers.push(
        await startServer([cli, file('./cpu-model.mjs')], {
          MODE: 'queue',
          REDIS_URL: redis.url,
          QUEUE_NAME: name,
          CPU_ITERATIONS: iterations,
          ACCESS_LOG: 'false',
        }),
      );
    const queue = new Queue(name, { connection: redis.connection });
    await new Promise((resolve) => setTimeout(resolve, 500));
    scaling[count].push(await drain(queue, jobs, (index) => ({ inputs: { note: `job ${index}` } })));
    await queue.obliterate({ force: true });
    await queue.close();
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}
console.log(`  CPU-bound model (${iterations} steps, about 20 ms), ${jobs} jobs:`);
console.log(`    one worker container      ${median(scaling[1]).toFixed(1).padStart(6)} jobs/s`);
console.log(`    two worker containers     ${median(scaling[2]).toFixed(1).padStart(6)} jobs/s   ${(median(scaling[2]) / median(scaling[1])).toFixed(2)}x`);
redis.stop();
