/**
 * The gateway (QUEUE_BACKEND: the HTTP API in front of a fleet of MODE=queue workers, running no
 * model) and the `ai-integration/queue` client, against a real Redis and real worker processes.
 */
import { Queue } from 'bullmq';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { queueClient } from 'ai-integration/queue';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';
import { fixture, runProcess } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('worker-model.mjs');
let redis: RunningRedis;
const servers: RunningServer[] = [];
let queues = 0;
let queueName: string;

beforeEach(async () => {
  redis = await startRedis();
  queueName = `gateway-${++queues}`;
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  await redis.dispose();
});

const worker = async (env: Record<string, string> = {}) => {
  const server = await startServer(supervisorBin, { MODE: 'queue', REDIS_URL: redis.url, QUEUE_NAME: queueName, ...env }, [model]);
  servers.push(server);
  return server;
};
// The gateway is started with no shim at all: the schema comes from the workers.
const gateway = async (env: Record<string, string> = {}) => {
  const server = await startServer(supervisorBin, { MODE: 'http', QUEUE_BACKEND: redis.url, QUEUE_NAME: queueName, ...env });
  servers.push(server);
  expect(await eventually(async () => (await request(`${server.url}/health`)).statusCode === 200, 15_000)).toBe(true);
  return server;
};
const predict = async (url: string, inputs: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const response = await request(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ inputs }),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, any> };
};

describe('the gateway', () => {
  test('with two workers: the page, /predict sync and async, the schema taken from the workers, both workers used, 422 decided at the gateway', async () => {
    await Promise.all([worker(), worker()]);
    const url = (await gateway()).url;
    const page = await request(`${url}/`);
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('worker-model');
    const document = (await (await request(`${url}/openapi.json`)).body.json()) as any;
    expect(document.info.title).toBe('worker-model');
    expect(JSON.stringify(document)).toContain('delay_ms');

    const answer = await predict(url, { note: 'through the gateway' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'succeeded', content_type: 'application/json', output: { note: 'through the gateway', worker: '0' } });
    // The same envelope as the model served directly.
    const direct = await startServer(model);
    servers.push(direct);
    const directAnswer = await predict(direct.url, { note: 'through the gateway' });
    expect(Object.keys(answer.body).sort()).toEqual(Object.keys(directAnswer.body).sort());
    expect(answer.body.output.note).toBe(directAnswer.body.output.note);

    const pids = new Set<number>();
    const answers = await Promise.all(Array.from({ length: 16 }, (_, index) => predict(url, { note: `n${index}`, delay_ms: 100 })));
    for (const [index, each] of answers.entries()) {
      expect(each.body.output.note).toBe(`n${index}`);
      pids.add(each.body.output.pid);
    }
    expect(pids.size).toBe(2);

    const accepted = await predict(url, { note: 'async' }, { prefer: 'respond-async' });
    expect(accepted.status).toBe(202);
    const state = async () => (await (await request(`${url}/predictions/${accepted.body.id}`)).body.json()) as Record<string, any>;
    expect(await eventually(async () => (await state()).status === 'succeeded', 10_000)).toBe(true);
    expect((await state()).output.note).toBe('async');

    const counts = new Queue(queueName, { connection: { host: redis.host, port: redis.port } });
    const before = await counts.getJobCounts('completed', 'failed', 'waiting');
    const refused = await predict(url, { note: 5 });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'AI_ERR_INVALID_INPUT', field: 'note' });
    expect(await counts.getJobCounts('completed', 'failed', 'waiting')).toEqual(before);
    await counts.close();
  });

  test("a worker's failure keeps its code: a throw is a 500 AI_ERR_INFERENCE_THREW, and the fleet goes on", async () => {
    await worker();
    const url = (await gateway()).url;
    const thrown = await predict(url, { note: 'boom', action: 'throw' });
    expect(thrown.status).toBe(500);
    expect(thrown.body.error.code).toBe('AI_ERR_INFERENCE_THREW');
    expect(thrown.body.error.message).toContain('thrown on purpose by boom');
    expect((await predict(url, { note: 'after' })).body.output.note).toBe('after');
  });

  test('past MAX_QUEUE waiting jobs a request is refused with 429; without a worker readiness says so', async () => {
    const first = await worker();
    const url = (await gateway({ MAX_QUEUE: '2' })).url;
    await first.stop();
    expect(await eventually(async () => (await request(`${url}/health`)).statusCode === 503, 10_000)).toBe(true);
    const health = (await (await request(`${url}/health`)).body.json()) as Record<string, string>;
    expect(health.reason).toMatch(/no worker consumes the queue/);
    // Two jobs wait with no worker to take them; the next request is refused.
    for (const note of ['w1', 'w2']) expect((await predict(url, { note }, { prefer: 'respond-async' })).status).toBe(202);
    const counts = new Queue(queueName, { connection: { host: redis.host, port: redis.port } });
    expect(await eventually(async () => (await counts.getWaitingCount()) === 2, 10_000)).toBe(true);
    const refused = await predict(url, { note: 'w3' });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('AI_ERR_QUEUE_FULL');
    // A worker arriving serves what waited, and there is room again.
    await worker();
    expect(await eventually(async () => (await counts.getWaitingCount()) === 0, 10_000)).toBe(true);
    await counts.close();
    expect((await predict(url, { note: 'w4' })).body.output.note).toBe('w4');
  });

  test('configuration errors stop it with exit 3: a backend that is not redis://, no queue name, a mode that is not an HTTP API', async () => {
    const run = (env: Record<string, string>) =>
      runProcess(process.execPath, [supervisorBin], { env: { ...(process.env as Record<string, string>), MODE: 'http', ...env } });
    const notRedis = await run({ QUEUE_BACKEND: 'http://127.0.0.1:1', QUEUE_NAME: 'x' });
    expect(notRedis.code).toBe(3);
    expect(notRedis.stderr).toMatch(/QUEUE_BACKEND="http:\/\/127.0.0.1:1" is not a redis:\/\//);
    const unnamed = await run({ QUEUE_BACKEND: redis.url });
    expect(unnamed.code).toBe(3);
    expect(unnamed.stderr).toMatch(/a gateway needs QUEUE_NAME/);
    const oneShot = await run({ QUEUE_BACKEND: redis.url, QUEUE_NAME: 'x', MODE: 'test_model_integration' });
    expect(oneShot.code).toBe(3);
    expect(oneShot.stderr).toMatch(/not MODE=test_model_integration/);
  });
});

describe('ai-integration/queue, the client', () => {
  test('predict, submit then result, a refusal with its code, an unknown id', async () => {
    await worker();
    const client = queueClient({
      redisUrl: redis.url,
      queueName,
      schema: { note: { type: 'text' }, action: { type: 'choice', choices: ['ok', 'throw', 'die'], default: 'ok' }, delay_ms: { type: 'integer', default: 0 } },
    });
    try {
      const answer = await client.predict({ note: 'from the client', action: 'ok', delay_ms: 0 }, { timeoutMs: 10_000 });
      expect(answer).toMatchObject({ status: 'succeeded', content_type: 'application/json', output: { note: 'from the client' } });
      const id = await client.submit({ note: 'later', action: 'ok', delay_ms: 0 });
      expect((await client.result(id, { timeoutMs: 10_000 })).output).toMatchObject({ note: 'later' });
      await expect(client.predict({ note: 'boom', action: 'throw', delay_ms: 0 }, { timeoutMs: 10_000 })).rejects.toMatchObject({
        code: 'AI_ERR_INFERENCE_THREW',
      });
      await expect(client.result('no-such-job')).rejects.toMatchObject({ code: 'AI_ERR_NOT_FOUND' });
    } finally {
      await client.close();
    }
  });
});
