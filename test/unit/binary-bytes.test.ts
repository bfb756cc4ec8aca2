import { describe, expect, test } from 'vitest';
import { decodeBase64Bytes, decodeBinaryBytes, pieceCharacters } from '../../src/inputs/binary-bytes.js';
import { decodeBinaryText } from '../../src/inputs/binary-value.js';

function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index++) bytes[index] = (index * 37 + 11) % 256;
  return bytes;
}
const ascii = (text: string) => Buffer.from(text, 'latin1');

describe('decodeBase64Bytes', () => {
  test('decodes what decodeBinaryText decodes, padded or not, either alphabet, at every length', () => {
    for (let length = 1; length <= 40; length++) {
      const bytes = pattern(length);
      for (const text of [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, '')]) {
        expect(decodeBase64Bytes(ascii(text))).toEqual(bytes);
        expect(decodeBase64Bytes(ascii(text))).toEqual(decodeBinaryText('f', text));
      }
    }
  });

  test('one character outside the alphabet anywhere, padding in the middle, or a bad length gives undefined', () => {
    for (let length = 1; length <= 12; length++) {
      const valid = pattern(length).toString('base64');
      for (let at = 0; at < valid.length; at++) {
        for (const bad of ['!', '.', '*', ' ', '\n', '\\', '"', '\u00e9', '=']) {
          const text = `${valid.slice(0, at)}${bad}${valid.slice(at + 1)}`;
          // '=' in place of trailing padding is still padding.
          if (bad === '=' && /^[^=]*=*$/.test(text) && text.length - text.replace(/=+$/, '').length <= 2 && text.replace(/=+$/, '').length % 4 !== 1) continue;
          expect(decodeBase64Bytes(Buffer.from(text, 'utf8')), `${JSON.stringify(text)}`).toBeUndefined();
        }
      }
    }
    for (const text of ['', '=', '==', 'A', 'AAAAA', 'AA===', 'AAAA===']) expect(decodeBase64Bytes(ascii(text)), text).toBeUndefined();
  });

  test('across piece boundaries: the bytes are whole, and a bad character next to any boundary is found', () => {
    const bytes = pattern(((3 * pieceCharacters) / 4) * 2 + 5);
    const text = bytes.toString('base64');
    expect(decodeBase64Bytes(ascii(text))?.equals(bytes)).toBe(true);
    for (const at of [0, pieceCharacters - 1, pieceCharacters, pieceCharacters + 1, 2 * pieceCharacters - 1, 2 * pieceCharacters, text.length - 1]) {
      const bad = ascii(text);
      bad[at] = 0x21; // !
      expect(decodeBase64Bytes(bad), `at ${at}`).toBeUndefined();
    }
    for (const extra of [0, 1, 2, 3]) {
      const sized = pattern((3 * pieceCharacters) / 4 + extra);
      expect(decodeBase64Bytes(ascii(sized.toString('base64')))?.equals(sized)).toBe(true);
    }
  });
});

describe('decodeBinaryBytes', () => {
  const bytes = pattern(300);

  test('a base64 data: URL, whatever the case of its prefix, as decodeBinaryText decodes it', () => {
    for (const prefix of ['data:image/png;base64,', 'DATA:image/png;BASE64,', 'data:;base64,', 'data:image/png;name=a b;base64,']) {
      const text = `${prefix}${bytes.toString('base64')}`;
      expect(decodeBinaryBytes(Buffer.from(text))).toEqual(bytes);
      expect(decodeBinaryBytes(Buffer.from(text))).toEqual(decodeBinaryText('f', text));
    }
    expect(decodeBinaryBytes(ascii(bytes.toString('base64')))).toEqual(bytes);
  });

  test('leaves to the text path what it does not decode exactly as the text path would', () => {
    for (const text of [
      'data:,a%20b', // percent-encoded
      'data:image/png,AAAA', // not base64
      `data:image/png\u0001;base64,${bytes.toString('base64')}`, // a control character JSON refuses in a string
      `data:image\\/png;base64,${bytes.toString('base64')}`, // an escape: the string's value is not its text
      `data:${'x'.repeat(2000)};base64,AAAA`, // a media type no media type is
      `${bytes.toString('base64').slice(0, 40)} ${bytes.toString('base64').slice(40)}`, // whitespace
      'data:;base64,',
      'http://example.com/a.png',
    ]) {
      expect(decodeBinaryBytes(Buffer.from(text)), text.slice(0, 60)).toBeUndefined();
    }
  });
});
