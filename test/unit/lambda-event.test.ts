// MODE=lambda's pure parts: which events are proxy events, how their requests and bodies are
// read, and the shapes of the answers (envelope, proxy response, error report).
import { describe, expect, test } from 'vitest';
import { AiIntegrationError, InferenceThrewError, InvalidInputError } from '../../src/errors.js';
import { engineAround } from '../../src/engine/engine-base.js';
import { createLogger } from '../../src/logger.js';
import { modelFaults } from '../../src/model-faults.js';
import { readSettings } from '../../src/settings.js';
import type { InputsSchema, ModeContext } from '../../src/types.js';
import { envelope, errorReport, predictionOf, proxyError, proxySuccess } from '../../modes/lambda/answers.js';
import { plainInputs, proxyFormatOf, proxyInputs, readProxyRequest, type ProxyRequest } from '../../modes/lambda/event.js';
import { makeJpeg } from '../helpers/images.js';

const schema: InputsSchema = { image: { type: 'image' }, strength: { type: 'number', default: 0.5 } };

function contextFor(inputs: InputsSchema, maxInputBytes = 1024 * 1024): ModeContext {
  const engine = engineAround(() => Promise.reject(new Error('not used')));
  return {
    modelName: 'unit',
    modelVersion: '1',
    modelDescription: '',
    engine,
    faults: modelFaults(engine, createLogger(process.stderr)),
    schema: inputs,
    settings: readSettings({ maxInputBytes }, {}),
    argv: [],
    env: {},
    stdin: process.stdin,
    stdout: process.stdout,
    log: createLogger(process.stderr),
  };
}

const request = (headers: Record<string, string>, body: Buffer | string, query: Record<string, string> = {}): ProxyRequest => ({
  format: '2.0',
  method: 'POST',
  headers,
  query,
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});

function refusal(run: () => unknown): AiIntegrationError {
  try {
    run();
  } catch (error) {
    if (error instanceof AiIntegrationError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('which events are proxy events', () => {
  test('payload 2.0 (HTTP APIs, function URLs) by version and requestContext.http; 1.0 (REST APIs, ALB) by httpMethod and requestContext', () => {
    expect(proxyFormatOf({ version: '2.0', requestContext: { http: { method: 'POST' } }, body: '' })).toBe('2.0');
    expect(proxyFormatOf({ httpMethod: 'POST', requestContext: { stage: 'prod' }, body: null })).toBe('1.0');
    expect(proxyFormatOf({ version: '1.0', httpMethod: 'GET', requestContext: { elb: { targetGroupArn: 'arn:...' } } })).toBe('1.0');
  });

  test('an inputs object, even with a field called version or httpMethod, is a plain event', () => {
    expect(proxyFormatOf({ image: 'aGk=', version: '2.0' })).toBeUndefined();
    expect(proxyFormatOf({ httpMethod: 'POST' })).toBeUndefined();
    expect(proxyFormatOf({ version: '2.0', requestContext: 'x' })).toBeUndefined();
    expect(proxyFormatOf(['a'])).toBeUndefined();
    expect(proxyFormatOf(null)).toBeUndefined();
  });
});

describe("a proxy event's request", () => {
  test('headers in lower case (multiValueHeaders when they are all there is), the query, the body decoded from base64', () => {
    const read = readProxyRequest(
      {
        httpMethod: 'post',
        requestContext: {},
        multiValueHeaders: { 'X-Trace': ['a', 'b'] },
        headers: { 'Content-Type': 'image/png' },
        queryStringParameters: { note: 'hi' },
        body: Buffer.from('bytes').toString('base64'),
        isBase64Encoded: true,
      },
      '1.0',
      100,
    );
    expect(read).toEqual({
      format: '1.0',
      method: 'POST',
      headers: { 'x-trace': 'b', 'content-type': 'image/png' },
      query: { note: 'hi' },
      body: Buffer.from('bytes'),
    });
  });

  test('a body over MAX_INPUT_BYTES is 413, counted in decoded bytes', () => {
    const event = { version: '2.0', requestContext: { http: { method: 'POST' } }, body: Buffer.alloc(90).toString('base64'), isBase64Encoded: true };
    expect(readProxyRequest(event, '2.0', 90).body.length).toBe(90);
    expect(refusal(() => readProxyRequest(event, '2.0', 89)).code).toBe('AI_ERR_INPUT_TOO_LARGE');
    expect(refusal(() => readProxyRequest({ ...event, body: 'x'.repeat(10), isBase64Encoded: false }, '2.0', 9)).code).toBe('AI_ERR_INPUT_TOO_LARGE');
  });

  test('a body that is not a string is 400', () => {
    expect(refusal(() => readProxyRequest({ httpMethod: 'POST', requestContext: {}, body: { image: 'x' } }, '1.0', 100)).message).toBe(
      "the event's body must be a string (as API Gateway sends it), got an object",
    );
  });

  test('JSON: an inputs object or {"inputs": {...}}, typed data', async () => {
    const context = contextFor(schema);
    expect(await proxyInputs(request({ 'content-type': 'application/json; charset=utf-8' }, '{"strength": 0.2}'), context)).toEqual({
      raw: { strength: 0.2 },
      origin: 'data',
    });
    expect(await proxyInputs(request({ 'content-type': 'application/json' }, '\ufeff{"inputs": {"strength": 0.3}}'), context)).toEqual({
      raw: { strength: 0.3 },
      origin: 'data',
    });
    // A model with an input called "inputs" takes the object as it is.
    const own = contextFor({ inputs: { type: 'json' } });
    expect(await proxyInputs(request({ 'content-type': 'application/json' }, '{"inputs": {"a": 1}}'), own)).toEqual({
      raw: { inputs: { a: 1 } },
      origin: 'data',
    });
    await expect(proxyInputs(request({ 'content-type': 'application/json' }, '[1]'), context)).rejects.toThrow(
      'expected a JSON object of inputs (or {"inputs": {...}}), got an array',
    );
    await expect(proxyInputs(request({ 'content-type': 'application/json' }, Buffer.from([0x7b, 0xff, 0x7d])), context)).rejects.toThrow(
      'the request body is not valid UTF-8',
    );
  });

  test('raw bytes for the one binary input, with the query string as the other inputs (text)', async () => {
    const jpeg = await makeJpeg(8, 8);
    const read = await proxyInputs(request({ 'content-type': 'image/jpeg' }, jpeg, { strength: '0.9' }), contextFor(schema));
    expect(read).toEqual({ raw: { strength: '0.9', image: jpeg }, origin: 'text' });
    // Two binary inputs: which one would the body be? JSON or a form says.
    const two = contextFor({ a: { type: 'image' }, b: { type: 'file' } });
    await expect(proxyInputs(request({ 'content-type': 'image/jpeg' }, jpeg), two)).rejects.toThrow(
      'the content type "image/jpeg" is not accepted here; send application/json, or multipart/form-data',
    );
    await expect(proxyInputs(request({ 'content-type': 'application/octet-stream' }, ''), contextFor(schema))).rejects.toThrow(
      'the request body is empty; send the inputs as the bytes of image',
    );
  });

  test('Content-Encoding is decoded within the limit; an unknown coding is 415', async () => {
    const { gzipSync } = await import('node:zlib');
    const context = contextFor(schema, 64);
    expect((await proxyInputs(request({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync('{"strength": 1}')), context)).raw).toEqual({
      strength: 1,
    });
    await expect(
      proxyInputs(
        request({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(`{"strength": 1, "pad": "${'x'.repeat(100)}"}`)),
        context,
      ),
    ).rejects.toMatchObject({ code: 'AI_ERR_INPUT_TOO_LARGE' });
    await expect(proxyInputs(request({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip'), context)).rejects.toMatchObject({
      code: 'AI_ERR_MALFORMED_INPUT',
    });
    await expect(proxyInputs(request({ 'content-type': 'application/json', 'content-encoding': 'zstd' }, '{}'), context)).rejects.toMatchObject({
      code: 'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
    });
  });

  test('a query parameter or form field called __proto__ stays data', async () => {
    const jpeg = await makeJpeg(8, 8);
    const query = Object.defineProperty({}, '__proto__', { value: 'x', enumerable: true }) as Record<string, string>;
    const read = await proxyInputs(request({ 'content-type': 'image/jpeg' }, jpeg, query), contextFor(schema));
    expect(Object.getPrototypeOf(read.raw)).toBe(Object.prototype);
    expect(Object.hasOwn(read.raw, '__proto__')).toBe(true);
  });
});

describe('a plain event', () => {
  test('an inputs object, or the native {"inputs": {...}}; anything else is 400-class AI_ERR_MALFORMED_INPUT', () => {
    expect(plainInputs({ strength: 1 }, schema)).toEqual({ raw: { strength: 1 }, origin: 'data' });
    expect(plainInputs({ inputs: { strength: 1 } }, schema)).toEqual({ raw: { strength: 1 }, origin: 'data' });
    expect(refusal(() => plainInputs('hello', schema)).code).toBe('AI_ERR_MALFORMED_INPUT');
    expect(refusal(() => plainInputs(null, schema)).message).toMatch(/got null$/);
  });
});

describe('answers', () => {
  const jsonResult = predictionOf({
    result: { 'content-type': 'application/json', data: '{"a":1}', success: true },
    report: { ok: true, problems: [], summary: '', mediaType: 'application/json', json: { a: 1 } },
    predictMs: 1.234,
  });
  const imageResult = predictionOf({
    result: { 'content-type': 'image/png', data: Buffer.from([1, 2, 3]), success: true },
    report: { ok: true, problems: [], summary: '', mediaType: 'image/png' },
    predictMs: 2,
  });
  const uploadedImage = { ...imageResult, uploads: [{ field: 'output', url: 'https://store.example/r/output.png', content_type: 'image/png', bytes: 3 }] };

  test('the envelope of a plain event: parsed JSON, a data: URL for binary', () => {
    expect(envelope('id-1', jsonResult)).toEqual({
      id: 'id-1',
      status: 'succeeded',
      output: { a: 1 },
      content_type: 'application/json',
      metrics: { predict_time_ms: 1.2 },
    });
    expect(envelope('id-2', imageResult)).toMatchObject({ output: 'data:image/png;base64,AQID', content_type: 'image/png' });
  });

  test('a proxy response: text as text, binary as base64 with isBase64Encoded; HEAD without a body', () => {
    expect(proxySuccess('r', jsonResult, false)).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'x-request-id': 'r', 'x-predict-time-ms': '1.2' },
      body: '{"a":1}',
      isBase64Encoded: false,
    });
    expect(proxySuccess('r', imageResult, false)).toMatchObject({ body: 'AQID', isBase64Encoded: true });
    expect(proxySuccess('r', imageResult, true)).toMatchObject({ body: '', isBase64Encoded: false });
  });

  test("an uploaded file (OUTPUT_UPLOAD_URL): the envelope's output is its URL, with uploads; a proxy answers that envelope as JSON", () => {
    expect(envelope('r', uploadedImage)).toMatchObject({
      output: 'https://store.example/r/output.png',
      content_type: 'image/png',
      uploads: uploadedImage.uploads,
    });
    const proxied = proxySuccess('r', uploadedImage, false);
    expect(proxied).toMatchObject({ statusCode: 200, isBase64Encoded: false, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(JSON.parse(proxied.body)).toMatchObject({ id: 'r', status: 'succeeded', output: 'https://store.example/r/output.png', content_type: 'image/png' });
  });

  test("a proxy error: the error table's status and the native error body; our own bugs say nothing inside", () => {
    expect(proxyError('r', new InvalidInputError('image', 'is required'))).toEqual({
      statusCode: 422,
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r' },
      body: JSON.stringify({ id: 'r', status: 'failed', error: { code: 'AI_ERR_INVALID_INPUT', message: 'image: is required', field: 'image' } }),
      isBase64Encoded: false,
    });
    expect(proxyError('r', new TypeError('x is undefined'))).toMatchObject({
      statusCode: 500,
      body: JSON.stringify({ id: 'r', status: 'failed', error: { code: 'AI_ERR_INTERNAL', message: 'internal server error' } }),
    });
  });

  test('an error report: errorType is the code, the header Function.<Name> or Runtime.<Name> as Lambda keeps them, a stack only for a throw', () => {
    expect(errorReport(new AiIntegrationError('AI_ERR_TIMEOUT', 'too slow'), 'Function')).toEqual({
      report: { errorMessage: 'too slow', errorType: 'AI_ERR_TIMEOUT', stackTrace: [] },
      headerType: 'Function.Timeout',
    });
    expect(errorReport(new AiIntegrationError('AI_ERR_INVALID_SCHEMA', 'bad'), 'Runtime').headerType).toBe('Runtime.InvalidSchema');
    const thrown = new Error('boom');
    const { report, headerType } = errorReport(new InferenceThrewError(thrown), 'Function');
    expect(headerType).toBe('Function.InferenceThrew');
    expect(report.errorMessage).toBe('the inference function threw: boom');
    expect(report.stackTrace).toEqual(thrown.stack!.split('\n'));
    expect(errorReport(new RangeError('oops'), 'Function')).toEqual({
      report: { errorMessage: 'internal error in ai-integration: oops', errorType: 'AI_ERR_INTERNAL', stackTrace: [] },
      headerType: 'Function.Internal',
    });
    // Lambda keeps a header that matches (Runtime|Function)\.[A-Z][a-zA-Z]+, and calls anything else Runtime.Unknown.
    for (const code of ['AI_ERR_INVALID_INPUT', 'AI_ERR_WORKER_START_FAILED', 'AI_ERR_INPUT_TOO_LARGE'] as const) {
      expect(errorReport(new AiIntegrationError(code, ''), 'Function').headerType).toMatch(/^(Runtime|Function)\.[A-Z][a-zA-Z]+$/);
    }
  });
});
