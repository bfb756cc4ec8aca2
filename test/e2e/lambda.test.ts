// MODE=lambda against a Lambda runtime API on loopback (test/helpers/lambda-runtime-api.ts): the
// built fixture runs as Lambda would run the container, run directly and under the supervisor.
import { spawn, type ChildProcess } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { makeJpeg } from '../helpers/images.js';
import { startRuntimeApi, type LambdaRuntimeApi, type Posted } from '../helpers/lambda-runtime-api.js';
import { fixture, repoRoot } from '../helpers/run-process.js';
import { eventually, processState, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('lambda-model.mjs');
const thrown = 'the inference function threw: CUDA error: device-side assert triggered';
const traceId = 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1';

interface RunningFunction {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node script ...args` as the function, with MODE=lambda and the runtime API's address. */
function startFunction(api: LambdaRuntimeApi | undefined, env: Record<string, string> = {}, script = model, args: string[] = []): RunningFunction {
  const base: Record<string, string> = { ...(process.env as Record<string, string>), MODE: 'lambda' };
  delete base.AWS_LAMBDA_RUNTIME_API;
  delete base._X_AMZN_TRACE_ID;
  if (api) base.AWS_LAMBDA_RUNTIME_API = api.address;
  const child = spawn(process.execPath, [script, ...args], { cwd: repoRoot, env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stderr: () => stderr,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A REST API (payload format 1.0) proxy event, as API Gateway sends it. */
function restEvent(method: string, body: Buffer | string | null, headers: Record<string, string>, query: Record<string, string> | null = null) {
  const binary = Buffer.isBuffer(body);
  return {
    resource: '/{proxy+}',
    path: '/predict',
    httpMethod: method,
    headers: { Accept: '*/*', Host: 'abc123.execute-api.us-east-1.amazonaws.com', ...headers },
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]])),
    pathParameters: { proxy: 'predict' },
    stageVariables: null,
    requestContext: {
      resourcePath: '/{proxy+}',
      httpMethod: method,
      path: '/prod/predict',
      stage: 'prod',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      accountId: '123456789012',
      apiId: 'abc123',
      identity: { sourceIp: '192.0.2.1' },
      requestTimeEpoch: 1700000000000,
    },
    body: binary ? body.toString('base64') : body,
    isBase64Encoded: binary,
  };
}

/** An HTTP API / function URL (payload format 2.0) proxy event. */
function httpApiEvent(method: string, body: Buffer | string | null, headers: Record<string, string>, query?: Record<string, string>) {
  const binary = Buffer.isBuffer(body);
  const rawQueryString = query ? new URLSearchParams(query).toString() : '';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/predict',
    rawQueryString,
    headers: {
      accept: '*/*',
      host: 'abcdefg.lambda-url.us-east-1.on.aws',
      ...Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    },
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdefg',
      domainName: 'abcdefg.lambda-url.us-east-1.on.aws',
      http: { method, path: '/predict', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl/8.5.0' },
      requestId: 'd9f2b1a0-0000-4000-8000-000000000000',
      routeKey: '$default',
      stage: '$default',
      time: '12/Mar/2024:19:03:58 +0000',
      timeEpoch: 1710270238000,
    },
    ...(body === null ? {} : { body: binary ? body.toString('base64') : body }),
    isBase64Encoded: binary,
  };
}

/** The proxy response the function posted, checked for the shape a gateway expects. */
function proxyResponse(posted: Posted): { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded: boolean; json: any } {
  expect(posted.kind).toBe('response');
  expect(posted.status).toBe(202);
  const response = posted.json();
  expect(Object.keys(response).sort()).toEqual(['body', 'headers', 'isBase64Encoded', 'statusCode']);
  expect(typeof response.statusCode).toBe('number');
  expect(typeof response.body).toBe('string');
  const type = String(response.headers['content-type'] ?? '');
  return { ...response, json: type.startsWith('application/json') && response.body !== '' ? JSON.parse(response.body) : undefined };
}

/** The invocation error the function posted: its body and its Lambda-Runtime-Function-Error-Type header. */
function invocationError(posted: Posted, errorType: string, headerType: string): { errorMessage: string; errorType: string; stackTrace: string[] } {
  expect(posted.kind, posted.body.toString('utf8')).toBe('error');
  expect(posted.headers['lambda-runtime-function-error-type']).toBe(headerType);
  expect(posted.headers['content-type']).toBe('application/json');
  const report = posted.json();
  expect(Object.keys(report).sort()).toEqual(['errorMessage', 'errorType', 'stackTrace']);
  expect(report.errorType).toBe(errorType);
  expect(Array.isArray(report.stackTrace)).toBe(true);
  return report;
}

/** Mean brightness of an image, to see that the model's negation came back. */
async function meanOf(image: Buffer): Promise<number> {
  const { channels } = await sharp(image).stats();
  return channels.slice(0, 3).reduce((sum, channel) => sum + channel.mean, 0) / 3;
}

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await makeJpeg(64, 48);
});

describe('MODE=lambda, run directly: plain events', () => {
  let api: LambdaRuntimeApi;
  let fn: RunningFunction;
  beforeAll(async () => {
    api = await startRuntimeApi();
    fn = startFunction(api);
  });
  afterAll(async () => {
    await fn.stop();
    await api.close();
  });

  test('an inputs object is an invocation: the response is the native envelope, and the invocation headers reach the function', async () => {
    const posted = await api.invoke({ image: jpeg.toString('base64'), note: 'plain', strength: 0.25 }, { requestId: 'req-plain-1' });
    expect(posted.kind).toBe('response');
    expect(posted.requestId).toBe('req-plain-1');
    expect(posted.headers['content-type']).toBe('application/json');
    const answer = posted.json();
    expect(Object.keys(answer)).toEqual(['id', 'status', 'output', 'content_type', 'metrics']);
    expect(answer).toMatchObject({
      id: 'req-plain-1',
      status: 'succeeded',
      output: { image: '64x48 jpeg', strength: 0.25, note: 'plain', trace: null, pid: fn.child.pid },
      content_type: 'application/json',
    });
    expect(answer.metrics.predict_time_ms).toBeGreaterThanOrEqual(0);
    // The headers the function was handed are the documented ones.
    const handed = api.handedOut.find((entry) => entry.requestId === 'req-plain-1')!;
    expect(Object.keys(handed.headers).sort()).toEqual(['Lambda-Runtime-Aws-Request-Id', 'Lambda-Runtime-Deadline-Ms', 'Lambda-Runtime-Invoked-Function-Arn']);
  });

  test('the native API\'s {"inputs": {...}} and data: URLs work too; binary output is a data: URL, text stays text', async () => {
    const wrapped = (await api.invoke({ inputs: { image: `data:image/jpeg;base64,${jpeg.toString('base64')}`, note: 'wrapped' } })).json();
    expect(wrapped.output).toMatchObject({ image: '64x48 jpeg', note: 'wrapped' });

    const image = (await api.invoke({ image: jpeg.toString('base64'), action: 'image' })).json();
    expect(image.content_type).toBe('image/jpeg');
    const match = /^data:image\/jpeg;base64,(.+)$/.exec(image.output);
    expect(match).not.toBeNull();
    const bytes = Buffer.from(match![1]!, 'base64');
    expect((await sharp(bytes).metadata()).format).toBe('jpeg');
    expect(Math.abs((await meanOf(bytes)) - (255 - (await meanOf(jpeg))))).toBeLessThan(8);

    const text = (await api.invoke({ action: 'text', note: 'you' })).json();
    expect(text).toMatchObject({ output: 'hello you', content_type: 'text/plain; charset=utf-8' });
  });

  test("the caller's mistakes and the model's failures are invocation errors whose errorType is the error code; the function carries on", async () => {
    const invalid = invocationError(await api.invoke({ strength: 2 }), 'AI_ERR_INVALID_INPUT', 'Function.InvalidInput');
    expect(invalid.errorMessage).toBe('strength: 2 is out of range; expected a number between 0 and 1');
    expect(invalid.stackTrace).toEqual([]);

    const notImage = invocationError(
      await api.invoke({ image: Buffer.from('not an image at all').toString('base64') }),
      'AI_ERR_INVALID_INPUT',
      'Function.InvalidInput',
    );
    expect(notImage.errorMessage).toMatch(/^image: is not an image that can be decoded/);

    const notObject = invocationError(await api.invoke(['image']), 'AI_ERR_MALFORMED_INPUT', 'Function.MalformedInput');
    expect(notObject.errorMessage).toBe('the event must be an inputs object such as {"image": "<base64>"} (or {"inputs": {...}}), got an array');

    const notJson = invocationError(await api.invokeRaw('{"image": '), 'AI_ERR_MALFORMED_INPUT', 'Function.MalformedInput');
    expect(notJson.errorMessage).toMatch(/^the event is not valid JSON/);

    const failed = invocationError(await api.invoke({ action: 'fail' }), 'AI_ERR_MODEL_FAILED', 'Function.ModelFailed');
    expect(failed.errorMessage).toBe('the model reported a failure: no face found in the image');

    const after = (await api.invoke({ note: 'still here' })).json();
    expect(after.output).toMatchObject({ note: 'still here', pid: fn.child.pid });
  });

  test('Lambda-Runtime-Trace-Id reaches the model as process.env._X_AMZN_TRACE_ID, for that invocation only', async () => {
    expect((await api.invoke({ note: 'traced' }, { traceId })).json().output.trace).toBe(traceId);
    const other = 'Root=1-65f0a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0';
    expect((await api.invoke({ note: 'traced again' }, { traceId: other })).json().output.trace).toBe(other);
    expect((await api.invoke({ note: 'untraced' })).json().output.trace).toBeNull();
  });

  test('a response over the payload limit is refused by the runtime API (413); the function logs it and serves the next invocation', async () => {
    api.maxResponseBytes = 200;
    try {
      const refused = await api.invoke({ image: jpeg.toString('base64'), action: 'image' });
      expect(refused.status).toBe(413);
    } finally {
      api.maxResponseBytes = 6 * 1024 * 1024 + 100;
    }
    expect((await api.invoke({ note: 'small' })).json().output.note).toBe('small');
    expect(fn.stderr()).toContain("the response is larger than Lambda's payload limit");
  });

  test('an invocation whose deadline has passed is answered with AI_ERR_TIMEOUT without running the model; the function carries on', async () => {
    const late = invocationError(await api.invoke({ note: 'late' }, { deadlineMs: Date.now() - 1000 }), 'AI_ERR_TIMEOUT', 'Function.Timeout');
    expect(late.errorMessage).toBe("no time was left to run the inference before the Lambda invocation's deadline, less LAMBDA_DEADLINE_MARGIN_MS of 200 ms");
    expect((await api.invoke({ note: 'on time' })).json().output).toMatchObject({ note: 'on time', pid: fn.child.pid });
  });
});

describe('MODE=lambda, run directly: API Gateway and function URL events', () => {
  let api: LambdaRuntimeApi;
  let fn: RunningFunction;
  beforeAll(async () => {
    api = await startRuntimeApi();
    fn = startFunction(api);
  });
  afterAll(async () => {
    await fn.stop();
    await api.close();
  });

  for (const [name, event] of [
    ['REST API (payload 1.0)', restEvent],
    ['HTTP API / function URL (payload 2.0)', httpApiEvent],
  ] as const) {
    test(`${name}: a raw JPEG in (base64, isBase64Encoded), a JPEG out as base64 with isBase64Encoded and its content type`, async () => {
      const posted = await api.invoke(event('POST', jpeg, { 'Content-Type': 'image/jpeg' }, { action: 'image' }), { requestId: `proxy-${name.length}` });
      const response = proxyResponse(posted);
      expect(response.statusCode).toBe(200);
      expect(response.isBase64Encoded).toBe(true);
      expect(response.headers['content-type']).toBe('image/jpeg');
      expect(response.headers['x-request-id']).toBe(`proxy-${name.length}`);
      const bytes = Buffer.from(response.body, 'base64');
      const metadata = await sharp(bytes).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual(['jpeg', 64, 48]);
      expect(Math.abs((await meanOf(bytes)) - (255 - (await meanOf(jpeg))))).toBeLessThan(8);
    });

    test(`${name}: JSON in, JSON out as text; the query string does not reach a JSON body's inputs`, async () => {
      const body = JSON.stringify({ inputs: { image: jpeg.toString('base64'), note: 'json body' } });
      const response = proxyResponse(await api.invoke(event('POST', body, { 'Content-Type': 'application/json' }, { note: 'ignored' })));
      expect(response.statusCode).toBe(200);
      expect(response.isBase64Encoded).toBe(false);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.json).toMatchObject({ image: '64x48 jpeg', note: 'json body' });
    });

    test(`${name}: the caller's mistakes are 4xx proxy responses in the native error shape, not invocation errors`, async () => {
      const invalid = proxyResponse(
        await api.invoke(event('POST', JSON.stringify({ strength: 5 }), { 'Content-Type': 'application/json' }), { requestId: 'bad-strength' }),
      );
      expect(invalid.statusCode).toBe(422);
      expect(invalid.json).toEqual({
        id: 'bad-strength',
        status: 'failed',
        error: { code: 'AI_ERR_INVALID_INPUT', message: 'strength: 5 is out of range; expected a number between 0 and 1', field: 'strength' },
      });

      const malformed = proxyResponse(await api.invoke(event('POST', '{"strength": ', { 'Content-Type': 'application/json' })));
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json.error.code).toBe('AI_ERR_MALFORMED_INPUT');

      const csv = proxyResponse(await api.invoke(event('POST', 'a,b\n1,2', { 'Content-Type': 'text/csv' })));
      expect(csv.statusCode).toBe(415);
      expect(csv.json.error.message).toBe(
        'the content type "text/csv" is not accepted here; send application/json, or multipart/form-data, or the raw bytes of image (image/* or application/octet-stream)',
      );

      const method = proxyResponse(await api.invoke(event('DELETE', null, {})));
      expect(method.statusCode).toBe(405);
      expect(method.headers.allow).toBe('GET, HEAD, POST');

      expect(api.posted.filter((entry) => entry.kind === 'error')).toEqual([]);
    });
  }

  test('multipart/form-data through a gateway: files and fields, with the form limits', async () => {
    const form = new FormData();
    form.append('image', new Blob([jpeg], { type: 'image/jpeg' }), 'photo.jpg');
    form.append('note', 'from a form');
    form.append('strength', '0.75');
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    const response = proxyResponse(await api.invoke(restEvent('POST', body, { 'Content-Type': encoded.headers.get('content-type')! })));
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ image: '64x48 jpeg', note: 'from a form', strength: 0.75 });
  });

  test("GET answers what the model takes; the model's failure and a too-large body have their status codes", async () => {
    const info = proxyResponse(await api.invoke(httpApiEvent('GET', null, {})));
    expect(info.statusCode).toBe(200);
    expect(info.json).toMatchObject({ model: { name: 'lambda-model', version: '1' }, mode: 'lambda', schema: { image: { type: 'image', required: false } } });

    const failed = proxyResponse(await api.invoke(httpApiEvent('POST', JSON.stringify({ action: 'fail' }), { 'content-type': 'application/json' })));
    expect(failed.statusCode).toBe(500);
    expect(failed.json.error).toEqual({ code: 'AI_ERR_MODEL_FAILED', message: 'the model reported a failure: no face found in the image' });

    const gzip = proxyResponse(
      await api.invoke(httpApiEvent('POST', gzipSync(JSON.stringify({ note: 'zipped' })), { 'content-type': 'application/json', 'content-encoding': 'gzip' })),
    );
    expect(gzip.json).toMatchObject({ note: 'zipped' });
  });
});

describe('MODE=lambda, run directly: faults and startup', () => {
  const started: { api: LambdaRuntimeApi; fn: RunningFunction }[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const api = await startRuntimeApi();
    const fn = startFunction(api, env);
    started.push({ api, fn });
    return { api, fn };
  };
  afterEach(async () => {
    for (const { api, fn } of started.splice(0)) {
      await fn.stop();
      await api.close();
    }
  });

  test("a throw: the error (with the model's stack) is posted for that invocation, then the process exits 70 to be restarted", async () => {
    const { api, fn } = await start();
    const report = invocationError(await api.invoke({ action: 'throw' }, { traceId }), 'AI_ERR_INFERENCE_THREW', 'Function.InferenceThrew');
    expect(report.errorMessage).toBe(thrown);
    expect(report.stackTrace[0]).toBe('Error: CUDA error: device-side assert triggered');
    expect(report.stackTrace.some((line) => line.includes('lambda-model.mjs'))).toBe(true);
    expect((await fn.exited).code).toBe(70);
    expect(fn.stderr()).toContain('exits with code 70 to be restarted');
  });

  test('an inference past the deadline less the margin is reported as AI_ERR_TIMEOUT, then the process exits 70 (the model is stuck)', async () => {
    const { api, fn } = await start({ LAMBDA_DEADLINE_MARGIN_MS: '300' });
    const report = invocationError(await api.invoke({ action: 'hang' }, { timeoutMs: 1500 }), 'AI_ERR_TIMEOUT', 'Function.Timeout');
    const limit = "the time left before the Lambda invocation's deadline, less LAMBDA_DEADLINE_MARGIN_MS of 300 ms";
    const match = /^the inference did not finish within (\d+) ms \((.*)\); the process exits to be restarted$/.exec(report.errorMessage);
    expect(match, report.errorMessage).not.toBeNull();
    expect(match![2]).toBe(limit);
    // The budget is what the deadline left, less the margin.
    const ms = Number(match![1]);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(1200);
    expect((await fn.exited).code).toBe(70);
    // The log names the limit that applied: the deadline, not INFERENCE_TIMEOUT_MS (which Lambda mode leaves unset).
    expect(fn.stderr()).toContain(`error: an inference ran past ${ms} ms (${limit}): the model is stuck, so this process exits to be restarted`);
    expect(fn.stderr()).not.toContain('INFERENCE_TIMEOUT_MS');
  });

  test('an error in the settings before the first invocation goes to init/error, and the process exits 3', async () => {
    const { api, fn } = await start({ LAMBDA_DEADLINE_MARGIN_MS: 'soon' });
    const posted = await api.initError();
    expect(posted.status).toBe(202);
    expect(posted.headers['lambda-runtime-function-error-type']).toBe('Runtime.InvalidOption');
    expect(posted.json()).toEqual({
      errorMessage: 'LAMBDA_DEADLINE_MARGIN_MS="soon" is not a whole number of milliseconds from 0 to 2147483647',
      errorType: 'AI_ERR_INVALID_OPTION',
      stackTrace: [],
    });
    expect((await fn.exited).code).toBe(3);
    expect(api.handedOut).toEqual([]);
  });

  test('an invalid schema, found before the mode runs, goes to init/error too: directly, and when the worker fails to start under the supervisor', async () => {
    for (const [script, args] of [
      [fixture('bad-schema-model.mjs'), []],
      [supervisorBin, [fixture('bad-schema-model.mjs')]],
    ] as const) {
      const api = await startRuntimeApi();
      try {
        const fn = startFunction(api, { BAD_SCHEMA: JSON.stringify({ image: { type: 'float' } }) }, script, [...args]);
        expect((await fn.exited).code).toBe(3);
        const posted = await api.initError();
        expect(posted.status).toBe(202);
        expect(posted.headers['lambda-runtime-function-error-type']).toMatch(/^Runtime\.[A-Z][A-Za-z]+$/);
        expect(posted.json().errorMessage).toContain('image');
        expect(posted.json().errorMessage).toContain('number');
        expect(api.handedOut).toEqual([]);
      } finally {
        await api.close();
      }
    }
  });

  test('without AWS_LAMBDA_RUNTIME_API the mode says where it runs and exits 3', async () => {
    const fn = startFunction(undefined);
    expect((await fn.exited).code).toBe(3);
    expect(fn.stderr()).toContain(
      'error: AWS_LAMBDA_RUNTIME_API is not set: MODE=lambda runs inside AWS Lambda, or locally under the Lambda runtime interface emulator (aws-lambda-rie)',
    );
  });

  test('a runtime API that cannot be reached at the start is exit 3 naming the address', async () => {
    const api = await startRuntimeApi();
    const address = api.address;
    await api.close();
    const fn = startFunction(undefined, { AWS_LAMBDA_RUNTIME_API: address });
    expect((await fn.exited).code).toBe(3);
    expect(fn.stderr()).toContain(`the Lambda runtime API at ${address} (AWS_LAMBDA_RUNTIME_API) cannot be reached`);
  });

  test('an event over MAX_INPUT_BYTES is refused for that invocation; the function carries on', async () => {
    const { api, fn } = await start({ MAX_INPUT_BYTES: '500' });
    const report = invocationError(await api.invoke({ image: jpeg.toString('base64') }), 'AI_ERR_INPUT_TOO_LARGE', 'Function.InputTooLarge');
    expect(report.errorMessage).toBe('the event is larger than 500 bytes (the limit; raise it with MAX_INPUT_BYTES)');
    expect((await api.invoke({ note: 'small' })).json().output).toMatchObject({ note: 'small', pid: fn.child.pid });
  });

  test('SIGTERM during an invocation: it is answered, then the process exits 0', async () => {
    const signals = modelSignals();
    try {
      const { api, fn } = await start(signals.env);
      // Held in the model until SIGTERM has been received.
      signals.hold('slow');
      const answered = api.invoke({ note: 'slow' }, { requestId: 'in-progress' });
      expect(await signals.started('slow')).toBe(true);
      fn.child.kill('SIGTERM');
      expect(await eventually(() => fn.stderr().includes('SIGTERM: exiting once the invocation in progress is answered'), 20_000)).toBe(true);
      signals.release('slow');
      const posted = await answered;
      expect(posted.kind).toBe('response');
      expect(posted.json().output.note).toBe('slow');
      expect((await fn.exited).code).toBe(0);
    } finally {
      signals.remove();
    }
  });

  test('SIGTERM while waiting for an invocation ends the process with exit 0', async () => {
    const { api, fn } = await start();
    await api.invoke({ note: 'one' });
    await api.nextWaiting();
    expect(api.waitingNext()).toBe(1);
    expect((await fn.stop()).code).toBe(0);
  });
});

describe('MODE=lambda under the supervisor (node dist/cli.js shim)', () => {
  let api: LambdaRuntimeApi;
  let fn: RunningFunction;
  beforeAll(async () => {
    api = await startRuntimeApi();
    fn = startFunction(api, { WORKER_KILL_GRACE_MS: '500' }, supervisorBin, [model]);
  });
  afterAll(async () => {
    await fn.stop();
    await api.close();
  });

  test('the model runs in the worker, and the trace id reaches it there', async () => {
    const first = (await api.invoke({ note: 'worker' }, { traceId })).json().output;
    expect(first.note).toBe('worker');
    expect(first.pid).not.toBe(fn.child.pid);
    expect(first.trace).toBe(traceId);
    expect((await api.invoke({ note: 'no trace' })).json().output.trace).toBeNull();
  });

  test('a throw: that invocation gets the error, the worker restarts, and the next invocations are served', async () => {
    const before = (await api.invoke({ note: 'before' })).json().output.pid;
    const report = invocationError(await api.invoke({ action: 'throw' }), 'AI_ERR_INFERENCE_THREW', 'Function.InferenceThrew');
    expect(report.errorMessage).toBe(thrown);
    expect(report.stackTrace[0]).toBe('Error: CUDA error: device-side assert triggered');
    const after = await Promise.all([api.invoke({ note: 'after 1' }, { traceId }), api.invoke({ note: 'after 2' })]);
    expect(after.map((posted) => posted.json().output.note)).toEqual(['after 1', 'after 2']);
    expect(after[0]!.json().output.trace).toBe(traceId);
    expect(after[0]!.json().output.pid).not.toBe(before);
    expect(fn.child.exitCode).toBeNull();
    // A proxy event's throw is a 500 proxy response, and service goes on just the same.
    const proxied = proxyResponse(await api.invoke(httpApiEvent('POST', JSON.stringify({ action: 'throw' }), { 'content-type': 'application/json' })));
    expect(proxied.statusCode).toBe(500);
    expect(proxied.json.error).toEqual({ code: 'AI_ERR_INFERENCE_THREW', message: thrown });
    expect((await api.invoke({ note: 'after proxy' })).json().output.note).toBe('after proxy');
  });

  test('an inference past the deadline: that invocation gets AI_ERR_TIMEOUT, the worker is replaced, and service goes on', async () => {
    const before = (await api.invoke({ note: 'before hang' })).json().output.pid;
    const report = invocationError(await api.invoke({ action: 'hang' }, { timeoutMs: 1500 }), 'AI_ERR_TIMEOUT', 'Function.Timeout');
    const limit = "the time left before the Lambda invocation's deadline, less LAMBDA_DEADLINE_MARGIN_MS of 200 ms";
    const match = /^the inference did not finish within (\d+) ms \((.*)\); the model worker is being replaced$/.exec(report.errorMessage);
    expect(match, report.errorMessage).not.toBeNull();
    expect(match![2]).toBe(limit);
    // The supervisor's log names the same limit, with the same figure: the deadline, not INFERENCE_TIMEOUT_MS.
    expect(fn.stderr()).toContain(
      `error: the model worker did not finish an inference within ${match![1]} ms (${limit}); stopping it (SIGTERM, then SIGKILL after 500 ms) and starting a new one\n`,
    );
    expect(fn.stderr()).not.toContain('INFERENCE_TIMEOUT_MS');
    const after = (await api.invoke({ note: 'after hang' })).json().output;
    expect(after.note).toBe('after hang');
    expect(after.pid).not.toBe(before);
    expect(fn.child.exitCode).toBeNull();
  });

  test('a worker that dies during an invocation: that invocation gets AI_ERR_WORKER_DIED, a new worker serves the next', async () => {
    const before = (await api.invoke({ note: 'before crash' })).json().output.pid;
    const report = invocationError(await api.invoke({ action: 'die' }), 'AI_ERR_WORKER_DIED', 'Function.WorkerDied');
    expect(report.errorMessage).toBe('the model worker died (exit code 9) during this inference; it is being restarted');
    const after = (await api.invoke({ note: 'after crash' })).json().output;
    expect(after.note).toBe('after crash');
    expect(after.pid).not.toBe(before);
  });

  test('SIGTERM while waiting for an invocation: the supervisor stops its worker and exits 0', async () => {
    const worker = (await api.invoke({ note: 'last' })).json().output.pid as number;
    await api.nextWaiting();
    expect((await fn.stop()).code).toBe(0);
    expect(processState(worker)).toBeUndefined();
  });
});

describe('MODE=lambda, run directly: a structured output (output({ ... }))', () => {
  let api: LambdaRuntimeApi;
  let fn: RunningFunction;
  beforeAll(async () => {
    api = await startRuntimeApi();
    fn = startFunction(api, {}, fixture('fields-model.mjs'));
  });
  afterAll(async () => {
    await fn.stop();
    await api.close();
  });

  /** The PNG a data: URL holds, with its size and shade. */
  async function pngOf(dataUrl: string) {
    expect(dataUrl).toMatch(/^data:image\/png;base64,/);
    const bytes = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    const metadata = await sharp(bytes).metadata();
    return { format: metadata.format, width: metadata.width, height: metadata.height, shade: Math.round(await meanOf(bytes)) };
  }

  test("a plain event: the envelope's output holds the data fields as they are and each file as a data: URL", async () => {
    const answer = (await api.invoke({ kind: 'fields', prompt: 'on a mat' })).json();
    expect(answer).toMatchObject({ status: 'succeeded', content_type: 'application/json' });
    expect(answer.output).toMatchObject({ label: 'cat on a mat', score: 0.93, count: 3, ok: true, meta: { tags: ['a', 'b'], nothing: null } });
    expect(await pngOf(answer.output.mask)).toEqual({ format: 'png', width: 4, height: 3, shade: 200 });
    expect(await Promise.all(answer.output.frames.map(pngOf))).toEqual([
      { format: 'png', width: 4, height: 3, shade: 10 },
      { format: 'png', width: 4, height: 3, shade: 20 },
    ]);
  });

  test("an API Gateway event: the proxy response's body is the same JSON, as text", async () => {
    const response = proxyResponse(
      await api.invoke(restEvent('POST', JSON.stringify({ kind: 'fields', prompt: 'proxy' }), { 'Content-Type': 'application/json' })),
    );
    expect(response.statusCode).toBe(200);
    expect(response.isBase64Encoded).toBe(false);
    expect(response.json).toMatchObject({ label: 'cat proxy', score: 0.93 });
    expect(await pngOf(response.json.mask)).toEqual({ format: 'png', width: 4, height: 3, shade: 200 });
  });

  test('a field that breaks its declared type fails the invocation naming the field', async () => {
    const failed = invocationError(await api.invoke({ kind: 'bad' }), 'AI_ERR_INVALID_RESULT', 'Function.InvalidResult');
    expect(failed.errorMessage).toMatch(/field "mask" says image\/png but holds a jpeg image/);
    // The function carries on.
    expect((await api.invoke({ kind: 'fields', prompt: 'after' })).json().output.label).toBe('cat after');
  });
});
