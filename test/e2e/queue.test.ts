// MODE=queue end to end: real Redis on loopback, real containers (the supervisor and direct runs),
// a plain BullMQ producer as any user's code would be. Faults are real: SIGKILL, a model that
// kills itself, Redis stopped and restarted.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents, type Job, type JobsOptions } from 'bullmq';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { makeJpeg, sha256 } from '../helpers/images.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';
import { fixture, runProcess } from '../helpers/run-process.js';
import { childPids, eventually, killProcessTree, supervisorBin, workersReady } from '../helpers/supervisor.js';

const workerModel = fixture('worker-model.mjs');
const echoModel = fixture('echo-model.mjs');
const firstTryThrowsModel = fixture('first-try-throws-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'ai-queue-'));
let files = 0;
const scratchFile = (name: string) => join(scratch, `${files++}-${name}`);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Everything a test starts, stopped after it whatever happened: containers (and their model
// workers), orchestrator loops, producers, then Redis.
const containers: RunningServer[] = [];
const orchestrators: { stop: () => void }[] = [];
const producers: { close: () => Promise<unknown> }[] = [];
const redises: RunningRedis[] = [];
afterEach(async () => {
  for (const orchestrator of orchestrators.splice(0)) orchestrator.stop();
  await Promise.all(containers.splice(0).map((container) => killProcessTree(container)));
  await Promise.all(producers.splice(0).map((producer) => producer.close().catch(() => {})));
  await Promise.all(redises.splice(0).map((redis) => redis.dispose()));
});

async function redisServer(): Promise<RunningRedis> {
  const redis = await startRedis();
  redises.push(redis);
  return redis;
}

interface ContainerOptions {
  redis: RunningRedis;
  /** QUEUE_NAME; undefined leaves it to its default, the model's name. */
  queueName: string | undefined;
  /** Under the supervisor (`node dist/cli.js MODEL`), as the image runs it, or the model run directly (`node MODEL`). */
  supervised: boolean;
  model?: string;
  env?: Record<string, string>;
}

/** Starts a MODE=queue container; with `ready`, waits until /health says it is connected and its model is ready. */
async function startContainer(options: ContainerOptions, ready = true): Promise<RunningServer> {
  const env: Record<string, string> = {
    MODE: 'queue',
    REDIS_URL: options.redis.url,
    ...(options.queueName === undefined ? {} : { QUEUE_NAME: options.queueName }),
    ...options.env,
  };
  const model = options.model ?? workerModel;
  const container = options.supervised ? await startServer(supervisorBin, env, [model]) : await startServer(model, env);
  containers.push(container);
  if (ready) expect(await eventually(async () => (await health(container)).status === 200, 20_000), container.stderr()).toBe(true);
  return container;
}

async function health(container: RunningServer): Promise<{ status: number; body: any }> {
  try {
    const response = await request(`${container.url}/health`);
    return { status: response.statusCode, body: await response.body.json() };
  } catch (error) {
    return { status: 0, body: { error: (error as Error).message } };
  }
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * An orchestrator (Kubernetes, ECS) for containers run directly: a container that exits is
 * replaced by a new one, until the test ends. `deaths` lists how the replaced ones ended.
 */
function orchestrate(options: ContainerOptions): { current: () => RunningServer | undefined; deaths: Exit[] } {
  const deaths: Exit[] = [];
  let current: RunningServer | undefined;
  let stopped = false;
  orchestrators.push({ stop: () => (stopped = true) });
  void (async () => {
    while (!stopped) {
      current = await startContainer(options, false);
      // Stopped while this one started: afterEach has already killed the others.
      if (stopped) await killProcessTree(current);
      const exit = await current.exited;
      if (!stopped) deaths.push(exit);
    }
  })().catch(() => {});
  return { current: () => current, deaths };
}

/** A plain BullMQ producer, as the user's code would hold it. */
async function producer(redis: RunningRedis, queueName: string): Promise<{ queue: Queue; events: QueueEvents }> {
  const connection = { host: redis.host, port: redis.port };
  const queue = new Queue(queueName, { connection });
  // From the stream's first entry (each test's queue is new), not BullMQ's default '$': that
  // counts from the first XREAD, which goes out after waitUntilReady() resolves, so a job that
  // failed in a few milliseconds (bad inputs) could end before it, and its wait ran out.
  const events = new QueueEvents(queueName, { connection, lastEventId: '0-0' });
  producers.push(events, queue);
  // Each job.waitUntilFinished listens for the queue's closing: many at once are expected here.
  queue.setMaxListeners(0);
  await queue.waitUntilReady();
  await events.waitUntilReady();
  return { queue, events };
}

/** How a job ended: its return value, or the error BullMQ rejected with; then the job as Redis holds it. */
async function outcome(job: Job, events: QueueEvents, queue: Queue, limitMs = 30_000): Promise<{ result?: any; error?: string; job: Job }> {
  let result: unknown;
  let error: string | undefined;
  try {
    result = await job.waitUntilFinished(events, limitMs);
  } catch (thrown) {
    error = (thrown as Error).message;
  }
  const stored = await queue.getJob(job.id!);
  if (!stored) throw new Error(`job ${job.id} is gone from Redis`);
  return { result, error, job: stored };
}

/** What a test that waited in vain prints: the queue's counts, its unfinished jobs, the containers' health and log tails. */
async function diagnosis(queue: Queue, containers: RunningServer[]): Promise<string> {
  const unfinished = await queue.getJobs(['active', 'waiting', 'delayed'], 0, 20);
  const jobs = await Promise.all(
    unfinished.map(async (job) => ({
      id: job.id,
      state: await job.getState(),
      data: job.data,
      attemptsMade: job.attemptsMade,
      attemptsStarted: job.attemptsStarted,
      stalledCounter: job.stalledCounter,
      processedOn: job.processedOn,
    })),
  );
  const healths = await Promise.all(
    containers.map(async (container) => ({
      pid: container.pid,
      exit: container.child.exitCode ?? container.child.signalCode,
      health: await health(container),
      log: container.stderr().slice(-3000),
    })),
  );
  return JSON.stringify({ counts: await queue.getJobCounts(), jobs, containers: healths }, null, 1);
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const withoutPid = ({ pid: _pid, ...rest }: Record<string, unknown>) => rest;
let queues = 0;
const queueName = (what: string) => `${what}-${process.pid}-${queues++}`;

describe('MODE=queue: jobs from a BullMQ producer', () => {
  test("two containers under the supervisor share the jobs; each result is the native API's envelope, with the output /predict gives", async () => {
    const redis = await redisServer();
    const name = queueName('share');
    const [first, second, reference] = await Promise.all([
      startContainer({ redis, queueName: name, supervised: true }),
      startContainer({ redis, queueName: name, supervised: true }),
      startServer(supervisorBin, { MODE: 'http' }, [workerModel]).then((server) => {
        containers.push(server);
        return server;
      }),
    ]);
    const { queue, events } = await producer(redis, name);

    const jobs = await queue.addBulk(Array.from({ length: 24 }, (_, index) => ({ name: 'predict', data: { inputs: { note: `job ${index}`, delay_ms: 40 } } })));
    const outcomes = await Promise.all(jobs.map((job) => outcome(job, events, queue)));

    const response = await request(`${reference.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { note: 'job 0', delay_ms: 40 } }),
    });
    expect(response.statusCode).toBe(200);
    const native = (await response.body.json()) as any;

    for (const [index, { result, error, job }] of outcomes.entries()) {
      expect(error).toBeUndefined();
      expect(Object.keys(result).sort()).toEqual(Object.keys(native).sort());
      expect(Object.keys(result.metrics).sort()).toEqual(Object.keys(native.metrics).sort());
      expect(result).toMatchObject({ id: job.id, status: native.status, content_type: native.content_type });
      expect(typeof result.metrics.predict_time_ms).toBe('number');
      expect(typeof result.metrics.queue_time_ms).toBe('number');
      expect(withoutPid(result.output)).toEqual({ ...withoutPid(native.output), note: `job ${index}` });
      expect(job.returnvalue).toEqual(result);
      expect(job.finishedOn).toBeGreaterThan(0);
    }

    // Each output names the model process that made it: both containers' model workers did.
    const firstWorkers = childPids(first.pid);
    const secondWorkers = childPids(second.pid);
    const byFirst = outcomes.filter(({ result }) => firstWorkers.includes(result.output.pid)).length;
    const bySecond = outcomes.filter(({ result }) => secondWorkers.includes(result.output.pid)).length;
    expect(byFirst + bySecond).toBe(outcomes.length);
    expect(byFirst).toBeGreaterThan(0);
    expect(bySecond).toBeGreaterThan(0);
  });

  test('binary inputs as base64 and as data: URLs reach the model as the bytes /predict gives it', async () => {
    const redis = await redisServer();
    const name = queueName('binary');
    const photo = await makeJpeg(24, 16);
    const [, reference] = await Promise.all([
      startContainer({ redis, queueName: name, supervised: false, model: echoModel }),
      startServer(echoModel, { MODE: 'http' }).then((server) => {
        containers.push(server);
        return server;
      }),
    ]);
    const { queue, events } = await producer(redis, name);
    const base64 = await queue.add('predict', { inputs: { image: photo.toString('base64'), prompt: 'as base64', steps: 7 } });
    const dataUrl = await queue.add('predict', {
      inputs: { image: `data:image/jpeg;base64,${photo.toString('base64')}`, prompt: 'as a data: URL', config: { a: [1, 2] } },
    });
    const [asBase64, asDataUrl] = await Promise.all([outcome(base64, events, queue), outcome(dataUrl, events, queue)]);
    expect(asBase64.error).toBeUndefined();
    expect(asDataUrl.error).toBeUndefined();
    expect(asBase64.result.output.inputs.image).toEqual({ bytes: photo.length, sha256: sha256(photo) });
    expect(asDataUrl.result.output.inputs.image).toEqual({ bytes: photo.length, sha256: sha256(photo) });
    expect(asBase64.result.output.types.image).toBe('Buffer');

    const response = await request(`${reference.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { image: photo.toString('base64'), prompt: 'as base64', steps: 7 } }),
    });
    expect(response.statusCode).toBe(200);
    expect(asBase64.result.output).toEqual(((await response.body.json()) as any).output);
  });
});

describe('MODE=queue: faults', () => {
  test('500 jobs, every 25th throwing, one of two containers SIGKILLed mid-run: every job ends, none lost, only stalled jobs run twice', async () => {
    const redis = await redisServer();
    const name = queueName('load');
    const callsA = scratchFile('calls-a');
    const callsB = scratchFile('calls-b');
    // CONCURRENCY=1: the supervisor re-runs an inference that was running beside one that threw
    // (its worker is replaced), which would look like a duplicate here without being one.
    const env = { QUEUE_LOCK_MS: '1000', CONCURRENCY: '1' };
    const [survivor, victim] = await Promise.all([
      startContainer({ redis, queueName: name, supervised: true, env: { ...env, CALLS_FILE: callsA } }),
      startContainer({ redis, queueName: name, supervised: true, env: { ...env, CALLS_FILE: callsB } }),
    ]);
    const { queue, events } = await producer(redis, name);
    const stalled = new Set<string>();
    events.on('stalled', ({ jobId }) => stalled.add(jobId));

    const total = 500;
    const throws = (index: number) => index % 25 === 0;
    const jobs = await queue.addBulk(
      Array.from({ length: total }, (_, index) => ({
        name: 'predict',
        data: { inputs: { note: `n${index}`, delay_ms: 3, action: throws(index) ? 'throw' : 'ok' } },
      })),
    );
    const idOf = new Map(jobs.map((job, index) => [job.id!, index]));

    // Mid-run, while the victim holds jobs: the whole container dies at once.
    const midRun = await eventually(async () => (await queue.getCompletedCount()) >= 150 && lines(callsB).length > 0, 20_000);
    expect(midRun, midRun ? '' : await diagnosis(queue, [survivor, victim])).toBe(true);
    await killProcessTree(victim);
    const afterKill = await queue.getJobCounts('completed', 'failed');
    expect(afterKill.completed! + afterKill.failed!).toBeLessThan(total);

    const allEnded = await eventually(async () => {
      const counts = await queue.getJobCounts('completed', 'failed');
      return counts.completed! + counts.failed! === total;
    }, 40_000);
    expect(allEnded, allEnded ? '' : await diagnosis(queue, [survivor])).toBe(true);
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    expect(counts).toMatchObject({ completed: total - total / 25, failed: total / 25, waiting: 0, active: 0, delayed: 0 });

    const failed = await queue.getJobs(['failed'], 0, -1);
    expect(failed.map((job) => idOf.get(job.id!)!).sort((a, b) => a - b)).toEqual(Array.from({ length: total / 25 }, (_, index) => index * 25));
    for (const job of failed) expect(job.failedReason).toMatch(new RegExp(`^AI_ERR_INFERENCE_THREW: .*thrown on purpose by ${job.data.inputs.note}\\b`));
    const completed = await queue.getJobs(['completed'], 0, -1);
    expect(completed).toHaveLength(total - total / 25);
    for (const job of completed) {
      expect(job.returnvalue.output.note).toBe(job.data.inputs.note);
      expect(job.returnvalue.id).toBe(job.id);
    }

    // A job runs twice only when its container died under it and it stalled back to the queue.
    const starts = new Map<string, number>();
    for (const line of [...lines(callsA), ...lines(callsB)]) {
      const note = line.split(' ')[1]!;
      starts.set(note, (starts.get(note) ?? 0) + 1);
    }
    expect(starts.size).toBe(total);
    const twice = [...starts].filter(([, count]) => count > 1).map(([note]) => jobs[Number(note.slice(1))]!);
    for (const job of twice) {
      const stored = (await queue.getJob(job.id!))!;
      expect(stalled.has(job.id!) || stored.stalledCounter > 0, `job ${job.id} (${job.data.inputs.note}) ran twice without stalling`).toBe(true);
      // Started by the victim, then again by the survivor once it stalled.
      expect(lines(callsB).filter((line) => line.startsWith(`start ${job.data.inputs.note} `))).toHaveLength(1);
    }
    expect([...starts.values()].every((count) => count <= 2)).toBe(true);
    // The victim held jobs when it died: they stalled and were finished by the other container.
    expect(stalled.size).toBeGreaterThan(0);
  }, 75_000);

  test("a poison job that kills the whole container each time fails after QUEUE_MAX_STALLED stalls with BullMQ's stalled message, and the replacement containers carry on", async () => {
    const redis = await redisServer();
    const name = queueName('poison');
    const calls = scratchFile('calls');
    const { current, deaths } = orchestrate({
      redis,
      queueName: name,
      supervised: false,
      env: { QUEUE_LOCK_MS: '1000', QUEUE_MAX_STALLED: '1', CALLS_FILE: calls },
    });
    expect(await eventually(async () => current() !== undefined && (await health(current()!)).status === 200, 20_000)).toBe(true);
    const { queue, events } = await producer(redis, name);

    const poison = await queue.add('predict', { inputs: { note: 'poison', action: 'die' } }, { attempts: 3 });
    const { error, job } = await outcome(poison, events, queue, 40_000);
    expect(error).toMatch(/job stalled more than allowable limit/);
    expect(job.failedReason).toMatch(/job stalled more than allowable limit/);
    expect(await job.getState()).toBe('failed');
    // Taken, died, stalled back to the queue once (QUEUE_MAX_STALLED=1); taken, died, stalled past the limit.
    expect(lines(calls).filter((line) => line.startsWith('start poison '))).toHaveLength(2);
    expect(deaths).toEqual([
      { code: null, signal: 'SIGKILL' },
      { code: null, signal: 'SIGKILL' },
    ]);

    const next = await queue.add('predict', { inputs: { note: 'after the poison' } });
    const after = await outcome(next, events, queue);
    expect(after.error).toBeUndefined();
    expect(after.result.output.note).toBe('after the poison');
    expect(deaths).toHaveLength(2);
  });

  test('under the supervisor a model that dies is AI_ERR_WORKER_DIED: the job fails (QUEUE_ATTEMPTS=1, whatever the producer allows), the model restarts in place and the next jobs are done', async () => {
    const redis = await redisServer();
    const name = queueName('worker-died');
    const container = await startContainer({ redis, queueName: name, supervised: true });
    const [modelBefore] = childPids(container.pid);
    const { queue, events } = await producer(redis, name);

    // The container takes both at once (CONCURRENCY plus one round waiting): the one behind the
    // dying job is not blamed for the death; the new model worker does it.
    const [dying, behind] = await queue.addBulk([
      { name: 'predict', data: { inputs: { note: 'dies', action: 'die', delay_ms: 200 } }, opts: { attempts: 3 } },
      { name: 'predict', data: { inputs: { note: 'behind' } } },
    ]);
    const { error, job } = await outcome(dying!, events, queue);
    expect(error).toMatch(/^AI_ERR_WORKER_DIED: /);
    expect(job.failedReason).toBe(error);
    expect(job.attemptsMade).toBe(1);
    const served = await outcome(behind!, events, queue);
    expect(served.error).toBeUndefined();
    expect(served.result.output.note).toBe('behind');
    expect(served.result.output.pid).not.toBe(modelBefore);

    const next = await Promise.all([1, 2, 3].map((index) => queue.add('predict', { inputs: { note: `next ${index}` } })));
    const done = await Promise.all(next.map((job) => outcome(job, events, queue)));
    expect(done.map(({ result }) => result?.output.note)).toEqual(['next 1', 'next 2', 'next 3']);
    expect(done.every(({ result }) => result.output.pid !== modelBefore)).toBe(true);
    expect(container.child.exitCode).toBeNull();
    expect(container.child.signalCode).toBeNull();
  });

  test('QUEUE_ATTEMPTS=3 with a producer allowing 3: a model that always throws is tried 3 times; one that throws once succeeds on its retry; a job allowed 1 attempt is not retried', async () => {
    const redis = await redisServer();
    const throwingQueue = queueName('throws');
    const flakyQueue = queueName('flaky');
    const calls = scratchFile('calls');
    const flakyCalls = scratchFile('flaky-calls');
    await Promise.all([
      startContainer({ redis, queueName: throwingQueue, supervised: true, env: { QUEUE_ATTEMPTS: '3', CALLS_FILE: calls } }),
      startContainer({ redis, queueName: flakyQueue, supervised: true, model: firstTryThrowsModel, env: { QUEUE_ATTEMPTS: '3', CALLS_FILE: flakyCalls } }),
    ]);
    const throwing = await producer(redis, throwingQueue);
    const flaky = await producer(redis, flakyQueue);

    const always = await throwing.queue.add('predict', { inputs: { note: 'always', action: 'throw' } }, { attempts: 3 });
    const alwaysOutcome = await outcome(always, throwing.events, throwing.queue);
    expect(alwaysOutcome.error).toMatch(/^AI_ERR_INFERENCE_THREW: .*thrown on purpose by always/);
    expect(alwaysOutcome.job.attemptsMade).toBe(3);
    expect(await alwaysOutcome.job.getState()).toBe('failed');
    expect(lines(calls).filter((line) => line.startsWith('start always '))).toHaveLength(3);

    const once = await throwing.queue.add('predict', { inputs: { note: 'once', action: 'throw' } });
    const onceOutcome = await outcome(once, throwing.events, throwing.queue);
    expect(onceOutcome.error).toMatch(/^AI_ERR_INFERENCE_THREW: /);
    expect(onceOutcome.job.attemptsMade).toBe(1);
    expect(lines(calls).filter((line) => line.startsWith('start once '))).toHaveLength(1);

    const marker = scratchFile('marker');
    const retried = await flaky.queue.add('predict', { inputs: { marker } }, { attempts: 3 });
    const retriedOutcome = await outcome(retried, flaky.events, flaky.queue);
    expect(retriedOutcome.error).toBeUndefined();
    expect(retriedOutcome.result).toMatchObject({ status: 'succeeded', output: { marker } });
    expect(retriedOutcome.job.attemptsMade).toBe(2);
    expect(lines(flakyCalls)).toEqual([`start ${marker}`, `start ${marker}`]);
  });

  test('a model-reported failure and an invalid result fail the job for good, even with QUEUE_ATTEMPTS=3 and a producer allowing 3', async () => {
    const redis = await redisServer();
    const failingQueue = queueName('model-failed');
    const invalidQueue = queueName('invalid-result');
    const photo = await makeJpeg(8, 8);
    await Promise.all([
      startContainer({ redis, queueName: failingQueue, supervised: true, model: fixture('http-model.mjs'), env: { QUEUE_ATTEMPTS: '3' } }),
      startContainer({ redis, queueName: invalidQueue, supervised: true, model: echoModel, env: { QUEUE_ATTEMPTS: '3', FIXTURE_ACTION: 'bad-json' } }),
    ]);
    const failing = await producer(redis, failingQueue);
    const invalid = await producer(redis, invalidQueue);

    const refused = await outcome(await failing.queue.add('predict', { inputs: { action: 'fail' } }, { attempts: 3 }), failing.events, failing.queue);
    expect(refused.error).toMatch(/^AI_ERR_MODEL_FAILED: .*no face found in the image/);
    expect(refused.job.attemptsMade).toBe(1);
    const malformed = await outcome(
      await invalid.queue.add('predict', { inputs: { image: photo.toString('base64') } }, { attempts: 3 }),
      invalid.events,
      invalid.queue,
    );
    expect(malformed.error).toMatch(/^AI_ERR_INVALID_RESULT: /);
    expect(malformed.job.attemptsMade).toBe(1);
  });

  test('an inference past INFERENCE_TIMEOUT_MS is AI_ERR_TIMEOUT and retried within QUEUE_ATTEMPTS=2; the supervisor replaces the stuck model and the next job is done', async () => {
    const redis = await redisServer();
    const name = queueName('timeout');
    await startContainer({
      redis,
      queueName: name,
      supervised: true,
      model: fixture('http-model.mjs'),
      env: { QUEUE_ATTEMPTS: '2', INFERENCE_TIMEOUT_MS: '500', WORKER_KILL_GRACE_MS: '300' },
    });
    const { queue, events } = await producer(redis, name);
    const hung = await outcome(await queue.add('predict', { inputs: { action: 'hang' } }, { attempts: 5 }), events, queue);
    expect(hung.error).toMatch(/^AI_ERR_TIMEOUT: inference took longer than 500 ms \(INFERENCE_TIMEOUT_MS\)/);
    expect(hung.job.attemptsMade).toBe(2);
    const next = await outcome(await queue.add('predict', { inputs: { note: 'after the hang' } }), events, queue);
    expect(next.result?.output.received.note).toBe('after the hang');
  });

  test('run directly, a throw ends the container (to be restarted), and the job it had fetched ahead is not lost: a replacement does it', async () => {
    const redis = await redisServer();
    const name = queueName('direct-throw');
    const calls = scratchFile('calls');
    const { current, deaths } = orchestrate({ redis, queueName: name, supervised: false, env: { CONCURRENCY: '1', QUEUE_LOCK_MS: '1000', CALLS_FILE: calls } });
    expect(await eventually(async () => current() !== undefined && (await health(current()!)).status === 200, 20_000)).toBe(true);
    const { queue, events } = await producer(redis, name);

    // The container takes both at once (CONCURRENCY plus one round waiting); the first throws.
    const [thrower, innocent] = await queue.addBulk([
      { name: 'predict', data: { inputs: { note: 'thrower', action: 'throw', delay_ms: 300 } } },
      { name: 'predict', data: { inputs: { note: 'innocent' } } },
    ]);
    const threw = await outcome(thrower!, events, queue);
    expect(threw.error).toMatch(/^AI_ERR_INFERENCE_THREW: /);
    expect(await eventually(() => deaths.length === 1, 10_000)).toBe(true);
    const served = await outcome(innocent!, events, queue);
    expect(served.error, JSON.stringify(lines(calls))).toBeUndefined();
    expect(served.result.output.note).toBe('innocent');
  });

  test('MAX_INPUT_BYTES counts every string of the inputs, nested ones too', async () => {
    const redis = await redisServer();
    const name = queueName('nested-size');
    const container = await startContainer({ redis, queueName: name, supervised: false, env: { MAX_INPUT_BYTES: '1000' } });
    const { queue, events } = await producer(redis, name);
    const nested = await outcome(await queue.add('predict', { inputs: { note: 'small', x: { text: 'y'.repeat(5000) } } }, { attempts: 3 }), events, queue);
    expect(nested.error).toMatch(/^AI_ERR_INPUT_TOO_LARGE: .*MAX_INPUT_BYTES \(1000 bytes\)/);
    expect(nested.job.attemptsMade).toBe(1);
    expect(container.child.exitCode).toBeNull();
  });

  test('WORKERS=3 under the supervisor: three jobs run at once, one in each model worker', async () => {
    const redis = await redisServer();
    const name = queueName('workers');
    const calls = scratchFile('calls');
    const container = await startContainer({ redis, queueName: name, supervised: true, env: { WORKERS: '3', CALLS_FILE: calls } });
    // Every worker ready first: a job that comes while one still loads is sent ahead to a busy one.
    expect(await workersReady(container.url, 3)).toBe(true);
    const { queue } = await producer(redis, name);
    // Long enough that none ends while the test looks: a third start can only come from a third worker running beside the others.
    await queue.addBulk([0, 1, 2].map((index) => ({ name: 'predict', data: { inputs: { note: `long ${index}`, delay_ms: 60_000 } } })));
    const allStarted = await eventually(() => lines(calls).length === 3, 10_000);
    expect(allStarted, `${JSON.stringify(lines(calls))}, ${JSON.stringify(await queue.getJobCounts('active', 'waiting'))}`).toBe(true);
    expect(new Set(lines(calls).map((line) => line.split(' ')[3])).size).toBe(3);
  });

  test("QUEUE_NAME defaults to the model's name", async () => {
    const redis = await redisServer();
    const container = await startContainer({ redis, queueName: undefined, supervised: false });
    expect((await health(container)).body.queue).toBe('worker-model');
    const { queue, events } = await producer(redis, 'worker-model');
    const done = await outcome(await queue.add('predict', { inputs: { note: 'by default' } }), events, queue);
    expect(done.result.output.note).toBe('by default');
  });

  test('Redis stopped and restarted on the same port: /health is 503 naming Redis, then 200; jobs added after the restart are done; the process never exits', async () => {
    const redis = await redisServer();
    const name = queueName('reconnect');
    const container = await startContainer({ redis, queueName: name, supervised: true });
    const before = await producer(redis, name);
    const first = await outcome(await before.queue.add('predict', { inputs: { note: 'before' } }), before.events, before.queue);
    expect(first.result.output.note).toBe('before');

    await redis.stop();
    expect(await eventually(async () => (await health(container)).status === 503, 15_000)).toBe(true);
    const down = await health(container);
    expect(down.body).toMatchObject({ status: 'not_ready', queue: name });
    expect(down.body.reason).toMatch(/^not connected to Redis \(.+\)$/);
    expect((await request(`${container.url}/health/live`)).statusCode).toBe(200);

    await redis.restart();
    expect(await eventually(async () => (await health(container)).status === 200, 20_000)).toBe(true);
    // Redis came back empty (no persistence): a fresh producer, as the user's code would reconnect.
    const after = await producer(redis, name);
    const jobs = await Promise.all([1, 2, 3].map((index) => after.queue.add('predict', { inputs: { note: `after ${index}` } })));
    const done = await Promise.all(jobs.map((job) => outcome(job, after.events, after.queue)));
    expect(done.map(({ result, error }) => result?.output.note ?? error)).toEqual(['after 1', 'after 2', 'after 3']);
    expect(container.child.exitCode).toBeNull();
    expect(container.child.signalCode).toBeNull();
    expect(container.stderr()).toContain('queue: the Redis connection closed; reconnecting with back-off');
  });
});

describe('MODE=queue: bad job data fails the job for good, and the worker carries on', () => {
  // BullMQ's producer serialises with JSON.stringify, which recurses: a value 10,000 levels deep
  // needs a larger stack than a test worker has, so this one producer runs in its own process.
  const addDeepJob = async (redis: RunningRedis, name: string, depth: number): Promise<string> => {
    const script = `import { Queue } from 'bullmq';
let value = 'bottom';
for (let level = 0; level < ${depth}; level++) value = [value];
const queue = new Queue(${JSON.stringify(name)}, { connection: { host: '127.0.0.1', port: ${redis.port} } });
const job = await queue.add('predict', { inputs: { note: 'deep', x: value } }, { attempts: 3 });
process.stdout.write(job.id);
await queue.close();`;
    const added = await runProcess(process.execPath, ['--stack-size=4000', '--input-type=module', '-e', script], {
      env: process.env as Record<string, string>,
      timeoutMs: 20_000,
    });
    expect(added.code, added.stderr).toBe(0);
    return added.stdout.toString('utf8');
  };
  const cases: { what: string; data: unknown; message: RegExp }[] = [
    {
      what: 'no inputs',
      data: { prompt: 'hello' },
      message: /^AI_ERR_MALFORMED_INPUT: a job's data must be \{"inputs": \{\.\.\.\}\}, got an object without "inputs" \(keys: prompt\)$/,
    },
    {
      what: 'empty data',
      data: {},
      message: /^AI_ERR_MALFORMED_INPUT: a job's data must be \{"inputs": \{\.\.\.\}\}, got an object without "inputs" \(keys: none\)$/,
    },
    {
      what: 'inputs not an object (a string)',
      data: { inputs: 'hello' },
      message: /^AI_ERR_MALFORMED_INPUT: a job's data must be \{"inputs": \{\.\.\.\}\}, got "inputs" as .*string/,
    },
    {
      what: 'inputs not an object (an array)',
      data: { inputs: [1, 2] },
      message: /^AI_ERR_MALFORMED_INPUT: a job's data must be \{"inputs": \{\.\.\.\}\}, got "inputs" as .*array/,
    },
    { what: 'a wrong type', data: { inputs: { note: 5 } }, message: /^AI_ERR_INVALID_INPUT: note: expected a string, got number 5$/ },
    { what: 'a choice outside its choices', data: { inputs: { action: 'explode' } }, message: /^AI_ERR_INVALID_INPUT: action: .*explode/ },
    {
      what: 'a value 10,000 levels deep',
      data: 'deep',
      message: /^AI_ERR_INVALID_INPUT: x: nests 10000 levels of arrays and objects, deeper than the limit of 128 \(MAX_INPUT_DEPTH\)$/,
    },
    {
      what: 'an input over MAX_INPUT_BYTES',
      data: { inputs: { note: 'x'.repeat(1001) } },
      message: /^AI_ERR_INPUT_TOO_LARGE: .*MAX_INPUT_BYTES \(1000 bytes\).*"note"/,
    },
  ];

  test.each([
    { how: 'run directly', supervised: false },
    { how: 'under the supervisor', supervised: true },
  ])('$how: each bad job fails after one attempt (the producer allowing 3) with a message naming the problem', async ({ supervised }) => {
    const redis = await redisServer();
    const name = queueName('bad-data');
    const container = await startContainer({ redis, queueName: name, supervised, env: { MAX_INPUT_BYTES: '1000', QUEUE_ATTEMPTS: '3' } });
    const { queue, events } = await producer(redis, name);
    const options: JobsOptions = { attempts: 3 };

    for (const { what, data, message } of cases) {
      const job = data === 'deep' ? (await queue.getJob(await addDeepJob(redis, name, 10_000)))! : await queue.add('predict', data as any, options);
      const { error, job: stored } = await outcome(job, events, queue);
      expect(error, what).toMatch(message);
      expect(stored.attemptsMade, what).toBe(1);
      expect(await stored.getState(), what).toBe('failed');
    }
    const next = await outcome(await queue.add('predict', { inputs: { note: 'good' } }), events, queue);
    expect(next.result.output.note).toBe('good');
    expect(container.child.exitCode).toBeNull();
  });
});

describe('MODE=queue: shutdown, configuration and metrics', () => {
  test.each([
    { how: 'run directly', supervised: false },
    { how: 'under the supervisor', supervised: true },
  ])('$how: SIGTERM while a long job runs: it completes, no job is taken after SIGTERM, exit 0', async ({ supervised }) => {
    const redis = await redisServer();
    const name = queueName('sigterm');
    const calls = scratchFile('calls');
    const container = await startContainer({ redis, queueName: name, supervised, env: { CALLS_FILE: calls } });
    const { queue, events } = await producer(redis, name);

    const long = await queue.add('predict', { inputs: { note: 'long', delay_ms: 1500 } });
    expect(await eventually(() => lines(calls).some((line) => line.startsWith('start long ')), 10_000)).toBe(true);
    container.child.kill('SIGTERM');
    expect(await eventually(() => container.stderr().includes('SIGTERM: draining'), 5000)).toBe(true);
    const late = await queue.add('predict', { inputs: { note: 'late' } });

    const { result, error } = await outcome(long, events, queue);
    expect(error).toBeUndefined();
    expect(result.output.note).toBe('long');
    expect(await container.exited).toEqual({ code: 0, signal: null });
    expect(await late.getState()).toBe('waiting');
    expect(lines(calls).filter((line) => line.startsWith('start late '))).toEqual([]);
  });

  test.each([
    { what: 'without REDIS_URL, run directly', supervised: false, env: {}, message: /REDIS_URL/ },
    { what: 'without REDIS_URL, under the supervisor', supervised: true, env: {}, message: /REDIS_URL/ },
    {
      what: 'with REDIS_URL=http://x',
      supervised: false,
      env: { REDIS_URL: 'http://x' },
      message: /REDIS_URL="http:\/\/x" is not a redis:\/\/ or rediss:\/\/ URL/,
    },
    {
      what: 'with REDIS_URL=http://x, under the supervisor',
      supervised: true,
      env: { REDIS_URL: 'http://x' },
      message: /REDIS_URL="http:\/\/x" is not a redis:\/\/ or rediss:\/\/ URL/,
    },
  ])('MODE=queue $what: exit 3 naming REDIS_URL', async ({ supervised, env, message }) => {
    const base: Record<string, string> = {
      ...(process.env as Record<string, string>),
      MODE: 'queue',
      PORT: '0',
      HOST: '127.0.0.1',
      ...(env as Record<string, string>),
    };
    if (!('REDIS_URL' in env)) delete base.REDIS_URL;
    const outcome = await runProcess(process.execPath, supervised ? [supervisorBin, workerModel] : [workerModel], { env: base, timeoutMs: 20_000 });
    expect(outcome.code, outcome.stderr).toBe(3);
    expect(outcome.stderr).toMatch(message);
    expect(outcome.stderr).not.toContain('listening on');
  });

  test('/metrics counts the queue by state: with CONCURRENCY=1 and a long job running, the jobs left waiting', async () => {
    const redis = await redisServer();
    const name = queueName('metrics');
    const container = await startContainer({ redis, queueName: name, supervised: false, env: { CONCURRENCY: '1' } });
    const { queue } = await producer(redis, name);
    const scrape = async () => {
      const text = await (await request(`${container.url}/metrics`)).body.text();
      return Object.fromEntries([...text.matchAll(/^queue_jobs\{state="([a-z-]+)"\} (\d+)$/gm)].map((match) => [match[1]!, Number(match[2])]));
    };

    const done = await queue.add('predict', { inputs: { note: 'quick' } });
    expect(await eventually(async () => (await done.getState()) === 'completed', 10_000)).toBe(true);
    await queue.add('predict', { inputs: { note: 'long', delay_ms: 60_000 } });
    for (let index = 0; index < 5; index++) await queue.add('predict', { inputs: { note: `waits ${index}` } });

    // The container holds what the model can run (CONCURRENCY=1) plus one round waiting: the
    // long job and one more are active; the other four wait in Redis for any worker.
    expect(await eventually(async () => (await scrape()).waiting === 4, 10_000)).toBe(true);
    const metrics = await scrape();
    expect(metrics).toEqual({ waiting: 4, active: 2, completed: 1, failed: 0, delayed: 0, paused: 0 });
    expect(await queue.getJobCounts('waiting', 'active', 'completed')).toEqual({ waiting: 4, active: 2, completed: 1, paused: 0 });
  });
});
