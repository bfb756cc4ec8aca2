// JSON answers with data URLs written from their bytes: the same bytes JSON.stringify would give,
// whatever surrounds them, and the URL's text wherever else the value is serialized.
import { describe, expect, test } from 'vitest';
import { DataUrl, jsonBody } from '../../src/json-bytes.js';

const bytes = Buffer.from(Array.from({ length: 3000 }, (_, index) => (index * 37) % 256));
const asText = (value: unknown) => JSON.stringify(value, (_key, item: unknown) => (item instanceof DataUrl ? item.toString() : item));

describe('jsonBody', () => {
  test('a value without data URLs is its JSON text', () => {
    const value = { id: 'x', output: { label: 'cat', score: 0.98 }, text: 'é "quoted" \n' };
    expect(jsonBody(value)).toBe(JSON.stringify(value));
  });

  test('data URLs come out as the bytes JSON.stringify would give for their text, among non-ASCII text', () => {
    const value = {
      before: 'naïve ☃ \u0000 "q"',
      inputs: {
        image: { is_img: true, url: new DataUrl('image/jpeg', bytes) },
        note: { is_img: false, url: new DataUrl('text/plain;charset=utf-8', Buffer.from('héllo')) },
      },
      list: [new DataUrl('application/octet-stream', Buffer.alloc(0)), 'after ✓'],
    };
    const body = jsonBody(value);
    expect(Buffer.isBuffer(body)).toBe(true);
    expect((body as Buffer).equals(Buffer.from(asText(value)))).toBe(true);
    const parsed = JSON.parse((body as Buffer).toString('utf8'));
    expect(parsed.inputs.image.url).toBe(`data:image/jpeg;base64,${bytes.toString('base64')}`);
    expect(parsed.list[0]).toBe('data:application/octet-stream;base64,');
  });

  test('a media type JSON would escape goes through JSON.stringify as text', () => {
    const value = { url: new DataUrl('image/x-"odd"\\type', Buffer.from('ab')) };
    const body = jsonBody(value);
    expect(typeof body).toBe('string');
    expect(JSON.parse(body as string).url).toBe('data:image/x-"odd"\\type;base64,YWI=');
  });

  test('serialized anywhere else, a data URL is its text', () => {
    const url = new DataUrl('image/png', Buffer.from('png'));
    expect(JSON.stringify({ url })).toBe('{"url":"data:image/png;base64,cG5n"}');
    expect(`${url}`).toBe('data:image/png;base64,cG5n');
  });

  test('a string that looks like the marker is data, not a data URL', () => {
    const value = { a: '\u0000', b: new DataUrl('image/png', Buffer.from('x')), c: '"\\u0000"' };
    expect((jsonBody(value) as Buffer).toString('utf8')).toBe(asText(value));
  });
});
