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
        for (const bad of ['!', '.', '*', '\n', '\\', '"', '\u00e9', '=']) {
          const text = `${valid.slice(0, at)}${bad}${valid.slice(at + 1)}`;
          // A backslash before n, r, t, f or / is an escape JSON allows, whitespace or '/' to the text path as well.
          if (bad === '\\' && /[nrtf/]/.test(valid[at + 1] ?? '')) continue;
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

describe('decodeBase64Bytes on base64 with whitespace, as a JSON string holds it', () => {
  // The text a JSON body holds for a string: escapes for line breaks and tabs, '/' as it is or escaped.
  const inJson = (text: string, slash = false) => {
    const json = JSON.stringify(text).slice(1, -1);
    return Buffer.from(slash ? json.replaceAll('/', '\\/') : json, 'latin1');
  };
  const same = (text: string, slash = false) => {
    const decoded = decodeBase64Bytes(inJson(text, slash));
    expect(decoded, JSON.stringify(text.slice(0, 80))).toBeDefined();
    expect(decoded!.equals(decodeBinaryText('f', text))).toBe(true);
  };

  test('lines of 76 (\\n, \\r\\n), spaces, tabs, form feeds and escaped slashes give what the text path gives', () => {
    for (let length = 1; length <= 200; length += 7) {
      const base64 = pattern(length).toString('base64');
      same(base64.replace(/.{76}/g, '$&\n'));
      same(base64.replace(/.{76}/g, '$&\r\n'));
      same(`${base64.replace(/.{4}/g, '$& ')}\n`);
      same(`\t${base64.replace(/.{10}/g, '$&\f')}`);
      same(base64.replace(/.{76}/g, '$&\n'), true);
      same(base64.replace(/=+$/, '').replace(/.{3}/g, '$&\n'));
    }
  });

  test('across piece boundaries, an escape at any offset near one', () => {
    const bytes = pattern((3 * pieceCharacters) / 4 + 3000);
    const base64 = bytes.toString('base64');
    for (let at = pieceCharacters - 4; at <= pieceCharacters + 2; at++) {
      // The escape's backslash at byte `at` of the JSON text.
      const text = `${base64.slice(0, at)}\n${base64.slice(at)}`;
      expect(decodeBase64Bytes(inJson(text))?.equals(bytes), `at ${at}`).toBe(true);
    }
    same(base64.replace(/.{76}/g, '$&\n'));
    same(`${base64.slice(0, pieceCharacters - 2)}  \n\n  ${base64.slice(pieceCharacters - 2)}`);
  });

  test('anything the text path would read otherwise, or refuse, gives undefined', () => {
    const base64 = pattern(100).toString('base64');
    for (const json of [
      `${base64.slice(0, 40)}\\u000a${base64.slice(40)}`, // a \u escape: left to the text path
      `${base64.slice(0, 40)}\\\\${base64.slice(40)}`, // an escaped backslash
      `${base64.slice(0, 40)}\\"${base64.slice(40)}`, // an escaped quote
      `${base64.slice(0, 40)}\n${base64.slice(40)}`, // a raw line break: not in a JSON string
      `${base64.slice(0, 40)}\t${base64.slice(40)}`, // a raw tab
      `AAAA= \\nAAAA`, // padding in the middle
      ' \\n \\t ', // nothing but whitespace
      `${base64.slice(0, 41)}\\n`, // a length no base64 has
      `${base64}=\\n=`, // three '='
    ]) {
      expect(decodeBase64Bytes(Buffer.from(json, 'latin1')), json.slice(0, 60)).toBeUndefined();
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
      'data:;base64,',
      'http://example.com/a.png',
    ]) {
      expect(decodeBinaryBytes(Buffer.from(text)), text.slice(0, 60)).toBeUndefined();
    }
  });
});
