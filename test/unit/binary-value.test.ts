import { describe, expect, test } from 'vitest';
import { decodeBinaryText } from '../../src/inputs/binary-value.js';
import { InvalidInputError } from '../../src/errors.js';

const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);

describe('decodeBinaryText', () => {
  test('standard and URL-safe base64, padded or not, with line breaks', () => {
    expect(decodeBinaryText('f', bytes.toString('base64'))).toEqual(bytes);
    expect(decodeBinaryText('f', bytes.toString('base64url'))).toEqual(bytes);
    expect(decodeBinaryText('f', Buffer.from('ab').toString('base64'))).toEqual(Buffer.from('ab'));
    expect(decodeBinaryText('f', 'YWI')).toEqual(Buffer.from('ab'));
    expect(decodeBinaryText('f', 'AAEC\n+vv8\r\n/f7/')).toEqual(bytes);
  });

  test('data: URLs, base64 and percent-encoded', () => {
    expect(decodeBinaryText('f', `data:application/octet-stream;base64,${bytes.toString('base64')}`)).toEqual(bytes);
    expect(decodeBinaryText('f', 'data:,a%20b%ff%zz')).toEqual(Buffer.from([0x61, 0x20, 0x62, 0xff, 0x25, 0x7a, 0x7a]));
    expect(decodeBinaryText('f', 'data:text/plain;charset=utf-8,h%C3%A9')).toEqual(Buffer.from('hé'));
  });

  test.each(['not base64!', 'AAAAA', 'AA=A', 'data:;base64,***', '', 'data:;base64,'])('refuses %j naming the field', (text) => {
    expect(() => decodeBinaryText('photo', text)).toThrow(InvalidInputError);
    expect(() => decodeBinaryText('photo', text)).toThrow(/^photo: /);
  });

  test('a 100 MB base64 string decodes, and a bad character at its end is found, without a stack overflow', () => {
    const big = Buffer.alloc(75 * 1024 * 1024, 7);
    const text = big.toString('base64');
    expect(decodeBinaryText('f', text).equals(big)).toBe(true);
    expect(() => decodeBinaryText('f', `${text.slice(0, -4)}AA!A`)).toThrow(/f: is not valid base64/);
  });

  test('one character outside the alphabet anywhere, or padding in the middle, is refused, whatever the length (the undecoded fast path proves validity by length)', () => {
    for (let length = 1; length <= 12; length++) {
      const valid = Buffer.from(Array.from({ length }, (_, index) => (index * 37 + 11) % 256)).toString('base64');
      expect(decodeBinaryText('f', valid)).toEqual(Buffer.from(Array.from({ length }, (_, index) => (index * 37 + 11) % 256)));
      for (let at = 0; at < valid.length; at++) {
        for (const bad of ['!', '.', '*', '\u00e9']) {
          expect(() => decodeBinaryText('f', `${valid.slice(0, at)}${bad}${valid.slice(at + 1)}`)).toThrow(/f: is not valid base64/);
        }
      }
      expect(() => decodeBinaryText('f', `${valid.replace(/=+$/, '')}==${valid.replace(/=+$/, '')}`)).toThrow(/f: is not valid base64/);
    }
    expect(() => decodeBinaryText('f', 'QUJDR')).toThrow(/f: is not valid base64/);
    expect(() => decodeBinaryText('f', 'Q===')).toThrow(/f: is not valid base64/);
  });
});
