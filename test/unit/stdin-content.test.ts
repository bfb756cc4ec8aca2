import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { mayBePickle } from '../../src/pickle-reader.js';
import { describeContent } from '../../src/inputs/stdin-content.js';
import { pythonPickles } from '../pickle/python-pickles.js';

const values = [
  "{'a': b'x'}",
  '[1, 2]',
  '(1,)',
  "'text'",
  'None',
  'True',
  '3',
  '2**80',
  '1.5',
  "b'bytes'",
  'collections.OrderedDict(a=1)',
  '{1, 2}',
  "{'a': 1}",
];
const protocols = [0, 1, 2, 3, 4, 5];
let pickle: (expression: string, protocol: number) => Buffer;
beforeAll(() => {
  const pickles = pythonPickles(values, protocols);
  pickle = (expression, protocol) => pickles.get(expression, protocol);
});

describe('mayBePickle: the first byte, before decoding', () => {
  test.each(protocols)('every value python3 pickles with protocol %i starts like a pickle', (protocol) => {
    for (const value of values) {
      expect(mayBePickle(pickle(value, protocol)), `${value}, protocol ${protocol}`).toBe(true);
    }
  });

  test.each([
    ['JSON', '{"image": "x"}'],
    ['a JSON array', '[1]'],
    ['text', 'hello'],
    ['a JPEG', '\xff\xd8\xff\xe0'],
    ['a PNG', '\x89PNG\r\n\x1a\n'],
    ['nothing', ''],
  ])('%s does not', (_name, text) => {
    expect(mayBePickle(Buffer.from(text, 'latin1'))).toBe(false);
  });
});

describe('describeContent', () => {
  test('images by their signature', async () => {
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    expect(describeContent(png)).toEqual({ kind: 'image', description: `a PNG image (${png.length} bytes)` });
    const webp = await sharp(png).webp().toBuffer();
    expect(describeContent(webp).description).toBe(`a WebP image (${webp.length} bytes)`);
  });

  test('text that starts with "BM" is text, not a BMP', () => {
    expect(describeContent(Buffer.from('BMW is a car'))).toEqual({ kind: 'text', description: 'plain text ("BMW is a car")' });
  });

  test.each([
    ['', 'empty', 'empty'],
    [' \n', 'empty', 'only whitespace'],
    ['{"a": 1, "b": 2}', 'json', 'a JSON object with the keys "a", "b"'],
    ['{"a": 1}', 'json', 'a JSON object with the key "a"'],
    ['{}', 'json', 'an empty JSON object'],
    ['{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}', 'json', 'a JSON object with the keys "a", "b", "c", "d", "e", ...'],
    ['[1]', 'json', 'a JSON array (1 item)'],
    ['"hi"', 'json', 'JSON text (the string "hi")'],
    ['42', 'json', 'JSON text (42)'],
    ['\ufeff{"a": 1}', 'json', 'a JSON object with the key "a"'],
    ['a long line of plain text that goes on and on and on', 'text', 'plain text ("a long line of plain text that goes o...")'],
  ])('%j is %s: %s', (text, kind, description) => {
    expect(describeContent(Buffer.from(text))).toEqual({ kind, description });
  });

  test('a pickle of protocol 2 or later, and binary data', () => {
    expect(describeContent(pickle("{'a': 1}", 5))).toEqual({ kind: 'pickle', description: 'a Python pickle (protocol 5)' });
    expect(describeContent(Buffer.from([1, 2, 0, 255]))).toEqual({ kind: 'binary', description: 'binary data (4 bytes starting 010200ff)' });
  });
});
