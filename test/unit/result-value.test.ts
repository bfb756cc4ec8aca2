import { describe, expect, test } from 'vitest';
import { resultBytes, resultValue } from '../../src/result/write-result.js';

const b64 = (bytes: Buffer) => ({ b64: bytes.toString('base64') });

describe('resultBytes and resultValue', () => {
  test('the bytes of a string, a Uint8Array view and no data', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    expect(resultBytes({ data: 'é' })).toEqual(Buffer.from('é', 'utf8'));
    expect(resultBytes({ data: backing.subarray(1, 4) })).toEqual(Buffer.from([1, 2, 3]));
    expect(resultBytes({ data: null })).toEqual(Buffer.alloc(0));
  });

  test('JSON parsed (or as the checker parsed it), text as a string, anything else as the caller gives bytes', () => {
    expect(resultValue({ data: '{"a":1}' }, 'application/json', b64)).toEqual({ a: 1 });
    expect(resultValue({ data: Buffer.from('[1]') }, 'application/geo+json', b64)).toEqual([1]);
    expect(resultValue({ data: 'not parsed again' }, 'application/json', b64, { json: 'parsed' })).toBe('parsed');
    expect(resultValue({ data: Buffer.from('héllo') }, 'text/plain', b64)).toBe('héllo');
    expect(resultValue({ data: 'text' }, 'text/csv', b64, {})).toBe('text');
    expect(resultValue({ data: Buffer.from([1, 2, 3]) }, 'image/png', b64)).toEqual({ b64: 'AQID' });
    expect(resultValue({ data: '<a/>' }, 'application/xml', (bytes) => bytes.length)).toBe(4);
  });
});
