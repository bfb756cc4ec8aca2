import { describe, expect, test } from 'vitest';
import { OpenInferenceError } from '../../modes/kserve/errors.js';
import { encodeV1Response, parseV1Request } from '../../modes/kserve/v1.js';
import { defineSchema } from '../../src/inputs/schema.js';

const schema = defineSchema({
  image: { type: 'image' },
  strength: { type: 'number', default: 0.5 },
  meta: { type: 'json', required: false },
});
const photo = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 7]);

describe('V1 predict requests', () => {
  test('each instance is an inputs object; {"b64": ...} values are bytes; other values stay as sent (json inputs take JSON values)', () => {
    const items = parseV1Request(
      {
        instances: [
          { image: { b64: photo.toString('base64') }, strength: 0.1, meta: { b64: 'x', other: 1 } },
          { image: photo.toString('base64'), meta: [1, 2] },
        ],
      },
      schema,
    );
    expect(items).toEqual([
      { image: photo, strength: 0.1, meta: { b64: 'x', other: 1 } },
      { image: photo.toString('base64'), meta: [1, 2] },
    ]);
    expect(Buffer.isBuffer(items[0]!.image)).toBe(true);
  });

  test('a bare value or {"b64": ...} instance goes to the model’s one input that must be given', () => {
    expect(parseV1Request({ instances: [{ b64: photo.toString('base64') }, photo.toString('base64')] }, schema)).toEqual([
      { image: photo },
      { image: photo.toString('base64') },
    ]);
  });

  test.each<[string, unknown, string, string?]>([
    ['a body that is not an object', [1], 'expected {"instances": [...]}, got an array'],
    ['no instances', {}, '"instances" must be an array, got nothing'],
    [
      'the columnar form',
      { inputs: { image: 'x' } },
      'the columnar {"inputs": ...} form is not supported; send {"instances": [...]}, one inputs object per instance',
    ],
    ['no instance at all', { instances: [] }, '"instances" is empty; send at least one instance'],
    [
      'bad base64 in b64',
      { instances: [{ image: { b64: '***' } }] },
      'instances[0].image.b64: is not valid base64; expected a base64 string or a data: URL (binary inputs in JSON are base64 or data: URLs)',
      'image',
    ],
  ])('%s is a 400', (_what, body, message, field) => {
    let error: unknown;
    try {
      parseV1Request(body, schema);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OpenInferenceError);
    expect((error as OpenInferenceError).message).toBe(message);
    expect((error as OpenInferenceError).httpStatus).toBe(400);
    expect((error as OpenInferenceError).field).toBe(field);
  });

  test('a bare value for a model with several inputs that must be given is a 400 listing them', () => {
    const two = defineSchema({ a: { type: 'text' }, b: { type: 'text' } });
    expect(() => parseV1Request({ instances: ['x'] }, two)).toThrow(
      'instances[0] is the string "x", but this model has several inputs (a, b); send an object of input names to values',
    );
  });
});

describe('V1 predict responses', () => {
  test('JSON results as their value, text as a string, binary as {"b64": ...}', () => {
    expect(
      encodeV1Response([
        { mediaType: 'application/json', data: '{"label":"cat"}' },
        { mediaType: 'application/json', data: 'ignored', json: { parsed: true } },
        { mediaType: 'text/plain', data: Buffer.from('héllo') },
        { mediaType: 'image/png', data: Buffer.from([1, 2, 3]) },
      ]),
    ).toEqual({ predictions: [{ label: 'cat' }, { parsed: true }, 'héllo', { b64: 'AQID' }] });
  });
});
