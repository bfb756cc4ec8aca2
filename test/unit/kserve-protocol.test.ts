// MODE=kserve's protocol, in the test's process (test/helpers/in-process-service.ts): the mode's
// own code on the real HTTP core and the in-process engine, over loopback HTTP. What needs a
// process of its own (a throw's exit code, the supervisor's restarts) is in test/e2e/kserve.test.ts.
import { Validator } from '@seriousme/openapi-schema-validator';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg, makePng, sha256 } from '../helpers/images.js';
import { inject, startInProcess, type InProcessService } from '../helpers/in-process-service.js';
import { expectValid, type OpenInferenceSchema } from '../helpers/open-inference.js';
import { eventually } from '../helpers/supervisor.js';

const httpModel = 'http-model.mjs';
const echoModel = 'echo-model.mjs';

/** Runs MODE=kserve with a fixture's model in this process, on a free loopback port. */
const serveKserve = (model: string, env: Record<string, string> = {}) => startInProcess({ mode: 'kserve', model, env });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  bytes: Buffer;
}

async function call(url: string, method: 'GET' | 'POST' | 'PUT' | 'HEAD', body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await inject({ url, method, ...(body === undefined ? {} : { body }), headers });
  const type = String(response.headers['content-type'] ?? '');
  return { status: response.status, headers: response.headers, body: type.startsWith('application/json') ? response.json() : undefined, bytes: response.body };
}

const get = (url: string) => call(url, 'GET');
const postJson = (url: string, body: unknown) => call(url, 'POST', JSON.stringify(body), { 'content-type': 'application/json' });

/** A body of the binary tensor data extension, built by hand: the JSON header, then each binary tensor. */
function binaryBody(header: unknown, ...tensors: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...tensors]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
  };
}
const u32le = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
};
const bytesTensor = (...elements: Buffer[]) => Buffer.concat(elements.flatMap((element) => [u32le(element.length), element]));

/** Reads a binary response: its JSON header and the BYTES elements of its one binary output. */
function readBinaryResponse(answer: Answer): { header: any; elements: Buffer[] } {
  const headerLength = Number(answer.headers['inference-header-content-length']);
  const header = JSON.parse(answer.bytes.subarray(0, headerLength).toString('utf8'));
  const data = answer.bytes.subarray(headerLength);
  expect(data.length).toBe(header.outputs[0].parameters.binary_data_size);
  const elements: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const length = data.readUInt32LE(offset);
    elements.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return { header, elements };
}

function expectError(answer: Answer, status: number, message: string | RegExp, schemaName: OpenInferenceSchema = 'inference_error_response'): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(Object.keys(answer.body)).toEqual(['error']);
  if (typeof message === 'string') expect(answer.body.error).toBe(message);
  else expect(answer.body.error).toMatch(message);
  expectValid(schemaName, answer.body);
}

describe('MODE=kserve: routes, metadata and health', () => {
  let server: InProcessService;
  let v2: string;
  beforeAll(async () => {
    server = await serveKserve(httpModel);
    v2 = `${server.url}/v2/models/http-model`;
  });
  afterAll(async () => {
    await server.close();
  });

  test('the log says where the protocol is', () => {
    expect(server.logs()).toMatch(
      /listening on http:\/\/127\.0\.0\.1:\d+ \(Open Inference Protocol V2 \/v2\/models\/http-model\/infer, V1 \/v1\/models\/http-model:predict, docs \/docs\)/,
    );
  });

  test('GET /v2 (and the official /v2/) is the server metadata, listing the binary tensor data extension', async () => {
    for (const path of ['/v2', '/v2/']) {
      const answer = await get(`${server.url}${path}`);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expectValid('metadata_server_response', answer.body);
      expect(answer.body).toMatchObject({ name: 'ai-integration', extensions: ['binary_tensor_data'] });
    }
  });

  test('health answers by its status code: 200 live and ready', async () => {
    expect(await get(`${server.url}/v2/health/live`)).toMatchObject({ status: 200, body: { live: true } });
    expect(await get(`${server.url}/v2/health/ready`)).toMatchObject({ status: 200, body: { ready: true } });
  });

  test('model metadata: one tensor per schema input, typed by the input, and the BYTES output; the same under the version', async () => {
    for (const url of [v2, `${v2}/versions/1`]) {
      const answer = await get(url);
      expect(answer.status).toBe(200);
      expectValid('metadata_model_response', answer.body);
      expect(answer.body.name).toBe('http-model');
      expect(answer.body.versions).toEqual(['1']);
      expect(answer.body.inputs.map((tensor: any) => [tensor.name, tensor.datatype, tensor.shape])).toEqual([
        ['image', 'BYTES', [-1]],
        ['action', 'BYTES', [-1]],
        ['delay_ms', 'INT64', [-1]],
        ['strength', 'FP64', [-1]],
        ['flag', 'BOOL', [-1]],
        ['note', 'BYTES', [-1]],
      ]);
      expect(answer.body.outputs).toEqual([{ name: 'output', datatype: 'BYTES', shape: [-1] }]);
    }
  });

  test('model ready: {name, ready} on V2 (with and without the version) and V1', async () => {
    for (const url of [`${v2}/ready`, `${v2}/versions/1/ready`, `${server.url}/v1/models/http-model`]) {
      expect(await get(url)).toMatchObject({ status: 200, body: { name: 'http-model', ready: true } });
    }
  });

  test('an unknown model or version is 404 {"error": ...} on every model route', async () => {
    const unknownModel = "unknown model 'resnet'; this server serves 'http-model'";
    const wrongVersion = "model 'http-model' has no version '2'; its version is '1'";
    const cases: [string, 'GET' | 'POST', string, OpenInferenceSchema][] = [
      [`${server.url}/v2/models/resnet`, 'GET', unknownModel, 'metadata_model_error_response'],
      [`${server.url}/v2/models/resnet/ready`, 'GET', unknownModel, 'inference_error_response'],
      [`${server.url}/v2/models/resnet/infer`, 'POST', unknownModel, 'inference_error_response'],
      [`${server.url}/v2/models/resnet/versions/1`, 'GET', unknownModel, 'metadata_model_error_response'],
      [`${v2}/versions/2`, 'GET', wrongVersion, 'metadata_model_error_response'],
      [`${v2}/versions/2/ready`, 'GET', wrongVersion, 'inference_error_response'],
      [`${v2}/versions/2/infer`, 'POST', wrongVersion, 'inference_error_response'],
      [`${server.url}/v1/models/resnet`, 'GET', unknownModel, 'inference_error_response'],
      [`${server.url}/v1/models/resnet:predict`, 'POST', unknownModel, 'inference_error_response'],
    ];
    for (const [url, method, message, schemaName] of cases) {
      const answer = await call(url, method, method === 'POST' ? JSON.stringify({ inputs: [] }) : undefined, { 'content-type': 'application/json' });
      expectError(answer, 404, message, schemaName);
    }
  });

  test('no such route is 404 and a wrong method 405, both as {"error": ...}', async () => {
    expectError(await get(`${server.url}/v3`), 404, 'no route /v3; see /docs for the API');
    const wrongMethod = await call(`${v2}/infer`, 'GET');
    expectError(wrongMethod, 405, /^GET is not allowed on \/v2\/models\/http-model\/infer; use POST$/);
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  test('/openapi.json is a valid OpenAPI 3.1 document of these routes, and /docs shows it', async () => {
    const answer = await get(`${server.url}/openapi.json`);
    expect(answer.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(answer.body);
    expect(result.errors ?? []).toEqual([]);
    expect(validator.version).toBe('3.1');
    expect(Object.keys(answer.body.paths).sort()).toEqual(
      [
        '/v1/models/{name}',
        '/v1/models/{name}:predict',
        '/v2',
        '/v2/health/live',
        '/v2/health/ready',
        '/v2/models/{name}',
        '/v2/models/{name}/infer',
        '/v2/models/{name}/ready',
        '/v2/models/{name}/versions/{version}',
        '/v2/models/{name}/versions/{version}/infer',
        '/v2/models/{name}/versions/{version}/ready',
      ].sort(),
    );
    const example = answer.body.paths['/v2/models/{name}/infer'].post.requestBody.content['application/json'].example;
    expectValid('inference_request', example);
    expect((await get(`${server.url}/docs`)).status).toBe(200);
  });
});

describe('MODE=kserve: V2 inference with real JPEGs', () => {
  let server: InProcessService;
  let infer: string;
  let photos: Buffer[];
  const sizes = [
    [64, 48],
    [32, 24],
    [80, 20],
  ] as const;
  beforeAll(async () => {
    photos = await Promise.all(sizes.map(([width, height]) => makeJpeg(width, height)));
    server = await serveKserve(httpModel);
    infer = `${server.url}/v2/models/http-model/infer`;
  });
  afterAll(async () => {
    await server.close();
  });

  test('a batch of three JPEGs in JSON (base64) runs three inferences, in order, and echoes the id', async () => {
    const answer = await postJson(infer, {
      id: 'batch-json',
      inputs: [
        { name: 'image', shape: [3], datatype: 'BYTES', data: photos.map((photo) => photo.toString('base64')) },
        { name: 'note', shape: [3], datatype: 'BYTES', data: ['first', 'second', 'third'] },
        { name: 'strength', shape: [3, 1], datatype: 'FP32', data: [[0.25], [0.5], [1]] },
      ],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expectValid('inference_response', answer.body);
    expect(answer.body).toMatchObject({ model_name: 'http-model', model_version: '1', id: 'batch-json' });
    const [output] = answer.body.outputs;
    expect(output).toMatchObject({ name: 'output', datatype: 'BYTES', shape: [3], parameters: { content_type: 'application/json' } });
    expect(output.data.map((text: string) => JSON.parse(text).received)).toEqual([
      { image: '64x48 jpeg', strength: 0.25, flag: false, note: 'first' },
      { image: '32x24 jpeg', strength: 0.5, flag: false, note: 'second' },
      { image: '80x20 jpeg', strength: 1, flag: false, note: 'third' },
    ]);
  });

  test('the same batch through the binary tensor extension: BYTES images, an FP64 and a BOOL tensor in binary, a JSON tensor between them', async () => {
    const images = bytesTensor(...photos);
    const strength = Buffer.alloc(24);
    for (const [index, value] of [0.1, 0.2, 0.3].entries()) strength.writeDoubleLE(value, index * 8);
    const { body, headers } = binaryBody(
      {
        id: 'batch-binary',
        inputs: [
          { name: 'image', shape: [3], datatype: 'BYTES', parameters: { binary_data_size: images.length } },
          { name: 'note', shape: [3], datatype: 'BYTES', data: ['a', 'b', 'c'] },
          { name: 'strength', shape: [3], datatype: 'FP64', parameters: { binary_data_size: 24 } },
          { name: 'flag', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
        ],
      },
      images,
      strength,
      Buffer.from([1, 0, 1]),
    );
    const answer = await call(infer, 'POST', body, headers);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expectValid('inference_response', answer.body);
    expect(answer.body.id).toBe('batch-binary');
    expect(answer.body.outputs[0].data.map((text: string) => JSON.parse(text).received)).toEqual([
      { image: '64x48 jpeg', strength: 0.1, flag: true, note: 'a' },
      { image: '32x24 jpeg', strength: 0.2, flag: false, note: 'b' },
      { image: '80x20 jpeg', strength: 0.3, flag: true, note: 'c' },
    ]);
  });

  test('binary outputs on request: each JPEG the model returns, length-prefixed after the JSON header, in order', async () => {
    const images = bytesTensor(...photos);
    const { body, headers } = binaryBody(
      {
        inputs: [
          { name: 'image', shape: [3], datatype: 'BYTES', parameters: { binary_data_size: images.length } },
          { name: 'action', shape: [3], datatype: 'BYTES', data: ['image', 'image', 'image'] },
        ],
        outputs: [{ name: 'output', parameters: { binary_data: true } }],
      },
      images,
    );
    const answer = await call(infer, 'POST', body, headers);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.headers['content-type']).toBe('application/octet-stream');
    expect(Number(answer.headers['content-length'])).toBe(answer.bytes.length);
    const { header, elements } = readBinaryResponse(answer);
    expectValid('inference_response', header, { binaryExtension: true });
    expect(header.outputs[0]).toMatchObject({ name: 'output', datatype: 'BYTES', shape: [3], parameters: { content_type: 'image/jpeg' } });
    expect(header.outputs[0]).not.toHaveProperty('data');
    expect(header.id).toBe(answer.headers['x-request-id']);
    const metadata = await Promise.all(elements.map((element) => sharp(element).metadata()));
    expect(metadata.map(({ format, width, height }) => [format, width, height])).toEqual(sizes.map(([width, height]) => ['jpeg', width, height]));
  });

  test('binary_data_output on the request asks for binary outputs; without it an image result is base64 in JSON', async () => {
    const request = (parameters: Record<string, unknown>) =>
      postJson(infer, {
        parameters,
        inputs: [
          { name: 'image', shape: [1], datatype: 'BYTES', data: [photos[1]!.toString('base64')] },
          { name: 'action', shape: [1], datatype: 'BYTES', data: ['image'] },
        ],
      });
    const binary = await request({ binary_data_output: true });
    expect(binary.headers['content-type']).toBe('application/octet-stream');
    const [jpeg] = readBinaryResponse(binary).elements;
    const json = await request({});
    expect(json.status).toBe(200);
    expectValid('inference_response', json.body);
    expect(json.body.outputs[0].parameters).toEqual({ content_type: 'image/jpeg' });
    const decoded = Buffer.from(json.body.outputs[0].data[0], 'base64');
    expect(sha256(decoded)).toBe(sha256(jpeg!));
    expect((await sharp(decoded).metadata()).format).toBe('jpeg');
  });

  test('the versioned infer route is the same route', async () => {
    const answer = await postJson(`${server.url}/v2/models/http-model/versions/1/infer`, {
      inputs: [{ name: 'action', shape: [1], datatype: 'BYTES', data: ['text'] }],
    });
    expectValid('inference_response', answer.body);
    expect(answer.body.outputs[0]).toMatchObject({ parameters: { content_type: 'text/plain' }, data: ['hello nobody'] });
  });

  test('V1 predict: instances to predictions; {"b64": ...} images in, an image result out as {"b64": ...}', async () => {
    const answer = await postJson(`${server.url}/v1/models/http-model:predict`, {
      instances: [
        { image: { b64: photos[0]!.toString('base64') }, note: 'one' },
        { image: photos[2]!.toString('base64'), action: 'image' },
        { action: 'text', note: 'v1' },
      ],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [first, second, third] = answer.body.predictions;
    expect(first).toEqual({ received: { image: '64x48 jpeg', strength: 0.5, flag: false, note: 'one' } });
    expect(Object.keys(second)).toEqual(['b64']);
    expect(await sharp(Buffer.from(second.b64, 'base64')).metadata()).toMatchObject({ format: 'jpeg', width: 80, height: 20 });
    expect(third).toBe('hello v1');
  });
});

describe('MODE=kserve: refusals', () => {
  let server: InProcessService;
  let infer: string;
  beforeAll(async () => {
    server = await serveKserve(httpModel);
    infer = `${server.url}/v2/models/http-model/infer`;
  });
  afterAll(async () => {
    await server.close();
  });

  test('malformed requests are 400s naming the tensor', async () => {
    const cases: [unknown, string | RegExp][] = [
      [
        { inputs: [{ name: 'strength', shape: [1], datatype: 'BYTES', data: ['x'] }] },
        /^input tensor 'strength': datatype BYTES does not fit the model's number input; send FP64/,
      ],
      [{ inputs: [{ name: 'note', shape: [2], datatype: 'BYTES', data: ['x'] }] }, 'input tensor \'note\': its shape [2] has 2 elements, but "data" holds 1'],
      [
        {
          inputs: [
            { name: 'note', shape: [2], datatype: 'BYTES', data: ['x', 'y'] },
            { name: 'flag', shape: [3], datatype: 'BOOL', data: [true, false, true] },
          ],
        },
        "input tensors 'note' and 'flag' disagree on the batch size, the first dimension of their shapes ('note' has 2, 'flag' has 3); every input tensor needs the same",
      ],
      [{ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: ['%%%'] }] }, /^input tensor 'image': element 0: is not valid base64/],
      [{ inputs: [], outputs: [{ name: 'probabilities' }] }, "output tensor 'probabilities': is not an output of this model; its one output is 'output'"],
      [{ inputs: {} }, '"inputs" must be an array of input tensors, got an object'],
    ];
    for (const [body, message] of cases) expectError(await postJson(infer, body), 400, message);
    expectError(await call(infer, 'POST', '{"inputs": [', { 'content-type': 'application/json' }), 400, /^the body is not valid JSON/);
  });

  test('inputs the schema refuses are 400 (not the native 422), naming the tensor and the batch item', async () => {
    expectError(
      await postJson(infer, { inputs: [{ name: 'strength', shape: [1], datatype: 'FP64', data: [7] }] }),
      400,
      'strength: 7 is out of range; expected a number between 0 and 1',
    );
    const photo = await makeJpeg(8, 8);
    const notAnImage = Buffer.from('not an image at all').toString('base64');
    expectError(
      await postJson(infer, { inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data: [photo.toString('base64'), notAnImage] }] }),
      400,
      /^batch item 1: image: is not an image that can be decoded/,
    );
    expectError(
      await postJson(infer, { inputs: [{ name: 'action', shape: [1], datatype: 'BYTES', data: ['dance'] }] }),
      400,
      /^action: expected one of json, image, text, fail, throw, orphan, hang, spin, got the string "dance"/,
    );
  });

  test('binary data that does not add up is a 400 naming the tensor', async () => {
    const { body, headers } = binaryBody(
      { inputs: [{ name: 'strength', shape: [2], datatype: 'FP64', parameters: { binary_data_size: 16 } }] },
      Buffer.alloc(8),
    );
    expectError(
      await call(infer, 'POST', body, headers),
      400,
      "input tensor 'strength': its binary_data_size is 16 bytes, but only 8 bytes of binary data are left after the tensors before it",
    );
    const tooLong = await call(infer, 'POST', body, { ...headers, 'inference-header-content-length': String(body.length + 1) });
    expectError(tooLong, 400, `Inference-Header-Content-Length is ${body.length + 1}, but the body has only ${body.length} bytes`);
  });

  test('a model failure is 500 with its message; in a batch, the failing item is named', async () => {
    expectError(
      await postJson(infer, { inputs: [{ name: 'action', shape: [1], datatype: 'BYTES', data: ['fail'] }] }),
      500,
      'the model reported a failure: no face found in the image',
    );
    expectError(
      await postJson(infer, { inputs: [{ name: 'action', shape: [3], datatype: 'BYTES', data: ['json', 'fail', 'text'] }] }),
      500,
      'batch item 1: the model reported a failure: no face found in the image',
    );
  });

  test('V1 refusals are 400 {"error": ...}', async () => {
    expectError(await postJson(`${server.url}/v1/models/http-model:predict`, { instances: [] }), 400, '"instances" is empty; send at least one instance');
    expectError(await postJson(`${server.url}/v1/models/http-model:predict`, { instances: [{ strength: 'strong' }] }), 400, /^strength: expected a number/);
    expectError(
      await postJson(`${server.url}/v1/models/http-model:predict`, { instances: ['bare'] }),
      400,
      /^instances\[0\] is the string "bare", but this model has several inputs/,
    );
  });

  test('metrics are labelled by the route template', async () => {
    await postJson(infer, { inputs: [] });
    const metrics = (await get(`${server.url}/metrics`)).bytes.toString();
    expect(metrics).toMatch(/^http_requests_total\{route="\/v2\/models\/\{name\}\/infer",method="POST",status="200"\} \d+$/m);
    expect(metrics).toMatch(/^http_requests_total\{route="\/v2\/models\/\{name\}\/infer",method="POST",status="400"\} \d+$/m);
  });
});

describe('MODE=kserve: every input type, parameters and unlisted tensors (echo model)', () => {
  let server: InProcessService;
  let strict: InProcessService;
  let imageModel: InProcessService;
  beforeAll(async () => {
    [server, strict, imageModel] = await Promise.all([
      serveKserve(echoModel),
      serveKserve(echoModel, { STRICT_INPUTS: '1' }),
      serveKserve(echoModel, { FIXTURE_ACTION: 'image' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server.close(), strict.close(), imageModel.close()]);
  });
  const infer = (target: InProcessService) => `${target.url}/v2/models/echo-model/infer`;

  test('each tensor becomes the model input of its type; request parameters and unlisted tensors reach the model as options', async () => {
    const photo = await makePng(12, 6);
    const attachment = Buffer.from([0, 1, 2, 255]);
    const answer = await postJson(infer(server), {
      parameters: { temperature: 0.7 },
      inputs: [
        { name: 'image', shape: [1], datatype: 'BYTES', data: [photo.toString('base64')] },
        { name: 'prompt', shape: [1], datatype: 'BYTES', data: ['a cat'] },
        { name: 'strength', shape: [1], datatype: 'FP64', data: [0.75] },
        { name: 'steps', shape: [1], datatype: 'INT32', data: [12] },
        { name: 'fast', shape: [1], datatype: 'BOOL', data: [true] },
        { name: 'style', shape: [1], datatype: 'BYTES', data: ['sketch'] },
        { name: 'config', shape: [1], datatype: 'BYTES', data: ['{"layers":[1,2]}'] },
        { name: 'attachment', shape: [1], datatype: 'BYTES', data: [attachment.toString('base64')] },
        { name: 'seed', shape: [1, 2], datatype: 'INT64', data: [[4, 2]] },
      ],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expectValid('inference_response', answer.body);
    const echoed = JSON.parse(answer.body.outputs[0].data[0]);
    expect(echoed.inputs).toEqual({
      temperature: 0.7,
      seed: [4, 2],
      image: { bytes: photo.length, sha256: sha256(photo) },
      prompt: 'a cat',
      strength: 0.75,
      steps: 12,
      fast: true,
      style: 'sketch',
      config: { layers: [1, 2] },
      attachment: { bytes: 4, sha256: sha256(attachment) },
    });
    expect(echoed.types).toMatchObject({ image: 'Buffer', attachment: 'Buffer', config: 'object', steps: 'number', fast: 'boolean' });
  });

  test('STRICT_INPUTS refuses an unlisted tensor, naming it', async () => {
    const photo = await makePng(4, 4);
    expectError(
      await postJson(infer(strict), {
        inputs: [
          { name: 'image', shape: [1], datatype: 'BYTES', data: [photo.toString('base64')] },
          { name: 'promt', shape: [1], datatype: 'BYTES', data: ['x'] },
        ],
      }),
      400,
      /^promt: is not an input of this model; .*\(did you mean 'prompt'\?\)$/,
    );
  });

  test('a raw binary request (Inference-Header-Content-Length: 0) is the one required input, and the PNG comes back as binary data', async () => {
    const photo = await makePng(10, 5);
    const answer = await call(infer(imageModel), 'POST', photo, { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' });
    expect(answer.status, answer.bytes.toString()).toBe(200);
    const { header, elements } = readBinaryResponse(answer);
    expectValid('inference_response', header, { binaryExtension: true });
    expect(header.outputs[0].parameters.content_type).toBe('image/png');
    expect(await sharp(elements[0]!).metadata()).toMatchObject({ format: 'png', width: 10, height: 5 });
  });
});

describe('MODE=kserve: limits and failures of the core, in the protocol’s shape', () => {
  const servers: InProcessService[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  const serve = async (model: string, env: Record<string, string> = {}) => {
    const server = await serveKserve(model, env);
    servers.push(server);
    return server;
  };

  test('MODEL_NAME and MODEL_VERSION name the model on every route', async () => {
    const server = await serve(httpModel, { MODEL_NAME: 'resnet', MODEL_VERSION: '7' });
    const metadata = await get(`${server.url}/v2/models/resnet/versions/7`);
    expect(metadata.status).toBe(200);
    expect(metadata.body).toMatchObject({ name: 'resnet', versions: ['7'] });
    const answer = await postJson(`${server.url}/v2/models/resnet/versions/7/infer`, { inputs: [] });
    expect(answer.body).toMatchObject({ model_name: 'resnet', model_version: '7' });
    expectError(await get(`${server.url}/v2/models/http-model`), 404, "unknown model 'http-model'; this server serves 'resnet'");
    expectError(
      await get(`${server.url}/v2/models/resnet/versions/1`),
      404,
      "model 'resnet' has no version '1'; its version is '7'",
      'metadata_model_error_response',
    );
  });

  test('a batch is checked whole before any item runs: an invalid item spares the model the others (here, a throw)', async () => {
    const server = await serve(httpModel);
    const infer = `${server.url}/v2/models/http-model/infer`;
    const answer = await postJson(infer, {
      inputs: [
        { name: 'action', shape: [2], datatype: 'BYTES', data: ['throw', 'json'] },
        { name: 'strength', shape: [2], datatype: 'FP64', data: [0.5, 7] },
      ],
    });
    expectError(answer, 400, 'batch item 1: strength: 7 is out of range; expected a number between 0 and 1');
    const after = await postJson(infer, { inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', data: ['alive'] }] });
    expect(after.status).toBe(200);
    expect(server.logs()).not.toContain('CUDA error');
  });

  test('a body over MAX_INPUT_BYTES is 413 {"error": ...}', async () => {
    const server = await serve(httpModel, { MAX_INPUT_BYTES: '2000' });
    const answer = await postJson(`${server.url}/v2/models/http-model/infer`, {
      inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', data: ['x'.repeat(5000)] }],
    });
    expectError(answer, 413, /MAX_INPUT_BYTES/);
  });

  test('a batch the queue can never hold is 413 naming the limit; one that finds too little room is 429 with Retry-After before any item runs', async () => {
    const server = await serve(httpModel, { CONCURRENCY: '1', MAX_QUEUE: '2' });
    const infer = `${server.url}/v2/models/http-model/infer`;
    const delays = (count: number) => ({ inputs: [{ name: 'delay_ms', shape: [count], datatype: 'INT64', data: Array<number>(count).fill(300) }] });
    const tooBig = await postJson(infer, delays(4));
    expectError(tooBig, 413, /^the request has 4 batch items; this server takes at most 3 in one request \(CONCURRENCY \+ MAX_QUEUE\)/);
    expect(tooBig.headers['retry-after']).toBeUndefined();
    const first = postJson(infer, delays(2));
    const queued = async () => /^inference_queue_depth 1$/m.test(String((await call(`${server.url}/metrics`, 'GET')).bytes));
    expect(await eventually(queued, 5000)).toBe(true);
    const answer = await postJson(infer, delays(2));
    expectError(answer, 429, /^the queue has room for 1 of the 2 batch items of this request now/);
    expect(answer.headers['retry-after']).toBe('1');
    expect((await first).status).toBe(200);
  });
});
