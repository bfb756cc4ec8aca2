// Jobs per second through MODE=queue against a bare BullMQ worker with a no-op processor on the
// same queue, at the same concurrency (MODE=queue with CONCURRENCY=c takes c + 1 jobs at once):
// each round adds JOBS jobs in bulk to an idle consumer and times until all have completed.
// Consumers alternate over rounds; Redis is this machine's redis-server on a free port.
// Usage: npm run bench -- queue [-- jobs rounds concurrency]
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { drain, startRedis } from './redis.mjs';
import { median, startServer } from './wrk.mjs';

const jobs = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 3);
const concurrency = Number(process.argv[4] ?? 4);
const file = (path) => fileURLToPath(new URL(path, import.meta.url));

const redis = await startRedis();
const { connection, url: redisUrl } = redis;

const consumers = [
  { name: 'bare BullMQ worker, no-op processor', args: [file('./bare-bullmq-worker.mjs')], env: { BULLMQ_CONCURRENCY: String(concurrency + 1) }, figures: [] },
  {
    name: 'MODE=queue, node shim.js',
    args: [file('./noop-queue-model.mjs')],
    env: { MODE: 'queue', CONCURRENCY: String(concurrency), ACCESS_LOG: 'false' },
    figures: [],
  },
  {
    name: 'MODE=queue, under the supervisor',
    args: [file('../dist/cli.js'), file('./noop-queue-model.mjs')],
    env: { MODE: 'queue', CONCURRENCY: String(concurrency), ACCESS_LOG: 'false' },
    figures: [],
  },
];

console.log(
  `queue throughput: ${jobs} jobs added in bulk to an idle consumer, BullMQ concurrency ${concurrency + 1}, ${rounds} rounds (node ${process.version})`,
);
for (let round = 0; round < rounds; round++) {
  for (const consumer of consumers) {
    const queueName = `bench-${round}-${consumers.indexOf(consumer)}`;
    const server = await startServer(consumer.args, { ...consumer.env, REDIS_URL: redisUrl, QUEUE_NAME: queueName });
    const queue = new Queue(queueName, { connection });
    // Give the consumer time to connect and block on the empty queue.
    await new Promise((resolve) => setTimeout(resolve, 500));
    consumer.figures.push(await drain(queue, jobs, (index) => ({ inputs: { note: `job ${index}` } })));
    await queue.obliterate({ force: true });
    await queue.close();
    await server.stop();
  }
}
const bare = median(consumers[0].figures);
for (const consumer of consumers) {
  const rate = median(consumer.figures);
  const ratio = consumer === consumers[0] ? '' : `   ${((rate / bare) * 100).toFixed(0)}% of the bare worker`;
  console.log(
    `  ${consumer.name.padEnd(38)} ${rate.toFixed(0).padStart(6)} jobs/s   (rounds: ${consumer.figures.map((value) => value.toFixed(0)).join(' | ')})${ratio}`,
  );
}
redis.stop();
