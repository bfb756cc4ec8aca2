import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { Client, FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg } from '../helpers/images.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { exampleShim, fixture } from '../helpers/run-process.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'http-predict-'));
const photoPath = join(dir, 'photo.jpg');
let photo: Buffer;
let server: RunningServer;

beforeAll(async () => {
  photo = await makeJpeg(48, 32);
  writeFileSync(photoPath, photo);
  server = await startServer(fixture('http-model.mjs'));
});
afterAll(async () => {
  await server.stop();
});

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

function form(fields: Record<string, string | Buffer>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (Buffer.isBuffer(value)) data.append(name, new Blob([value], { type: 'image/jpeg' }), `${name}.jpg`);
    else data.append(name, value);
  }
  return data;
}

describe('POST /predict', () => {
  test('curl -F image=@photo.jpg: multipart with typed fields answers the prediction shape', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-F',
      `image=@${photoPath}`,
      '-F',
      'strength=0.25',
      '-F',
      'flag=true',
      '-F',
      'note=hi',
      '-D',
      '-',
      `${server.url}/predict`,
    ]);
    const [head, body] = stdout.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(head).toMatch(/x-request-id: [0-9a-f-]{36}/i);
    const answer = JSON.parse(body!);
    expect(answer).toMatchObject({
      status: 'succeeded',
      content_type: 'application/json',
      output: { received: { image: '48x32 jpeg', strength: 0.25, flag: true, note: 'hi' } },
    });
    expect(answer.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.metrics.predict_time_ms).toBeGreaterThanOrEqual(0);
    expect(answer.metrics.queue_time_ms).toBeGreaterThanOrEqual(0);
  });

  test('JSON {"inputs": ...} with a base64 image, and with a data: URL', async () => {
    for (const image of [photo.toString('base64'), `data:image/jpeg;base64,${photo.toString('base64')}`]) {
      const response = await postJson('/predict', { inputs: { image, strength: 1, note: 'json' } });
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toMatchObject({
        status: 'succeeded',
        output: { received: { image: '48x32 jpeg', strength: 1, flag: false, note: 'json' } },
      });
    }
  });

  test('an image result is a data: URL, or the raw bytes when Accept asks for its type', async () => {
    const inJson = (await (await postJson('/predict', { inputs: { image: photo.toString('base64'), action: 'image' } })).body.json()) as {
      output: string;
      content_type: string;
    };
    expect(inJson.content_type).toBe('image/jpeg');
    expect(inJson.output).toMatch(/^data:image\/jpeg;base64,/);
    const decoded = await sharp(Buffer.from(inJson.output.split(',')[1]!, 'base64')).metadata();
    expect([decoded.width, decoded.height]).toEqual([48, 32]);
    const raw = await request(`${server.url}/predict`, { method: 'POST', body: form({ image: photo, action: 'image' }), headers: { accept: 'image/jpeg' } });
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toBe('image/jpeg');
    const bytes = Buffer.from(await raw.body.arrayBuffer());
    expect((await sharp(bytes).metadata()).format).toBe('jpeg');
  });

  test('a text result is the text', async () => {
    const answer = (await (await postJson('/predict', { inputs: { action: 'text', note: 'you' } })).body.json()) as Record<string, unknown>;
    expect(answer).toMatchObject({ status: 'succeeded', output: 'hello you', content_type: 'text/plain' });
  });

  test("the client's X-Request-Id is echoed as the header and the id", async () => {
    const response = await postJson('/predict', { inputs: {} }, { 'x-request-id': 'trace-42' });
    expect(response.headers['x-request-id']).toBe('trace-42');
    expect(((await response.body.json()) as { id: string }).id).toBe('trace-42');
  });

  test.each([
    { name: 'malformed JSON', body: '{"inputs": ', status: 400, code: 'AI_ERR_MALFORMED_INPUT', message: 'the request body is not valid JSON' },
    {
      name: 'JSON without inputs',
      body: '{"image": "x"}',
      status: 400,
      code: 'AI_ERR_MALFORMED_INPUT',
      message: 'expected a JSON body {"inputs": {...}}, got an object',
    },
    { name: 'an empty body', body: '', status: 400, code: 'AI_ERR_MALFORMED_INPUT', message: 'the request body is empty' },
    {
      name: 'a number out of range',
      body: '{"inputs": {"strength": 2}}',
      status: 422,
      code: 'AI_ERR_INVALID_INPUT',
      message: 'strength: 2 is out of range',
      field: 'strength',
    },
    {
      name: 'a choice not in the list',
      body: '{"inputs": {"action": "dance"}}',
      status: 422,
      code: 'AI_ERR_INVALID_INPUT',
      message: 'action: expected one of json, image, text, fail, throw',
      field: 'action',
    },
    {
      name: 'an image that is not one',
      body: '{"inputs": {"image": "aGVsbG8="}}',
      status: 422,
      code: 'AI_ERR_INVALID_INPUT',
      message: 'image: is not an image',
      field: 'image',
    },
    {
      name: 'a model-reported failure',
      body: '{"inputs": {"action": "fail"}}',
      status: 500,
      code: 'AI_ERR_MODEL_FAILED',
      message: 'the model reported a failure: no face found in the image',
    },
  ])('$name: $status with {error: {code, message, field?}}', async ({ body, status, code, message, field }) => {
    const response = await postJson('/predict', body);
    expect(response.statusCode).toBe(status);
    const answer = (await response.body.json()) as { id: string; status: string; error: { code: string; message: string; field?: string } };
    expect(answer.status).toBe('failed');
    expect(answer.error.code).toBe(code);
    expect(answer.error.message).toContain(message);
    expect(answer.error.field).toBe(field);
    expect(answer.id).toBe(response.headers['x-request-id']);
  });

  test('an unsupported content type is 415', async () => {
    const response = await request(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' });
    expect(response.statusCode).toBe(415);
    expect(((await response.body.json()) as { error: { message: string } }).error.message).toBe(
      'the content type "text/csv" is not accepted here; send multipart/form-data or application/json',
    );
  });

  test('a malformed multipart body is 400', async () => {
    const response = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\nunterminated',
    });
    expect(response.statusCode).toBe(400);
    expect(((await response.body.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'AI_ERR_MALFORMED_INPUT',
      message: expect.stringContaining('the multipart body is malformed'),
    });
    const noBoundary = await request(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
    expect(noBoundary.statusCode).toBe(400);
    await noBoundary.body.dump();
  });

  test('keep-alive: many requests over one connection', async () => {
    const client = new Client(server.url, { pipelining: 1 });
    let connections = 0;
    client.on('connect', () => connections++);
    for (let index = 0; index < 5; index++) {
      const response = await client.request({
        path: '/predict',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { note: String(index) } }),
      });
      expect(((await response.body.json()) as { output: { received: { note: string } } }).output.received.note).toBe(String(index));
    }
    expect(connections).toBe(1);
    await client.close();
  });
});

describe("POST / (the Python library's endpoint)", () => {
  test('multipart answers id, output_url, scale_applied, inputs with is_img and data URLs, output, visualizer_data', async () => {
    const response = await request(`${server.url}/`, { method: 'POST', body: form({ image: photo, note: 'legacy' }) });
    expect(response.statusCode).toBe(200);
    const answer = (await response.body.json()) as Record<string, any>;
    expect(Object.keys(answer)).toEqual(['id', 'output_url', 'scale_applied', 'inputs', 'output', 'visualizer_data']);
    expect(answer).toMatchObject({ output_url: null, scale_applied: 1, visualizer_data: null, output: { received: { image: '48x32 jpeg', note: 'legacy' } } });
    expect(answer.inputs.image).toEqual({ is_img: true, url: `data:image/jpeg;base64,${photo.toString('base64')}` });
    expect(answer.inputs.note).toEqual({ is_img: false, url: `data:text/plain;charset=utf-8;base64,${Buffer.from('legacy').toString('base64')}` });
  });

  test('an image result comes as output_url', async () => {
    const answer = (await (await request(`${server.url}/`, { method: 'POST', body: form({ image: photo, action: 'image' }) })).body.json()) as Record<
      string,
      any
    >;
    expect(answer.output_url).toMatch(/^data:image\/jpeg;base64,/);
    expect(answer.output).toBeNull();
  });

  test('a failure is a JSON error with a 4xx or 5xx status (the Python library answered 200)', async () => {
    const failed = await request(`${server.url}/`, { method: 'POST', body: form({ action: 'fail' }) });
    expect(failed.statusCode).toBe(500);
    expect(await failed.body.json()).toEqual({ error: { code: 'AI_ERR_MODEL_FAILED', message: 'the model reported a failure: no face found in the image' } });
    const json = await postJson('/', { inputs: {} });
    expect(json.statusCode).toBe(415);
    await json.body.dump();
  });

  test('the example shim serves the page and POST / for a photo', async () => {
    const example = await startServer(exampleShim);
    try {
      const answer = (await (await request(`${example.url}/`, { method: 'POST', body: form({ image: photo }) })).body.json()) as Record<string, any>;
      expect(answer.output).toMatchObject({ width: 48, height: 32, format: 'jpeg' });
    } finally {
      await example.stop();
    }
  });
});
