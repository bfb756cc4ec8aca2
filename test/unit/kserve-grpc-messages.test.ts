// The gRPC side of MODE=kserve's pure parts: ModelInferRequest messages (as @grpc/proto-loader
// decodes them) to the model's items, results to ModelInferResponse, errors to statuses. The
// server itself is tested with real clients: test/e2e/kserve-grpc.test.ts.
import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { decodeGrpcInferRequest } from '../../modes/kserve/grpc-infer-request.js';
import { encodeGrpcInferResponse } from '../../modes/kserve/grpc-infer-response.js';
import { grpcFailure } from '../../modes/kserve/grpc-status.js';
import { AiIntegrationError } from '../../src/errors.js';
import type { InputsSchema } from '../../src/types.js';

const schema: InputsSchema = {
  image: { type: 'image', required: false },
  note: { type: 'text', required: false },
  strength: { type: 'number', required: false },
  count: { type: 'integer', required: false },
  flag: { type: 'boolean', required: false },
  meta: { type: 'json', required: false },
};
const prefixed = (...elements: string[]) =>
  Buffer.concat(
    elements.flatMap((element) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(Buffer.byteLength(element));
      return [length, Buffer.from(element)];
    }),
  );
const refusal = (run: () => unknown): AiIntegrationError => {
  try {
    run();
  } catch (error) {
    return error as AiIntegrationError;
  }
  throw new Error('expected a refusal');
};

describe('decodeGrpcInferRequest', () => {
  test('typed contents: one item per batch element, in the schema types; request parameters as options; typed outputs', () => {
    const request = decodeGrpcInferRequest(
      {
        id: 'r1',
        parameters: { temperature: { parameter_choice: 'double_param', double_param: 0.5 }, seed: { parameter_choice: 'int64_param', int64_param: '42' } },
        inputs: [
          { name: 'note', datatype: 'BYTES', shape: ['2'], contents: { bytes_contents: [Buffer.from('héllo'), Buffer.from('b')] } },
          { name: 'strength', datatype: 'FP32', shape: ['2'], contents: { fp32_contents: [0.5, 1] } },
          { name: 'count', datatype: 'INT64', shape: ['2', '1'], contents: { int64_contents: ['7', '-3'] } },
          { name: 'flag', datatype: 'BOOL', shape: ['2'], contents: { bool_contents: [true, false] } },
          { name: 'meta', datatype: 'BYTES', shape: ['2'], contents: { bytes_contents: [Buffer.from('{"a":1}'), Buffer.from('[]')] } },
        ],
      },
      schema,
    );
    expect(request.id).toBe('r1');
    expect(request.items).toEqual([
      { temperature: 0.5, seed: 42, note: 'héllo', strength: 0.5, count: 7, flag: true, meta: { a: 1 } },
      { temperature: 0.5, seed: 42, note: 'b', strength: 1, count: -3, flag: false, meta: [] },
    ]);
    expect(request.outputs).toEqual([{ name: 'output', binary: false }]);
  });

  test('raw_input_contents: little-endian elements, BYTES length-prefixed, an image as its bytes; outputs come back raw unless asked otherwise', () => {
    const fp16 = Buffer.alloc(2);
    fp16.writeUInt16LE(0x3c00); // 1.0
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
    const request = decodeGrpcInferRequest(
      {
        inputs: [
          { name: 'image', datatype: 'BYTES', shape: ['1'] },
          { name: 'strength', datatype: 'FP16', shape: ['1'] },
          { name: 'note', datatype: 'BYTES', shape: ['1'] },
        ],
        raw_input_contents: [Buffer.concat([Buffer.from([4, 0, 0, 0]), jpeg]), fp16, prefixed('raw')],
      },
      schema,
    );
    expect(request.items).toEqual([{ image: jpeg, strength: 1, note: 'raw' }]);
    expect(request.outputs).toEqual([{ name: 'output', binary: true }]);
    const typedOut = decodeGrpcInferRequest(
      {
        parameters: { binary_data_output: { parameter_choice: 'bool_param', bool_param: false } },
        inputs: [{ name: 'note', datatype: 'BYTES', shape: ['1'] }],
        raw_input_contents: [prefixed('x')],
      },
      schema,
    );
    expect(typedOut.outputs).toEqual([{ name: 'output', binary: false }]);
  });

  test('each malformed request is refused naming the tensor', () => {
    const cases: [Parameters<typeof decodeGrpcInferRequest>[0], string][] = [
      [
        { inputs: [{ name: 'strength', datatype: 'FP16', shape: ['1'], contents: {} }] },
        "input tensor 'strength': FP16 has no typed contents field; send its elements in raw_input_contents (little-endian, 2 bytes each)",
      ],
      [
        { inputs: [{ name: 'count', datatype: 'INT64', shape: ['1'], contents: { int64_contents: ['9007199254740993'] } }] },
        "input tensor 'count': element 0 is 9007199254740993, beyond the integers a JavaScript number holds exactly (±9007199254740991)",
      ],
      [
        { inputs: [{ name: 'count', datatype: 'INT8', shape: ['1'], contents: { int_contents: [300] } }] },
        "input tensor 'count': element 0 is number 300; INT8 elements are integers from -128 to 127",
      ],
      [
        { inputs: [{ name: 'note', datatype: 'BYTES', shape: ['1'], contents: { bytes_contents: [Buffer.from('a')] } }], raw_input_contents: [prefixed('b')] },
        "input tensor 'note': has both contents (bytes_contents) and a raw_input_contents entry; send one",
      ],
      [{ inputs: [{ name: 'note', datatype: 'BYTES', shape: ['-1'] }] }, `input tensor 'note': "shape" must be an array of non-negative integers, got [-1]`],
      [
        { inputs: [{ name: 'note', datatype: 'TEXT', shape: ['1'] }] },
        'input tensor \'note\': its datatype must be one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BF16, BYTES, got "TEXT"',
      ],
      [{ inputs: [{ datatype: 'BYTES', shape: ['1'] }] }, 'inputs[0] needs a name'],
      [
        { inputs: [{ name: 'note', datatype: 'BYTES', shape: ['1'] }] },
        "input tensor 'note': its shape [1] has 1 element, but contents.bytes_contents holds 0 (nor is there a raw_input_contents entry)",
      ],
      [
        { parameters: { x: {} }, inputs: [] },
        "parameter 'x' of the request has no value (set one of bool_param, int64_param, string_param, double_param, uint64_param)",
      ],
      [{ inputs: [], outputs: [{ name: 'scores' }] }, "output tensor 'scores': is not an output of this model; its one output is 'output'"],
    ];
    for (const [message, expected] of cases) {
      const error = refusal(() => decodeGrpcInferRequest(message, schema));
      expect(error.message).toBe(expected);
      expect(grpcFailure(error).code).toBe(status.INVALID_ARGUMENT);
    }
  });
});

describe('encodeGrpcInferResponse', () => {
  const results = [
    { mediaType: 'application/json', data: '{"label":"cat"}' },
    { mediaType: 'application/json', data: '{"label":"dog"}' },
  ];
  test('typed: bytes_contents, one element per item, with the content_type parameter', () => {
    const response = encodeGrpcInferResponse({ model: { name: 'm', version: '1' }, id: 'r1', outputs: [{ name: 'output', binary: false }], results });
    expect(response).toEqual({
      model_name: 'm',
      model_version: '1',
      id: 'r1',
      outputs: [
        {
          name: 'output',
          datatype: 'BYTES',
          shape: [2],
          parameters: { content_type: { string_param: 'application/json' } },
          contents: { bytes_contents: [Buffer.from('{"label":"cat"}'), Buffer.from('{"label":"dog"}')] },
        },
      ],
      raw_output_contents: [],
    });
  });
  test('raw: raw_output_contents, BYTES elements length-prefixed', () => {
    const response = encodeGrpcInferResponse({ model: { name: 'm', version: '1' }, id: 'r1', outputs: [{ name: 'output', binary: true }], results });
    expect(response.outputs[0]!.contents).toBeUndefined();
    expect(response.raw_output_contents).toEqual([prefixed('{"label":"cat"}', '{"label":"dog"}')]);
  });
});

describe('grpcFailure', () => {
  test.each([
    ['AI_ERR_QUEUE_FULL', status.RESOURCE_EXHAUSTED, 429],
    ['AI_ERR_INPUT_TOO_LARGE', status.RESOURCE_EXHAUSTED, 413],
    ['AI_ERR_NOT_FOUND', status.NOT_FOUND, 404],
    ['AI_ERR_NOT_READY', status.UNAVAILABLE, 503],
    ['AI_ERR_TIMEOUT', status.DEADLINE_EXCEEDED, 504],
    ['AI_ERR_UNAUTHORIZED', status.UNAUTHENTICATED, 401],
    ['AI_ERR_INVALID_INPUT', status.INVALID_ARGUMENT, 400],
    ['AI_ERR_INFERENCE_THREW', status.INTERNAL, 500],
    ['AI_ERR_MODEL_FAILED', status.INTERNAL, 500],
  ] as const)('%s is %s (REST: %i)', (code, expected, restStatus) => {
    const failure = grpcFailure(new AiIntegrationError(code, 'why'));
    expect(failure.code).toBe(expected);
    expect(failure.details).toBe('why');
    expect(failure.answer.status).toBe(restStatus);
  });
  test('anything not ours is INTERNAL, its details kept out', () => {
    expect(grpcFailure(new TypeError('x is undefined'))).toMatchObject({ code: status.INTERNAL, details: 'internal server error' });
  });
});
