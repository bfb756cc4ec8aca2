// A request still running in the model when the shutdown drain ends (SHUTDOWN_TIMEOUT_MS) gets
// its 503 with the protocol's error body before the connection closes, never a connection closed
// with no bytes. The model is held by a promise this test controls. The access log's line for it
// is checked with a real process in test/e2e/access-log.test.ts.
import { afterEach, describe, expect, test } from 'vitest';
import { startInProcess } from '../helpers/in-process-service.js';

const release: (() => void)[] = [];
afterEach(() => {
  for (const go of release.splice(0)) go();
});

function heldModel() {
  let started!: () => void;
  const reached = new Promise<void>((resolve) => (started = resolve));
  const model = {
    inference: (inputs: { text: string }) => {
      started();
      return new Promise<{ 'content-type': string; data: string; success: boolean }>((resolve) =>
        release.push(() => resolve({ 'content-type': 'text/plain', data: inputs.text, success: true })),
      );
    },
    schema: { text: { type: 'text' } },
  } as const;
  return { model, reached };
}

const drain = { SHUTDOWN_TIMEOUT_MS: '300' };

describe('a request still in the model when the drain ends', () => {
  test.each([
    {
      mode: 'http',
      request: { method: 'POST' as const, url: '/predict', body: { inputs: { text: 'held' } } },
      errorOf: (body: any) => body.error,
    },
    {
      mode: 'cog',
      request: { method: 'POST' as const, url: '/predictions', body: { input: { text: 'held' } } },
      errorOf: (body: any) => ({ code: 'AI_ERR_NOT_READY', message: body.detail }),
    },
    {
      mode: 'kserve',
      request: { method: 'POST' as const, url: '/v1/models/held:predict', body: { instances: [{ text: 'held' }] } },
      errorOf: (body: any) => ({ code: 'AI_ERR_NOT_READY', message: body.error }),
    },
  ])('MODE=$mode: 503 with the error body, written before the connection closes', async ({ mode, request, errorOf }) => {
    const { model, reached } = heldModel();
    const service = await startInProcess({ mode, model, env: drain, options: { name: 'held' } });
    const answer = service.inject(request).then(
      (response) => response,
      (error: Error) => error,
    );
    await reached;
    const closed = service.close();
    const response = await answer;
    expect(response).not.toBeInstanceOf(Error);
    if (response instanceof Error) return;
    expect(response.status, response.text()).toBe(503);
    expect(response.headers.connection).toBe('close');
    expect(errorOf(response.json())).toEqual({
      code: 'AI_ERR_NOT_READY',
      message: expect.stringMatching(/^the server shut down before this request was answered: .*SHUTDOWN_TIMEOUT_MS/),
    });
    expect(await closed).toBe(0);
    expect(service.logs()).toMatch(/1 request in flight .* after 300 ms \(SHUTDOWN_TIMEOUT_MS\)/);
  });

  test('MODE=http: one running and one waiting in the queue both get their 503; the model ran only the first', async () => {
    const { model, reached } = heldModel();
    let calls = 0;
    const counted = {
      ...model,
      inference: (inputs: { text: string }) => {
        calls++;
        return model.inference(inputs);
      },
    };
    const service = await startInProcess({ mode: 'http', model: counted, env: { ...drain, CONCURRENCY: '1' } });
    const send = (text: string) => service.inject({ method: 'POST', url: '/predict', body: { inputs: { text } } }).catch((error: Error) => error);
    const running = send('running');
    await reached;
    const waiting = send('waiting');
    const queued = async () => /^inference_queue_depth 1$/m.test((await service.inject({ url: '/metrics' })).text());
    for (let tries = 0; !(await queued()) && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    const closed = service.close();
    for (const answer of await Promise.all([running, waiting])) {
      expect(answer).not.toBeInstanceOf(Error);
      if (answer instanceof Error) return;
      expect(answer.status, answer.text()).toBe(503);
      expect(answer.json().error.message).toMatch(/^the server shut down before this request was answered/);
    }
    expect(calls).toBe(1);
    expect(await closed).toBe(0);
  });
});
