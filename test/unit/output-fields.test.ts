// Structured outputs' pure parts: the helper and its errors, the result check naming the field,
// the JSON form, the file walk, the stream's final result, the output description of fields, the
// byte stream's round trip of large file fields, and KServe's tensors of a batch.
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import { serialize, deserialize } from 'node:v8';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkResult } from '../../src/result/check-result.js';
import { validateOutputDescription } from '../../src/result/output-description.js';
import { fileExtension, fileFieldName, fileFields, fileBuffersInPlace, output, outputJson } from '../../src/result/output-fields.js';
import { file, image, json, text } from '../../src/result/result-helpers.js';
import { collectChunks } from '../../src/result/result-stream.js';
import { resultBytes } from '../../src/result/write-result.js';
import { ByteChannel, streamedValueThreshold, takeLargeResultValues, type StreamedValues } from '../../src/supervisor/byte-channel.js';
import { fieldTensors, rawElements } from '../../modes/kserve/field-tensors.js';
import { encodeInferResponse } from '../../modes/kserve/infer-response.js';
import type { FieldsOutputDescription, InferenceResult } from '../../src/types.js';
import { makeJpeg, makePng } from '../helpers/images.js';

let png: Buffer;
let jpeg: Buffer;
beforeAll(async () => {
  png = await makePng(4, 3, { r: 9, g: 9, b: 9 });
  jpeg = await makeJpeg(4, 3);
});

describe('output(fields)', () => {
  test('builds a JSON result whose data is the fields; the JSON form has a data: URL per file', async () => {
    const result = output({ label: 'cat', score: 0.5, mask: image(png), frames: [image(png), file(Buffer.from('x'), 'text/csv')], tags: ['a'] });
    expect(result['content-type']).toBe('application/json');
    expect(result.success).toBe(true);
    const report = await checkResult(result);
    expect(report).toMatchObject({ ok: true, mediaType: 'application/json' });
    expect(report.summary).toBe(`structured output { label: string, score: number, mask: image/png (${png.length} bytes), frames: 2 files, tags: list }`);
    const text = JSON.stringify(outputJson(result));
    expect(JSON.parse(text)).toEqual({
      label: 'cat',
      score: 0.5,
      mask: `data:image/png;base64,${png.toString('base64')}`,
      frames: [`data:image/png;base64,${png.toString('base64')}`, 'data:text/csv;base64,eA=='],
      tags: ['a'],
    });
    expect(resultBytes(result).toString('utf8')).toBe(text);
    expect([...fileFields(result)].map(({ name, index, contentType, bytes }) => [name, index, contentType, bytes.length])).toEqual([
      ['mask', undefined, 'image/png', png.length],
      ['frames', 0, 'image/png', png.length],
      ['frames', 1, 'text/csv', 1],
    ]);
  });

  test.each([
    [{}, 'output(fields): a structured output needs at least one field'],
    [{ mask: Buffer.from('x') }, 'output(fields): field "mask" is bytes; wrap them as image(bytes) or file(bytes, \'application/octet-stream\')'],
    [{ score: Number.NaN }, 'output(fields): field "score" is NaN, which JSON cannot hold'],
    [{ score: undefined }, 'output(fields): field "score" is undefined; leave the field out, or give null'],
    [{ meta: { deep: [1, { raw: new Uint8Array(2) }] } }, 'output(fields): field "meta".deep[1].raw is bytes'],
    [{ label: json('x') }, 'output(fields): field "label" is a result object; give the value itself'],
    [{ label: text('x') }, 'output(fields): field "label" is a result object'],
    [{ when: new Date(0) }, 'output(fields): field "when" is '],
  ])('refuses %j at the call, naming the field', (fields, message) => {
    expect(() => output(fields as never)).toThrow(message);
  });

  test('a list of files holds files only; a file inside a JSON value is refused', () => {
    expect(() => output({ frames: [image(png), 'x'] } as never)).toThrow(
      'field "frames"[1] is the string "x" in a list of files; a list field holds files only, or JSON only',
    );
    expect(() => output({ meta: { mask: image(png) } } as never)).toThrow('field "meta".mask is a file inside a JSON value');
  });

  test('the check of a hand-built result names the field: a file whose bytes are not its type', async () => {
    const result = { 'content-type': 'application/json', data: { mask: { 'content-type': 'image/png', data: jpeg, success: true } }, success: true };
    const report = await checkResult(result);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(['field "mask" says image/png but holds a jpeg image; build it with image(bytes)']);
    const wrongType = await checkResult({ 'content-type': 'image/png', data: { label: 'x' }, success: true });
    expect(wrongType.problems[0]).toContain("'data' is an object of fields, which only a structured output holds, but 'content-type' is \"image/png\"");
  });

  test('the Python library contract is unchanged: JSON text, bytes and failures check as before', async () => {
    expect(await checkResult(json({ a: 1 }))).toMatchObject({ ok: true, json: { a: 1 } });
    expect(await checkResult({ 'content-type': 'application/json', data: '[1]', success: true })).toMatchObject({ ok: true, json: [1] });
    expect((await checkResult({ 'content-type': 'application/json', data: [1], success: true })).problems[0]).toContain("'data' must be a string or a Buffer");
  });

  test('file names: the common extension, a list item numbered, unsafe characters replaced', () => {
    expect(fileExtension('image/jpeg')).toBe('jpg');
    expect(fileExtension('image/png')).toBe('png');
    expect(fileExtension('audio/wav')).toBe('wav');
    expect(fileExtension('application/vnd.weird+thing')).toBe('bin');
    expect(fileFieldName({ name: 'mask', contentType: 'image/png', bytes: Buffer.alloc(0) })).toBe('mask.png');
    expect(fileFieldName({ name: 'frames', index: 2, contentType: 'image/jpeg', bytes: Buffer.alloc(0) })).toBe('frames-2.jpg');
    expect(fileFieldName({ name: '../etc/passwd', contentType: 'text/plain', bytes: Buffer.alloc(0) })).toBe('__etc_passwd.txt');
  });

  test('a stream of structured chunks that returns nothing ends with its last state', async () => {
    const chunks = await Promise.all(
      [1, 2].map(async (step) => ({ result: output({ step, preview: image(png) }) as InferenceResult, report: await checkResult(output({ step })) })),
    );
    expect((collectChunks(chunks).data as { step: number }).step).toBe(2);
  });
});

describe('the output description of a structured output', () => {
  test('fields of JSON, images and files (lists too) are kept; a mistake names the field and key', () => {
    const described = validateOutputDescription({
      type: 'fields',
      description: 'a mask and its numbers',
      fields: { label: { type: 'json', schema: { type: 'string' } }, mask: { type: 'image', mediaType: 'image/png' }, frames: { type: 'file', list: true } },
    });
    expect(described).toEqual({
      type: 'fields',
      description: 'a mask and its numbers',
      fields: { label: { type: 'json', schema: { type: 'string' } }, mask: { type: 'image', mediaType: 'image/png' }, frames: { type: 'file', list: true } },
    });
    expect(() => validateOutputDescription({ type: 'fields', fields: { mask: { type: 'image', mediaTyp: 'image/png' } } })).toThrow(
      "invalid output description: output.fields.mask.mediaTyp: is not a key of a image output; expected type, mediaType, description, list (did you mean 'mediaType'?)",
    );
    expect(() => validateOutputDescription({ type: 'fields', fields: { caption: { type: 'text' } } })).toThrow(
      "output.fields.caption.type: \"text\" is not an output type; expected one of json, image, file; a text field is JSON: { type: 'json', schema: { type: 'string' } }",
    );
    expect(() => validateOutputDescription({ type: 'fields', fields: {} })).toThrow('output.fields: must be an object of field descriptions');
    expect(() => validateOutputDescription({ type: 'fields', fields: { mask: { type: 'image', mediaType: 'audio/wav' } } })).toThrow(
      'output.fields.mask.mediaType: "audio/wav" is not an image type',
    );
  });
});

describe("the supervisor's byte stream", () => {
  test('file fields past 64 KiB leave the IPC message and arrive in place; small ones stay in it', async () => {
    const large = Buffer.from(Array.from({ length: streamedValueThreshold + 5 }, (_, index) => index % 253));
    const listed = Buffer.alloc(streamedValueThreshold * 2, 7);
    const result = output({ label: 'x', blob: file(large, 'application/octet-stream'), frames: [image(png), file(listed, 'application/x-npy')] });
    // A socket pair over loopback: the worker's end writes, the supervisor's reads.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const client = new Socket().connect((server.address() as { port: number }).port, '127.0.0.1');
    const [serverSide] = (await accepted) as [Socket];
    const failures: Error[] = [];
    const sender = new ByteChannel(client, (error) => failures.push(error));
    const receiver = new ByteChannel(serverSide, (error) => failures.push(error));
    try {
      const message: { type: 'result'; id: number; result: Record<string, unknown>; streamed?: StreamedValues } = {
        type: 'result',
        id: 7,
        result: result as unknown as Record<string, unknown>,
      };
      const prepared = sender.prepare(message, message.result, (rest) => ({ ...message, result: rest }), takeLargeResultValues);
      expect(prepared.streamed).toEqual([
        { key: 'data', length: large.length, field: 'blob' },
        { key: 'data', length: listed.length, field: 'frames', index: 1 },
      ]);
      // What the IPC channel carries: no large bytes, and the model's result left whole.
      const ipc = deserialize(serialize(prepared)) as typeof prepared;
      expect(serialize(prepared).length).toBeLessThan(4096);
      expect((result.data.blob as { data: Buffer }).data).toBe(large);
      sender.sent(prepared);
      const arrived = new Promise<void>((resolve) => receiver.receive(ipc, ipc.result, resolve));
      await arrived;
      fileBuffersInPlace(ipc.result as unknown as InferenceResult);
      const received = ipc.result as unknown as typeof result;
      expect(Buffer.compare((received.data.blob as { data: Buffer }).data, large)).toBe(0);
      expect(Buffer.compare((received.data.frames[1] as { data: Buffer }).data, listed)).toBe(0);
      expect(Buffer.isBuffer((received.data.frames[0] as { data: Buffer }).data)).toBe(true);
      expect(Buffer.compare((received.data.frames[0] as { data: Buffer }).data, png)).toBe(0);
      expect(failures).toEqual([]);
    } finally {
      client.destroy();
      serverSide.destroy();
      server.close();
    }
  });

  test('an announcement of a field the result does not have fails the channel', () => {
    const failures: Error[] = [];
    const channel = new ByteChannel(new Socket(), (error) => failures.push(error));
    channel.receive({ id: 1, streamed: [{ key: 'data', length: 3, field: 'nope' }] }, { data: { label: 'x' } }, () => {});
    expect(failures[0]?.message).toBe('message 1 announced the bytes of field "nope", which its result does not have');
  });
});

describe("KServe's tensors of structured outputs", () => {
  const described = validateOutputDescription({
    type: 'fields',
    fields: { count: { type: 'json', schema: { type: 'integer' } } },
  }) as FieldsOutputDescription;

  test('a batch of two: one tensor per field, the batch its first dimension; mixed kinds fall back to JSON', () => {
    const outputs = [output({ count: 1, score: 0.5, maybe: null, mask: image(png) }), output({ count: 2, score: 1, maybe: 'x', mask: image(png) })];
    const tensors = fieldTensors(outputs, described);
    expect(tensors.map((tensor) => [tensor.name, tensor.datatype, tensor.shape])).toEqual([
      ['count', 'INT64', [2]],
      ['score', 'FP64', [2]],
      ['maybe', 'BYTES', [2]],
      ['mask', 'BYTES', [2]],
    ]);
    expect(rawElements(tensors[0]!).readBigInt64LE(8)).toBe(2n);
    // Undeclared, an integer is a JSON number: FP64.
    expect(fieldTensors(outputs)[0]!.datatype).toBe('FP64');
    const encoded = encodeInferResponse({
      model: { name: 'm', version: '1' },
      id: 'a',
      outputs: [{ name: 'output', binary: false }],
      results: outputs.map((result) => ({ mediaType: 'application/json', data: result.data })),
      described,
    });
    expect(encoded.json.outputs[2]).toEqual({
      name: 'maybe',
      datatype: 'BYTES',
      shape: [2],
      parameters: { content_type: 'application/json' },
      data: ['null', '"x"'],
    });
  });

  test('items with different fields, or a structured output beside a single result, are invalid results', () => {
    expect(() => fieldTensors([output({ a: 1 }), output({ b: 1 })])).toThrow('batch item 1 has the fields b where item 0 has a');
    expect(() =>
      encodeInferResponse({
        model: { name: 'm', version: '1' },
        id: 'a',
        outputs: [{ name: 'output', binary: false }],
        results: [
          { mediaType: 'application/json', data: { a: 1 } },
          { mediaType: 'application/json', data: '1' },
        ],
      }),
    ).toThrow('the batch mixes structured outputs');
  });
});

describe('MODE=openai refuses a structured output', () => {
  test('a chat or completion whose model returns output(...) fails with AI_ERR_INVALID_RESULT, saying why', async () => {
    const { summaryOf, chunkOf } = await import('../../modes/openai/model-output.js');
    const result = output({ label: 'x', mask: image(png) });
    const prediction = { inputs: {}, result, report: await checkResult(result), mediaType: 'application/json', queueMs: 0, predictMs: 0 };
    expect(() => summaryOf(prediction, () => 0, undefined)).toThrow(
      "a chat or completion has no place for a structured output (output(...)): OpenAI's answers hold text or vectors",
    );
    // Streamed, its chunks are skipped as binary chunks are; the final result is refused as above.
    expect(chunkOf(result)).toBeUndefined();
  });
});
