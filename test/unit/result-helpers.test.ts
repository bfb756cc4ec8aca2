import sharp from 'sharp';
import { beforeAll, describe, expect, expectTypeOf, test } from 'vitest';
import { checkResult } from '../../src/result/check-result.js';
import { failure, file, image, json, text, type FailureResult, type ImageResult, type JsonResult } from '../../src/result/result-helpers.js';
import type { InferenceFunction, InferenceResult } from '../../src/types.js';
import { makeJpeg, makePng } from '../helpers/images.js';

let jpeg: Buffer;
let png: Buffer;
beforeAll(async () => {
  jpeg = await makeJpeg(30, 20);
  png = await makePng(5, 6);
});

describe("result helpers build exactly the Python library's result object", () => {
  test('json(value): application/json, the value as JSON text, success', async () => {
    const result = json({ label: 'cat', score: 0.93, tags: ['small', null], nested: { ok: true } });
    expect(result).toStrictEqual({
      'content-type': 'application/json',
      data: '{"label":"cat","score":0.93,"tags":["small",null],"nested":{"ok":true}}',
      success: true,
    });
    expect(await checkResult(result)).toMatchObject({ ok: true, json: { label: 'cat', score: 0.93, tags: ['small', null], nested: { ok: true } } });
    // Every JSON value, not only objects.
    expect(json([1, 2]).data).toBe('[1,2]');
    expect(json('plain').data).toBe('"plain"');
    expect(json(null).data).toBe('null');
    expect(json(false).data).toBe('false');
  });

  test('json(value) refuses what has no JSON form, at the call, saying why', () => {
    expect(() => json(undefined)).toThrow(
      new TypeError('json(value): undefined cannot be written as JSON; pass an object, an array, a string, a number, a boolean or null'),
    );
    expect(() => json(() => 1)).toThrow(/^json\(value\): function cannot be written as JSON/);
    expect(() => json({ count: 10n })).toThrow(/^json\(value\): the value cannot be written as JSON: Do not know how to serialize a BigInt/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => json(cycle)).toThrow(/^json\(value\): the value cannot be written as JSON: Converting circular structure to JSON/);
  });

  test('image(bytes): the media type is read from the bytes, for every format the runtime knows', async () => {
    const formats: [string, Buffer][] = [
      ['image/jpeg', jpeg],
      ['image/png', png],
      ['image/webp', await sharp(png).webp().toBuffer()],
      ['image/gif', await sharp(png).gif().toBuffer()],
      ['image/tiff', await sharp(png).tiff().toBuffer()],
      ['image/avif', await sharp(png).avif().toBuffer()],
      ['image/svg+xml', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>')],
    ];
    for (const [mediaType, bytes] of formats) {
      const result = image(bytes);
      expect(result).toStrictEqual({ 'content-type': mediaType, data: bytes, success: true });
      expect(result.data).toBe(bytes); // the same bytes, not a copy
      expect((await checkResult(result)).problems, mediaType).toEqual([]);
    }
    // A Uint8Array view works as well as a Buffer.
    const view = new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
    expect(image(view)['content-type']).toBe('image/png');
  });

  test('image(bytes) refuses bytes in no image format, and values that are not bytes, at the call', async () => {
    expect(() => image(Buffer.from('{"label": "cat"}'))).toThrow(
      new TypeError(
        "image(bytes): the 16 bytes (starting 7b226c6162656c22) are not an image in a known format (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF, BMP, SVG); encode the pixels first (e.g. sharp(...).png().toBuffer()), or use file(bytes, 'application/octet-stream') for other data",
      ),
    );
    expect(() => image(Buffer.alloc(0))).toThrow(/the 0 bytes \(starting \(empty\)\) are not an image/);
    const raw = await sharp(png).raw().toBuffer();
    expect(() => image(raw)).toThrow(/^image\(bytes\): the 90 bytes .* are not an image in a known format/);
    expect(() => image('iVBORw0KGgo' as unknown as Buffer)).toThrow('image(bytes): expected a Buffer of encoded image bytes, got the string "iVBORw0KGgo"');
  });

  test('file(bytes, type): any binary of the given media type', async () => {
    const wav = Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1');
    const result = file(wav, 'audio/wav');
    expect(result).toStrictEqual({ 'content-type': 'audio/wav', data: wav, success: true });
    expect(await checkResult(result)).toMatchObject({ ok: true, summary: `audio/wav, ${wav.length} bytes` });
    expect(file(wav, 'application/pdf; name=report.pdf')['content-type']).toBe('application/pdf; name=report.pdf');
  });

  test('file(bytes, type) refuses a type that is not one media type, and data that is not bytes', () => {
    expect(() => file(Buffer.from('x'), 'pdf')).toThrow(new TypeError('file(bytes, type): "pdf" is not a media type such as \'application/pdf\''));
    expect(() => file(Buffer.from('x'), 'image/*')).toThrow(
      new TypeError('file(bytes, type): "image/*" is a range; name the one media type of the data, such as \'application/pdf\''),
    );
    expect(() => file(Buffer.from('x'), undefined as unknown as string)).toThrow("file(bytes, type): undefined is not a media type such as 'application/pdf'");
    expect(() => file('text' as unknown as Buffer, 'text/plain')).toThrow('file(bytes, type): expected a Buffer, got the string "text"');
  });

  test('text(value): text/plain in UTF-8, or another text type', async () => {
    expect(text('héllo')).toStrictEqual({ 'content-type': 'text/plain; charset=utf-8', data: 'héllo', success: true });
    expect(text('a,b\n1,2\n', 'text/csv')).toStrictEqual({ 'content-type': 'text/csv', data: 'a,b\n1,2\n', success: true });
    expect(await checkResult(text('héllo'))).toMatchObject({ ok: true, mediaType: 'text/plain' });
    expect(() => text({ words: 3 } as unknown as string)).toThrow('text(value): expected a string, got an object; use json(value) for other values');
    expect(() => text('x', 'application/json' as `text/${string}`)).toThrow(
      'text(value, type): "application/json" is not a text type; use file(bytes, type) for other data',
    );
  });

  test("failure(message): the Python library's error shape, which the runtime reports as the model's failure", async () => {
    expect(failure('no face found')).toStrictEqual({ 'content-type': 'text/plain', data: null, success: false, error: 'no face found' });
    expect(failure(new RangeError('the image is too small'))).toStrictEqual({
      'content-type': 'text/plain',
      data: null,
      success: false,
      error: 'the image is too small',
    });
    expect(await checkResult(failure('no face found'))).toEqual({ ok: false, problems: ['the model reported a failure: no face found'], summary: 'failure' });
    expect(() => failure(42 as unknown as string)).toThrow('failure(message): expected a string or an Error, got number 42');
  });

  test('the results are typed, and each is an InferenceResult', () => {
    expectTypeOf(json({})).toEqualTypeOf<JsonResult>();
    expectTypeOf<ImageResult['success']>().toEqualTypeOf<true>();
    expectTypeOf<ImageResult['content-type']>().toEqualTypeOf<`image/${string}`>();
    expectTypeOf(failure('x')).toEqualTypeOf<FailureResult>();
    expectTypeOf<FailureResult['data']>().toEqualTypeOf<null>();
    expectTypeOf(json).returns.toMatchTypeOf<InferenceResult>();
    expectTypeOf(image).returns.toMatchTypeOf<InferenceResult>();
    expectTypeOf(file).returns.toMatchTypeOf<InferenceResult>();
    expectTypeOf(text).returns.toMatchTypeOf<InferenceResult>();
    expectTypeOf(failure).returns.toMatchTypeOf<InferenceResult>();
    // An inference function may mix helpers and hand-written objects.
    const infer: InferenceFunction<{ mode: string }> = async (inputs) =>
      inputs.mode === 'raw' ? { 'content-type': 'text/plain', data: 'raw', success: true } : inputs.mode === 'fail' ? failure('no') : json({ ok: true });
    expect(typeof infer).toBe('function');
  });
});
