// Streaming outputs over HTTP, against test/fixtures/stream-model.mjs (an async generator): server-
// sent events on POST /predict and Cog's POST /predictions, the collected result without them, a
// client that leaves, and a throw mid-stream. The model's `gate` input holds it after its first
// chunk until the file exists, so a test sees that chunk arrive before the rest is even made.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { callJson, startServer, type RunningServer } from '../helpers/http-server.js';
import { gateFiles } from '../helpers/gates.js';
import { fixture } from '../helpers/run-process.js';
import { openEventStream, type ServerSentEvent } from '../helpers/server-sent-events.js';
import { childPids, eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('stream-model.mjs');
// Every gate opens after each test, so no model stays held.
const gates = gateFiles('ai-streaming-');
const { scratch, gate } = gates;
const servers: RunningServer[] = [];
let files = 0;

afterEach(async () => {
  gates.openAll();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});
afterAll(() => gates.remove());

async function serve(supervised: boolean, env: Record<string, string> = {}): Promise<{ server: RunningServer; calls: () => string[] }> {
  const callsFile = join(scratch, `calls-${++files}`);
  const server = supervised
    ? await startServer(supervisorBin, { CALLS_FILE: callsFile, ...env }, [model])
    : await startServer(model, { CALLS_FILE: callsFile, ...env });
  servers.push(server);
  return { server, calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : []) };
}

const call = callJson;

const predict = (url: string, inputs: Record<string, unknown>, headers: Record<string, string> = {}) => call(url, 'POST', '/predict', { inputs }, headers);
const stream = (url: string, inputs: Record<string, unknown>, signal?: AbortSignal) => openEventStream(`${url}/predict`, { inputs }, signal ? { signal } : {});
const state = async (url: string, id: string) => (await call(url, 'GET', `/predictions/${id}`)).body;
const shapes = (events: ServerSentEvent[]) => events.map(({ event, id, data }) => [event, id, event === 'done' ? data.status : data]);

/** The mean of each channel of an image given as a data: URL. */
async function meansOf(dataUrl: string): Promise<number[]> {
  const match = /^data:image\/png;base64,(.+)$/.exec(dataUrl);
  expect(match, `not a PNG data: URL: ${dataUrl.slice(0, 40)}`).not.toBeNull();
  const stats = await sharp(Buffer.from(match![1]!, 'base64')).stats();
  return stats.channels.map((channel) => Math.round(channel.mean));
}

// The event a held model already sent: a stream that buffered its events would never deliver it
// while the model waits for its gate, so this fails with a reason instead of at the test's timeout.
const whileHeld = <T>(event: Promise<T>) =>
  Promise.race([
    event,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event arrived while the model was held after its first chunk')), 15_000).unref()),
  ]);

// The restarts of the model worker as /metrics counts them, for a cause.
async function metricsRestarts(url: string, cause: string): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const match = new RegExp(`^model_restarts_total\\{[^}]*cause="${cause}"[^}]*\\} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describe.each([
  ['run directly', false],
  ['under the supervisor', true],
])('POST /predict with Accept: text/event-stream (%s)', (_, supervised) => {
  test('an output event per chunk, in order and numbered, then done with the complete prediction as GET /predictions/{id} gives it', async () => {
    const { server, calls } = await serve(supervised);
    const events = await stream(server.url, { prompt: 'Ordered events here' });
    expect(events.status).toBe(200);
    expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(events.headers['cache-control']).toBe('no-cache, no-transform');
    const id = events.headers['x-prediction-id'] as string;
    expect(id).toMatch(/^\S+$/);
    const all = await events.rest();
    expect(shapes(all)).toEqual([
      ['output', '0', 'Ordered'],
      ['output', '1', ' events'],
      ['output', '2', ' here'],
      ['done', '3', 'succeeded'],
    ]);
    const done = all[3]!.data;
    expect(done).toMatchObject({ id, status: 'succeeded', output: 'Ordered events here', content_type: 'text/plain; charset=utf-8', error: null });
    expect(done.completed_at).toEqual(expect.any(String));
    expect(await call(server.url, 'GET', `/predictions/${id}`)).toMatchObject({ status: 200, body: done });
    expect(calls()).toEqual([
      'start Ordered events here',
      'chunk 1 Ordered events here',
      'chunk 2 Ordered events here',
      'chunk 3 Ordered events here',
      'closed Ordered events here',
    ]);
  });

  test('the first output event arrives while the model is still held after it; GET shows the prediction processing with the output so far; the rest comes once the gate opens', async () => {
    const { server, calls } = await serve(supervised);
    const held = gate();
    const events = await stream(server.url, { prompt: 'Gated words flow', gate: held });
    expect(await whileHeld(events.next())).toEqual({ event: 'output', id: '0', data: 'Gated' });
    // The model has made its first chunk and is waiting for the gate: nothing more exists yet.
    expect(existsSync(held)).toBe(false);
    expect(calls()).not.toContain('chunk 3 Gated words flow');
    const id = events.headers['x-prediction-id'] as string;
    expect(await state(server.url, id)).toMatchObject({ id, status: 'processing', output: 'Gated', content_type: null });

    writeFileSync(held, '');
    const rest = await events.rest();
    expect(shapes(rest)).toEqual([
      ['output', '1', ' words'],
      ['output', '2', ' flow'],
      ['done', '3', 'succeeded'],
    ]);
    expect(rest[2]!.data).toMatchObject({ id, output: 'Gated words flow' });
  });

  test('two streams at once (CONCURRENCY=2): each client gets its own chunks only, and one held model holds up nothing of the other', async () => {
    const { server } = await serve(supervised, { CONCURRENCY: '2' });
    const [alphaGate, betaGate] = [gate(), gate()];
    const alpha = await stream(server.url, { prompt: 'Alpha one two', gate: alphaGate });
    expect(await whileHeld(alpha.next())).toEqual({ event: 'output', id: '0', data: 'Alpha' });
    const beta = await stream(server.url, { prompt: 'Beta three four', gate: betaGate });
    expect(await whileHeld(beta.next())).toEqual({ event: 'output', id: '0', data: 'Beta' });
    writeFileSync(betaGate, '');
    const betaRest = await beta.rest();
    expect(shapes(betaRest)).toEqual([
      ['output', '1', ' three'],
      ['output', '2', ' four'],
      ['done', '3', 'succeeded'],
    ]);
    expect(betaRest[2]!.data.output).toBe('Beta three four');
    // Alpha is still held, and has had nothing of Beta's.
    expect(existsSync(alphaGate)).toBe(false);
    expect(await state(server.url, alpha.headers['x-prediction-id'] as string)).toMatchObject({ status: 'processing', output: 'Alpha' });
    writeFileSync(alphaGate, '');
    expect(shapes(await alpha.rest())).toEqual([
      ['output', '1', ' one'],
      ['output', '2', ' two'],
      ['done', '3', 'succeeded'],
    ]);
  });

  test("JSON chunks are their parsed values and done has the list; image chunks are data: URLs and done has the last; a returned result is done's output", async () => {
    const { server } = await serve(supervised);
    const json = await (await stream(server.url, { prompt: 'one two', kind: 'json' })).rest();
    expect(shapes(json)).toEqual([
      ['output', '0', { index: 0, word: 'one' }],
      ['output', '1', { index: 1, word: ' two' }],
      ['done', '2', 'succeeded'],
    ]);
    expect(json[2]!.data).toMatchObject({
      output: [
        { index: 0, word: 'one' },
        { index: 1, word: ' two' },
      ],
      content_type: 'application/json',
    });

    const images = await (await stream(server.url, { kind: 'image' })).rest();
    expect(images.map((event) => event.event)).toEqual(['output', 'output', 'output', 'done']);
    expect(await Promise.all(images.slice(0, 3).map((event) => meansOf(event.data as string)))).toEqual([
      [64, 64, 64],
      [128, 128, 128],
      [255, 255, 255],
    ]);
    expect(images[3]!.data).toMatchObject({ status: 'succeeded', output: images[2]!.data, content_type: 'image/png' });

    const returned = await (await stream(server.url, { prompt: 'a b c', kind: 'returned' })).rest();
    expect(shapes(returned)).toEqual([
      ['output', '0', 'a'],
      ['output', '1', ' b'],
      ['output', '2', ' c'],
      ['done', '3', 'succeeded'],
    ]);
    expect(returned[3]!.data).toMatchObject({ output: { words: 3 }, content_type: 'application/json' });
  });

  test('a stream that fails sends its chunks, then error with the code, then done with status failed; nothing restarts', async () => {
    const { server, calls } = await serve(supervised);
    const workers = childPids(server.pid);
    const failed = await (await stream(server.url, { prompt: 'Quitter halfway', kind: 'failure' })).rest();
    expect(failed.map(({ event, id }) => [event, id])).toEqual([
      ['output', '0'],
      ['error', '1'],
      ['done', '2'],
    ]);
    expect(failed[0]!.data).toBe('Quitter');
    expect(failed[1]!.data).toEqual({ code: 'AI_ERR_MODEL_FAILED', message: 'the model reported a failure: the model gave up halfway' });
    expect(failed[2]!.data).toMatchObject({ status: 'failed', error: failed[1]!.data, output: 'Quitter' });
    expect(await state(server.url, failed[2]!.data.id as string)).toEqual(failed[2]!.data);

    const invalid = await (await stream(server.url, { prompt: 'Broken chunk', kind: 'bad-chunk' })).rest();
    expect(invalid.map(({ event, id }) => [event, id])).toEqual([
      ['output', '0'],
      ['error', '1'],
      ['done', '2'],
    ]);
    expect(invalid[1]!.data).toMatchObject({ code: 'AI_ERR_INVALID_RESULT', message: expect.stringMatching(/^chunk 2 of the stream is not a valid result: /) });
    expect(invalid[2]!.data).toMatchObject({ status: 'failed', error: { code: 'AI_ERR_INVALID_RESULT' } });

    const mixed = await (await stream(server.url, { kind: 'mixed' })).rest();
    expect(mixed.map(({ event }) => event)).toEqual(['output', 'output', 'error', 'done']);
    expect(mixed[2]!.data).toMatchObject({ code: 'AI_ERR_INVALID_RESULT', message: expect.stringMatching(/different kinds/) });

    // Each generator was closed where it stopped, and never made the chunk after.
    expect(calls()).toEqual(expect.arrayContaining(['closed Quitter halfway', 'closed Broken chunk']));
    expect(calls()).not.toContain('chunk 3 Broken chunk');
    if (supervised) expect(childPids(server.pid)).toEqual(workers);
    expect(server.child.exitCode).toBeNull();
  });

  test('a client that leaves the stream cancels the prediction: the generator is closed, GET says canceled, and the next prediction is served', async () => {
    const { server, calls } = await serve(supervised);
    const workers = childPids(server.pid);
    const client = new AbortController();
    const events = await stream(server.url, { prompt: 'Left behind here', gate: gate() }, client.signal);
    expect(await whileHeld(events.next())).toEqual({ event: 'output', id: '0', data: 'Left' });
    const id = events.headers['x-prediction-id'] as string;
    client.abort();
    await events.next().catch(() => undefined);

    expect(await eventually(() => calls().includes('closed Left behind here'), 10_000)).toBe(true);
    expect(await eventually(async () => (await state(server.url, id)).status === 'canceled', 10_000)).toBe(true);
    expect(await state(server.url, id)).toMatchObject({ id, status: 'canceled', error: { code: 'AI_ERR_CANCELED' } });
    expect(calls()).not.toContain('chunk 3 Left behind here');

    const next = await (await stream(server.url, { prompt: 'Served after' })).rest();
    expect(next.at(-1)!.data).toMatchObject({ status: 'succeeded', output: 'Served after' });
    // The model honoured its signal: a cancel, not a fault.
    if (supervised) expect(childPids(server.pid)).toEqual(workers);
    expect(server.child.exitCode).toBeNull();
  });

  test('without Accept: text/event-stream (or through a wildcard, or with q=0) the answer is the collected result: text joined, JSON as a list, the last image, a returned result', async () => {
    const { server } = await serve(supervised);
    const text = await predict(server.url, { prompt: 'Hello collected world' });
    expect(text.status).toBe(200);
    expect(text.headers['content-type']).toMatch(/^application\/json/);
    expect(text.body).toMatchObject({ status: 'succeeded', output: 'Hello collected world', content_type: 'text/plain; charset=utf-8' });
    for (const accept of ['*/*', 'application/json', 'text/event-stream;q=0, application/json']) {
      expect((await predict(server.url, { prompt: 'not streamed' }, { accept })).body.output, accept).toBe('not streamed');
    }
    expect((await predict(server.url, { prompt: 'x y', kind: 'json' })).body).toMatchObject({
      output: [
        { index: 0, word: 'x' },
        { index: 1, word: ' y' },
      ],
      content_type: 'application/json',
    });
    const image = await predict(server.url, { kind: 'image' });
    expect(image.body.content_type).toBe('image/png');
    expect(await meansOf(image.body.output as string)).toEqual([255, 255, 255]);
    expect((await predict(server.url, { prompt: 'p q', kind: 'returned' })).body).toMatchObject({ output: { words: 2 }, content_type: 'application/json' });
  });

  test('without Accept: text/event-stream a stream that breaks the contract or fails is a 500 with its code; the generator is closed; nothing restarts', async () => {
    const { server, calls } = await serve(supervised);
    const workers = childPids(server.pid);
    const mixed = await predict(server.url, { prompt: 'Mixed up', kind: 'mixed' });
    expect(mixed.status).toBe(500);
    expect(mixed.body.error).toEqual({
      code: 'AI_ERR_INVALID_RESULT',
      message: 'the stream yielded chunks of different kinds (text/plain, image/png) and returned no final result; yield one kind, or return the final result',
    });
    const bad = await predict(server.url, { prompt: 'Bad second', kind: 'bad-chunk' });
    expect(bad.status).toBe(500);
    expect(bad.body.error).toEqual({
      code: 'AI_ERR_INVALID_RESULT',
      message: "chunk 2 of the stream is not a valid result: 'data' must be a string or a Buffer when success is true, got number 42",
    });
    const failure = await predict(server.url, { prompt: 'Gave up', kind: 'failure' });
    expect(failure.status).toBe(500);
    expect(failure.body.error).toEqual({ code: 'AI_ERR_MODEL_FAILED', message: 'the model reported a failure: the model gave up halfway' });
    expect(calls()).toEqual(expect.arrayContaining(['closed Mixed up', 'closed Bad second', 'closed Gave up']));
    expect(calls()).not.toContain('chunk 3 Bad second');
    expect(calls()).not.toContain('chunk 3 Gave up');
    // The model is fine, its output was not: the same process serves the next one.
    expect((await predict(server.url, { prompt: 'still fine' })).body.output).toBe('still fine');
    if (supervised) {
      expect(childPids(server.pid)).toEqual(workers);
      expect(await metricsRestarts(server.url, 'threw')).toBe(0);
    }
    expect(server.child.exitCode).toBeNull();
  });
});

describe('a throw mid-stream under the supervisor', () => {
  test('the client gets the chunk, then error AI_ERR_INFERENCE_THREW and done failed; the worker is restarted and the next request is served by the new one', async () => {
    const { server, calls } = await serve(true);
    const [first] = childPids(server.pid);
    expect(first).toBeDefined();
    const events = await (await stream(server.url, { prompt: 'Thrown away', kind: 'throw' })).rest();
    expect(events.map(({ event, id }) => [event, id])).toEqual([
      ['output', '0'],
      ['error', '1'],
      ['done', '2'],
    ]);
    expect(events[0]!.data).toBe('Thrown');
    expect(events[1]!.data).toEqual({ code: 'AI_ERR_INFERENCE_THREW', message: 'the inference function threw: the stream broke halfway' });
    expect(events[2]!.data).toMatchObject({ status: 'failed', error: events[1]!.data });
    expect(calls()).toContain('closed Thrown away');

    const next = await (await stream(server.url, { prompt: 'After the throw' })).rest();
    expect(next.at(-1)!.data).toMatchObject({ status: 'succeeded', output: 'After the throw' });
    expect(await metricsRestarts(server.url, 'threw')).toBe(1);
    // One worker again, and not the one that threw (it may take a moment to be reaped).
    expect(
      await eventually(() => {
        const workers = childPids(server.pid);
        return workers.length === 1 && workers[0] !== first;
      }, 10_000),
    ).toBe(true);

    // Without the event stream, the same: a 500 with the throw, then another new worker.
    const collected = await predict(server.url, { prompt: 'Thrown again', kind: 'throw' });
    expect(collected).toMatchObject({ status: 500, body: { error: { code: 'AI_ERR_INFERENCE_THREW' } } });
    expect((await predict(server.url, { prompt: 'served' })).body.output).toBe('served');
    expect(await metricsRestarts(server.url, 'threw')).toBe(2);
  });
});

describe('MODE=cog: POST /predictions with Accept: text/event-stream', () => {
  const cog = async () => {
    const callsFile = join(scratch, `calls-${++files}`);
    const server = await startServer(model, { MODE: 'cog', CALLS_FILE: callsFile });
    servers.push(server);
    return { url: server.url, calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : []) };
  };

  test("output events as the model yields them (the first while it is held), then done with Cog's prediction body, succeeded with the collected output", async () => {
    const { url, calls } = await cog();
    const held = gate();
    const events = await openEventStream(`${url}/predictions`, { id: 'cog-stream-1', input: { prompt: 'Cog streams too', gate: held } });
    expect(events.status).toBe(200);
    expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(await whileHeld(events.next())).toEqual({ event: 'output', id: '0', data: 'Cog' });
    expect(existsSync(held)).toBe(false);
    expect(calls()).not.toContain('chunk 3 Cog streams too');
    writeFileSync(held, '');
    const rest = await events.rest();
    expect(shapes(rest)).toEqual([
      ['output', '1', ' streams'],
      ['output', '2', ' too'],
      ['done', '3', 'succeeded'],
    ]);
    const done = rest[2]!.data;
    expect(done).toMatchObject({ id: 'cog-stream-1', status: 'succeeded', input: { prompt: 'Cog streams too' }, output: 'Cog streams too', error: null });
    expect(done.completed_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
    // The same body afterwards, as Cog's GET of a finished prediction gives it.
    expect(await call(url, 'GET', '/predictions/cog-stream-1')).toMatchObject({ status: 200, body: done });
  });

  test("JSON chunks stream as their values; a failing stream sends error, then done with status failed and Cog's error string; without the header the output is collected", async () => {
    const { url } = await cog();
    const json = await (await openEventStream(`${url}/predictions`, { input: { prompt: 'a b', kind: 'json' } })).rest();
    expect(shapes(json)).toEqual([
      ['output', '0', { index: 0, word: 'a' }],
      ['output', '1', { index: 1, word: ' b' }],
      ['done', '2', 'succeeded'],
    ]);
    expect(json[2]!.data.output).toEqual([
      { index: 0, word: 'a' },
      { index: 1, word: ' b' },
    ]);

    const failed = await (await openEventStream(`${url}/predictions`, { input: { prompt: 'Cog quits', kind: 'failure' } })).rest();
    expect(failed.map(({ event }) => event)).toEqual(['output', 'error', 'done']);
    expect(failed[1]!.data).toEqual({ code: 'AI_ERR_MODEL_FAILED', message: 'the model reported a failure: the model gave up halfway' });
    expect(failed[2]!.data).toMatchObject({ status: 'failed', error: 'the model reported a failure: the model gave up halfway', output: 'Cog' });

    const collected = await call(url, 'POST', '/predictions', { input: { prompt: 'Cog collected' } });
    expect(collected).toMatchObject({ status: 200, body: { status: 'succeeded', output: 'Cog collected' } });
  });

  test('PUT /predictions/{id} asking only for text/event-stream is 406, and the model does not run', async () => {
    const { url, calls } = await cog();
    const refused = await call(url, 'PUT', '/predictions/put-stream', { input: { prompt: 'Never put' } }, { accept: 'text/event-stream' });
    expect(refused.status).toBe(406);
    expect(refused.body.detail).toMatch(/stream with POST \/predictions/);
    expect(calls()).not.toContain('start Never put');
    // PUT that also takes JSON is answered as usual.
    const put = await call(url, 'PUT', '/predictions/put-json', { input: { prompt: 'Put fine' } }, { accept: 'text/event-stream, application/json' });
    expect(put).toMatchObject({ status: 200, body: { id: 'put-json', status: 'succeeded', output: 'Put fine' } });
  });
});
