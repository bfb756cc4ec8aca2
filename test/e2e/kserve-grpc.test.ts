// MODE=kserve over gRPC, called by Python's grpcio (Debian's python3-grpcio, stubs generated now
// from the package's .proto with python3-grpc-tools): every method, typed and raw contents, BYTES
// and numeric tensors, each failure's status, a deadline and a cancel reaching the model's
// AbortSignal, the bearer token, message limits, the health service as Kubernetes calls it, and
// reflection. The same model and core as REST: test/e2e/kserve.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { bytesElements, pythonCalls, pythonStubs, readBytesElements, serveGrpc, type PythonResult } from '../helpers/grpc.js';
import type { RunningServer } from '../helpers/http-server.js';
import { makeJpeg } from '../helpers/images.js';
import { fixture } from '../helpers/run-process.js';
import { eventually } from '../helpers/supervisor.js';

const httpModel = fixture('http-model.mjs');
const cancelModel = fixture('cancel-model.mjs');
const service = 'inference.GRPCInferenceService';
const scratch = mkdtempSync(join(tmpdir(), 'kserve-grpc-'));
let stubs: Awaited<ReturnType<typeof pythonStubs>>;
beforeAll(async () => {
  stubs = await pythonStubs();
});
afterAll(() => {
  stubs?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});
const serve = async (script: string, env: Record<string, string> = {}) => {
  const server = await serveGrpc(script, env);
  servers.push(server);
  return server;
};

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');
const tensor = (name: string, datatype: string, shape: number[], contents?: Record<string, unknown[]>) => ({
  name,
  datatype,
  shape,
  ...(contents ? { contents } : {}),
});
const infer = (request: object, extra: { metadata?: [string, string][]; timeout?: number } = {}) => ({ method: `${service}/ModelInfer`, request, ...extra });
/** The output's elements as text: typed bytes_contents, or raw_output_contents. */
const outputTexts = (result: PythonResult, index = 0): string[] => {
  const raw = result.response.raw_output_contents as string[] | undefined;
  if (raw) return readBytesElements(Buffer.from(raw[index]!, 'base64')).map((element) => element.toString('utf8'));
  return (result.response.outputs[index].contents.bytes_contents as string[]).map((element) => Buffer.from(element, 'base64').toString('utf8'));
};

describe('MODE=kserve over gRPC, called from Python grpcio', () => {
  test('the health and metadata methods, as REST answers them', async () => {
    const server = await serve(httpModel);
    const [live, ready, modelReady, otherVersion, serverMetadata, modelMetadata, otherModel] = await pythonCalls(stubs.dir, server.grpc, [
      { method: `${service}/ServerLive` },
      { method: `${service}/ServerReady` },
      { method: `${service}/ModelReady`, request: { name: 'http-model', version: '1' } },
      { method: `${service}/ModelReady`, request: { name: 'http-model', version: '7' } },
      { method: `${service}/ServerMetadata` },
      { method: `${service}/ModelMetadata`, request: { name: 'http-model' } },
      { method: `${service}/ModelMetadata`, request: { name: 'resnet' } },
    ]);
    expect(live!.response).toEqual({ live: true });
    expect(ready!.response).toEqual({ ready: true });
    expect(modelReady!.response).toEqual({ ready: true });
    expect(otherVersion).toMatchObject({ code: 'NOT_FOUND', details: "model 'http-model' has no version '7'; its version is '1'" });
    expect(serverMetadata!.response).toMatchObject({ name: 'ai-integration', extensions: ['binary_tensor_data'] });
    const rest = (await (await request(`${server.url}/v2/models/http-model`)).body.json()) as { inputs: { name: string; datatype: string }[] };
    expect(modelMetadata!.response).toMatchObject({ name: 'http-model', versions: ['1'], platform: 'ai-integration' });
    expect(modelMetadata!.response.inputs).toEqual(rest.inputs.map(({ name, datatype }) => ({ name, datatype, shape: ['-1'] })));
    expect(modelMetadata!.response.outputs).toEqual([{ name: 'output', datatype: 'BYTES', shape: ['-1'] }]);
    expect(otherModel).toMatchObject({ code: 'NOT_FOUND', details: "unknown model 'resnet'; this server serves 'http-model'" });
  });

  test('ModelInfer with typed contents: BYTES, FP32, INT64 and BOOL tensors, a batch of two, the id echoed, the request id in the metadata', async () => {
    const server = await serve(httpModel);
    const [answer] = await pythonCalls(stubs.dir, server.grpc, [
      infer(
        {
          model_name: 'http-model',
          id: 'call-1',
          inputs: [
            tensor('note', 'BYTES', [2], { bytes_contents: [b64('héllo'), b64('second')] }),
            tensor('strength', 'FP32', [2], { fp32_contents: [0.25, 1] }),
            tensor('delay_ms', 'INT64', [2], { int64_contents: ['0', '1'] }),
            tensor('flag', 'BOOL', [2], { bool_contents: [true, false] }),
          ],
        },
        { metadata: [['x-request-id', 'trace-42']] },
      ),
    ]);
    expect(answer!.code).toBe('OK');
    expect(answer!.initial_metadata!['x-request-id']).toBe('trace-42');
    expect(answer!.response).toMatchObject({ model_name: 'http-model', model_version: '1', id: 'call-1' });
    expect(answer!.response.outputs[0]).toMatchObject({
      name: 'output',
      datatype: 'BYTES',
      shape: ['2'],
      parameters: { content_type: { string_param: 'application/json' } },
    });
    expect(answer!.response.raw_output_contents).toBeUndefined();
    expect(outputTexts(answer!).map((text) => JSON.parse(text))).toEqual([
      { received: { image: null, strength: 0.25, flag: true, note: 'héllo' } },
      { received: { image: null, strength: 1, flag: false, note: 'second' } },
    ]);
  });

  test("ModelInfer with raw_input_contents (Triton's convention): BYTES, FP64, INT64 and BOOL inputs, the output in raw_output_contents", async () => {
    const server = await serve(httpModel);
    const fp64 = Buffer.alloc(8);
    fp64.writeDoubleLE(0.75);
    const int64 = Buffer.alloc(8);
    int64.writeBigInt64LE(2n);
    const [answer, typedOut] = await pythonCalls(stubs.dir, server.grpc, [
      infer({
        model_name: 'http-model',
        inputs: [tensor('note', 'BYTES', [1]), tensor('strength', 'FP64', [1]), tensor('delay_ms', 'INT64', [1]), tensor('flag', 'BOOL', [1])],
        raw_input_contents: [b64(bytesElements('raw note')), b64(fp64), b64(int64), b64(Buffer.from([1]))],
      }),
      // binary_data_output: false asks for typed contents even so.
      infer({
        model_name: 'http-model',
        parameters: { binary_data_output: { bool_param: false } },
        inputs: [tensor('note', 'BYTES', [1])],
        raw_input_contents: [b64(bytesElements('typed out'))],
      }),
    ]);
    expect(answer!.code).toBe('OK');
    expect(answer!.response.outputs[0].contents).toBeUndefined();
    expect(JSON.parse(outputTexts(answer!)[0]!)).toEqual({ received: { image: null, strength: 0.75, flag: true, note: 'raw note' } });
    expect(typedOut!.response.raw_output_contents).toBeUndefined();
    expect(JSON.parse(outputTexts(typedOut!)[0]!).received.note).toBe('typed out');
  });

  test('an image as a BYTES tensor, and an image result as the output bytes with its content type', async () => {
    const server = await serve(httpModel);
    const photo = await makeJpeg(20, 10);
    const [answer] = await pythonCalls(stubs.dir, server.grpc, [
      infer({
        model_name: 'http-model',
        inputs: [tensor('image', 'BYTES', [1], { bytes_contents: [b64(photo)] }), tensor('action', 'BYTES', [1], { bytes_contents: [b64('image')] })],
        outputs: [{ name: 'output', parameters: { binary_data: { bool_param: true } } }],
      }),
    ]);
    expect(answer!.response.outputs[0].parameters).toEqual({ content_type: { string_param: 'image/jpeg' } });
    const [jpeg] = readBytesElements(Buffer.from(answer!.response.raw_output_contents[0], 'base64'));
    expect(jpeg!.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  });

  test('failures answer with their status: INVALID_ARGUMENT naming the tensor, NOT_FOUND, INTERNAL for a failure the model reported', async () => {
    const server = await serve(httpModel);
    const results = await pythonCalls(stubs.dir, server.grpc, [
      infer({ model_name: 'http-model', inputs: [tensor('strength', 'FP32', [1], { fp32_contents: [3] })] }),
      infer({ model_name: 'http-model', inputs: [tensor('note', 'FP32', [1], { fp32_contents: [3] })] }),
      infer({ model_name: 'http-model', inputs: [tensor('note', 'BYTES', [2], { bytes_contents: [b64('one')] })] }),
      infer({ model_name: 'http-model', inputs: [tensor('delay_ms', 'INT64', [1], { int_contents: [1] })] }),
      infer({ model_name: 'http-model', inputs: [tensor('note', 'BYTES', [1]), tensor('flag', 'BOOL', [1])], raw_input_contents: [b64(bytesElements('x'))] }),
      infer({ model_name: 'http-model', inputs: [tensor('flag', 'BOOL', [1])], raw_input_contents: [b64(Buffer.from([1, 0]))] }),
      infer({ model_name: 'http-model', inputs: [tensor('action', 'BYTES', [1], { bytes_contents: [b64('dance')] })] }),
      infer({ model_name: 'http-model', model_version: '2', inputs: [] }),
      infer({ model_name: 'http-model', inputs: [tensor('action', 'BYTES', [1], { bytes_contents: [b64('fail')] })] }),
    ]);
    expect(results.map(({ code, details }) => ({ code, details }))).toEqual([
      { code: 'INVALID_ARGUMENT', details: 'strength: 3 is out of range; expected a number between 0 and 1' },
      { code: 'INVALID_ARGUMENT', details: "input tensor 'note': datatype FP32 does not fit the model's text input; send BYTES" },
      { code: 'INVALID_ARGUMENT', details: "input tensor 'note': its shape [2] has 2 elements, but contents.bytes_contents holds 1" },
      {
        code: 'INVALID_ARGUMENT',
        details: "input tensor 'delay_ms': its elements are in contents.int_contents, but INT64 elements go in contents.int64_contents",
      },
      {
        code: 'INVALID_ARGUMENT',
        details: 'raw_input_contents has 1 entry, but the request has 2 input tensors; send one entry per input tensor, in the order of inputs',
      },
      {
        code: 'INVALID_ARGUMENT',
        details: "input tensor 'flag': its raw_input_contents entry is 2 bytes, but its shape calls for 1 BOOL element of 1 byte, 1 byte in all",
      },
      { code: 'INVALID_ARGUMENT', details: expect.stringMatching(/^action: expected one of json, image, text/) },
      { code: 'NOT_FOUND', details: "model 'http-model' has no version '2'; its version is '1'" },
      { code: 'INTERNAL', details: expect.stringContaining('no face found in the image') },
    ]);
    expect(results[0]!.trailing_metadata!['ai-integration-error-code']).toBe('AI_ERR_INVALID_INPUT');
    // The same metrics and access log as REST: labelled by the method's path and the status REST answers.
    const metrics = await (await request(`${server.url}/metrics`)).body.text();
    expect(metrics).toMatch(/^http_requests_total\{route="\/inference\.GRPCInferenceService\/ModelInfer",method="POST",status="400"\} 7$/m);
    expect(metrics).toMatch(/^http_requests_total\{route="\/inference\.GRPCInferenceService\/ModelInfer",method="POST",status="404"\} 1$/m);
    expect(metrics).toMatch(/^inferences_total\{outcome="failed"\} 1$/m);
    expect(
      await eventually(
        () => /"POST \/inference\.GRPCInferenceService\/ModelInfer" 500 - [\d.]+ms request_id=\S+ grpc_status=INTERNAL/.test(server.stderr()),
        5000,
      ),
    ).toBe(true);
  });

  test('a client deadline that expires answers DEADLINE_EXCEEDED and aborts the model; a cancel does too; a full queue is RESOURCE_EXHAUSTED', async () => {
    const calls = join(scratch, 'calls-deadline.txt');
    const server = await serve(cancelModel, { CALLS_FILE: calls, CONCURRENCY: '1', MAX_QUEUE: '0' });
    const cooperative = (note: string) => ({
      model_name: 'cancel-model',
      inputs: [tensor('action', 'BYTES', [1], { bytes_contents: [b64('cooperative')] }), tensor('note', 'BYTES', [1], { bytes_contents: [b64(note)] })],
    });
    const quick = { model_name: 'cancel-model', inputs: [tensor('note', 'BYTES', [1], { bytes_contents: [b64('quick')] })] };
    const [expired, full, afterCancel] = await pythonCalls(stubs.dir, server.grpc, [
      infer(cooperative('deadline'), { timeout: 0.5 }),
      { await_line: 'abort deadline', file: calls },
      { method: `${service}/ModelInfer`, request: cooperative('held'), name: 'held', wait: false },
      { await_line: 'start held', file: calls },
      infer(quick),
      { cancel: 'held' },
      { await_line: 'abort held', file: calls },
      infer(quick),
    ]);
    expect(expired).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(full).toMatchObject({ code: 'RESOURCE_EXHAUSTED', details: 'the queue is full (0 requests waiting); retry later' });
    expect(full!.trailing_metadata!['retry-after']).toBe('1');
    expect(afterCancel!.code).toBe('OK');
    expect(readFileSync(calls, 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['start deadline', 'abort deadline', 'start held', 'abort held', 'start quick']),
    );
    // The server ends the call at the deadline it was sent; the client's own timer, started first,
    // may reset the stream a moment before, which the server sees as a cancel.
    expect(await eventually(() => /request_id=\S+ grpc_status=(DEADLINE_EXCEEDED|CANCELLED)$/m.test(server.stderr()), 5000)).toBe(true);
  });

  test('AUTH_TOKEN: the inference service and reflection need the bearer token from the authorization metadata; health and the probes do not', async () => {
    const server = await serve(httpModel, { AUTH_TOKEN: 'sesame' });
    const bearer: [string, string][] = [['authorization', 'Bearer sesame']];
    const note = { model_name: 'http-model', inputs: [tensor('note', 'BYTES', [1], { bytes_contents: [b64('hi')] })] };
    const [none, wrong, right, health, ready, reflectionNone, reflection] = await pythonCalls(stubs.dir, server.grpc, [
      infer(note),
      infer(note, { metadata: [['authorization', 'Bearer open']] }),
      infer(note, { metadata: bearer }),
      { method: 'grpc.health.v1.Health/Check', request: {} },
      { method: `${service}/ServerReady` },
      { reflection: 'list_services' },
      { reflection: 'list_services', metadata: bearer },
    ]);
    expect(none).toMatchObject({ code: 'UNAUTHENTICATED', details: 'this service needs a bearer token: send the metadata authorization: Bearer <token>' });
    expect(wrong).toMatchObject({ code: 'UNAUTHENTICATED', details: 'the bearer token is not the one this service expects' });
    expect(right!.code).toBe('OK');
    expect(health!.response).toEqual({ status: 'SERVING' });
    expect(ready!.response).toEqual({ ready: true });
    expect(reflectionNone!.code).toBe('UNAUTHENTICATED');
    expect(reflection!.services).toEqual(expect.arrayContaining(['grpc.health.v1.Health', service]));
  });

  test('the health service as a Kubernetes grpc probe calls it: the server and the inference service SERVING, another service NOT_FOUND', async () => {
    const server = await serve(httpModel);
    const [server_, inference, other] = await pythonCalls(stubs.dir, server.grpc, [
      { method: 'grpc.health.v1.Health/Check', request: {} },
      { method: 'grpc.health.v1.Health/Check', request: { service } },
      { method: 'grpc.health.v1.Health/Check', request: { service: 'payments.Ledger' } },
    ]);
    expect(server_!.response).toEqual({ status: 'SERVING' });
    expect(inference!.response).toEqual({ status: 'SERVING' });
    expect(other!.code).toBe('NOT_FOUND');
  });

  test('a message past MAX_INPUT_BYTES is RESOURCE_EXHAUSTED; one within it is served', async () => {
    const server = await serve(httpModel, { MAX_INPUT_BYTES: '4096' });
    const [big, small] = await pythonCalls(stubs.dir, server.grpc, [
      infer({ model_name: 'http-model', inputs: [tensor('note', 'BYTES', [1], { bytes_contents: [b64('x'.repeat(5000))] })] }),
      infer({ model_name: 'http-model', inputs: [tensor('note', 'BYTES', [1], { bytes_contents: [b64('x'.repeat(3000))] })] }),
    ]);
    expect(big).toMatchObject({ code: 'RESOURCE_EXHAUSTED', details: expect.stringMatching(/larger than max/) });
    expect(small!.code).toBe('OK');
  });

  test("run directly, a throw is INTERNAL with the model's message, then the process exits 70 to be restarted", async () => {
    const server = await serve(httpModel);
    const [thrown] = await pythonCalls(stubs.dir, server.grpc, [
      infer({ model_name: 'http-model', inputs: [tensor('action', 'BYTES', [1], { bytes_contents: [b64('throw')] })] }),
    ]);
    expect(thrown).toMatchObject({ code: 'INTERNAL', details: 'the inference function threw: CUDA error: device-side assert triggered' });
    expect(await server.exited).toEqual({ code: 70, signal: null });
  });

  test('GRPC_PORT=0 serves REST only', async () => {
    const { startServer } = await import('../helpers/http-server.js');
    const server = await startServer(httpModel, { MODE: 'kserve', GRPC_PORT: '0' });
    servers.push(server);
    expect((await request(`${server.url}/v2/health/ready`)).statusCode).toBe(200);
    expect(server.stderr()).not.toMatch(/grpc:\/\//);
  });
});
