import { describe, expect, test } from 'vitest';
import { binaryBody, readBytesElements, splitBody, writeBytesElements } from '../../modes/kserve/binary-extension.js';
import { OpenInferenceError } from '../../modes/kserve/errors.js';

describe('the binary tensor data extension, to the byte', () => {
  test('Inference-Header-Content-Length cuts the body: the JSON header first, the binary data after it', () => {
    const body = Buffer.from('{"inputs":[]}\x01\x02\x03', 'latin1');
    const split = splitBody(body, '13');
    expect(split.header.toString()).toBe('{"inputs":[]}');
    expect([...split.binary!]).toEqual([1, 2, 3]);
    expect(split.raw).toBe(false);
  });

  test('without the header the whole body is JSON; with 0 it is all raw data', () => {
    const body = Buffer.from('{"inputs":[]}');
    expect(splitBody(body, undefined)).toEqual({ header: body, binary: undefined, raw: false });
    const raw = splitBody(Buffer.from([9, 8, 7]), '0');
    expect(raw.raw).toBe(true);
    expect(raw.header.length).toBe(0);
    expect([...raw.binary!]).toEqual([9, 8, 7]);
  });

  test.each([['-1'], ['12abc'], [''], ['1.5'], ['0x10']])('an Inference-Header-Content-Length of %j is a 400 naming the header', (value) => {
    expect(() => splitBody(Buffer.from('{}'), value)).toThrow(OpenInferenceError);
    expect(() => splitBody(Buffer.from('{}'), value)).toThrow(/^Inference-Header-Content-Length must be the byte length of the JSON header/);
  });

  test('an Inference-Header-Content-Length past the end of the body is a 400 saying both lengths', () => {
    const error = catchError(() => splitBody(Buffer.from('{}'), '3'));
    expect(error.message).toBe('Inference-Header-Content-Length is 3, but the body has only 2 bytes');
    expect(error.httpStatus).toBe(400);
  });

  test('BYTES elements are a 4-byte little-endian unsigned length, then the bytes', () => {
    const encoded = writeBytesElements([Buffer.from('ab'), Buffer.alloc(0), Buffer.alloc(300, 0xee)]);
    expect([...encoded.subarray(0, 12)]).toEqual([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 0x2c, 0x01]);
    expect(encoded.length).toBe(4 + 2 + 4 + 4 + 300);
    const decoded = readBytesElements('t', encoded, 3);
    expect(decoded.map((element) => element.length)).toEqual([2, 0, 300]);
    expect(decoded[0]!.toString()).toBe('ab');
    expect(decoded[2]!.every((byte) => byte === 0xee)).toBe(true);
  });

  test('a length that runs past the data, a cut prefix, or bytes left over are 400s naming the tensor', () => {
    const twoElements = Buffer.from([1, 0, 0, 0, 0x61, 5, 0, 0, 0, 0x62]);
    expect(catchError(() => readBytesElements('photo', twoElements, 2)).message).toBe(
      "input tensor 'photo': element 1 says it has 5 bytes, but only 1 of the tensor's binary_data_size remain",
    );
    expect(catchError(() => readBytesElements('photo', Buffer.from([1, 0, 0, 0, 0x61, 1, 0]), 2)).message).toMatch(
      /^input tensor 'photo': its binary data ends inside the length prefix of element 1/,
    );
    expect(catchError(() => readBytesElements('photo', Buffer.from([1, 0, 0, 0, 0x61, 0xff]), 1)).message).toBe(
      "input tensor 'photo': 1 byte of its binary_data_size is left after the 1 element its shape says",
    );
    expect(catchError(() => readBytesElements('photo', twoElements, 2)).field).toBe('photo');
  });

  test('a binary body is the JSON header, then each tensor in order; the header length counts UTF-8 bytes', () => {
    const { body, headerLength } = binaryBody({ model_name: 'é' }, [Buffer.from([1, 2]), Buffer.from([3])]);
    const json = '{"model_name":"é"}';
    expect(headerLength).toBe(Buffer.byteLength(json));
    expect(headerLength).toBe(json.length + 1);
    expect(body.subarray(0, headerLength).toString()).toBe(json);
    expect([...body.subarray(headerLength)]).toEqual([1, 2, 3]);
  });
});

function catchError(run: () => unknown): OpenInferenceError {
  try {
    run();
  } catch (error) {
    if (error instanceof OpenInferenceError) return error;
    throw error;
  }
  throw new Error('expected an OpenInferenceError');
}
