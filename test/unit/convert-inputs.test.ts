import { beforeAll, describe, expect, test } from 'vitest';
import { convertInputs } from '../../src/inputs/convert-inputs.js';
import { InvalidInputError } from '../../src/errors.js';
import type { InputsSchema } from '../../src/types.js';
import { makePng } from '../helpers/images.js';

const schema = {
  image: { type: 'image' },
  prompt: { type: 'text', required: false },
  ratio: { type: 'number', min: -1, max: 1, default: 0 },
  count: { type: 'integer', min: 1, default: 3 },
  flag: { type: 'boolean', default: false },
  pick: { type: 'choice', choices: ['a', 'b'], default: 'a' },
  extra: { type: 'json', default: { list: [1] } },
} as const satisfies InputsSchema;

let png: Buffer;
beforeAll(async () => {
  png = await makePng(4, 4);
});

async function refusal(raw: Record<string, unknown>, origin: 'text' | 'data' = 'data', strict = false) {
  try {
    await convertInputs(schema, raw, { origin, strict });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).httpStatus).toBe(422);
    expect((error as InvalidInputError).exitCode).toBe(2);
    return { field: (error as InvalidInputError).field, message: (error as Error).message };
  }
  throw new Error('accepted');
}

describe('convertInputs', () => {
  test('applies defaults, and a default is a copy the model may change', async () => {
    const first = await convertInputs(schema, { image: png }, { origin: 'data' });
    expect(first).toEqual({ image: png, ratio: 0, count: 3, flag: false, pick: 'a', extra: { list: [1] } });
    expect(first).not.toHaveProperty('prompt');
    (first.extra as { list: number[] }).list.push(2);
    const second = await convertInputs(schema, { image: png }, { origin: 'data' });
    expect(second.extra).toEqual({ list: [1] });
  });

  test('text origin: numbers, booleans and JSON are parsed from strings; empty fields mean "not given"', async () => {
    const inputs = await convertInputs(
      schema,
      { image: png, prompt: '', ratio: ' -0.5 ', count: '1e1', flag: 'On', pick: 'b', extra: '[true]' },
      { origin: 'text' },
    );
    expect(inputs).toMatchObject({ prompt: '', ratio: -0.5, count: 10, flag: true, pick: 'b', extra: [true] });
    const empty = await convertInputs(schema, { image: png, ratio: '', count: '' }, { origin: 'text' });
    expect(empty).toMatchObject({ ratio: 0, count: 3 });
  });

  test('data origin: JSON strings stay strings for json inputs, bigints within range become numbers, bytes become text', async () => {
    const inputs = await convertInputs(schema, { image: new Uint8Array(png), extra: '[1]', count: 5n, prompt: Buffer.from('héllo') }, { origin: 'data' });
    expect(Buffer.isBuffer(inputs.image)).toBe(true);
    expect(inputs).toMatchObject({ extra: '[1]', count: 5, prompt: 'héllo' });
  });

  test('null is "not given"', async () => {
    const inputs = await convertInputs(schema, { image: png, ratio: null }, { origin: 'data' });
    expect(inputs.ratio).toBe(0);
  });

  test.each([
    { raw: { image: undefined }, field: 'image', message: 'image: is required; expected an image' },
    { raw: { image: Buffer.alloc(0) }, field: 'image', message: 'image: is empty' },
    { raw: { image: 'data:image/png;base64,' }, field: 'image', message: 'image: is empty' },
    { raw: { image: '@@@' }, field: 'image', message: 'image: is not valid base64' },
    { raw: { image: 'A' }, field: 'image', message: 'image: is not valid base64' },
    { raw: { image: [1, 2] }, field: 'image', message: 'image: expected an image (JPEG, PNG, WebP, GIF, TIFF or AVIF bytes), got an array' },
    { raw: { ratio: 2 }, field: 'ratio', message: 'ratio: 2 is out of range; expected a number between -1 and 1' },
    { raw: { ratio: Number.NaN }, field: 'ratio', message: 'ratio: expected a number between -1 and 1, got number NaN' },
    { raw: { ratio: '0x1' }, field: 'ratio', message: 'ratio: expected a number between -1 and 1, got the string "0x1"' },
    { raw: { ratio: true }, field: 'ratio', message: 'ratio: expected a number between -1 and 1, got boolean true' },
    { raw: { count: 0 }, field: 'count', message: 'count: 0 is out of range; expected an integer at least 1' },
    { raw: { count: 2 ** 60 }, field: 'count', message: 'count: expected an integer at least 1, got number' },
    { raw: { count: 10n ** 30n }, field: 'count', message: 'count: expected an integer at least 1, got bigint 1000000000000000000000000000000' },
    { raw: { flag: 2 }, field: 'flag', message: 'flag: expected true or false (also yes/no, on/off, 1/0), got number 2' },
    { raw: { pick: 'c' }, field: 'pick', message: 'pick: expected one of a, b, got the string "c" (did you mean \'a\'?)' },
    { raw: { prompt: { text: 'x' } }, field: 'prompt', message: 'prompt: expected a string, got an object' },
    { raw: { prompt: Buffer.from([0xff, 0xfe]) }, field: 'prompt', message: 'prompt: expected a string, got 2 bytes that are not valid UTF-8 text' },
  ])('refuses a bad $field: $message', async ({ raw, field, message }) => {
    const refused = await refusal({ image: png, ...raw });
    expect(refused.field).toBe(field);
    expect(refused.message).toContain(message);
  });

  test('a json input given as text must parse', async () => {
    expect((await refusal({ image: png, extra: '{no' }, 'text')).message).toMatch(/^extra: is not valid JSON \(/);
  });

  test('extra inputs pass through unchanged, or are refused with a suggestion when strict', async () => {
    const options = { temperature: 0.7, nested: { a: 1 } };
    const inputs = await convertInputs(schema, { image: png, ...options }, { origin: 'data' });
    expect(inputs.temperature).toBe(0.7);
    expect(inputs.nested).toBe(options.nested);
    const refused = await refusal({ image: png, cuont: 3 }, 'data', true);
    expect(refused).toEqual({
      field: 'cuont',
      message: "cuont: is not an input of this model; this model's inputs are image, prompt, ratio, count, flag, pick, extra (did you mean 'count'?)",
    });
  });

  test('input names such as __proto__ stay data and never change a prototype', async () => {
    const raw = JSON.parse(`{"image": "${png.toString('base64')}", "__proto__": {"isAdmin": true}}`);
    const inputs = await convertInputs(schema, raw, { origin: 'data' });
    expect(Object.getPrototypeOf(inputs)).toBe(Object.prototype);
    expect((inputs as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(inputs, '__proto__')?.value).toEqual({ isAdmin: true });
    expect(({} as { isAdmin?: boolean }).isAdmin).toBeUndefined();
  });

  test('a non-object is malformed input', async () => {
    await expect(convertInputs(schema, [] as never, { origin: 'data' })).rejects.toMatchObject({ code: 'AI_ERR_MALFORMED_INPUT' });
  });
});
