// Structured outputs (`output({ label, score, mask: image(png) })`) in every mode, each in its own
// terms, against the real processes: the native API and Cog as JSON with data: URLs, the command
// line's files beside its JSON (-o DIR), KServe's one tensor per field (REST, its binary
// extension, and gRPC from Python's grpcio), SageMaker and Vertex as JSON, server-sent events of
// structured chunks, large file fields through the supervisor's byte stream, and the check's
// errors naming the field. The model: test/fixtures/fields-model.mjs.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { pythonCalls, pythonStubs, readBytesElements, serveGrpc } from '../helpers/grpc.js';
import { callJson, startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, runScript } from '../helpers/run-process.js';
import { openEventStream } from '../helpers/server-sent-events.js';
import { supervisorBin } from '../helpers/supervisor.js';
import { startUploadReceiver } from '../helpers/upload-receiver.js';

const model = fixture('fields-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'structured-'));
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const serve = async (mode: string, how: 'direct' | 'supervised' = 'direct', env: Record<string, string> = {}) => {
  const server = how === 'direct' ? await startServer(model, { MODE: mode, ...env }) : await startServer(supervisorBin, { MODE: mode, ...env }, [model]);
  servers.push(server);
  return server;
};

const bytesOf = (url: string) => {
  expect(url).toMatch(/^data:[^;,]+;base64,/);
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
};
const pngFacts = async (bytes: Buffer) => {
  const { format, width, height } = await sharp(bytes).metadata();
  const { channels } = await sharp(bytes).stats();
  return { format, width, height, shade: Math.round(channels[0]!.mean) };
};
// Byte i of the fixture's large files is i * 7 mod 251.
const isPattern = (bytes: Buffer, length: number) => bytes.length === length && bytes.every((byte, index) => byte === (index * 7) % 251);

/** The JSON form every JSON-speaking mode answers for kind "fields". */
async function expectFieldsJson(output: Record<string, any>) {
  expect(Object.keys(output)).toEqual(['label', 'score', 'count', 'ok', 'meta', 'mask', 'frames']);
  expect(output).toMatchObject({ label: 'cat x', score: 0.93, count: 3, ok: true, meta: { tags: ['a', 'b'], nothing: null } });
  expect(output.mask).toMatch(/^data:image\/png;base64,/);
  expect(await pngFacts(bytesOf(output.mask))).toEqual({ format: 'png', width: 4, height: 3, shade: 200 });
  expect(output.frames).toHaveLength(2);
  expect((await pngFacts(bytesOf(output.frames[1]))).shade).toBe(20);
}

describe('MODE=http: JSON with a data: URL per file', () => {
  test.each(['direct', 'supervised'] as const)('%s: /predict answers the fields; the check names a bad field', async (how) => {
    const server = await serve('http', how);
    const answer = await callJson(server.url, 'POST', '/predict', { inputs: { kind: 'fields' } });
    expect(answer.status).toBe(200);
    expect(answer.body.content_type).toBe('application/json');
    await expectFieldsJson(answer.body.output);

    const bad = await callJson(server.url, 'POST', '/predict', { inputs: { kind: 'bad' } });
    expect(bad.status).toBe(500);
    expect(bad.body.error).toEqual({
      code: 'AI_ERR_INVALID_RESULT',
      message: 'field "mask" says image/png but holds a jpeg image; build it with image(bytes)',
    });
    const nested = await callJson(server.url, 'POST', '/predict', { inputs: { kind: 'nested-bytes' } });
    expect(nested.body.error.message).toBe('field "meta".raw is bytes; wrap them as image(bytes) or file(bytes, \'application/octet-stream\')');
  });

  test('supervised: file fields past 64 KiB come back byte for byte (the byte stream), beside small ones', async () => {
    const server = await serve('http', 'supervised');
    for (let run = 0; run < 3; run++) {
      const answer = await callJson(server.url, 'POST', '/predict', { inputs: { kind: 'large' } });
      expect(answer.status).toBe(200);
      expect(answer.body.output.label).toBe('large');
      expect(answer.body.output.blob).toMatch(/^data:application\/octet-stream;base64,/);
      expect(isPattern(bytesOf(answer.body.output.blob), 200_000)).toBe(true);
      expect((await pngFacts(bytesOf(answer.body.output.frames[0]))).shade).toBe(30);
      expect(answer.body.output.frames[1]).toMatch(/^data:application\/x-npy;base64,/);
      expect(isPattern(bytesOf(answer.body.output.frames[1]), 100_000)).toBe(true);
    }
  });

  test.each(['direct', 'supervised'] as const)(
    '%s: a streaming model yields structured chunks as server-sent events; its last state is the result',
    async (how) => {
      const server = await serve('http', how);
      const stream = await openEventStream(`${server.url}/predict`, { inputs: { kind: 'stream', prompt: 'p' } });
      expect(stream.status).toBe(200);
      const events = await stream.rest();
      const outputs = events.filter((event) => event.event === 'output').map((event) => event.data);
      expect(outputs.map((chunk) => [chunk.step, chunk.prompt])).toEqual([
        [1, 'p'],
        [2, 'p'],
        [3, 'p'],
      ]);
      expect((await pngFacts(bytesOf(outputs[1].preview))).shade).toBe(120);
      const done = events.find((event) => event.event === 'done')!.data;
      expect(done.status).toBe('succeeded');
      expect(done.output.step).toBe(3);
      expect((await pngFacts(bytesOf(done.output.preview))).shade).toBe(180);
    },
  );

  test('the OpenAPI document describes each field; the page lists them', async () => {
    const server = await serve('http');
    const document = (await callJson(server.url, 'GET', '/openapi.json')).body;
    const validation = await new Validator().validate(document);
    expect(validation.errors ?? []).toEqual([]);
    expect(document.components.schemas.Prediction.properties.output).toEqual({ $ref: '#/components/schemas/Output' });
    const outputSchema = document.components.schemas.Output;
    expect(outputSchema.type).toBe('object');
    expect(outputSchema.required).toEqual(['label', 'score', 'count', 'ok', 'meta', 'mask', 'frames']);
    expect(outputSchema.properties.count).toEqual({ type: 'integer' });
    expect(outputSchema.properties.mask).toMatchObject({ type: 'string', format: 'uri', contentMediaType: 'image/png' });
    expect(outputSchema.properties.frames).toMatchObject({ type: 'array', items: { type: 'string', format: 'uri' } });
    const page = await (await request(`${server.url}/`)).body.text();
    expect(page).toContain('Returns the fields label (JSON), score (JSON), count (JSON), ok (JSON), meta (JSON), mask (an image, image/png), frames (images)');
  });
});

describe('MODE=cog', () => {
  test('POST /predictions answers the fields with data: URLs; the schema describes them', async () => {
    const server = await serve('cog', 'supervised');
    const answer = await callJson(server.url, 'POST', '/predictions', { input: { kind: 'fields' } });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('succeeded');
    await expectFieldsJson(answer.body.output);
    const document = (await callJson(server.url, 'GET', '/openapi.json')).body;
    expect(document.components.schemas.Output).toMatchObject({ title: 'Output', type: 'object' });
    expect(document.components.schemas.Output.properties.mask).toMatchObject({ type: 'string', format: 'uri' });
  });
});

describe('the command line and the stdin modes', () => {
  test('command_line -o DIR writes each file into the folder, and the JSON with their paths on stdout', async () => {
    const folder = join(scratch, 'out');
    const outcome = await runScript(model, { mode: 'command_line', args: ['--kind', 'fields', '-o', folder] });
    expect(outcome.code, outcome.stderr).toBe(0);
    const printed = JSON.parse(outcome.stdout.toString('utf8'));
    expect(printed).toMatchObject({
      label: 'cat x',
      score: 0.93,
      mask: join(folder, 'mask.png'),
      frames: [join(folder, 'frames-0.png'), join(folder, 'frames-1.png')],
    });
    expect(readdirSync(folder).sort()).toEqual(['frames-0.png', 'frames-1.png', 'mask.png']);
    expect(await pngFacts(readFileSync(join(folder, 'mask.png')))).toEqual({ format: 'png', width: 4, height: 3, shade: 200 });
    expect(outcome.stderr).toContain(`wrote 3 files of the structured output into ${folder}`);
  });

  test('command_line without -o, and test_inputs_dict_json: the JSON with data: URLs on stdout', async () => {
    const plain = await runScript(model, { mode: 'command_line', args: ['--kind', 'fields'] });
    expect(plain.code, plain.stderr).toBe(0);
    await expectFieldsJson(JSON.parse(plain.stdout.toString('utf8')));
    const piped = await runScript(supervisorBin, { mode: 'test_inputs_dict_json', args: [model], stdin: JSON.stringify({ kind: 'large' }) });
    expect(piped.code, piped.stderr).toBe(0);
    expect(isPattern(bytesOf(JSON.parse(piped.stdout.toString('utf8')).blob), 200_000)).toBe(true);
  });

  test('a bad field fails the command line with a message naming it', async () => {
    const outcome = await runScript(model, { mode: 'command_line', args: ['--kind', 'bad'] });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr).toContain('field "mask" says image/png but holds a jpeg image');
  });
});

describe('MODE=kserve: one output tensor per field', () => {
  const infer = (server: RunningServer, body: object, headers: Record<string, string> = {}) =>
    request(`${server.url}/v2/models/fields-model/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const kindTensor = { name: 'kind', datatype: 'BYTES', shape: [1], data: ['fields'] };

  test('REST: typed tensors in JSON, the same as binary data; the metadata lists the fields', async () => {
    const server = await serve('kserve', 'supervised');
    const metadata = (await callJson(server.url, 'GET', '/v2/models/fields-model')).body;
    expect(metadata.outputs).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [-1], parameters: { content_type: 'text/plain' } },
      { name: 'score', datatype: 'FP64', shape: [-1] },
      { name: 'count', datatype: 'INT64', shape: [-1] },
      { name: 'ok', datatype: 'BOOL', shape: [-1] },
      { name: 'meta', datatype: 'BYTES', shape: [-1], parameters: { content_type: 'application/json' } },
      { name: 'mask', datatype: 'BYTES', shape: [-1], parameters: { content_type: 'image/png' } },
      { name: 'frames', datatype: 'BYTES', shape: [-1, -1] },
    ]);

    const response = await infer(server, { inputs: [kindTensor] });
    expect(response.statusCode).toBe(200);
    const { outputs } = (await response.body.json()) as { outputs: any[] };
    const byName = Object.fromEntries(outputs.map((tensor) => [tensor.name, tensor]));
    expect(outputs.map((tensor) => tensor.name)).toEqual(['label', 'score', 'count', 'ok', 'meta', 'mask', 'frames']);
    expect(byName.label).toEqual({ name: 'label', datatype: 'BYTES', shape: [1], parameters: { content_type: 'text/plain' }, data: ['cat x'] });
    expect(byName.score).toEqual({ name: 'score', datatype: 'FP64', shape: [1], data: [0.93] });
    expect(byName.count).toEqual({ name: 'count', datatype: 'INT64', shape: [1], data: [3] });
    expect(byName.ok).toEqual({ name: 'ok', datatype: 'BOOL', shape: [1], data: [true] });
    expect(JSON.parse(byName.meta.data[0])).toEqual({ tags: ['a', 'b'], nothing: null });
    expect(byName.mask).toMatchObject({ datatype: 'BYTES', shape: [1], parameters: { content_type: 'image/png' } });
    expect((await pngFacts(Buffer.from(byName.mask.data[0], 'base64'))).shade).toBe(200);
    expect(byName.frames).toMatchObject({ datatype: 'BYTES', shape: [1, 2], parameters: { content_type: 'image/png' } });

    // The binary extension: each tensor's raw bytes after the JSON header, in order.
    const binary = await infer(server, { inputs: [kindTensor], parameters: { binary_data_output: true } });
    const body = Buffer.from(await binary.body.arrayBuffer());
    const headerLength = Number(binary.headers['inference-header-content-length']);
    const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { outputs: any[] };
    let offset = headerLength;
    const raw: Record<string, Buffer> = {};
    for (const tensor of header.outputs) {
      raw[tensor.name] = body.subarray(offset, offset + tensor.parameters.binary_data_size);
      offset += tensor.parameters.binary_data_size;
    }
    expect(offset).toBe(body.length);
    expect(raw.score!.readDoubleLE(0)).toBe(0.93);
    expect(raw.count!.readBigInt64LE(0)).toBe(3n);
    expect([...raw.ok!]).toEqual([1]);
    expect(readBytesElements(raw.label!).map(String)).toEqual(['cat x']);
    const frames = readBytesElements(raw.frames!);
    expect(frames).toHaveLength(2);
    expect((await pngFacts(frames[0]!)).shade).toBe(10);
  });

  test('gRPC from Python grpcio: typed contents, and raw contents', async () => {
    const stubs = await pythonStubs();
    try {
      const server = await serveGrpc(model);
      servers.push(server);
      const service = 'inference.GRPCInferenceService';
      const kind = { name: 'kind', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('fields').toString('base64')] } };
      const [typed, rawAnswer] = await pythonCalls(stubs.dir, server.grpc, [
        { method: `${service}/ModelInfer`, request: { model_name: 'fields-model', inputs: [kind] } },
        {
          method: `${service}/ModelInfer`,
          request: { model_name: 'fields-model', inputs: [kind], outputs: [{ name: 'output', parameters: { binary_data: { bool_param: true } } }] },
        },
      ]);
      expect(typed!.code).toBe('OK');
      const outputs = typed!.response.outputs as any[];
      expect(outputs.map((tensor) => [tensor.name, tensor.datatype, tensor.shape])).toEqual([
        ['label', 'BYTES', ['1']],
        ['score', 'FP64', ['1']],
        ['count', 'INT64', ['1']],
        ['ok', 'BOOL', ['1']],
        ['meta', 'BYTES', ['1']],
        ['mask', 'BYTES', ['1']],
        ['frames', 'BYTES', ['1', '2']],
      ]);
      expect(Buffer.from(outputs[0].contents.bytes_contents[0], 'base64').toString()).toBe('cat x');
      expect(outputs[1].contents.fp64_contents).toEqual([0.93]);
      expect(outputs[2].contents.int64_contents).toEqual(['3']);
      expect(outputs[3].contents.bool_contents).toEqual([true]);
      expect(outputs[5].parameters.content_type).toEqual({ string_param: 'image/png' });
      expect((await pngFacts(Buffer.from(outputs[5].contents.bytes_contents[0], 'base64'))).shade).toBe(200);

      expect(rawAnswer!.code).toBe('OK');
      const raw = (rawAnswer!.response.raw_output_contents as string[]).map((entry) => Buffer.from(entry, 'base64'));
      expect(raw).toHaveLength(7);
      expect(raw[1]!.readDoubleLE(0)).toBe(0.93);
      expect(raw[2]!.readBigInt64LE(0)).toBe(3n);
      expect((await pngFacts(readBytesElements(raw[6]!)[1]!)).shade).toBe(20);
    } finally {
      stubs.remove();
    }
  });
});

describe('SageMaker and Vertex: JSON', () => {
  test('MODE=sagemaker /invocations answers the JSON form', async () => {
    const server = await serve('sagemaker');
    const answer = await request(`${server.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'fields' }),
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    await expectFieldsJson((await answer.body.json()) as Record<string, any>);
  });

  test('MODE=vertex answers each prediction in the JSON form', async () => {
    const server = await serve('vertex');
    const answer = await callJson(server.url, 'POST', '/predict', { instances: [{ kind: 'fields' }] });
    expect(answer.status).toBe(200);
    await expectFieldsJson(answer.body.predictions[0]);
  });
});

describe('with OUTPUT_UPLOAD_URL', () => {
  test('each file field is uploaded as <field>.<ext> and answered by its URL; the data fields stay as they are', async () => {
    const receiver = await startUploadReceiver();
    try {
      const server = await serve('http', 'supervised', { OUTPUT_UPLOAD_URL: `${receiver.api}/signed`, URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts });
      const answer = await callJson(server.url, 'POST', '/predict', { inputs: { kind: 'fields' } }, { 'x-request-id': 'fields-1' });
      expect(answer.status).toBe(200);
      const base = `${receiver.bucket}/signed/fields-1`;
      expect(answer.body.output).toMatchObject({
        label: 'cat x',
        score: 0.93,
        mask: `${base}/mask.png`,
        frames: [`${base}/frames-0.png`, `${base}/frames-1.png`],
      });
      expect(answer.body.uploads.map((upload: { field: string }) => upload.field)).toEqual(['mask', 'frames-0', 'frames-1']);
      expect((await pngFacts(receiver.stored.get('/signed/fields-1/mask.png')!)).shade).toBe(200);
      expect((await pngFacts(receiver.stored.get('/signed/fields-1/frames-1.png')!)).shade).toBe(20);
      expect(JSON.stringify(answer.body)).not.toContain('data:');
    } finally {
      await receiver.close();
    }
  });
});
