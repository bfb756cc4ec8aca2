import { describe, expect, test } from 'vitest';
import { AiIntegrationError } from '../../src/errors.js';
import { outputMediaType, validateOutputDescription } from '../../src/result/output-description.js';
import type { StartLoopOptions } from '../../src/types.js';

/** The error a bad description gets: code, exit code and message together. */
function refusal(value: unknown): { code: string; exitCode: number; message: string } {
  try {
    validateOutputDescription(value);
  } catch (error) {
    if (!(error instanceof AiIntegrationError)) throw error;
    return { code: error.code, exitCode: error.exitCode, message: error.message };
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('validateOutputDescription: the output option of startLoop', () => {
  test('none is fine: the output stays generic', () => {
    expect(validateOutputDescription(undefined)).toBeUndefined();
  });

  test('each kind is accepted and copied, with only its keys', () => {
    const schema = { type: 'object', properties: { label: { type: 'string' }, type: { type: ['string', 'null'] } }, examples: [{ type: 'cat' }] };
    const json = validateOutputDescription({ type: 'json', schema, description: 'the label' });
    expect(json).toEqual({ type: 'json', schema, description: 'the label' });
    expect((json as { schema: unknown }).schema).not.toBe(schema); // a copy: later changes to the shim's object do not leak in
    expect(validateOutputDescription({ type: 'json' })).toEqual({ type: 'json' });
    expect(validateOutputDescription({ type: 'image', mediaType: 'image/png' })).toEqual({ type: 'image', mediaType: 'image/png' });
    expect(validateOutputDescription({ type: 'image' })).toEqual({ type: 'image' });
    expect(validateOutputDescription({ type: 'file', mediaType: 'audio/wav' })).toEqual({ type: 'file', mediaType: 'audio/wav' });
    expect(validateOutputDescription({ type: 'text', mediaType: 'text/csv; charset=utf-8' })).toEqual({ type: 'text', mediaType: 'text/csv; charset=utf-8' });
  });

  test.each([
    [
      'not an object',
      'json',
      "invalid output description: output: must be an object such as { type: 'json' } or { type: 'image', mediaType: 'image/png' }, got the string \"json\"",
    ],
    ['no type', { mediaType: 'image/png' }, 'invalid output description: output.type: is missing; expected one of json, image, file, text, fields'],
    [
      'a misspelt type',
      { type: 'imag' },
      'invalid output description: output.type: "imag" is not an output type; expected one of json, image, file, text, fields (did you mean \'image\'?)',
    ],
    [
      'a JavaScript type',
      { type: 'string' },
      'invalid output description: output.type: "string" is not an output type; expected one of json, image, file, text, fields (did you mean \'text\'?)',
    ],
    [
      'a misspelt key',
      { type: 'image', media_type: 'image/png' },
      "invalid output description: output.media_type: is not a key of a image output; expected type, mediaType, description (did you mean 'mediaType'?)",
    ],
    [
      'a media type on JSON',
      { type: 'json', mediaType: 'application/json' },
      'invalid output description: output.mediaType: a JSON output is always application/json; leave mediaType out',
    ],
    [
      'a schema key on an image',
      { type: 'image', schema: {} },
      "invalid output description: output.schema: is not a key of a image output; expected type, mediaType, description (did you mean 'type'?)",
    ],
    ['a description that is not text', { type: 'text', description: 3 }, 'invalid output description: output.description: must be a string, got number 3'],
    [
      'an extension for a media type',
      { type: 'image', mediaType: 'png' },
      'invalid output description: output.mediaType: "png" is not a media type such as \'image/png\'',
    ],
    [
      'a media type of another kind',
      { type: 'image', mediaType: 'application/pdf' },
      'invalid output description: output.mediaType: "application/pdf" is not an image type; use { type: \'file\', mediaType: "application/pdf" }, or an image type such as \'image/png\'',
    ],
    [
      'a text type that is not text',
      { type: 'text', mediaType: 'application/json' },
      'invalid output description: output.mediaType: "application/json" is not a text type; use { type: \'file\', mediaType: "application/json" }, or a text type such as \'text/csv\'',
    ],
    [
      'a range',
      { type: 'image', mediaType: 'image/*' },
      'invalid output description: output.mediaType: "image/*" is a range; name one media type such as \'image/png\', or leave mediaType out',
    ],
    [
      'a media type that is not a string',
      { type: 'file', mediaType: ['audio/wav'] },
      "invalid output description: output.mediaType: must be a media type such as 'audio/wav', got an array",
    ],
    [
      'a schema that is not an object',
      { type: 'json', schema: 'object' },
      'invalid output description: output.schema: must be a JSON Schema object such as { type: \'object\', properties: {...} }, got the string "object"',
    ],
    [
      'a misspelt JSON Schema type',
      { type: 'json', schema: { type: 'object', properties: { score: { type: 'float' } } } },
      'invalid output description: output.schema.properties.score.type: "float" is not a JSON Schema type; expected one of string, number, integer, boolean, object, array, null (did you mean \'number\'?)',
    ],
    [
      'an input type as a JSON Schema type',
      { type: 'json', schema: { type: 'array', items: { type: ['text', 'null'] } } },
      'invalid output description: output.schema.items.type: "text" is not a JSON Schema type; expected one of string, number, integer, boolean, object, array, null (did you mean \'string\'?)',
    ],
    [
      'a function in the schema',
      { type: 'json', schema: { type: 'object', default: () => ({}) } },
      'invalid output description: output.schema.default: a function is not JSON; the schema must be plain objects, arrays, strings, numbers, booleans and null',
    ],
    [
      'a Date in the schema',
      { type: 'json', schema: { type: 'string', examples: [new Date(0)] } },
      'invalid output description: output.schema.examples[0]: a Date is not JSON; the schema must be plain objects, arrays, strings, numbers, booleans and null',
    ],
    [
      'a number JSON cannot hold',
      { type: 'json', schema: { type: 'number', maximum: Number.POSITIVE_INFINITY } },
      'invalid output description: output.schema.maximum: Infinity is not a JSON number',
    ],
  ])('%s: exit code 3 with a message that names the key', (_, value, expected) => {
    const { code, exitCode, message } = refusal(value);
    expect(code).toBe('AI_ERR_INVALID_OPTION');
    expect(exitCode).toBe(3);
    expect(message).toBe(expected);
  });

  test('a cycle in the schema is refused, not followed forever; so is a schema nested past reason', () => {
    const schema: Record<string, unknown> = { type: 'object' };
    schema.properties = { self: schema };
    expect(refusal({ type: 'json', schema }).message).toBe(
      'invalid output description: output.schema.properties.self: contains itself (a cycle), which JSON cannot hold',
    );
    let deep: Record<string, unknown> = { type: 'string' };
    for (let level = 0; level < 100; level++) deep = { type: 'array', items: deep };
    expect(refusal({ type: 'json', schema: deep }).message).toMatch(/^invalid output description: output\.schema(\.items)+: nests deeper than 64 levels$/);
  });
});

describe('outputMediaType', () => {
  test('the described media type, else what the kind implies', () => {
    expect(outputMediaType({ type: 'json' })).toBe('application/json');
    expect(outputMediaType({ type: 'image' })).toBe('image/*');
    expect(outputMediaType({ type: 'image', mediaType: 'image/webp' })).toBe('image/webp');
    expect(outputMediaType({ type: 'file' })).toBe('application/octet-stream');
    expect(outputMediaType({ type: 'file', mediaType: 'audio/wav' })).toBe('audio/wav');
    expect(outputMediaType({ type: 'text' })).toBe('text/plain');
  });
});

describe("the output option's type catches what it can at compile time", () => {
  test('media types of the wrong kind and unknown kinds do not compile', () => {
    const good: StartLoopOptions[] = [
      { output: { type: 'json', schema: { type: 'object', required: ['label'] as const } } },
      { output: { type: 'image', mediaType: 'image/png' } },
      { output: { type: 'file', mediaType: 'audio/wav' } },
      { output: { type: 'text', mediaType: 'text/csv' } },
    ];
    // @ts-expect-error an image's media type starts with image/
    const extension: StartLoopOptions = { output: { type: 'image', mediaType: 'png' } };
    // @ts-expect-error not an output type
    const unknownType: StartLoopOptions = { output: { type: 'choice' } };
    // @ts-expect-error a JSON output has no media type
    const jsonMediaType: StartLoopOptions = { output: { type: 'json', mediaType: 'application/json' } };
    expect([good.length, extension, unknownType, jsonMediaType].length).toBe(4);
  });
});
