// MODE=queue, Redis lost mid-run: a Redis that keeps its data (an append-only file, fsynced on
// every write) is stopped while jobs wait and run, then started again on the same port and
// directory. Two real containers (one under the supervisor, one run directly) must ride it out:
// never crash, say not-ready while Redis is gone and ready once it is back, reconnect, and finish
// every job with the model's result. Nothing lost, nothing run twice.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Job } from 'bullmq';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';
import { fixture } from '../helpers/run-process.js';
import { childPids, eventually, killProcessTree, supervisorBin } from '../helpers/supervisor.js';

const workerModel = fixture('worker-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'ai-queue-restart-'));
let files = 0;
const scratchFile = (name: string) => join(scratch, `${files++}-${name}`);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Everything a test starts, stopped after it whatever happened: containers (and their model
// workers), producers, then Redis (and its directory).
const containers: RunningServer[] = [];
const producers: Queue[] = [];
const redises: RunningRedis[] = [];
afterEach(async () => {
  await Promise.all(containers.splice(0).map((container) => killProcessTree(container)));
  await Promise.all(producers.splice(0).map((producer) => producer.close().catch(() => {})));
  await Promise.all(redises.splice(0).map((redis) => redis.dispose()));
});

/** A MODE=queue container on loopback (PORT=0, HOST=127.0.0.1), once its /health says ready. */
async function startContainer(redis: RunningRedis, queueName: string, supervised: boolean, env: Record<string, string>): Promise<RunningServer> {
  const all = { MODE: 'queue', REDIS_URL: redis.url, QUEUE_NAME: queueName, ...env };
  const container = supervised ? await startServer(supervisorBin, all, [workerModel]) : await startServer(workerModel, all);
  containers.push(container);
  expect(await eventually(async () => (await health(container)).status === 200, 30_000), container.stderr()).toBe(true);
  return container;
}

async function health(container: RunningServer, path = '/health'): Promise<{ status: number; body: any }> {
  try {
    const response = await request(`${container.url}${path}`);
    return { status: response.statusCode, body: await response.body.json() };
  } catch (error) {
    return { status: 0, body: { error: (error as Error).message } };
  }
}

const alive = (container: RunningServer) => container.child.exitCode === null && container.child.signalCode === null;
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Redis read through the producer that may fail while it reconnects: undefined then. */
async function tryRead<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

/** What a test that waited in vain prints: the queue's counts, its unfinished jobs, the containers' health and log tails. */
async function diagnosis(queue: Queue, running: RunningServer[]): Promise<string> {
  const counts = await tryRead(() => queue.getJobCounts());
  const unfinished = (await tryRead(() => queue.getJobs(['active', 'waiting', 'delayed', 'failed'], 0, 20))) ?? [];
  const jobs = await Promise.all(
    unfinished.map(async (job) => ({
      id: job.id,
      state: await tryRead(() => job.getState()),
      data: job.data,
      attemptsMade: job.attemptsMade,
      stalledCounter: job.stalledCounter,
      failedReason: job.failedReason,
      processedOn: job.processedOn,
    })),
  );
  const states = await Promise.all(
    running.map(async (container) => ({
      pid: container.pid,
      exit: container.child.exitCode ?? container.child.signalCode,
      health: await health(container),
      log: container.stderr().slice(-3000),
    })),
  );
  return JSON.stringify({ counts, jobs, containers: states }, null, 1);
}

let queues = 0;

describe('MODE=queue: Redis stopped and restarted mid-run (its data kept)', () => {
  test.each([{ signal: 'SIGTERM' as const }, { signal: 'SIGKILL' as const }])(
    'Redis $signal while jobs wait and run: both workers stay up, say not-ready, then ready, and finish every job once with its result',
    async ({ signal }) => {
      const redis = await startRedis({ persistent: true });
      redises.push(redis);
      const name = `redis-restart-${process.pid}-${queues++}`;
      const callsSupervised = scratchFile('calls-supervised');
      const callsDirect = scratchFile('calls-direct');
      // CONCURRENCY=1 (the default, said here): each container holds two jobs, one running and
      // one waiting its turn, so that most of the batch waits in Redis.
      const [supervised, direct] = await Promise.all([
        startContainer(redis, name, true, { CONCURRENCY: '1', CALLS_FILE: callsSupervised }),
        startContainer(redis, name, false, { CONCURRENCY: '1', CALLS_FILE: callsDirect }),
      ]);
      const running = [supervised, direct];
      const modelWorkers = childPids(supervised.pid);
      expect(modelWorkers).toHaveLength(1);
      const [modelWorker] = modelWorkers as [number];

      // A plain BullMQ producer, as the user's code would hold it. Its connection errors while
      // Redis is down are expected: listened to, so that they are not unhandled.
      const queue = new Queue(name, { connection: { host: redis.host, port: redis.port } });
      producers.push(queue);
      queue.on('error', () => {});
      await queue.waitUntilReady();

      const total = 40;
      const jobs = await queue.addBulk(
        Array.from({ length: total }, (_, index) => ({ name: 'predict', data: { inputs: { note: `job ${index}`, delay_ms: 400 } } })),
      );
      const ids = jobs.map((job) => job.id!);

      // Mid-run: both containers have started jobs, a few are done, most still wait.
      const midRun = await eventually(
        async () => lines(callsSupervised).length > 0 && lines(callsDirect).length > 0 && (await queue.getCompletedCount()) >= 4,
        30_000,
      );
      expect(midRun, midRun ? '' : await diagnosis(queue, running)).toBe(true);
      const before = await queue.getJobCounts('waiting', 'active', 'completed', 'failed');
      expect(before.waiting).toBeGreaterThan(0);
      expect(before.active).toBeGreaterThan(0);
      expect(before.failed).toBe(0);

      await redis.stop(signal);
      // Redis has exited: a job a worker took from now on came from the restarted one.
      const stoppedAt = Date.now();

      // Redis down: readiness is 503 naming Redis on both, liveness stays 200, no process ends.
      const notReady = await eventually(async () => (await health(supervised)).status === 503 && (await health(direct)).status === 503, 15_000);
      expect(notReady, notReady ? '' : JSON.stringify(await Promise.all(running.map((container) => health(container))))).toBe(true);
      await sleep(1500);
      for (const container of running) {
        const down = await health(container);
        expect(down.status).toBe(503);
        expect(down.body).toMatchObject({ status: 'not_ready', queue: name });
        expect(down.body.reason).toMatch(/^not connected to Redis \(.+\)$/);
        expect((await health(container, '/health/live')).status).toBe(200);
        expect(alive(container), container.stderr()).toBe(true);
      }

      await redis.restart();

      // Redis back: both containers ready again.
      const ready = await eventually(async () => (await health(supervised)).status === 200 && (await health(direct)).status === 200, 30_000);
      expect(ready, ready ? '' : await diagnosis(queue, running)).toBe(true);

      // The append-only file kept the queue: every job is still there, in some state.
      const kept = await eventually(async () => {
        const counts = await tryRead(() =>
          queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'paused', 'prioritized', 'waiting-children'),
        );
        return counts !== undefined && Object.values(counts).reduce((sum, count) => sum + count, 0) === total;
      }, 30_000);
      expect(kept, kept ? '' : await diagnosis(queue, running)).toBe(true);

      // Every job ends, completed: none lost, none failed. Generous: a job whose fetch or finish
      // was cut off by the outage may wait for its lock (QUEUE_LOCK_MS, 30 s) and the stalled check.
      const allDone = await eventually(async () => (await tryRead(() => queue.getCompletedCount())) === total, 150_000);
      expect(allDone, allDone ? '' : await diagnosis(queue, running)).toBe(true);
      expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed')).toMatchObject({
        completed: total,
        failed: 0,
        waiting: 0,
        active: 0,
        delayed: 0,
      });

      // Each result is what the model returns for its inputs: the note it was given, from one of
      // the two model processes (the supervised model worker is WORKER_INDEX 0; the direct run
      // has none), in the native API's envelope.
      const completed: Job[] = await queue.getJobs(['completed'], 0, -1);
      expect(completed.map((job) => job.id).sort()).toEqual([...ids].sort());
      const cuda = process.env.CUDA_VISIBLE_DEVICES ?? null;
      for (const job of completed) {
        expect([modelWorker, direct.pid], JSON.stringify(job.returnvalue)).toContain(job.returnvalue?.output?.pid);
        const worker = job.returnvalue.output.pid === modelWorker ? '0' : null;
        expect(job.returnvalue).toMatchObject({
          id: job.id,
          status: 'succeeded',
          content_type: 'application/json',
          output: { note: job.data.inputs.note, worker, cuda, pid: job.returnvalue.output.pid },
        });
        expect(Object.keys(job.returnvalue.output).sort()).toEqual(['cuda', 'note', 'pid', 'worker']);
      }

      // Each job ran exactly once (the model logs each start): nothing lost, nothing repeated.
      const starts = new Map<string, number>();
      for (const line of [...lines(callsSupervised), ...lines(callsDirect)]) {
        const note = line.split(' ').slice(1, 3).join(' ');
        starts.set(note, (starts.get(note) ?? 0) + 1);
      }
      expect([...starts.keys()].sort()).toEqual(jobs.map((job) => job.data.inputs.note).sort());
      expect([...starts].filter(([, count]) => count !== 1)).toEqual([]);

      // Both reconnected for real: each took jobs from the restarted Redis (BullMQ stamps
      // processedOn with the time the worker asked for the job, after Redis had exited).
      const takenAfter = (pid: number) => completed.filter((job) => job.returnvalue.output.pid === pid && job.processedOn! >= stoppedAt).length;
      expect(takenAfter(modelWorker), await diagnosis(queue, running)).toBeGreaterThan(0);
      expect(takenAfter(direct.pid), await diagnosis(queue, running)).toBeGreaterThan(0);

      // Never crashed: both processes still run, the supervised model worker was never replaced,
      // and each logged the lost connection.
      for (const container of running) {
        expect(alive(container), container.stderr()).toBe(true);
        expect(container.stderr()).toContain('queue: the Redis connection closed; reconnecting with back-off');
      }
      expect(childPids(supervised.pid)).toEqual(modelWorkers);
    },
    240_000,
  );
});
