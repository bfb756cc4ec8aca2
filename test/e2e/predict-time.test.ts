// Where a request's time went, under the supervisor: the model's time (predict_time_ms, Cog's
// metrics.predict_time, the inference_duration_seconds histogram) runs from when the worker
// started the inference; the time a request spent waiting (for a slot, and in the worker's own
// queue, where it is sent ahead of the one running) is its queue time. An instant model held up
// behind a slow one must report a tiny predict time and a long queue time.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { startRedis } from '../helpers/redis.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('http-model.mjs');
const signals = modelSignals();
afterAll(() => signals.remove());
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

// How long the slow inference is held once the instant one waits behind it. This wait is what the
// test measures, so it is a set time, not an event; the assertions keep wide margins around it
// (the instant model's own time is microseconds).
const holdMs = 1500;

async function supervise(env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer(supervisorBin, { CONCURRENCY: '1', ...signals.env, ...env }, [model]);
  servers.push(server);
  return server;
}

async function metricsOf(server: RunningServer): Promise<string> {
  return (await request(`${server.url}/metrics`)).body.text();
}

function sampleOf(metrics: string, series: string): number {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

/**
 * Holds `slow` in the model, sends the instant request behind it, waits until both are in the
 * worker (the instant one in its queue), holds `holdMs` more, and lets the slow one go.
 */
async function instantBehindSlow<T>(server: RunningServer, slow: string, send: (note: string) => Promise<T>): Promise<{ slow: T; instant: T }> {
  signals.hold(slow);
  const slowAnswer = send(slow);
  expect(await signals.started(slow)).toBe(true);
  const instantAnswer = send(`instant behind ${slow}`);
  // Both were handed to the engine, and the worker holds both (one running, one in its queue).
  expect(await eventually(async () => sampleOf(await metricsOf(server), 'inferences_in_flight') === 2, 10_000)).toBe(true);
  await sleep(holdMs); // the wait being measured: the instant request sits in the worker's queue
  signals.release(slow);
  return { slow: await slowAnswer, instant: await instantAnswer };
}

describe('under the supervisor, an instant model held up behind a slow one', () => {
  test('POST /predict: its predict_time_ms is the model time, its wait is queue_time_ms; the histogram says the same', async () => {
    const server = await supervise({});
    const send = async (note: string) => {
      const response = await request(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { note } }),
      });
      return { status: response.statusCode, body: (await response.body.json()) as any };
    };
    const { slow, instant } = await instantBehindSlow(server, 'slow', send);
    expect([slow.status, instant.status]).toEqual([200, 200]);
    expect(instant.body.output.received.note).toBe('instant behind slow');

    expect(slow.body.metrics.predict_time_ms).toBeGreaterThan(holdMs / 2);
    // The model answered at once: timed by the supervisor, its wait in the worker's queue counted as predict time.
    expect(instant.body.metrics.predict_time_ms).toBeLessThan(holdMs / 3);
    expect(instant.body.metrics.queue_time_ms).toBeGreaterThan(holdMs / 2);

    // The histogram of the model's time: the slow inference above a second, the instant one well under.
    const metrics = await metricsOf(server);
    expect(sampleOf(metrics, 'inference_duration_seconds_count')).toBe(2);
    expect(sampleOf(metrics, 'inference_duration_seconds_bucket{le="0.5"}')).toBe(1);
    expect(sampleOf(metrics, 'inference_duration_seconds_bucket{le="1"}')).toBe(1);
  });

  test("MODE=cog: metrics.predict_time is the model's time, and started_at is when the model started on it", async () => {
    const server = await supervise({ MODE: 'cog' });
    const send = async (note: string) => {
      const response = await request(`${server.url}/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { note } }),
      });
      return { status: response.statusCode, body: (await response.body.json()) as any };
    };
    const { slow, instant } = await instantBehindSlow(server, 'slow cog', send);
    expect([slow.status, instant.status]).toEqual([200, 200]);
    expect([slow.body.status, instant.body.status]).toEqual(['succeeded', 'succeeded']);

    expect(slow.body.metrics.predict_time).toBeGreaterThan(holdMs / 2 / 1000);
    expect(instant.body.metrics.predict_time).toBeLessThan(holdMs / 3 / 1000);
    // Its wait lies between created_at and started_at, not inside predict_time.
    const waitedMs = Date.parse(instant.body.started_at) - Date.parse(instant.body.created_at);
    expect(waitedMs).toBeGreaterThan(holdMs / 2);
  });
});

describe('under the supervisor, a failure the model reports, held up behind a slow inference', () => {
  test("MODE=cog: the failed prediction's metrics.predict_time is the model's time too", async () => {
    const server = await supervise({ MODE: 'cog' });
    const send = async (note: string) => {
      const input = note.startsWith('instant') ? { note, action: 'fail' } : { note };
      const response = await request(`${server.url}/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input }),
      });
      return { status: response.statusCode, body: (await response.body.json()) as any };
    };
    const { slow, instant } = await instantBehindSlow(server, 'slow before a failure', send);
    expect([slow.body.status, instant.body.status]).toEqual(['succeeded', 'failed']);
    expect(instant.body.error).toBe('the model reported a failure: no face found in the image');
    expect(instant.body.metrics.predict_time).toBeLessThan(holdMs / 3 / 1000);
    expect(Date.parse(instant.body.started_at) - Date.parse(instant.body.created_at)).toBeGreaterThan(holdMs / 2);
  });
});

describe('through a gateway, a job held up on the queue behind a slow one', () => {
  test("its predict_time_ms is the queue worker's figure for the model; the wait on the queue is queue_time_ms", async () => {
    const redis = await startRedis();
    try {
      const calls = join(mkdtempSync(join(tmpdir(), 'predict-time-')), 'calls');
      const queueName = 'predict-time';
      const env = { REDIS_URL: redis.url, QUEUE_NAME: queueName };
      const worker = await startServer(supervisorBin, { MODE: 'queue', CALLS_FILE: calls, ...signals.env, ...env }, [fixture('worker-model.mjs')]);
      servers.push(worker);
      const gateway = await startServer(supervisorBin, { MODE: 'http', QUEUE_BACKEND: redis.url, QUEUE_NAME: queueName });
      servers.push(gateway);
      expect(await eventually(async () => (await request(`${gateway.url}/health`)).statusCode === 200, 15_000)).toBe(true);
      const send = async (note: string) => {
        const response = await request(`${gateway.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: { note } }),
        });
        return { status: response.statusCode, body: (await response.body.json()) as any };
      };

      signals.hold('slow job');
      const slowAnswer = send('slow job');
      expect(await eventually(() => existsSync(calls) && readFileSync(calls, 'utf8').includes('start slow job'), 15_000)).toBe(true);
      const instantAnswer = send('instant job');
      const jobs = new Queue(queueName, { connection: { host: redis.host, port: redis.port } });
      try {
        // Both jobs are on the queue (the instant one waiting, or taken ahead by the queue worker).
        const both = async () => {
          const counts = await jobs.getJobCounts('waiting', 'active');
          return (counts.waiting ?? 0) + (counts.active ?? 0) === 2;
        };
        expect(await eventually(both, 10_000)).toBe(true);
      } finally {
        await jobs.close();
      }
      await sleep(holdMs); // the wait being measured: the instant job waits behind the slow one
      signals.release('slow job');
      const [slow, instant] = await Promise.all([slowAnswer, instantAnswer]);
      expect([slow.status, instant.status]).toEqual([200, 200]);
      expect(instant.body.output.note).toBe('instant job');
      expect(slow.body.metrics.predict_time_ms).toBeGreaterThan(holdMs / 2);
      expect(instant.body.metrics.predict_time_ms).toBeLessThan(holdMs / 3);
      expect(instant.body.metrics.queue_time_ms).toBeGreaterThan(holdMs / 2);
    } finally {
      await Promise.all(servers.splice(0).map((server) => server.stop()));
      await redis.dispose();
    }
  });
});
