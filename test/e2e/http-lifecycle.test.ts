import { request } from 'undici';
import { afterAll, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { eventually } from '../helpers/supervisor.js';

const model = fixture('http-model.mjs');
const predict = (url: string, inputs: Record<string, unknown>) =>
  request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });

const signals = modelSignals();
afterAll(() => signals.remove());

// Whether a request waits in the queue: no event says so but the metrics (polled, bounded).
const queueDepth = async (url: string) => Number(/^inference_queue_depth (\d+)$/m.exec(await (await request(`${url}/metrics`)).body.text())?.[1]);

describe('HTTP lifecycle', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)('%s: stops accepting, finishes in-flight and queued work, exits 0', async (signal) => {
    const server = await startServer(model, { CONCURRENCY: '1', ...signals.env });
    // The first is held in the model until the drain has begun, the second waits behind it.
    signals.hold(`in flight ${signal}`);
    const inFlight = predict(server.url, { note: `in flight ${signal}` });
    expect(await signals.started(`in flight ${signal}`)).toBe(true);
    const queued = predict(server.url, { note: 'queued' });
    expect(await eventually(async () => (await queueDepth(server.url)) === 1, 20_000)).toBe(true);
    server.child.kill(signal);
    expect(await eventually(() => server.stderr().includes(`${signal}: draining`), 20_000)).toBe(true);
    signals.release(`in flight ${signal}`);
    const [first, second] = await Promise.all([inFlight, queued]);
    expect(first.statusCode).toBe(200);
    expect(((await first.body.json()) as { output: { received: { note: string } } }).output.received.note).toBe(`in flight ${signal}`);
    expect(second.statusCode).toBe(200);
    expect(((await second.body.json()) as { output: { received: { note: string } } }).output.received.note).toBe('queued');
    const late = await predict(server.url, {}).then(
      (response) => response.statusCode,
      (error: Error) => error.message,
    );
    expect(late === 503 || /ECONNREFUSED|closed|other side/i.test(String(late))).toBe(true);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toContain(`${signal}: draining in-flight and queued work, then exiting`);
  });

  test("a throw answers 500 with the model's message, then the process exits with code 70 to be restarted", async () => {
    const server = await startServer(model);
    const response = await predict(server.url, { action: 'throw' });
    expect(response.statusCode).toBe(500);
    expect(await response.body.json()).toMatchObject({
      status: 'failed',
      error: { code: 'AI_ERR_INFERENCE_THREW', message: 'the inference function threw: CUDA error: device-side assert triggered' },
    });
    expect(await server.exited).toEqual({ code: 70, signal: null });
    expect(server.stderr()).toMatch(/the inference function threw:\nError: CUDA error: device-side assert triggered\n\s+at /);
    expect(server.stderr()).toContain('exits with code 70 to be restarted');
  });

  test('a throw refuses the queued requests with 503 instead of running them on a broken model', async () => {
    const server = await startServer(model, { CONCURRENCY: '1', ...signals.env });
    // The throw is held in the model until the second request waits behind it.
    signals.hold('thrower');
    const thrower = predict(server.url, { action: 'throw', note: 'thrower' });
    expect(await signals.started('thrower')).toBe(true);
    const queued = predict(server.url, { note: 'queued behind the throw' });
    expect(await eventually(async () => (await queueDepth(server.url)) === 1, 20_000)).toBe(true);
    signals.release('thrower');
    expect((await thrower).statusCode).toBe(500);
    const answer = await queued;
    expect(answer.statusCode).toBe(503);
    expect(((await answer.body.json()) as { error: unknown }).error).toEqual({
      code: 'AI_ERR_NOT_READY',
      message: 'the model failed and the process is restarting; retry shortly',
    });
    expect(await server.exited).toEqual({ code: 70, signal: null });
  });

  test('a port in use is a clear configuration error', async () => {
    const first = await startServer(model);
    const port = new URL(first.url).port;
    const { runScript } = await import('../helpers/run-process.js');
    const second = await runScript(model, { mode: 'http', env: { PORT: port, HOST: '127.0.0.1' } });
    expect(second.code).toBe(3);
    expect(second.stderr.trim()).toBe(`error: cannot listen on 127.0.0.1:${port}: the address is in use`);
    await first.stop();
  });
});
