import { request } from 'undici';
import { describe, expect, test } from 'vitest';
import { startServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';

const model = fixture('http-model.mjs');
const predict = (url: string, inputs: Record<string, unknown>) =>
  request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });

describe('HTTP lifecycle', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)('%s: stops accepting, finishes in-flight and queued work, exits 0', async (signal) => {
    const server = await startServer(model, { CONCURRENCY: '1' });
    const inFlight = predict(server.url, { delay_ms: 800, note: 'in flight' });
    const queued = predict(server.url, { delay_ms: 100, note: 'queued' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill(signal);
    const [first, second] = await Promise.all([inFlight, queued]);
    expect(first.statusCode).toBe(200);
    expect(((await first.body.json()) as { output: { received: { note: string } } }).output.received.note).toBe('in flight');
    expect(second.statusCode).toBe(200);
    expect(((await second.body.json()) as { output: { received: { note: string } } }).output.received.note).toBe('queued');
    const late = await predict(server.url, {}).then((response) => response.statusCode, (error: Error) => error.message);
    expect(late === 503 || /ECONNREFUSED|closed|other side/i.test(String(late))).toBe(true);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toContain(`${signal}: draining in-flight and queued work, then exiting`);
  });

  test('a throw answers 500 with the model\'s message, then the process exits with code 70 to be restarted', async () => {
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
    const server = await startServer(model, { CONCURRENCY: '1' });
    const thrower = predict(server.url, { action: 'throw', delay_ms: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const queued = predict(server.url, { note: 'queued behind the throw' });
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
