import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';

const model = fixture('http-model.mjs');
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});
const signals = modelSignals();
afterAll(() => signals.remove());

async function answer(url: string, inputs: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const response = await request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });
  return { status: response.statusCode, body: await response.body.json() };
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe('an inference past INFERENCE_TIMEOUT_MS, run directly (no supervisor)', () => {
  test('504 for it; readiness and liveness 503 at once; the queued request 503; the other running one served; then exit 70', async () => {
    const server = await startServer(model, { INFERENCE_TIMEOUT_MS: '3000', CONCURRENCY: '2', ...signals.env });
    servers.push(server);
    // The stuck inference times out 3 s after it started; the slow one, started 1.5 s after it, is
    // held in the model until the test has looked, 1.5 s before its own timeout: it runs on while
    // the process drains. The pause is the point (the two timeouts 1.5 s apart), not a wait.
    const stuck = answer(server.url, { action: 'hang', note: 'stuck' });
    expect(await signals.started('stuck')).toBe(true);
    await pause(1500);
    signals.hold('slow');
    const slow = answer(server.url, { note: 'slow' });
    expect(await signals.started('slow')).toBe(true);
    // Refused whether it waits in the queue when the timeout comes or arrives after it.
    const queued = answer(server.url, { note: 'queued' });

    const timedOut = await stuck;
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.error).toEqual({ code: 'AI_ERR_TIMEOUT', message: 'inference took longer than 3000 ms (INFERENCE_TIMEOUT_MS)' });
    const refused = await queued;
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('AI_ERR_NOT_READY');

    const live = await request(`${server.url}/health/live`);
    expect(live.statusCode).toBe(503);
    expect(((await live.body.json()) as { status: string }).status).toBe('stuck');
    const ready = await request(`${server.url}/health`);
    expect(ready.statusCode).toBe(503);
    expect(((await ready.body.json()) as { reason: string }).reason).toBe(
      'an inference ran past 3000 ms (INFERENCE_TIMEOUT_MS); the process exits to be restarted',
    );

    signals.release('slow');
    const served = await slow;
    expect(served.status).toBe(200);
    expect(served.body.output.received.note).toBe('slow');
    expect(await server.exited).toEqual({ code: 70, signal: null });
    expect(server.stderr()).toContain(
      'error: an inference ran past 3000 ms (INFERENCE_TIMEOUT_MS): the model is stuck, so this process exits to be restarted (run it under the supervisor, ai-integration shim.js, to replace the model in place)\n',
    );
  });

  test('a model that blocks the event loop (a busy loop): a watchdog thread kills the process past the timeout, so that it is restarted', async () => {
    const server = await startServer(model, { INFERENCE_TIMEOUT_MS: '1000' });
    servers.push(server);
    const spinning = answer(server.url, { action: 'spin' }).catch((error: Error) => error);
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await spinning).toBeInstanceOf(Error);
    expect(server.stderr()).toMatch(/error: the event loop has been blocked for \d+ ms, past INFERENCE_TIMEOUT_MS: the model is stuck in synchronous code/);
  });

  test('the watchdog also runs where node treats eval code as an ES module (node --input-type=module -e, inherited by its thread)', async () => {
    const loader = `await import(${JSON.stringify(pathToFileURL(model).href)});`;
    const server = await startServer(model, { INFERENCE_TIMEOUT_MS: '1000' }, [], ['--input-type=module', '-e', loader]);
    servers.push(server);
    const spinning = answer(server.url, { action: 'spin' }).catch((error: Error) => error);
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await spinning).toBeInstanceOf(Error);
    expect(server.stderr()).toMatch(/error: the event loop has been blocked for \d+ ms, past INFERENCE_TIMEOUT_MS/);
  });
});
