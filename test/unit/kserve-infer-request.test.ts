import { describe, expect, test } from 'vitest';
import { OpenInferenceError } from '../../modes/kserve/errors.js';
import { parseInferRequest } from '../../modes/kserve/infer-request.js';
import { defineSchema } from '../../src/inputs/schema.js';

const schema = defineSchema({
  image: { type: 'image', required: false },
  doc: { type: 'file', required: false },
  note: { type: 'text', required: false },
  meta: { type: 'json', required: false },
  action: { type: 'choice', choices: ['json', 'image'], default: 'json' },
  steps: { type: 'integer', min: 0, max: 100, default: 1 },
  strength: { type: 'number', default: 0.5 },
  flag: { type: 'boolean', default: false },
});

const photoA = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
const photoB = Buffer.from([0x89, 0x50, 0x4e, 0x47, 9]);

const json = (request: unknown) => Buffer.from(JSON.stringify(request));
const parseJson = (request: unknown, schemaToUse: typeof schema | Record<string, never> = schema) => parseInferRequest(json(request), undefined, schemaToUse);

// Binary bodies built by hand, as the extension describes them: the JSON header, then each
// binary tensor's bytes in the order of the inputs.
function binaryRequest(header: unknown, ...tensors: Buffer[]): { body: Buffer; headerLength: string } {
  const head = json(header);
  return { body: Buffer.concat([head, ...tensors]), headerLength: String(head.length) };
}
const u32 = (value: number) => Buffer.from([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
const bytesTensor = (...elements: Buffer[]) => Buffer.concat(elements.flatMap((element) => [u32(element.length), element]));

describe('V2 inference requests in JSON', () => {
  test('a batch of two: each tensor element goes to its item, in order, converted for its input type', () => {
    const request = parseJson({
      id: 'req-42',
      inputs: [
        { name: 'image', shape: [2], datatype: 'BYTES', data: [photoA.toString('base64'), `data:image/png;base64,${photoB.toString('base64')}`] },
        { name: 'note', shape: [2], datatype: 'BYTES', data: ['first', 'second'] },
        { name: 'meta', shape: [2], datatype: 'BYTES', data: ['{"k":[1,2]}', 'null'] },
        { name: 'action', shape: [2], datatype: 'BYTES', data: ['image', 'json'] },
        { name: 'steps', shape: [2], datatype: 'INT64', data: [3, 4] },
        { name: 'strength', shape: [2], datatype: 'FP64', data: [0.25, 1] },
        { name: 'flag', shape: [2], datatype: 'BOOL', data: [true, false] },
      ],
    });
    expect(request.id).toBe('req-42');
    expect(request.outputs).toEqual([{ name: 'output', binary: false }]);
    expect(request.items).toEqual([
      { image: photoA, note: 'first', meta: { k: [1, 2] }, action: 'image', steps: 3, strength: 0.25, flag: true },
      { image: photoB, note: 'second', meta: null, action: 'json', steps: 4, strength: 1, flag: false },
    ]);
    expect(Buffer.isBuffer(request.items[0]!.image)).toBe(true);
  });

  test('data in its natural nested form, shape [N, 1], is the same batch', () => {
    const request = parseJson({ inputs: [{ name: 'strength', shape: [3, 1], datatype: 'FP64', data: [[0.1], [0.2], [0.3]] }] });
    expect(request.items).toEqual([{ strength: 0.1 }, { strength: 0.2 }, { strength: 0.3 }]);
  });

  test('a number input takes any numeric tensor (FP32 from numpy), an integer input any integer tensor', () => {
    const request = parseJson({
      inputs: [
        { name: 'strength', shape: [1], datatype: 'FP32', data: [0.5] },
        { name: 'steps', shape: [1], datatype: 'UINT8', data: [7] },
      ],
    });
    expect(request.items).toEqual([{ strength: 0.5, steps: 7 }]);
  });

  test('request parameters go to every item as model options; binary_data_output is the protocol’s, not the model’s', () => {
    const request = parseJson({
      parameters: { temperature: 0.7, style: 'noir', binary_data_output: true },
      inputs: [{ name: 'note', shape: [2], datatype: 'BYTES', data: ['a', 'b'] }],
    });
    expect(request.items).toEqual([
      { temperature: 0.7, style: 'noir', note: 'a' },
      { temperature: 0.7, style: 'noir', note: 'b' },
    ]);
    expect(request.outputs).toEqual([{ name: 'output', binary: true }]);
  });

  test('no input tensors at all: one inference on the defaults and parameters', () => {
    expect(parseJson({ inputs: [] }).items).toEqual([{}]);
    expect(parseJson({ parameters: { strength: 0.9 }, inputs: [] }).items).toEqual([{ strength: 0.9 }]);
  });

  test('tensors the schema does not list pass through as options, each item its x[i]', () => {
    const request = parseJson({
      inputs: [
        { name: 'prompt', shape: [2], datatype: 'BYTES', data: ['a cat', 'a dog'] },
        { name: 'embedding', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] },
        {
          name: 'grid',
          shape: [2, 2, 2],
          datatype: 'INT32',
          data: [
            [
              [1, 2],
              [3, 4],
            ],
            [
              [5, 6],
              [7, 8],
            ],
          ],
        },
      ],
    });
    expect(request.items).toEqual([
      {
        prompt: 'a cat',
        embedding: [1, 2, 3],
        grid: [
          [1, 2],
          [3, 4],
        ],
      },
      {
        prompt: 'a dog',
        embedding: [4, 5, 6],
        grid: [
          [5, 6],
          [7, 8],
        ],
      },
    ]);
  });

  test('a tensor named __proto__ stays data', () => {
    const request = parseJson({ inputs: [{ name: '__proto__', shape: [1], datatype: 'BYTES', data: ['x'] }] });
    const [item] = request.items;
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(Object.keys(item!)).toEqual(['__proto__']);
  });

  test('requested outputs: binary_data on the output overrides binary_data_output', () => {
    expect(parseJson({ inputs: [], outputs: [{ name: 'output', parameters: { binary_data: true } }] }).outputs).toEqual([{ name: 'output', binary: true }]);
    expect(
      parseJson({ parameters: { binary_data_output: true }, inputs: [], outputs: [{ name: 'output', parameters: { binary_data: false } }] }).outputs,
    ).toEqual([{ name: 'output', binary: false }]);
    expect(parseJson({ parameters: { binary_data_output: true }, inputs: [], outputs: [{ name: 'output' }] }).outputs).toEqual([
      { name: 'output', binary: true },
    ]);
    expect(parseJson({ inputs: [], outputs: [] }).outputs).toEqual([{ name: 'output', binary: false }]);
  });

  test('a byte-order mark before the JSON is skipped', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json({ inputs: [] })]);
    expect(parseInferRequest(body, undefined, schema).items).toEqual([{}]);
  });
});

describe('V2 inference requests with the binary tensor data extension', () => {
  test('BYTES, FP64, BOOL and INT64 tensors read from hand-built bytes, with a JSON tensor between them', () => {
    const image = bytesTensor(photoA, photoB);
    // 0.5 and -2 as little-endian IEEE 754 doubles.
    const strength = Buffer.from([0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0]);
    const flag = Buffer.from([1, 0]);
    const steps = Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const { body, headerLength } = binaryRequest(
      {
        inputs: [
          { name: 'image', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: image.length } },
          { name: 'note', shape: [2], datatype: 'BYTES', data: ['x', 'y'] },
          { name: 'strength', shape: [2], datatype: 'FP64', parameters: { binary_data_size: 16 } },
          { name: 'flag', shape: [2, 1], datatype: 'BOOL', parameters: { binary_data_size: 2 } },
          { name: 'steps', shape: [2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
        ],
        outputs: [{ name: 'output', parameters: { binary_data: true } }],
      },
      image,
      strength,
      flag,
      steps,
    );
    expect(image.length).toBe(4 + photoA.length + 4 + photoB.length);
    const request = parseInferRequest(body, headerLength, schema);
    expect(request.items).toEqual([
      { image: photoA, note: 'x', strength: 0.5, flag: true, steps: 3 },
      { image: photoB, note: 'y', strength: -2, flag: false, steps: -1 },
    ]);
    expect(request.outputs).toEqual([{ name: 'output', binary: true }]);
  });

  test('BYTES for text, choice and json inputs are UTF-8 text; the json one is parsed', () => {
    const note = bytesTensor(Buffer.from('héllo'));
    const action = bytesTensor(Buffer.from('image'));
    const meta = bytesTensor(Buffer.from('{"a":1}'));
    const { body, headerLength } = binaryRequest(
      {
        inputs: [
          { name: 'note', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: note.length } },
          { name: 'action', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: action.length } },
          { name: 'meta', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: meta.length } },
        ],
      },
      note,
      action,
      meta,
    );
    expect(parseInferRequest(body, headerLength, schema).items).toEqual([{ note: 'héllo', action: 'image', meta: { a: 1 } }]);
  });

  test('every fixed-size datatype, little-endian, for tensors the schema does not list', () => {
    const tensors: [string, Buffer, unknown[]][] = [
      ['UINT8', Buffer.from([0, 255]), [0, 255]],
      ['INT8', Buffer.from([0x80, 0x7f]), [-128, 127]],
      ['UINT16', Buffer.from([0x34, 0x12, 0xff, 0xff]), [0x1234, 65535]],
      ['INT16', Buffer.from([0x00, 0x80, 0xff, 0x7f]), [-32768, 32767]],
      ['UINT32', Buffer.from([0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff]), [0x12345678, 4294967295]],
      ['INT32', Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x80]), [-1, -2147483648]],
      ['UINT64', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0, 1, 0, 0, 0, 0, 0, 0, 0]), [Number.MAX_SAFE_INTEGER, 1]],
      ['INT64', Buffer.from([0x01, 0, 0, 0, 0, 0, 0xe0, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), [Number.MIN_SAFE_INTEGER, -2]],
      ['FP16', Buffer.from([0x00, 0x3e, 0x00, 0xc0]), [1.5, -2]],
      ['BF16', Buffer.from([0x80, 0x3f, 0x20, 0xc1]), [1, -10]],
      ['FP32', Buffer.from([0, 0, 0x80, 0x3e, 0, 0, 0x20, 0xc1]), [0.25, -10]],
      ['FP64', Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0x24, 0x40]), [1, 10]],
      ['BOOL', Buffer.from([0, 1]), [false, true]],
    ];
    const { body, headerLength } = binaryRequest(
      { inputs: tensors.map(([datatype, data]) => ({ name: datatype.toLowerCase(), shape: [2], datatype, parameters: { binary_data_size: data.length } })) },
      ...tensors.map(([, data]) => data),
    );
    const request = parseInferRequest(body, headerLength, schema);
    for (const [datatype, , values] of tensors) {
      expect(
        request.items.map((item) => item[datatype.toLowerCase()]),
        datatype,
      ).toEqual(values);
    }
  });

  test('unlisted BYTES tensors arrive as bytes', () => {
    const blob = bytesTensor(Buffer.from([0, 1, 2]));
    const { body, headerLength } = binaryRequest(
      { inputs: [{ name: 'blob', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: blob.length } }] },
      blob,
    );
    expect(parseInferRequest(body, headerLength, schema).items).toEqual([{ blob: Buffer.from([0, 1, 2]) }]);
  });

  test('a zero-size binary tensor with an empty shape dimension is an empty batch, refused', () => {
    const { body, headerLength } = binaryRequest({ inputs: [{ name: 'strength', shape: [0], datatype: 'FP64', parameters: { binary_data_size: 0 } }] });
    expect(() => parseInferRequest(body, headerLength, schema)).toThrow("the batch is empty: the input tensors' first dimension is 0");
  });

  test('a raw binary request (Inference-Header-Content-Length: 0) is the one input, and asks for binary outputs', () => {
    const imageOnly = defineSchema({ image: { type: 'image' }, strength: { type: 'number', default: 0.5 } });
    const request = parseInferRequest(photoA, '0', imageOnly);
    expect(request.items).toEqual([{ image: photoA }]);
    expect(request.outputs).toEqual([{ name: 'output', binary: true }]);
    const numberOnly = defineSchema({ x: { type: 'number' } });
    expect(parseInferRequest(Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40]), '0', numberOnly).items).toEqual([{ x: 1 }, { x: 2 }]);
  });
});

interface Refusal {
  what: string;
  request: unknown;
  message: string | RegExp;
  tensor?: string;
}

const refusals: Refusal[] = [
  {
    what: 'an unknown datatype',
    request: { inputs: [{ name: 'strength', shape: [1], datatype: 'FLOAT', data: [1] }] },
    message: /^input tensor 'strength': "datatype" must be one of BOOL, UINT8, .*, BYTES, got the string "FLOAT"$/,
    tensor: 'strength',
  },
  {
    what: 'FP64 for an image input',
    request: { inputs: [{ name: 'image', shape: [1], datatype: 'FP64', data: [1] }] },
    message: "input tensor 'image': datatype FP64 does not fit the model's image input; send BYTES",
    tensor: 'image',
  },
  {
    what: 'BYTES for a number input',
    request: { inputs: [{ name: 'strength', shape: [1], datatype: 'BYTES', data: ['0.5'] }] },
    message: /^input tensor 'strength': datatype BYTES does not fit the model's number input; send FP64 \(or FP32, FP16, BF16, INT64/,
    tensor: 'strength',
  },
  {
    what: 'FP32 for an integer input',
    request: { inputs: [{ name: 'steps', shape: [1], datatype: 'FP32', data: [1] }] },
    message: /^input tensor 'steps': datatype FP32 does not fit the model's integer input; send INT64 \(or INT32/,
    tensor: 'steps',
  },
  {
    what: 'INT64 for a boolean input',
    request: { inputs: [{ name: 'flag', shape: [1], datatype: 'INT64', data: [1] }] },
    message: "input tensor 'flag': datatype INT64 does not fit the model's boolean input; send BOOL",
    tensor: 'flag',
  },
  {
    what: 'a shape whose product is not the number of elements',
    request: { inputs: [{ name: 'strength', shape: [3], datatype: 'FP64', data: [1, 2] }] },
    message: 'input tensor \'strength\': its shape [3] has 3 elements, but "data" holds 2',
    tensor: 'strength',
  },
  {
    what: 'a negative dimension',
    request: { inputs: [{ name: 'strength', shape: [-1], datatype: 'FP64', data: [1] }] },
    message: 'input tensor \'strength\': "shape" must be an array of non-negative integers, got [-1]',
    tensor: 'strength',
  },
  {
    what: 'tensors with different batch sizes',
    request: {
      inputs: [
        { name: 'note', shape: [3], datatype: 'BYTES', data: ['a', 'b', 'c'] },
        { name: 'strength', shape: [2], datatype: 'FP64', data: [1, 2] },
      ],
    },
    message:
      "input tensors 'note' and 'strength' disagree on the batch size, the first dimension of their shapes ('note' has 3, 'strength' has 2); every input tensor needs the same",
    tensor: 'strength',
  },
  {
    what: 'several values per item for a schema input',
    request: { inputs: [{ name: 'strength', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }] },
    message: "input tensor 'strength': its shape [1, 3] gives 3 elements per batch item; each input takes one value per item (shape [N] or [N, 1])",
    tensor: 'strength',
  },
  {
    what: 'a shape without a batch dimension',
    request: { inputs: [{ name: 'strength', shape: [], datatype: 'FP64', data: [1] }] },
    message: "input tensor 'strength': its shape [] has no batch dimension; the first dimension is the batch size (send [1] for one value)",
    tensor: 'strength',
  },
  {
    what: 'a string in an FP64 tensor',
    request: { inputs: [{ name: 'strength', shape: [2], datatype: 'FP64', data: [1, 'x'] }] },
    message: 'input tensor \'strength\': element 1 is the string "x"; FP64 elements are numbers',
    tensor: 'strength',
  },
  {
    what: 'a fraction in an INT64 tensor',
    request: { inputs: [{ name: 'steps', shape: [1], datatype: 'INT64', data: [1.5] }] },
    message: /^input tensor 'steps': element 0 is number 1.5; INT64 elements are integers from -9007199254740991 to 9007199254740991$/,
    tensor: 'steps',
  },
  {
    what: '300 in a UINT8 tensor',
    request: { inputs: [{ name: 'level', shape: [1], datatype: 'UINT8', data: [300] }] },
    message: "input tensor 'level': element 0 is number 300; UINT8 elements are integers from 0 to 255",
    tensor: 'level',
  },
  {
    what: 'a number in a BYTES tensor',
    request: { inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', data: [5] }] },
    message: "input tensor 'note': element 0 is number 5; BYTES elements are strings",
    tensor: 'note',
  },
  {
    what: '1 in a BOOL tensor',
    request: { inputs: [{ name: 'flag', shape: [1], datatype: 'BOOL', data: [1] }] },
    message: "input tensor 'flag': element 0 is number 1; BOOL elements are true or false",
    tensor: 'flag',
  },
  {
    what: 'bad base64 for an image',
    request: { inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data: [photoA.toString('base64'), 'not base64!'] }] },
    message: /^input tensor 'image': element 1: is not valid base64; .* \(BYTES elements of image inputs in JSON are base64\)$/,
    tensor: 'image',
  },
  {
    what: 'bad JSON text for a json input',
    request: { inputs: [{ name: 'meta', shape: [1], datatype: 'BYTES', data: ['{oops'] }] },
    message: /^input tensor 'meta': element 0 is not valid JSON \(.*\); the elements of a json input are JSON text$/,
    tensor: 'meta',
  },
  {
    what: 'a tensor given twice',
    request: {
      inputs: [
        { name: 'note', shape: [1], datatype: 'BYTES', data: ['a'] },
        { name: 'note', shape: [1], datatype: 'BYTES', data: ['b'] },
      ],
    },
    message: "input tensor 'note': is given twice",
    tensor: 'note',
  },
  {
    what: 'a request parameter named as an input tensor',
    request: { parameters: { note: 'x' }, inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', data: ['a'] }] },
    message: "input tensor 'note': is given both as an input tensor and as a request parameter; send one",
    tensor: 'note',
  },
  {
    what: 'a tensor without data',
    request: { inputs: [{ name: 'note', shape: [1], datatype: 'BYTES' }] },
    message: 'input tensor \'note\': "data" must be an array of its elements, got nothing (nor parameters.binary_data_size)',
    tensor: 'note',
  },
  {
    what: 'binary_data_size without the Inference-Header-Content-Length header',
    request: { inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 5 } }] },
    message:
      "input tensor 'note': gives parameters.binary_data_size, but the request has no Inference-Header-Content-Length header saying where the JSON ends and the binary data begins",
    tensor: 'note',
  },
  {
    what: 'data nested deeper than the shape',
    request: { inputs: [{ name: 'strength', shape: [1], datatype: 'FP64', data: [[1]] }] },
    message: 'input tensor \'strength\': "data" nests arrays deeper than its shape [1] has dimensions',
    tensor: 'strength',
  },
  {
    what: 'shared memory',
    request: { inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', parameters: { shared_memory_region: 'r' } }] },
    message: 'input tensor \'note\': shared memory (shared_memory_region) is not supported; send "data" or binary data',
    tensor: 'note',
  },
  {
    what: 'an output the model does not have',
    request: { inputs: [], outputs: [{ name: 'logits' }] },
    message: "output tensor 'logits': is not an output of this model; its one output is 'output'",
    tensor: 'logits',
  },
  {
    what: 'binary_data that is not a boolean',
    request: { inputs: [], outputs: [{ name: 'output', parameters: { binary_data: 'yes' } }] },
    message: 'output tensor \'output\': parameters.binary_data must be true or false, got the string "yes"',
    tensor: 'output',
  },
  {
    what: 'classification',
    request: { inputs: [], outputs: [{ name: 'output', parameters: { classification: 3 } }] },
    message: "output tensor 'output': parameters.classification is not supported",
    tensor: 'output',
  },
  {
    what: 'a tensor without a name',
    request: { inputs: [{ shape: [1], datatype: 'BYTES', data: ['a'] }] },
    message: 'inputs[0] needs a "name" (a non-empty string), got undefined',
  },
  { what: 'no inputs array', request: { id: '1' }, message: '"inputs" must be an array of input tensors, got nothing' },
  { what: 'an array body', request: [1], message: 'expected an inference request {"inputs": [...]}, got an array' },
  { what: 'a numeric id', request: { id: 7, inputs: [] }, message: '"id" must be a string, got number 7' },
  {
    what: 'binary_data_output that is not a boolean',
    request: { parameters: { binary_data_output: 1 }, inputs: [] },
    message: 'parameters.binary_data_output must be true or false, got number 1',
  },
];

describe('malformed requests are 400s that name the tensor', () => {
  test.each(refusals)('$what', ({ request, message, tensor }) => {
    const error = refusal(() => parseJson(request));
    expect(error.httpStatus).toBe(400);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    expect(error.field).toBe(tensor);
  });

  test('a body that is not JSON', () => {
    expect(refusal(() => parseInferRequest(Buffer.from('{"inputs": ['), undefined, schema)).message).toMatch(
      /^the body is not valid JSON \(.*\); expected an inference request \{"inputs": \[\.\.\.\]\}$/,
    );
    const { body } = binaryRequest({ inputs: [] });
    expect(refusal(() => parseInferRequest(body, '5', schema)).message).toMatch(
      /^the JSON header \(the first 5 bytes, as Inference-Header-Content-Length says\) is not valid JSON/,
    );
  });

  test('binary data sizes that do not add up name the tensor', () => {
    const header = (size: number) => ({ inputs: [{ name: 'strength', shape: [1], datatype: 'FP64', parameters: { binary_data_size: size } }] });
    const short = binaryRequest(header(8), Buffer.alloc(4));
    expect(refusal(() => parseInferRequest(short.body, short.headerLength, schema)).message).toBe(
      "input tensor 'strength': its binary_data_size is 8 bytes, but only 4 bytes of binary data are left after the tensors before it",
    );
    const wrong = binaryRequest(header(4), Buffer.alloc(4));
    expect(refusal(() => parseInferRequest(wrong.body, wrong.headerLength, schema)).message).toBe(
      "input tensor 'strength': its binary_data_size is 4 bytes, but its shape calls for 1 FP64 element of 8 bytes, 8 bytes in all",
    );
    const extra = binaryRequest(header(8), Buffer.alloc(11));
    expect(refusal(() => parseInferRequest(extra.body, extra.headerLength, schema)).message).toBe(
      "3 bytes of binary data follow the last tensor's binary_data_size; the binary_data_size of the input tensors must add up to the body's length after the JSON header (Inference-Header-Content-Length)",
    );
    const both = binaryRequest(
      { inputs: [{ name: 'strength', shape: [1], datatype: 'FP64', data: [1], parameters: { binary_data_size: 8 } }] },
      Buffer.alloc(8),
    );
    expect(refusal(() => parseInferRequest(both.body, both.headerLength, schema)).message).toBe(
      'input tensor \'strength\': has both "data" and parameters.binary_data_size; send one',
    );
  });

  test('binary elements with no JavaScript value name the tensor and the element', () => {
    const cases: [string, string, Buffer, string][] = [
      ['flag', 'BOOL', Buffer.from([1, 2]), "input tensor 'flag': element 1 is the byte 2; BOOL elements are 0 (false) or 1 (true)"],
      [
        'steps',
        'INT64',
        Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x40]),
        "input tensor 'steps': element 0 is 4611686018427387904, beyond the integers a JavaScript number holds exactly (±9007199254740991)",
      ],
      ['strength', 'FP32', Buffer.from([0, 0, 0x80, 0x7f]), "input tensor 'strength': element 0 is Infinity; the model takes finite numbers"],
    ];
    for (const [name, datatype, data, message] of cases) {
      const { body, headerLength } = binaryRequest(
        {
          inputs: [
            { name, shape: [data.length / (datatype === 'BOOL' ? 1 : datatype === 'FP32' ? 4 : 8)], datatype, parameters: { binary_data_size: data.length } },
          ],
        },
        data,
      );
      const error = refusal(() => parseInferRequest(body, headerLength, schema));
      expect(error.message).toBe(message);
      expect(error.field).toBe(name);
    }
    const note = bytesTensor(Buffer.from([0xc3, 0x28]));
    const invalidText = binaryRequest({ inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: note.length } }] }, note);
    expect(refusal(() => parseInferRequest(invalidText.body, invalidText.headerLength, schema)).message).toBe(
      "input tensor 'note': element 0 (2 bytes) is not valid UTF-8 text",
    );
    const lying = Buffer.concat([u32(100), Buffer.from('abc')]);
    const cut = binaryRequest({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: lying.length } }] }, lying);
    expect(refusal(() => parseInferRequest(cut.body, cut.headerLength, schema)).message).toBe(
      "input tensor 'image': element 0 says it has 100 bytes, but only 3 of the tensor's binary_data_size remain",
    );
  });

  test('a raw binary request to a model with several inputs that must be given', () => {
    const two = defineSchema({ a: { type: 'image' }, b: { type: 'image' } });
    expect(refusal(() => parseInferRequest(photoA, '0', two)).message).toBe(
      "a raw binary request (Inference-Header-Content-Length: 0) needs a model with one input, but this model's inputs are a, b; send a JSON header naming the tensors",
    );
  });
});

function refusal(run: () => unknown): OpenInferenceError {
  try {
    run();
  } catch (error) {
    if (error instanceof OpenInferenceError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('a large JSON body with base64 BYTES elements (read without a string of them)', () => {
  const big = Buffer.alloc(300 * 1024);
  for (let index = 0; index < big.length; index++) big[index] = (index * 29 + 3) % 256;
  const base64 = big.toString('base64');

  test('image and file elements come out as the bytes, beside the other inputs, as from a small body', () => {
    const request = {
      id: 'r1',
      inputs: [
        { name: 'image', shape: [2], datatype: 'BYTES', data: [base64, `data:image/png;base64,${base64.replace(/.{76}/g, '$&\n')}`] },
        { name: 'doc', shape: [2], datatype: 'BYTES', data: [photoB.toString('base64'), base64] },
        { name: 'note', shape: [2], datatype: 'BYTES', data: ['a', 'b'] },
      ],
    };
    const parsed = parseJson(request);
    expect(parsed.id).toBe('r1');
    expect(parsed.items).toHaveLength(2);
    const [first, second] = parsed.items as Record<string, Buffer | string>[];
    expect((first!.image as Buffer).equals(big)).toBe(true);
    expect((second!.image as Buffer).equals(big)).toBe(true);
    expect(first!.doc).toEqual(photoB);
    expect((second!.doc as Buffer).equals(big)).toBe(true);
    expect([first!.note, second!.note]).toEqual(['a', 'b']);
  });

  test('a long string anywhere else, or base64 the bytes path does not take, is read the usual way, with the same answers and errors', () => {
    const longText = parseJson({ inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', data: [base64] }] });
    expect(longText.items[0]!.note).toBe(base64);
    const bad = { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [`${base64.slice(0, 1000)}!${base64.slice(1001)}`] }] };
    expect(() => parseJson(bad)).toThrow(/^input tensor 'image': element 0: is not valid base64; .* \(BYTES elements of image inputs in JSON are base64\)$/);
    const twice = { inputs: [0, 1].map(() => ({ name: 'image', shape: [1], datatype: 'BYTES', data: [base64] })) };
    expect(() => parseJson(twice)).toThrow(/^input tensor 'image': is given twice/);
  });
});
