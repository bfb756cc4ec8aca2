// The baseline of bench/queue.mjs: a bare BullMQ worker on the same queue with a processor that
// returns a constant envelope, at the same concurrency as MODE=queue takes jobs.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const worker = new Worker(
  process.env.QUEUE_NAME,
  async (job) => ({ id: job.id, status: 'succeeded', output: { note: job.data.inputs.note }, content_type: 'application/json', metrics: {} }),
  {
    connection,
    concurrency: Number(process.env.BULLMQ_CONCURRENCY),
  },
);
await worker.waitUntilReady();
process.stderr.write('listening on http://127.0.0.1:0 (bare BullMQ worker)\n');
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
