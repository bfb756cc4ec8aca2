import { afterEach, describe, expect, test } from 'vitest';
import { callJson, startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { eventually } from '../helpers/supervisor.js';

const model = fixture('cancel-model.mjs');
const servers: RunningServer[] = [];
async function serve(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer(model, env);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const call = callJson;
const finished = async (url: string, path: string) => {
  expect(await eventually(async () => !['starting', 'processing'].includes((await call(url, 'GET', path)).body.status), 20_000)).toBe(true);
  return (await call(url, 'GET', path)).body;
};

describe('async predictions, native API', () => {
  test('Prefer: respond-async answers 202 with the id and a Location; polling reaches succeeded with output and timings', async () => {
    const server = await serve();
    const accepted = await call(server.url, 'POST', '/predict', { inputs: { note: 'later' } }, { prefer: 'wait=10, respond-async' });
    expect(accepted.status).toBe(202);
    expect(accepted.headers['preference-applied']).toBe('respond-async');
    expect(accepted.body).toMatchObject({ status: expect.stringMatching(/^(starting|processing)$/), output: null, error: null });
    expect(accepted.headers.location).toBe(`/predictions/${accepted.body.id}`);
    const done = await finished(server.url, accepted.headers.location as string);
    expect(done).toMatchObject({
      id: accepted.body.id,
      status: 'succeeded',
      output: { note: 'later' },
      content_type: 'application/json',
      error: null,
      logs: '',
    });
    expect(Date.parse(done.completed_at)).toBeGreaterThanOrEqual(Date.parse(done.started_at));
    expect(done.metrics.predict_time_ms).toBeGreaterThanOrEqual(0);
    // Invalid inputs are still refused at once, never accepted.
    expect((await call(server.url, 'POST', '/predict', { inputs: { action: 'dance' } }, { prefer: 'respond-async' })).status).toBe(422);
    expect((await call(server.url, 'GET', '/predictions/unknown')).status).toBe(404);
  });

  test('a finished prediction is readable until PREDICTION_TTL_SECONDS after it ended, then 404', async () => {
    const server = await serve({ PREDICTION_TTL_SECONDS: '1' });
    const { body } = await call(server.url, 'POST', '/predict', { inputs: { note: 'ttl' } }, { prefer: 'respond-async' });
    expect((await finished(server.url, `/predictions/${body.id}`)).status).toBe('succeeded');
    expect(await eventually(async () => (await call(server.url, 'GET', `/predictions/${body.id}`)).status === 404, 10_000)).toBe(true);
  });

  test('the store is bounded: over 3000 async predictions, only the newest MAX_PREDICTIONS stay', async () => {
    const server = await serve({ MAX_PREDICTIONS: '50', MAX_QUEUE: '64' });
    const ids: string[] = [];
    for (let batch = 0; batch < 100; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, index) => call(server.url, 'POST', '/predict', { inputs: { note: `n${batch}-${index}` } }, { prefer: 'respond-async' })),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(202);
        ids.push(answer.body.id);
      }
    }
    await finished(server.url, `/predictions/${ids.at(-1)}`);
    let kept = 0;
    for (const id of ids) if ((await call(server.url, 'GET', `/predictions/${id}`)).status === 200) kept++;
    expect(kept).toBeLessThanOrEqual(50);
    expect(kept).toBeGreaterThanOrEqual(20);
    expect((await call(server.url, 'GET', `/predictions/${ids[0]}`)).status).toBe(404);
  });

  test('when every held prediction is running or waiting, a new one gets 429', async () => {
    const server = await serve({ MAX_PREDICTIONS: '2', SHUTDOWN_TIMEOUT_MS: '200' });
    for (const note of ['a', 'b'])
      expect((await call(server.url, 'POST', '/predict', { inputs: { action: 'cooperative', note } }, { prefer: 'respond-async' })).status).toBe(202);
    expect((await call(server.url, 'POST', '/predict', { inputs: { note: 'c' } }, { prefer: 'respond-async' })).status).toBe(429);
  });
});

describe('async predictions, MODE=cog', () => {
  test('POST and PUT with Prefer: respond-async answer 202 with the state; GET /predictions/{id} follows it to succeeded', async () => {
    const server = await serve({ MODE: 'cog' });
    const posted = await call(server.url, 'POST', '/predictions', { input: { note: 'cog-async' } }, { prefer: 'respond-async' });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ input: { note: 'cog-async' }, output: null, completed_at: null });
    expect(['starting', 'processing']).toContain(posted.body.status);
    const done = await finished(server.url, `/predictions/${posted.body.id}`);
    expect(done).toMatchObject({ id: posted.body.id, status: 'succeeded', output: { note: 'cog-async' } });
    expect(done.metrics.predict_time).toBeGreaterThanOrEqual(0);

    const put = await call(server.url, 'PUT', '/predictions/cog-put-1', { input: { note: 'cog-put' } }, { prefer: 'respond-async' });
    expect(put.status).toBe(202);
    expect(put.body.id).toBe('cog-put-1');
    expect((await finished(server.url, '/predictions/cog-put-1')).output).toEqual({ note: 'cog-put', pid: expect.any(Number) });
    // The same PUT again answers the held prediction's state.
    const again = await call(server.url, 'PUT', '/predictions/cog-put-1', { input: { note: 'cog-put' } }, { prefer: 'respond-async' });
    expect(again).toMatchObject({ status: 202, body: { id: 'cog-put-1', status: 'succeeded' } });
    expect((await call(server.url, 'GET', '/predictions/never')).status).toBe(404);
  });

  test('cancel of a running Cog prediction', async () => {
    const server = await serve({ MODE: 'cog' });
    const posted = await call(server.url, 'POST', '/predictions', { id: 'cog-cancel', input: { action: 'cooperative' } }, { prefer: 'respond-async' });
    expect(posted.status).toBe(202);
    const canceled = await call(server.url, 'POST', '/predictions/cog-cancel/cancel');
    expect(canceled).toMatchObject({ status: 200, body: {} });
    expect((await call(server.url, 'GET', '/predictions/cog-cancel')).body.status).toBe('canceled');
    expect((await call(server.url, 'POST', '/predictions/cog-cancel/cancel')).status).toBe(404);
  });
});
