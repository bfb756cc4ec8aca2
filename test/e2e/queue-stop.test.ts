// MODE=queue stops promptly after Redis went away: SIGTERM ends the worker as soon as what it runs
// in the model has finished, rather than when SHUTDOWN_TIMEOUT_MS runs out while BullMQ's close
// waits for commands held until Redis comes back. SHUTDOWN_TIMEOUT_MS is 60 s here: a stop that
// waited for it would outlast the test's own timeout.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, killProcessTree, supervisorBin } from '../helpers/supervisor.js';

const workerModel = fixture('worker-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'ai-queue-stop-'));
const signals = modelSignals();
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  signals.remove();
});
const containers: RunningServer[] = [];
const producers: Queue[] = [];
const redises: RunningRedis[] = [];
afterEach(async () => {
  await Promise.all(containers.splice(0).map((container) => killProcessTree(container)));
  await Promise.all(producers.splice(0).map((producer) => producer.close().catch(() => {})));
  await Promise.all(redises.splice(0).map((redis) => redis.dispose()));
});

let queues = 0;
async function startWorker(supervised: boolean) {
  const redis = await startRedis();
  redises.push(redis);
  const name = `queue-stop-${process.pid}-${queues++}`;
  const calls = join(scratch, `${name}-calls`);
  const env = { MODE: 'queue', REDIS_URL: redis.url, QUEUE_NAME: name, SHUTDOWN_TIMEOUT_MS: '60000', CALLS_FILE: calls, ...signals.env };
  const container = supervised ? await startServer(supervisorBin, env, [workerModel]) : await startServer(workerModel, env);
  containers.push(container);
  expect(await eventually(async () => (await health(container)) === 200, 30_000), container.stderr()).toBe(true);
  return { redis, name, calls, container };
}

async function health(container: RunningServer): Promise<number> {
  try {
    const response = await request(`${container.url}/health`);
    await response.body.dump();
    return response.statusCode;
  } catch {
    return 0;
  }
}

describe('MODE=queue stops promptly after Redis went away', () => {
  test.for([
    ['under the supervisor', true],
    ['run directly', false],
  ] as const)('%s, idle: SIGTERM ends it at once, exit 0', { timeout: 30_000 }, async ([, supervised]) => {
    const { redis, container } = await startWorker(supervised);
    await redis.stop();
    expect(await eventually(async () => (await health(container)) === 503, 20_000)).toBe(true);
    container.child.kill('SIGTERM');
    expect(await container.exited).toEqual({ code: 0, signal: null });
    expect(container.stderr()).not.toContain('SHUTDOWN_TIMEOUT_MS');
  });

  test.for([
    ['under the supervisor', true],
    ['run directly', false],
  ] as const)('%s, a job running: SIGTERM ends it once the model has finished that job, exit 0', { timeout: 30_000 }, async ([, supervised]) => {
    const { redis, name, calls, container } = await startWorker(supervised);
    const note = `held-${name}`;
    signals.hold(note);
    const queue = new Queue(name, { connection: { host: redis.host, port: redis.port } });
    producers.push(queue);
    queue.on('error', () => {});
    await queue.add('predict', { inputs: { note } });
    expect(await eventually(() => existsSync(calls) && readFileSync(calls, 'utf8').includes(`start ${note}`), 20_000)).toBe(true);
    await redis.stop('SIGKILL');
    expect(await eventually(async () => (await health(container)) === 503, 20_000)).toBe(true);
    container.child.kill('SIGTERM');
    await eventually(() => container.stderr().includes('SIGTERM'), 10_000);
    signals.release(note);
    expect(await container.exited).toEqual({ code: 0, signal: null });
    expect(container.stderr()).not.toContain('SHUTDOWN_TIMEOUT_MS');
  });
});
