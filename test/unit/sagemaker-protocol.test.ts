// MODE=sagemaker's protocol, in the test's process (test/helpers/in-process-service.ts): the mode's
// own code on the real HTTP core and the in-process engine, over loopback HTTP. What needs a
// process of its own (exit codes, the argument serve, the supervisor) is in test/e2e/sagemaker.test.ts.
import { Readable } from 'node:stream';
import { Validator } from '@seriousme/openapi-schema-validator';
import sharp from 'sharp';
import { FormData } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { makeJpeg } from '../helpers/images.js';
import { startInProcess, type InProcessService, type InProcessServiceOptions } from '../helpers/in-process-service.js';
import { expectError, get, invoke, invokeJson } from '../helpers/sagemaker-client.js';

const httpModel = 'http-model.mjs';
// test/fixtures/two-image-model.mjs's model: the Python library's style-and-content schema, two image inputs.
const twoImageModel: InProcessServiceOptions['model'] = {
  inference: (inputs: any) => ({
    'content-type': 'application/json',
    data: JSON.stringify({ style: inputs.style.length, content: inputs.content.length }),
    success: true,
  }),
  schema: { style: { type: 'image' }, content: { type: 'image' } },
};
// test/fixtures/sagemaker-caption-model.mjs's model: one image and a text input that must be given.
const captionModel: InProcessServiceOptions['model'] = {
  inference: (inputs: any) => ({
    'content-type': 'application/json',
    data: JSON.stringify({ bytes: inputs.image.length, prompt: inputs.prompt }),
    success: true,
  }),
  schema: { image: { type: 'image' }, prompt: { type: 'text' } },
};
const MiB = 1024 * 1024;

/** Runs MODE=sagemaker with a model in this process, on a free loopback port. */
const serveSageMaker = (model: InProcessServiceOptions['model'], env: Record<string, string> = {}) => startInProcess({ mode: 'sagemaker', model, env });

let photo: Buffer;
beforeAll(async () => {
  photo = await makeJpeg(64, 48);
});

describe('MODE=sagemaker: /ping, /invocations and /execution-parameters', () => {
  let server: InProcessService;
  beforeAll(async () => {
    server = await serveSageMaker(httpModel);
  });
  afterAll(async () => {
    await server.close();
  });

  test("the log says what it serves and the body limit: SageMaker's 6 MB", () => {
    expect(server.logs()).toMatch(
      /listening on http:\/\/127\.0\.0\.1:\d+ \(SageMaker \/ping, \/invocations, batch transform \/execution-parameters, docs \/docs\)/,
    );
    expect(server.logs()).toContain(
      `real-time inference: request bodies up to ${6 * MiB} bytes (SageMaker's 6 MB request limit; MAX_INPUT_BYTES sets another)`,
    );
  });

  test('GET /ping: 200 with an empty body when ready', async () => {
    const answer = await get(`${server.url}/ping`);
    expect(answer.status).toBe(200);
    expect(answer.bytes.length).toBe(0);
    expect(answer.headers['content-length']).toBe('0');
  });

  test('GET /execution-parameters: CONCURRENCY, MULTI_RECORD and the limit in MB', async () => {
    const answer = await get(`${server.url}/execution-parameters`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ MaxConcurrentTransforms: 1, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 6 });
  });

  test('application/json: an inputs object, the image as base64 or a data: URL; the answer is the result itself, with its content type', async () => {
    for (const image of [photo.toString('base64'), `data:image/jpeg;base64,${photo.toString('base64')}`]) {
      const answer = await invokeJson(server.url, { image, note: 'json', strength: 0.25 });
      expect(answer.status, answer.bytes.toString()).toBe(200);
      expect(answer.type).toBe('application/json');
      expect(answer.body).toEqual({ received: { image: '64x48 jpeg', strength: 0.25, flag: false, note: 'json' } });
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The native API's envelope works too.
    expect((await invokeJson(server.url, { inputs: { note: 'native' } })).body.received.note).toBe('native');
  });

  test('multipart/form-data: fields named by the schema, the image as a file', async () => {
    const form = new FormData();
    form.set('image', new Blob([photo], { type: 'image/jpeg' }), 'photo.jpg');
    form.set('note', 'form');
    form.set('flag', 'true');
    const answer = await invoke(server.url, form, undefined);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.body).toEqual({ received: { image: '64x48 jpeg', strength: 0.5, flag: true, note: 'form' } });
  });

  test('a raw body (image/jpeg, application/octet-stream, application/x-image) is the one image input', async () => {
    for (const type of ['image/jpeg', 'application/octet-stream', 'application/x-image']) {
      const answer = await invoke(server.url, photo, type);
      expect(answer.status, answer.bytes.toString()).toBe(200);
      expect(answer.body.received.image).toBe('64x48 jpeg');
    }
    expectError(
      await invoke(server.url, Buffer.from('not an image at all'), 'image/jpeg'),
      422,
      /^image: is not an image that can be decoded/,
      'AI_ERR_INVALID_INPUT',
    );
  });

  test("binary and text results come back as they are, with the result's content type", async () => {
    const image = await invokeJson(server.url, { action: 'image', image: photo.toString('base64') });
    expect(image.status).toBe(200);
    expect(image.type).toBe('image/jpeg');
    expect(await sharp(image.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
    const text = await invokeJson(server.url, { action: 'text', note: 'there' });
    expect(text).toMatchObject({ status: 200, type: 'text/plain' });
    expect(text.bytes.toString()).toBe('hello there');
  });

  test('Accept: honoured where the result converts; */* or none is its own type; a mismatch is 406', async () => {
    const json = await invokeJson(server.url, { note: 'a' }, { accept: 'application/json' });
    expect(json).toMatchObject({ status: 200, type: 'application/json' });
    const imageInputs = { action: 'image', image: photo.toString('base64') };
    const asJson = await invokeJson(server.url, imageInputs, { accept: 'application/json' });
    expect(asJson.status).toBe(200);
    expect(asJson.type).toBe('application/json');
    const dataUrl = asJson.body as string;
    expect(dataUrl).toMatch(/^data:image\/jpeg;base64,/);
    expect((await sharp(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64')).metadata()).format).toBe('jpeg');
    expect((await invokeJson(server.url, imageInputs, { accept: '*/*' })).type).toBe('image/jpeg');
    expect((await invokeJson(server.url, imageInputs, { accept: 'image/*, application/json;q=0.5' })).type).toBe('image/jpeg');
    const text = await invokeJson(server.url, { action: 'text' }, { accept: 'application/json' });
    expect(text.body).toBe('hello nobody');
    const refused = await invokeJson(server.url, { note: 'a' }, { accept: 'image/png' });
    expectError(
      refused,
      406,
      /^the result is application\/json, which the request's Accept \(image\/png\) does not take; it can be given as application\/json, /,
      'AI_ERR_USAGE',
    );
    expectError(await invokeJson(server.url, imageInputs, { accept: 'text/csv' }), 406, /^the result is image\/jpeg/);
  });

  test('application/jsonlines (and x-jsonlines): one result line per line, in order; a trailing blank line is fine', async () => {
    const body = ['{"note": "one"}', '{"note": "two", "strength": 0.1}', '{"action": "text", "note": "three"}', ''].join('\n');
    for (const type of ['application/jsonlines', 'application/x-jsonlines']) {
      const answer = await invoke(server.url, body, type);
      expect(answer.status, answer.bytes.toString()).toBe(200);
      expect(answer.type).toBe(type);
      const lines = answer.bytes.toString().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines.map((line) => JSON.parse(line))).toEqual([
        { received: { image: null, strength: 0.5, flag: false, note: 'one' } },
        { received: { image: null, strength: 0.1, flag: false, note: 'two' } },
        'hello three',
      ]);
    }
    const asArray = await invoke(server.url, body, 'application/jsonlines', { accept: 'application/json' });
    expect(asArray.type).toBe('application/json');
    expect(asArray.body.map((item: any) => item.received?.note ?? item)).toEqual(['one', 'two', 'hello three']);
    expectError(
      await invoke(server.url, body, 'application/jsonlines', { accept: 'text/csv' }),
      406,
      /^a JSON Lines request is answered as application\/jsonlines, /,
    );
  });

  test('JSON Lines of many lines: the response gets one close listener for all of them (no MaxListenersExceededWarning)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const body = Array.from({ length: 30 }, (_, index) => `{"note": "${index}"}`).join('\n');
      const answer = await invoke(server.url, body, 'application/jsonlines');
      expect(answer.status, answer.bytes.toString()).toBe(200);
      expect(answer.bytes.toString().split('\n')).toHaveLength(30);
      // A warning is emitted on the next tick: let it come before looking.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  test('JSON Lines: a bad line is 400 naming it; an invalid input 422 naming line and field, before any line runs; a model failure 500 naming the line', async () => {
    expectError(
      await invoke(server.url, '{"note": "one"}\n{"note": \n', 'application/jsonlines'),
      400,
      /^line 2 is not valid JSON \(/,
      'AI_ERR_MALFORMED_INPUT',
    );
    expectError(
      await invoke(server.url, '{"note": "one"}\n\n{"note": "three"}', 'application/jsonlines'),
      400,
      'line 2 is empty; send one inputs object per line (only blank lines at the end are ignored)',
    );
    const before = await inferenceCount(server.url);
    const invalid = await invoke(server.url, '{"note": "one"}\n{"note": "two"}\n{"strength": 5}', 'application/jsonlines');
    expectError(invalid, 422, /^line 3: strength: 5 is out of range/, 'AI_ERR_INVALID_INPUT');
    expect(invalid.body.field).toBe('strength');
    expect(await inferenceCount(server.url)).toBe(before);
    expectError(
      await invoke(server.url, '{"note": "one"}\n{"action": "fail"}\n{"note": "three"}', 'application/jsonlines'),
      500,
      'line 2: the model reported a failure: no face found in the image',
      'AI_ERR_MODEL_FAILED',
    );
  });

  test('415 for a content type the model does not take, naming its inputs and what to send', async () => {
    expectError(
      await invoke(server.url, 'a,b\n1,2', 'text/csv'),
      415,
      'the content type "text/csv" is not accepted; send application/json (an object of inputs: image (image), action (choice), delay_ms (integer), strength (number), flag (boolean), note (text)), multipart/form-data (a field per input), application/jsonlines (one inputs object per line), or the raw bytes of image as image/* or application/octet-stream',
      'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(await invoke(server.url, '{}', undefined), 415, /^the content type "\(none\)" is not accepted/);
  });

  test("400 for malformed JSON, 422 naming the field, 500 with the model's message, 404 and 405 in the same shape", async () => {
    expectError(await invoke(server.url, '{"note": ', 'application/json'), 400, /^the request body is not valid JSON/, 'AI_ERR_MALFORMED_INPUT');
    expectError(
      await invoke(server.url, '[{"note": "a"}]', 'application/json'),
      400,
      'expected a JSON object of inputs, got an array; send several inputs objects as application/jsonlines, one per line',
    );
    const invalid = await invokeJson(server.url, { strength: 'strong' });
    expectError(invalid, 422, 'strength: expected a number between 0 and 1, got the string "strong"', 'AI_ERR_INVALID_INPUT');
    expect(invalid.body.field).toBe('strength');
    expectError(await invokeJson(server.url, { action: 'fail' }), 500, 'the model reported a failure: no face found in the image', 'AI_ERR_MODEL_FAILED');
    expectError(await get(`${server.url}/predict`), 404, /^no route \/predict/, 'AI_ERR_NOT_FOUND');
    const wrongMethod = await get(`${server.url}/invocations`);
    expectError(wrongMethod, 405, /^GET is not allowed on \/invocations; use POST$/, 'AI_ERR_METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  test('the 6 MB default: a larger body is 413, by its declared length and while it streams; 6 MB itself passes the limit', async () => {
    const big = Buffer.alloc(6 * MiB + 1, 0x20);
    expectError(
      await invoke(server.url, big, 'application/json'),
      413,
      `the request body is larger than ${6 * MiB} bytes (the limit; raise it with MAX_INPUT_BYTES)`,
      'AI_ERR_INPUT_TOO_LARGE',
    );
    // Chunked: no declared length, refused as the bytes arrive.
    const streamed = await invoke(server.url, Readable.from([big.subarray(0, 3 * MiB), big.subarray(3 * MiB)]), 'application/jsonlines');
    expectError(streamed, 413, /^the request body is larger than 6291456 bytes/);
    // A body of exactly 6 MB is read (and is JSON with padding).
    const padded = Buffer.alloc(6 * MiB, 0x20);
    padded.write('{"note": "six"}');
    const six = await invoke(server.url, padded, 'application/json');
    expect(six.status, six.bytes.toString().slice(0, 200)).toBe(200);
    expect(six.body.received.note).toBe('six');
  });

  test('a valid OpenAPI 3.1 document of these routes', async () => {
    const answer = await get(`${server.url}/openapi.json`);
    const validator = new Validator();
    const result = await validator.validate(answer.body);
    expect(result.errors ?? []).toEqual([]);
    expect(Object.keys(answer.body.paths).sort()).toEqual(['/execution-parameters', '/invocations', '/metrics', '/openapi.json', '/ping']);
    expect(Object.keys(answer.body.paths['/invocations'].post.requestBody.content)).toEqual([
      'application/json',
      'multipart/form-data',
      'application/jsonlines',
      'image/*',
      'application/octet-stream',
    ]);
  });
});

async function inferenceCount(url: string): Promise<number> {
  const metrics = (await get(`${url}/metrics`)).bytes.toString();
  return [...metrics.matchAll(/^inferences_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('MODE=sagemaker: settings', () => {
  const servers: InProcessService[] = [];
  const serve = async (model: InProcessServiceOptions['model'], env: Record<string, string> = {}) => {
    const server = await serveSageMaker(model, env);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  test('SAGEMAKER_BIND_TO_PORT is where it listens, over PORT (with a warning)', async () => {
    const port = await freePort();
    const server = await serve(httpModel, { SAGEMAKER_BIND_TO_PORT: String(port), PORT: '' });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect((await get(`${server.url}/ping`)).status).toBe(200);
    await server.close();
    const other = await freePort();
    const overPort = await serve(httpModel, { SAGEMAKER_BIND_TO_PORT: String(other), PORT: '0' });
    expect(overPort.url).toBe(`http://127.0.0.1:${other}`);
    expect(overPort.logs()).toContain(`PORT is 0, but SageMaker asks for ${other} (SAGEMAKER_BIND_TO_PORT), which wins`);
    expect((await invokeJson(overPort.url, { note: 'bound' })).body.received.note).toBe('bound');
  });

  test('MAX_INPUT_BYTES, when given, is the limit instead of 6 MB, both ways', async () => {
    const small = await serve(httpModel, { MAX_INPUT_BYTES: '2000' });
    expectError(
      await invokeJson(small.url, { note: 'x'.repeat(3000) }),
      413,
      'the request body is larger than 2000 bytes (the limit; raise it with MAX_INPUT_BYTES)',
    );
    expect((await get(`${small.url}/execution-parameters`)).body.MaxPayloadInMB).toBe(1);
    const large = await serve(httpModel, { MAX_INPUT_BYTES: String(8 * MiB) });
    const answer = await invokeJson(large.url, { note: 'x'.repeat(7 * MiB) });
    expect(answer.status).toBe(200);
    expect(answer.body.received.note).toHaveLength(7 * MiB);
  });

  test('batch transform: SAGEMAKER_MAX_PAYLOAD_IN_MB is the limit, /execution-parameters echoes the job, and a mini-batch larger than the queue runs whole', async () => {
    // MAX_QUEUE 2: a request that queued all its lines at once would be refused with 429.
    const server = await serve(httpModel, {
      SAGEMAKER_BATCH: 'true',
      SAGEMAKER_MAX_PAYLOAD_IN_MB: '1',
      SAGEMAKER_BATCH_STRATEGY: 'SINGLE_RECORD',
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '2',
      CONCURRENCY: '2',
      MAX_QUEUE: '2',
    });
    expect(server.logs()).toContain(`batch transform: request bodies up to ${MiB} bytes (SAGEMAKER_MAX_PAYLOAD_IN_MB=1)`);
    expect((await get(`${server.url}/execution-parameters`)).body).toEqual({ MaxConcurrentTransforms: 2, BatchStrategy: 'SINGLE_RECORD', MaxPayloadInMB: 1 });
    const lines = Array.from({ length: 20 }, (_, index) => JSON.stringify({ note: `record ${index}`, pad: 'x'.repeat(60_000) })).join('\n');
    expectError(
      await invoke(server.url, lines, 'application/jsonlines'),
      413,
      `the request body is larger than ${MiB} bytes (the limit; raise it with MAX_INPUT_BYTES)`,
    );
    const fits = Array.from({ length: 12 }, (_, index) => JSON.stringify({ note: `record ${index}`, delay_ms: 5 })).join('\n');
    const [answer, other] = await Promise.all([invoke(server.url, fits, 'application/jsonlines'), invoke(server.url, fits, 'application/jsonlines')]);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(other.status, other.bytes.toString()).toBe(200);
    expect(
      answer.bytes
        .toString()
        .split('\n')
        .map((line) => JSON.parse(line).received.note),
    ).toEqual(Array.from({ length: 12 }, (_, index) => `record ${index}`));
  });

  test('a raw body for a model with two images is 415, naming its inputs', async () => {
    const server = await serve(twoImageModel);
    expectError(
      await invoke(server.url, photo, 'image/jpeg'),
      415,
      'a raw "image/jpeg" body is the bytes of the model\'s one image or file input, but this model has 2 (its inputs: style (image), content (image)); send application/json (an object of inputs, binary ones as base64) or multipart/form-data (a field per input)',
      'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
    const answer = await invokeJson(server.url, { style: photo.toString('base64'), content: photo.toString('base64') });
    expect(answer.body).toEqual({ style: photo.length, content: photo.length });
  });

  test('a raw body for a model whose other inputs must be given is 422 naming the missing one and how to give it', async () => {
    const server = await serve(captionModel);
    const answer = await invoke(server.url, photo, 'image/jpeg');
    expectError(
      answer,
      422,
      'prompt: is required; expected a string; a raw body carries only image: send application/json or multipart/form-data to give the other inputs',
      'AI_ERR_INVALID_INPUT',
    );
    expect(answer.body.field).toBe('prompt');
    expect((await invokeJson(server.url, { image: photo.toString('base64'), prompt: 'a cat' })).body).toEqual({ bytes: photo.length, prompt: 'a cat' });
  });
});
