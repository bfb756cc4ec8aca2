// A native JSON body whose image is long base64: decoded from the body's bytes, the same inputs
// as the whole parse gives, or undefined (the whole parse then answers) for any other body.
import { describe, expect, test } from 'vitest';
import { parseWithBinaryInputs } from '../../src/http/json-binary-inputs.js';
import { parseJsonBytes } from '../../src/http/request-body.js';
import { decodeBinaryText } from '../../src/inputs/binary-value.js';
import type { InputsSchema } from '../../src/types.js';

const schema: InputsSchema = { image: { type: 'image' }, mask: { type: 'file', required: false }, prompt: { type: 'text', required: false } };
const image = Buffer.alloc(400 * 1024);
for (let index = 0; index < image.length; index++) image[index] = (index * 31 + 7) % 256;
const base64 = image.toString('base64');
const body = (text: string) => Buffer.from(text, 'utf8');

/** What the whole parse and the conversion's decoding give for the same body. */
function wholeParse(bytes: Buffer): Record<string, unknown> {
  const parsed = parseJsonBytes(bytes) as { inputs: Record<string, unknown> };
  for (const name of ['image', 'mask']) {
    const value = parsed.inputs[name];
    if (typeof value === 'string' && !value.startsWith('\u0000')) parsed.inputs[name] = decodeBinaryText(name, value);
  }
  return parsed;
}

// Buffers as their base64, for a deep comparison that does not walk them byte by byte.
const comparable = (value: unknown) =>
  JSON.parse(
    JSON.stringify(value, (_key, item: unknown) =>
      item instanceof Uint8Array || (item as { type?: string })?.type === 'Buffer' ? `bytes:${Buffer.from(item as Buffer).toString('base64')}` : item,
    ),
  );

describe('parseWithBinaryInputs', () => {
  test.each([
    ['the image alone', `{"inputs":{"image":"${base64}"}}`],
    [
      'beside other inputs, non-ASCII text and nesting',
      `{"inputs": {"prompt": "naïve ☃ \\"q\\" \\u00e9", "image": "${base64}", "extra": {"a": [1, "x"]}}, "id": "é"}`,
    ],
    ['two binary inputs, one a data: URL', `{"inputs":{"image":"data:image/png;base64,${base64}","mask":"${base64.replace(/=+$/, '')}"}}`],
    ['URL-safe base64 and whitespace around', ` \n{ "inputs" : { "image" : "${image.toString('base64url')}" } }\n`],
    ['after a byte-order mark', `\ufeff{"inputs":{"image":"${base64}"}}`],
    ['an escaped slash in the base64', `{"inputs":{"image":"${base64.replace('/', '\\/')}"}}`],
    ['a line break escaped in the base64', `{"inputs":{"image":"${base64.slice(0, 100)}\\n${base64.slice(100)}"}}`],
    ['spaces in the base64', `{"inputs":{"image":"${base64.slice(0, 100)} ${base64.slice(100)}"}}`],
    ['base64 in lines of 76, as MIME writes it', `{"inputs":{"image":"${base64.replace(/.{76}/g, '$&\\r\\n')}"}}`],
  ])('%s: the same inputs as the whole parse, the image as bytes', (_name, text) => {
    const parsed = parseWithBinaryInputs(body(text), schema);
    expect(parsed).toBeDefined();
    const expected = wholeParse(body(text));
    expect(Buffer.isBuffer((parsed!.inputs as Record<string, unknown>).image)).toBe(true);
    expect(comparable(parsed)).toEqual(comparable(expected));
  });

  test('a string that looks like the marker stays the string it is', () => {
    const text = `{"inputs":{"image":"\\u0000${'0'.repeat(36)}:0","mask":"${base64}"}}`;
    const parsed = parseWithBinaryInputs(body(text), schema);
    expect(comparable(parsed)).toEqual(comparable(wholeParse(body(text))));
    expect((parsed!.inputs as Record<string, unknown>).image).toBe(`\u0000${'0'.repeat(36)}:0`);
  });

  test.each([
    ['a small body', `{"inputs":{"image":"${base64.slice(0, 1000)}"}}`],
    ['a long string under an input the schema does not list', `{"inputs":{"other":"${base64}"}}`],
    ['a long string for a text input', `{"inputs":{"prompt":"${base64}"}}`],
    ['a long string nested in a binary input', `{"inputs":{"image":{"b64":"${base64}"}}}`],
    ['a long string outside the inputs', `{"inputs":{"image":"${base64}"},"note":"${base64}"}`],
    ['a long key', `{"inputs":{"image":"AAAA","${base64}":1}}`],
    ['the image given twice', `{"inputs":{"image":"${base64}","image":"${base64}"}}`],
    ['an escape the text path reads otherwise', `{"inputs":{"image":"${base64.slice(0, 100)}\\u0041${base64.slice(100)}"}}`],
    ['a bad base64 character', `{"inputs":{"image":"${base64.slice(0, 100)}!${base64.slice(101)}"}}`],
    ['a percent-encoded data: URL', `{"inputs":{"image":"data:image/png,${'%41'.repeat(30000)}"}}`],
    ['JSON that does not parse after the image', `{"inputs":{"image":"${base64}"},}`],
    ['a string that does not end', `{"inputs":{"image":"${base64}}}`],
    ['inputs that are not an object', `{"inputs":["${base64}"]}`],
    ['a body that is an array', `["${base64}"]`],
  ])('%s: left to the whole parse', (_name, text) => {
    expect(parseWithBinaryInputs(body(text), schema)).toBeUndefined();
  });

  test('a body that is not UTF-8 is left to the whole parse (which names the input)', () => {
    const bytes = Buffer.concat([body(`{"inputs":{"prompt":"`), Buffer.from([0xff, 0xfe]), body(`","image":"${base64}"}}`)]);
    expect(parseWithBinaryInputs(bytes, schema)).toBeUndefined();
  });

  test('a schema without binary inputs never takes the path', () => {
    expect(parseWithBinaryInputs(body(`{"inputs":{"prompt":"${base64}"}}`), { prompt: { type: 'text' } })).toBeUndefined();
  });

  test('an input named __proto__ stays an own property', () => {
    const parsed = parseWithBinaryInputs(body(`{"inputs":{"__proto__":"${base64}"}}`), JSON.parse('{"__proto__":{"type":"file"}}') as InputsSchema);
    const inputs = parsed!.inputs as Record<string, unknown>;
    expect(Object.getPrototypeOf(inputs)).toBe(Object.prototype);
    expect(Object.hasOwn(inputs, '__proto__')).toBe(true);
    expect((Object.getOwnPropertyDescriptor(inputs, '__proto__')!.value as Buffer).equals(image)).toBe(true);
  });
});
