// MODE=vertex's protocol, in the test's process (test/helpers/in-process-service.ts): the mode's
// own code on the real HTTP core and the in-process engine, over loopback HTTP. What needs a
// process of its own (exit codes, a throw, the supervisor, AIP_STORAGE_URI in the worker) is in
// test/e2e/vertex.test.ts.
import { Socket } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { makeJpeg, makePng, sha256 } from '../helpers/images.js';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';
import { eventually } from '../helpers/supervisor.js';
import { call, expectError, get, postJson, vertexHealth, vertexPredict } from '../helpers/vertex-client.js';

const httpModel = 'http-model.mjs';
const echoModel = 'echo-model.mjs';

/** Runs MODE=vertex with a fixture's model in this process, on loopback (PORT=0 unless the test says). */
const serveVertex = (model: string, env: Record<string, string> = {}) => startInProcess({ mode: 'vertex', model, env });

describe('MODE=vertex: the port and routes Vertex AI sets', () => {
  const servers: InProcessService[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  const serve = async (model: string, env: Record<string, string> = {}) => {
    const server = await serveVertex(model, env);
    servers.push(server);
    return server;
  };

  test("AIP_HTTP_PORT wins over PORT; AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE (Vertex's own default form) are the only model routes", async () => {
    const [aipPort, port] = [await freePort(), await freePort()];
    const server = await serve(httpModel, {
      AIP_HTTP_PORT: String(aipPort),
      PORT: String(port),
      AIP_HEALTH_ROUTE: vertexHealth,
      AIP_PREDICT_ROUTE: vertexPredict,
    });
    expect(server.url).toBe(`http://127.0.0.1:${aipPort}`);
    expect(server.logs()).toContain(`PORT (${port}) is ignored: MODE=vertex listens on AIP_HTTP_PORT (${aipPort}), where Vertex AI sends its requests`);
    expect(server.logs()).toContain(`listening on http://127.0.0.1:${aipPort} (Vertex AI: predict POST ${vertexPredict}, health ${vertexHealth}, docs /docs)`);
    await expect(request(`http://127.0.0.1:${port}${vertexHealth}`)).rejects.toThrow();

    const health = await get(`${server.url}${vertexHealth}`);
    expect(health).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(health.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call(`${server.url}${vertexHealth}`, 'HEAD')).status).toBe(200);
    const prediction = await postJson(`${server.url}${vertexPredict}`, { instances: [{ note: 'routed' }] });
    expect(prediction).toMatchObject({ status: 200, body: { predictions: [{ received: { note: 'routed', strength: 0.5, flag: false, image: null } }] } });

    for (const path of ['/health', '/predict', '/'])
      expectError(await postJson(`${server.url}${path}`, { instances: [{}] }), 404, `no route ${path}; see /docs for the API`);
    const wrongMethod = await get(`${server.url}${vertexPredict}`);
    expectError(wrongMethod, 405, `GET is not allowed on ${vertexPredict}; use POST`);
    expect(wrongMethod.headers.allow).toBe('POST');
    expectError(await postJson(`${server.url}${vertexHealth}`, {}), 405, `POST is not allowed on ${vertexHealth}; use GET, HEAD`);
  });

  test('without the AIP_ variables: PORT (a free one picked here), then /health and /predict', async () => {
    const port = await freePort();
    const server = await serve(httpModel, { PORT: String(port) });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect(server.logs()).not.toContain('is ignored');
    expect(server.logs()).toContain('(Vertex AI: predict POST /predict, health /health, docs /docs)');
    expect((await get(`${server.url}/health`)).status).toBe(200);
    expect((await postJson(`${server.url}/predict`, { instances: [{ action: 'text', note: 'there' }] })).body).toEqual({ predictions: ['hello there'] });
  });

  test('MAX_INPUT_BYTES defaults to 10485760, the largest body any Vertex endpoint forwards; MAX_INPUT_BYTES sets another', async () => {
    const body = { instances: [{ note: 'x'.repeat(11_000_000) }] };
    const [vertexDefault, given] = await Promise.all([serve(httpModel), serve(httpModel, { MAX_INPUT_BYTES: '12000000' })]);
    expectError(
      await postJson(`${vertexDefault.url}/predict`, body),
      413,
      'the request body is larger than 10485760 bytes (the limit; raise it with MAX_INPUT_BYTES)',
    );
    const answer = await postJson(`${given.url}/predict`, body);
    expect(answer.status).toBe(200);
    expect(answer.body.predictions[0].received.note).toHaveLength(11_000_000);
  });

  test('/openapi.json documents the configured routes and is valid OpenAPI 3.1; /docs shows it; /metrics labels by the route', async () => {
    const server = await serve(httpModel, { AIP_HEALTH_ROUTE: vertexHealth, AIP_PREDICT_ROUTE: vertexPredict });
    const document = await get(`${server.url}/openapi.json`);
    expect(document.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(document.body);
    expect(result.errors ?? []).toEqual([]);
    expect(validator.version).toBe('3.1');
    expect(Object.keys(document.body.paths).sort()).toEqual([vertexPredict, vertexHealth, '/metrics', '/openapi.json'].sort());
    const instance = document.body.paths[vertexPredict].post.requestBody.content['application/json'].schema.properties.instances.items;
    expect(instance.properties.image.oneOf[0]).toEqual({ $ref: '#/components/schemas/B64' });
    expect(instance.properties.strength).toMatchObject({ type: 'number', minimum: 0, maximum: 1, default: 0.5 });
    expect((await get(`${server.url}/docs`)).status).toBe(200);
    await postJson(`${server.url}${vertexPredict}`, { instances: [{}] });
    await postJson(`${server.url}${vertexPredict}`, { instances: [] });
    const metrics = (await get(`${server.url}/metrics`)).body as string;
    expect(metrics).toContain(`http_requests_total{route="${vertexPredict}",method="POST",status="200"} 1`);
    expect(metrics).toContain(`http_requests_total{route="${vertexPredict}",method="POST",status="400"} 1`);
  });
});

describe('MODE=vertex: instances, parameters and predictions (real JPEGs)', () => {
  let server: InProcessService;
  let echo: InProcessService;
  let predict: string;
  let photos: Buffer[];
  beforeAll(async () => {
    photos = await Promise.all([makeJpeg(64, 48), makeJpeg(32, 24), makeJpeg(80, 20)]);
    [server, echo] = await Promise.all([serveVertex(httpModel), serveVertex(echoModel)]);
    predict = `${server.url}/predict`;
  });
  afterAll(async () => {
    await Promise.all([server.close(), echo.close()]);
  });

  test('a JPEG as {"b64"}, as plain base64 and as a data: URL: three predictions, JSON parsed, in instance order', async () => {
    const answer = await postJson(predict, {
      instances: [
        { image: { b64: photos[0]!.toString('base64') }, note: 'b64' },
        { image: photos[1]!.toString('base64'), note: 'plain' },
        { image: `data:image/jpeg;base64,${photos[2]!.toString('base64')}`, note: 'data url' },
      ],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toEqual({
      predictions: [
        { received: { image: '64x48 jpeg', strength: 0.5, flag: false, note: 'b64' } },
        { received: { image: '32x24 jpeg', strength: 0.5, flag: false, note: 'plain' } },
        { received: { image: '80x20 jpeg', strength: 0.5, flag: false, note: 'data url' } },
      ],
    });
  });

  test('parameters are merged into every instance; an instance’s own value wins', async () => {
    const answer = await postJson(predict, {
      instances: [{ note: 'first' }, { note: 'second', strength: 0.75 }, {}],
      parameters: { strength: 0.25, flag: true, note: 'from parameters' },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.predictions.map((prediction: any) => prediction.received)).toEqual([
      { image: null, strength: 0.25, flag: true, note: 'first' },
      { image: null, strength: 0.75, flag: true, note: 'second' },
      { image: null, strength: 0.25, flag: true, note: 'from parameters' },
    ]);
  });

  test('an image result is {"b64"} holding the JPEG; a text result is a string; JSON is parsed', async () => {
    const answer = await postJson(predict, {
      instances: [{ image: { b64: photos[2]!.toString('base64') }, action: 'image' }, { action: 'text', note: 'vertex' }, { action: 'json' }],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [image, text, json] = answer.body.predictions;
    expect(Object.keys(image)).toEqual(['b64']);
    expect(await sharp(Buffer.from(image.b64, 'base64')).metadata()).toMatchObject({ format: 'jpeg', width: 80, height: 20 });
    expect(text).toBe('hello vertex');
    expect(json).toEqual({ received: { image: null, strength: 0.5, flag: false, note: null } });
  });

  test('every input type; {"b64"} for a file; unlisted parameters reach the model as options; a bare {"b64"} instance is the one required input', async () => {
    const photo = await makePng(12, 6);
    const attachment = Buffer.from([0, 1, 2, 255]);
    const url = `${echo.url}/predict`;
    const answer = await postJson(url, {
      instances: [
        {
          image: { b64: photo.toString('base64') },
          prompt: 'a cat',
          steps: 12,
          fast: true,
          style: 'sketch',
          config: { layers: [1, 2] },
          attachment: { b64: attachment.toString('base64') },
        },
      ],
      parameters: { temperature: 0.7, strength: 0.9 },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [echoed] = answer.body.predictions;
    expect(echoed.inputs).toEqual({
      temperature: 0.7,
      image: { bytes: photo.length, sha256: sha256(photo) },
      prompt: 'a cat',
      strength: 0.9,
      steps: 12,
      fast: true,
      style: 'sketch',
      config: { layers: [1, 2] },
      attachment: { bytes: 4, sha256: sha256(attachment) },
    });
    expect(echoed.types).toMatchObject({ image: 'Buffer', attachment: 'Buffer', config: 'object' });
    const bare = await postJson(url, { instances: [{ b64: photo.toString('base64') }, photo.toString('base64')] });
    expect(bare.status, JSON.stringify(bare.body)).toBe(200);
    expect(bare.body.predictions.map((prediction: any) => prediction.inputs.image.sha256)).toEqual([sha256(photo), sha256(photo)]);
  });
});

describe('MODE=vertex: refusals, as {"error": "..."} with their status', () => {
  let server: InProcessService;
  let predict: string;
  beforeAll(async () => {
    server = await serveVertex(httpModel, { MAX_INPUT_BYTES: '20000', MAX_QUEUE: '3' });
    predict = `${server.url}/predict`;
  });
  afterAll(async () => {
    await server.close();
  });

  test('a malformed body is 400 saying what was expected', async () => {
    expectError(await call(predict, 'POST', '{"instances": [', { 'content-type': 'application/json' }), 400, /^the request body is not valid JSON/);
    expectError(
      await postJson(predict, { inputs: { note: 'x' } }),
      400,
      'Vertex AI sends {"instances": [...], "parameters": {...}}, not {"inputs": ...}; put each inputs object in "instances"',
    );
    expectError(
      await postJson(predict, { instances: 'all' }),
      400,
      '"instances" must be an array, got the string "all"; expected {"instances": [...], "parameters": {...}}',
    );
    expectError(await postJson(predict, { instances: [] }), 400, '"instances" is empty; send at least one instance');
    expectError(
      await postJson(predict, { instances: [{}], parameters: 'fast' }),
      400,
      '"parameters" must be an object of model options, got the string "fast"',
    );
    expectError(
      await postJson(predict, { instances: ['bare'] }),
      400,
      /^instances\[0\] is the string "bare", but this model has several inputs \(image, action, delay_ms, strength, flag, note\)/,
    );
  });

  test('an instance the schema refuses is 422 naming the instance and the field, or the parameter', async () => {
    expectError(
      await postJson(predict, { instances: [{ strength: 0.5 }, { strength: 7 }] }),
      422,
      'instances[1].strength: 7 is out of range; expected a number between 0 and 1',
    );
    expectError(
      await postJson(predict, { instances: [{}, {}], parameters: { strength: 7 } }),
      422,
      'parameters.strength: 7 is out of range; expected a number between 0 and 1',
    );
    expectError(
      await postJson(predict, { instances: [{ action: 'dance' }] }),
      422,
      /^instances\[0\]\.action: expected one of json, image, text, fail, throw, orphan, hang, spin, got the string "dance"/,
    );
    expectError(
      await postJson(predict, { instances: [{ image: { b64: 'bm90IGFuIGltYWdl' } }] }),
      422,
      /^instances\[0\]\.image: is not an image that can be decoded/,
    );
    expectError(await postJson(predict, { instances: [{ image: { b64: '%%%' } }] }), 422, /^instances\[0\]\.image\.b64: is not valid base64/);
  });

  test('a refused instance spares the model the others: nothing runs (here, a throw)', async () => {
    expectError(await postJson(predict, { instances: [{ action: 'throw' }, { strength: -1 }] }), 422, /^instances\[1\]\.strength: -1 is out of range/);
    expect((await postJson(predict, { instances: [{ note: 'alive' }] })).status).toBe(200);
    expect(server.logs()).not.toContain('CUDA error');
  });

  test('a failed instance fails the request: 500 naming the instance, with the model’s message', async () => {
    expectError(
      await postJson(predict, { instances: [{ action: 'json' }, { action: 'fail' }, { action: 'text' }] }),
      500,
      'instances[1]: the model reported a failure: no face found in the image',
    );
  });

  test('415 for a body that is not JSON; 413 over MAX_INPUT_BYTES, and for more instances than the queue can ever hold', async () => {
    expectError(
      await call(predict, 'POST', 'note=x', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      /^the content type "application\/x-www-form-urlencoded" is not accepted here; send application\/json/,
    );
    expectError(
      await postJson(predict, { instances: [{ note: 'x'.repeat(30_000) }] }),
      413,
      'the request body is larger than 20000 bytes (the limit; raise it with MAX_INPUT_BYTES)',
    );
    expectError(
      await postJson(predict, { instances: [{}, {}, {}, {}, {}] }),
      413,
      'the request has 5 instances; this server takes at most 4 in one request (CONCURRENCY + MAX_QUEUE); send fewer per request, or raise MAX_QUEUE',
    );
  });

  test('429 with Retry-After when the queue is full, naming the first refused instance', async () => {
    const busy = postJson(predict, {
      instances: [
        { delay_ms: 1000, note: 'a' },
        { delay_ms: 1000, note: 'b' },
        { delay_ms: 1000, note: 'c' },
        { delay_ms: 1000, note: 'd' },
      ],
    });
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await get(`${server.url}/metrics`)).body as string)?.[1]);
    expect(await eventually(async () => (await metric('inference_queue_depth')) === 3, 5000)).toBe(true);
    const refused = await postJson(predict, { instances: [{ note: 'late' }] });
    expectError(refused, 429, 'instances[0]: the queue is full (3 requests waiting); retry later');
    expect(refused.headers['retry-after']).toBe('1');
    expect((await busy).body.predictions.map((prediction: any) => prediction.received.note)).toEqual(['a', 'b', 'c', 'd']);
  });

  test('503 with Retry-After when the server is overloaded (every upload slot taken)', async () => {
    const overloaded = await serveVertex(httpModel, { MAX_CONCURRENT_UPLOADS: '1' });
    try {
      const { port } = new URL(overloaded.url);
      const holder = new Socket();
      await new Promise<void>((resolve) => holder.connect(Number(port), '127.0.0.1', resolve));
      holder.write('POST /predict HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"instances": [');
      expect(await eventually(async () => (await postJson(`${overloaded.url}/predict`, { instances: [{}] })).status === 503, 5000)).toBe(true);
      const refused = await postJson(`${overloaded.url}/predict`, { instances: [{}] });
      expectError(refused, 503, 'too many request bodies are being read at once (MAX_CONCURRENT_UPLOADS is 1); retry later');
      expect(refused.headers['retry-after']).toBe('1');
      holder.destroy();
      expect(await eventually(async () => (await postJson(`${overloaded.url}/predict`, { instances: [{}] })).status === 200, 5000)).toBe(true);
    } finally {
      await overloaded.close();
    }
  });
});
