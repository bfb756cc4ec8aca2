import { describe, expect, test } from 'vitest';
import { encodeInferResponse, type ModelOutput } from '../../modes/kserve/infer-response.js';
import { expectValid, schemaProblems } from '../helpers/open-inference.js';

const model = { name: 'edge-detector', version: '3' };
const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0, 1, 2]);
const results: ModelOutput[] = [
  { mediaType: 'application/json', data: '{"label":"cat","score":0.9}' },
  { mediaType: 'application/json', data: Buffer.from('[1,2]') },
];

describe('V2 inference responses', () => {
  test('JSON results are BYTES elements holding their JSON text, one per batch item, with the content type as a parameter', () => {
    const encoded = encodeInferResponse({ model, id: 'req-1', outputs: [{ name: 'output', binary: false }], results });
    expect(encoded.binary).toBe(false);
    expect(encoded.json).toEqual({
      model_name: 'edge-detector',
      model_version: '3',
      id: 'req-1',
      outputs: [
        { name: 'output', datatype: 'BYTES', shape: [2], parameters: { content_type: 'application/json' }, data: ['{"label":"cat","score":0.9}', '[1,2]'] },
      ],
    });
    expectValid('inference_response', encoded.json);
  });

  test('parsed JSON objects as elements would break the official schema, which is why they travel as text', () => {
    const asObjects = { model_name: 'm', outputs: [{ name: 'output', datatype: 'BYTES', shape: [1], data: [{ label: 'cat' }] }] };
    expect(schemaProblems('inference_response', asObjects)).toMatch(/must be string/);
  });

  test('binary results are base64 in JSON, text results their text', () => {
    const encoded = encodeInferResponse({
      model,
      id: undefined,
      outputs: [{ name: 'output', binary: false }],
      results: [
        { mediaType: 'image/jpeg', data: jpeg },
        { mediaType: 'image/jpeg', data: new Uint8Array([1, 2, 3]) },
      ],
    });
    expect(encoded.json.outputs[0]).toEqual({
      name: 'output',
      datatype: 'BYTES',
      shape: [2],
      parameters: { content_type: 'image/jpeg' },
      data: [jpeg.toString('base64'), 'AQID'],
    });
    expect(encoded.json).not.toHaveProperty('id');
    expectValid('inference_response', encoded.json);
    const text = encodeInferResponse({
      model,
      id: undefined,
      outputs: [{ name: 'output', binary: false }],
      results: [{ mediaType: 'text/plain', data: Buffer.from('héllo') }],
    });
    expect(text.json.outputs[0]!.data).toEqual(['héllo']);
  });

  test('items of different media types list them all, as JSON text (parameter values are scalars)', () => {
    const encoded = encodeInferResponse({
      model,
      id: undefined,
      outputs: [{ name: 'output', binary: false }],
      results: [
        { mediaType: 'text/plain', data: 'hi' },
        { mediaType: 'image/jpeg', data: jpeg },
      ],
    });
    expect(encoded.json.outputs[0]!.parameters).toEqual({ content_types: '["text/plain","image/jpeg"]' });
    expectValid('inference_response', encoded.json);
  });

  test('binary outputs: the JSON header says binary_data_size, then the BYTES elements follow, length-prefixed, to the byte', () => {
    const encoded = encodeInferResponse({
      model,
      id: 'b',
      outputs: [{ name: 'output', binary: true }],
      results: [
        { mediaType: 'image/jpeg', data: jpeg },
        { mediaType: 'image/jpeg', data: Buffer.from([0xff, 0xd8]) },
      ],
    });
    if (!encoded.binary) throw new Error('expected a binary response');
    const expectedTensor = Buffer.from([7, 0, 0, 0, ...jpeg, 2, 0, 0, 0, 0xff, 0xd8]);
    expect(encoded.json.outputs[0]).toEqual({
      name: 'output',
      datatype: 'BYTES',
      shape: [2],
      parameters: { content_type: 'image/jpeg', binary_data_size: expectedTensor.length },
    });
    const header = encoded.body.subarray(0, encoded.headerLength).toString('utf8');
    expect(JSON.parse(header)).toEqual(encoded.json);
    expect(encoded.body.subarray(encoded.headerLength).equals(expectedTensor)).toBe(true);
    expect(encoded.body.length).toBe(encoded.headerLength + expectedTensor.length);
    expectValid('inference_response', JSON.parse(header), { binaryExtension: true });
    // The official schema alone requires `data`, which the extension replaces.
    expect(schemaProblems('inference_response', JSON.parse(header))).toMatch(/must have required property 'data'/);
  });

  test('JSON and text results as binary data are their UTF-8 bytes', () => {
    const encoded = encodeInferResponse({
      model,
      id: undefined,
      outputs: [{ name: 'output', binary: true }],
      results: [{ mediaType: 'application/json', data: '{"é":1}' }],
    });
    if (!encoded.binary) throw new Error('expected a binary response');
    const bytes = Buffer.from('{"é":1}');
    expect(encoded.body.subarray(encoded.headerLength).equals(Buffer.concat([Buffer.from([bytes.length, 0, 0, 0]), bytes]))).toBe(true);
  });
});
