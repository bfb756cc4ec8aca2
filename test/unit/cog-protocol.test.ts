// MODE=cog's protocol, in the test's process (test/helpers/in-process-service.ts): the mode's own
// code on the real HTTP core and the in-process engine, over loopback HTTP. What needs a process
// of its own (POST /shutdown's exit, a throw, the supervisor) is in test/e2e/cog.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { inject, startInProcess, type InProcessService } from '../helpers/in-process-service.js';
import { eventually } from '../helpers/supervisor.js';

const model = 'cog-model.mjs';
const scratch = mkdtempSync(join(tmpdir(), 'cog-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;

type Json = Record<string, any>;

/** A request to a Cog route with a JSON body (`undefined`: no body at all). */
function send(url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const withBody = body !== undefined;
  return inject({
    url: `${url}${path}`,
    method,
    headers: withBody ? { 'content-type': 'application/json', ...headers } : headers,
    ...(withBody ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

async function answer(pending: ReturnType<typeof send>): Promise<{ status: number; body: Json; headers: Record<string, unknown> }> {
  const response = await pending;
  return { status: response.status, body: response.json<Json>(), headers: response.headers };
}

const healthOf = async (url: string) => (await answer(send(url, 'GET', '/health-check'))).body.status as string;

const gates: string[] = [];
/** A file whose existence holds an inference (`hold_file`) or a model load (LOAD_WAIT_FILE); every gate opens after each test. */
function gate(name: string) {
  const path = join(scratch, `${name}-${Math.random().toString(36).slice(2)}`);
  gates.push(path);
  return { path, close: () => writeFileSync(path, ''), open: () => rmSync(path, { force: true }) };
}
// A failing test must not leave a model held, which would stall the server's drain.
afterEach(() => {
  for (const path of gates.splice(0)) rmSync(path, { force: true });
});

/** How often the model ran with each note (the fixture appends every inference's note to CALLS_FILE). */
function callsWith(callsFile: string, note: string): number {
  let text = '';
  try {
    text = readFileSync(callsFile, 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((line) => line === note).length;
}

describe('MODE=cog: the Cog prediction API', () => {
  const callsFile = join(scratch, 'calls-direct');
  let server: InProcessService;
  let url: string;
  beforeAll(async () => {
    server = await startInProcess({ mode: 'cog', model, env: { CALLS_FILE: callsFile, MAX_QUEUE: '2' } });
    url = server.url;
  });
  afterAll(async () => {
    await server.close();
  });

  test("GET / is Cog's route index", async () => {
    const { status, body } = await answer(send(url, 'GET', '/'));
    expect(status).toBe(200);
    expect(body).toEqual({
      cog_version: expect.stringMatching(/^ai-integration \d+\.\d+\.\d+/),
      docs_url: '/docs',
      openapi_url: '/openapi.json',
      shutdown_url: '/shutdown',
      healthcheck_url: '/health-check',
      predictions_url: '/predictions',
      predictions_idempotent_url: '/predictions/{prediction_id}',
      predictions_cancel_url: '/predictions/{prediction_id}/cancel',
    });
  });

  test("GET /health-check: READY, with the model's setup, in Cog's format", async () => {
    const { status, body } = await answer(send(url, 'GET', '/health-check'));
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'READY',
      setup: { started_at: expect.stringMatching(timestamp), completed_at: expect.stringMatching(timestamp), status: 'succeeded', logs: '' },
    });
    expect(Date.parse(body.setup.completed_at)).toBeGreaterThanOrEqual(Date.parse(body.setup.started_at));
  });

  test("GET /openapi.json is a valid OpenAPI 3.0 document in Cog's shape; /docs shows it", async () => {
    const { status, body: document } = await answer(send(url, 'GET', '/openapi.json'));
    expect(status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(document as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(validator.version).toBe('3.0');
    const { schemas } = document.components;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['Input', 'Output', 'PredictionRequest', 'PredictionResponse', 'Status', 'HTTPValidationError', 'ValidationError', 'action']),
    );
    expect(Object.keys(schemas.Input.properties)).toEqual(['image', 'action', 'note', 'strength', 'steps', 'flag', 'options', 'attachment', 'hold_file']);
    expect(schemas.Input.properties.image).toEqual({
      title: 'Image',
      type: 'string',
      format: 'uri',
      'x-cog-accept': 'image/*',
      'x-order': 0,
      nullable: true,
      description: 'a photo',
    });
    expect(schemas.Input.properties.action).toEqual({
      allOf: [{ $ref: '#/components/schemas/action' }],
      'x-order': 1,
      default: 'json',
      description: 'what the model does',
    });
    expect(schemas.action.enum).toEqual(['json', 'image', 'text', 'fail', 'throw']);
    expect(schemas.Input.properties.strength).toMatchObject({ type: 'number', minimum: 0, maximum: 1, default: 0.5, 'x-order': 3 });
    expect(schemas.Input.properties.attachment).toMatchObject({ type: 'string', format: 'uri' });
    expect(Object.keys(document.paths)).toEqual([
      '/',
      '/health-check',
      '/predictions',
      '/predictions/{prediction_id}',
      '/predictions/{prediction_id}/cancel',
      '/shutdown',
    ]);
    const docs = await send(url, 'GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text()).toContain('openapi.json');
  });

  test("POST /predictions with an image as a data: URL: the output image comes back as a data: URL, in Cog's envelope", async () => {
    const photo = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#ff0000' } })
      .jpeg()
      .toBuffer();
    const input = { image: `data:image/jpeg;base64,${photo.toString('base64')}`, action: 'image' };
    const { status, body, headers } = await answer(send(url, 'POST', '/predictions', { input }));
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('application/json; charset=utf-8');
    expect(headers['x-request-id']).toEqual(expect.any(String));
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      status: 'succeeded',
      input,
      output: expect.stringMatching(/^data:image\/jpeg;base64,/),
      error: null,
      logs: '',
      metrics: { predict_time: expect.any(Number) },
      created_at: expect.stringMatching(timestamp),
      started_at: expect.stringMatching(timestamp),
      completed_at: expect.stringMatching(timestamp),
    });
    expect(body.metrics.predict_time).toBeGreaterThanOrEqual(0);
    expect(Date.parse(body.completed_at)).toBeGreaterThanOrEqual(Date.parse(body.created_at));
    const negated = sharp(Buffer.from(body.output.split(',')[1], 'base64'));
    expect(await negated.metadata()).toMatchObject({ width: 40, height: 30, format: 'jpeg' });
    const { data } = await negated.raw().toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeLessThan(40); // red became cyan: the model saw the image
    expect(data[1]).toBeGreaterThan(215);

    const described = await answer(send(url, 'POST', '/predictions', { input: { image: input.image } }));
    expect(described.body.output.image).toBe('40x30 jpeg');
  });

  test('inputs are converted as the schema says; unknown ones are dropped as Cog drops them; a file is a data: URL; text and JSON results as Cog gives them', async () => {
    const input = { note: 'typed', strength: 0.25, steps: 7, flag: true, options: { seed: [1, 2] }, attachment: 'data:text/plain;base64,aGVsbG8=', seed: 42 };
    const { status, body } = await answer(send(url, 'POST', '/predictions', { id: 'typed-1', input }));
    expect(status).toBe(200);
    expect(body.id).toBe('typed-1');
    const { seed: _dropped, ...listed } = input;
    expect(body.input).toEqual(listed);
    expect(body.output).toEqual({
      keys: ['action', 'attachment', 'flag', 'note', 'options', 'steps', 'strength'],
      image: null,
      attachment: 'hello',
      note: 'typed',
      strength: 0.25,
      steps: 7,
      flag: true,
      options: { seed: [1, 2] },
    });
    const text = await answer(send(url, 'POST', '/predictions', { input: { action: 'text', note: 'there' } }));
    expect(text.body).toMatchObject({ status: 'succeeded', output: 'hello there' });
  });

  test('a model-reported failure is a failed prediction, answered with 200 as Cog does', async () => {
    const { status, body } = await answer(send(url, 'POST', '/predictions', { input: { action: 'fail' } }));
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'failed',
      output: null,
      error: 'the model reported a failure: no face found in the image',
      logs: '',
      completed_at: expect.stringMatching(timestamp),
    });
  });

  test('422 in Cog\'s shape, {"detail": [{loc, msg, type}]}, for every kind of refused input; the model never runs', async () => {
    const refused = async (body: unknown, path = '/predictions', method: 'POST' | 'PUT' = 'POST') => {
      const response = await answer(send(url, method, path, body));
      expect(response.status).toBe(422);
      expect(Object.keys(response.body)).toEqual(['detail']);
      return response.body.detail as Json[];
    };
    expect(await refused({ input: { strength: 3, note: 'refused' } })).toEqual([
      { loc: ['body', 'input', 'strength'], msg: '3 is out of range; expected a number between 0 and 1', type: 'value_error' },
    ]);
    expect(await refused({ input: { steps: 'ten', note: 'refused' } })).toEqual([
      { loc: ['body', 'input', 'steps'], msg: expect.stringContaining('expected an integer'), type: 'value_error' },
    ]);
    expect(await refused({ input: { action: 'jsno', note: 'refused' } })).toEqual([
      { loc: ['body', 'input', 'action'], msg: expect.stringContaining("did you mean 'json'?"), type: 'value_error' },
    ]);
    // A URL input on a refused address: checked before any connection (test/e2e/url-inputs.test.ts has the rest).
    expect(await refused({ input: { image: 'http://127.0.0.1:9/cat.jpg', note: 'refused' } })).toEqual([
      {
        loc: ['body', 'input', 'image'],
        msg: expect.stringContaining("the URL's host is 127.0.0.1, a loopback address; private addresses are refused"),
        type: 'value_error',
      },
    ]);
    expect((await refused({ input: { image: 'data:image/jpeg;base64,AAAA', note: 'refused' } }))[0]).toMatchObject({
      loc: ['body', 'input', 'image'],
      msg: expect.stringContaining('is not an image'),
    });
    expect(await refused({ id: 'other', input: { note: 'refused' } }, '/predictions/mine', 'PUT')).toEqual([
      { loc: ['body', 'id'], msg: 'prediction ID must match the ID supplied in the URL', type: 'value_error' },
    ]);
    expect(await refused({ input: ['refused'] })).toEqual([{ loc: ['body', 'input'], msg: expect.any(String), type: 'type_error.dict' }]);
    expect(callsWith(callsFile, 'refused')).toBe(0);
  });

  test('bodies: not JSON is 400, another content type 415, both {"detail": "..."}; no body at all is a prediction with the defaults', async () => {
    const malformed = await answer(send(url, 'POST', '/predictions', '{"input": '));
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ detail: expect.stringContaining('not valid JSON') });
    const form = await answer(send(url, 'POST', '/predictions', 'input', { 'content-type': 'text/plain' }));
    expect(form.status).toBe(415);
    expect(form.body.detail).toContain('application/json');
    const bodiless = await answer(send(url, 'POST', '/predictions'));
    expect(bodiless.status).toBe(200);
    expect(bodiless.body).toMatchObject({ status: 'succeeded', input: {}, output: { strength: 0.5, steps: 10, flag: false } });
  });

  test('what is not supported is refused clearly, never ignored: an event stream on PUT (406)', async () => {
    const streamOnPut = await answer(send(url, 'PUT', '/predictions/unsupported-2', { input: { note: 'unsupported' } }, { accept: 'text/event-stream' }));
    expect(streamOnPut.status).toBe(406);
    expect(streamOnPut.body.detail).toMatch(/stream with POST \/predictions/);
    expect(callsWith(callsFile, 'unsupported')).toBe(0);
  });

  test('PUT /predictions/{id} twice with the same id: the same answer, and the model ran once', async () => {
    const first = await answer(send(url, 'PUT', '/predictions/once-1', { input: { note: 'put-once', action: 'text' } }));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: 'once-1', status: 'succeeded', output: 'hello put-once' });
    const again = await answer(send(url, 'PUT', '/predictions/once-1', { id: 'once-1', input: { note: 'put-once', action: 'text' } }));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    // Cog's rule: a known id answers its prediction whatever the new body's inputs say.
    const otherInputs = await answer(send(url, 'PUT', '/predictions/once-1', { input: { note: 'something else' } }));
    expect(otherInputs.body).toEqual(first.body);
    expect(callsWith(callsFile, 'put-once')).toBe(1);
    expect(callsWith(callsFile, 'something else')).toBe(0);
    // A POST with a chosen id is known to PUT as well.
    const posted = await answer(send(url, 'POST', '/predictions', { id: 'posted-1', input: { note: 'posted-once' } }));
    expect((await answer(send(url, 'PUT', '/predictions/posted-1', { input: { note: 'posted-once' } }))).body).toEqual(posted.body);
    expect(callsWith(callsFile, 'posted-once')).toBe(1);
    // Path ids are percent-decoded.
    const spaced = await answer(send(url, 'PUT', '/predictions/with%20space', { input: { note: 'spaced' } }));
    expect(spaced.body.id).toBe('with space');
  });

  test('a PUT for a prediction still running waits for it and gets the same answer; the model runs once', async () => {
    const hold = gate('hold-put');
    hold.close();
    const body = { input: { note: 'put-running', hold_file: hold.path } };
    const first = answer(send(url, 'PUT', '/predictions/running-1', body));
    expect(await eventually(() => callsWith(callsFile, 'put-running') === 1, 10_000)).toBe(true);
    const second = answer(send(url, 'PUT', '/predictions/running-1', body));
    hold.open();
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(a.body).toMatchObject({ id: 'running-1', status: 'succeeded' });
    expect(callsWith(callsFile, 'put-running')).toBe(1);
  });

  test('POST /predictions with the id of a running or finished prediction is 409 (Cog refuses an id it runs); the model ran once, and PUT still answers the first', async () => {
    const first = await answer(send(url, 'POST', '/predictions', { id: 'post-twice-1', input: { note: 'post-twice', action: 'text' } }));
    expect(first.body).toMatchObject({ id: 'post-twice-1', status: 'succeeded', output: 'hello post-twice' });
    const again = await answer(send(url, 'POST', '/predictions', { id: 'post-twice-1', input: { note: 'post-twice-other', action: 'text' } }));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ detail: 'a prediction with the ID "post-twice-1" has finished already; GET /predictions/post-twice-1 answers it' });
    const asyncAgain = await answer(
      send(url, 'POST', '/predictions', { id: 'post-twice-1', input: { note: 'post-twice-other' } }, { prefer: 'respond-async' }),
    );
    expect(asyncAgain.status).toBe(409);
    expect(callsWith(callsFile, 'post-twice')).toBe(1);
    expect(callsWith(callsFile, 'post-twice-other')).toBe(0);
    expect((await answer(send(url, 'PUT', '/predictions/post-twice-1', { input: {} }))).body).toEqual(first.body);
    expect((await answer(send(url, 'GET', '/predictions/post-twice-1'))).body).toEqual(first.body);

    const hold = gate('hold-post-twice');
    hold.close();
    const running = answer(send(url, 'POST', '/predictions', { id: 'post-twice-2', input: { note: 'post-running', hold_file: hold.path } }));
    expect(await eventually(() => callsWith(callsFile, 'post-running') === 1, 10_000)).toBe(true);
    const whileRunning = await answer(send(url, 'POST', '/predictions', { id: 'post-twice-2', input: { note: 'post-running' } }));
    expect(whileRunning.status).toBe(409);
    expect(whileRunning.body.detail).toMatch(/is running already/);
    hold.open();
    expect((await running).body).toMatchObject({ id: 'post-twice-2', status: 'succeeded' });
    expect(callsWith(callsFile, 'post-running')).toBe(1);
  });

  test('cancel: an unknown id and a finished prediction are 404, as Cog answers', async () => {
    const unknown = await answer(send(url, 'POST', '/predictions/never-seen/cancel'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('never-seen');
    await answer(send(url, 'PUT', '/predictions/finished-1', { input: {} }));
    expect((await send(url, 'POST', '/predictions/finished-1/cancel')).status).toBe(404);
  });

  test("BUSY while the model runs; a prediction sent then waits in the queue instead of Cog's 409; past MAX_QUEUE, 429 with Retry-After", async () => {
    const hold = gate('hold-busy');
    hold.close();
    const running = answer(send(url, 'POST', '/predictions', { input: { note: 'busy-running', hold_file: hold.path } }));
    expect(await eventually(async () => (await healthOf(url)) === 'BUSY', 10_000)).toBe(true);
    const queued = [1, 2].map((n) => answer(send(url, 'POST', '/predictions', { input: { note: `busy-queued-${n}` } })));
    // The queue (MAX_QUEUE=2) is full once both wait: one more is refused at once.
    const queueDepth = async () => Number(/^inference_queue_depth (\d+)$/m.exec((await send(url, 'GET', '/metrics')).text())?.[1]);
    expect(await eventually(async () => (await queueDepth()) === 2, 10_000)).toBe(true);
    const refusal = await answer(send(url, 'POST', '/predictions', { input: { note: 'busy-refused' } }));
    expect(refusal.status).toBe(429);
    expect(refusal.headers['retry-after']).toBe('1');
    expect(refusal.body).toEqual({ detail: expect.stringContaining('the queue is full') });
    hold.open();
    expect((await running).body).toMatchObject({ status: 'succeeded', output: { note: 'busy-running' } });
    for (const [index, pending] of queued.entries())
      expect((await pending).body).toMatchObject({ status: 'succeeded', output: { note: `busy-queued-${index + 1}` } });
    expect(await eventually(async () => (await healthOf(url)) === 'READY', 10_000)).toBe(true);
    expect(callsWith(callsFile, 'busy-refused')).toBe(0);
  });

  test("unknown routes and methods answer in Cog's error shape; metrics are labelled by Cog's route templates", async () => {
    const missing = await answer(send(url, 'GET', '/v1/predictions'));
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ detail: expect.stringContaining('no route /v1/predictions') });
    const method = await answer(send(url, 'DELETE', '/predictions'));
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe('POST');
    expect(method.body).toEqual({ detail: expect.any(String) });
    const metrics = (await send(url, 'GET', '/metrics')).text();
    expect(metrics).toContain('route="/predictions/{prediction_id}"');
    expect(metrics).toContain('route="/health-check"');
  });
});

describe('MODE=cog: STRICT_INPUTS', () => {
  const servers: InProcessService[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  test('STRICT_INPUTS: an input the schema does not list is a 422 naming it, instead of being dropped', async () => {
    const server = await startInProcess({ mode: 'cog', model, env: { STRICT_INPUTS: 'true' } });
    servers.push(server);
    const { status, body } = await answer(send(server.url, 'POST', '/predictions', { input: { note: 'strict', strenght: 0.2 } }));
    expect(status).toBe(422);
    expect(body.detail).toEqual([{ loc: ['body', 'input', 'strenght'], msg: expect.stringContaining("did you mean 'strength'?"), type: 'value_error.extra' }]);
  });
});
