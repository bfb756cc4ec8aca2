import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkResult } from '../../src/result/check-result.js';
import { makeJpeg, makePng } from '../helpers/images.js';

let jpeg: Buffer;
let png: Buffer;
beforeAll(async () => {
  jpeg = await makeJpeg(30, 20);
  png = await makePng(5, 6);
});

describe('checkResult', () => {
  test('a good JSON, image, text and binary result passes with a summary', async () => {
    await expect(checkResult({ 'content-type': 'application/json', data: '{"a": 1}', success: true })).resolves.toEqual({
      ok: true,
      problems: [],
      summary: 'application/json, 8 bytes of valid JSON',
      mediaType: 'application/json',
      json: { a: 1 },
    });
    await expect(checkResult({ 'content-type': 'image/jpeg', data: jpeg, success: true })).resolves.toMatchObject({
      ok: true,
      summary: `image/jpeg, 30x20 jpeg, ${jpeg.length} bytes`,
    });
    await expect(checkResult({ 'content-type': 'text/plain; charset=utf-8', data: Buffer.from('hi'), success: true })).resolves.toMatchObject({ ok: true });
    await expect(checkResult({ 'content-type': 'audio/wav', data: new Uint8Array([1, 2, 3]), success: true })).resolves.toMatchObject({
      ok: true,
      summary: 'audio/wav, 3 bytes',
    });
    const webp = await sharp(png).webp().toBuffer();
    await expect(checkResult({ 'content-type': 'image/webp', data: webp, success: true })).resolves.toMatchObject({ ok: true });
  });

  test.each([
    ['not an object', null, ["the result must be an object { 'content-type', data, success, error? }, got null"]],
    ['a Buffer', Buffer.from('x'), ["the result must be an object { 'content-type', data, success, error? }, got 1 byte of binary data"]],
    [
      'missing every field',
      {},
      [
        "'content-type' must be a string such as 'application/json', got undefined",
        "'success' must be true or false, got undefined",
        "'data' is missing (use null when there is no data)",
      ],
    ],
    ['a failure', { 'content-type': 'text/plain', data: null, success: false, error: 'out of memory' }, ['the model reported a failure: out of memory']],
    [
      'a failure without a message',
      { 'content-type': 'text/plain', data: null, success: false },
      ['the model reported a failure: (no error message was given)'],
    ],
    [
      'success without data',
      { 'content-type': 'application/json', data: null, success: true },
      ["'data' must be a string or a Buffer when success is true, got null"],
    ],
    [
      'JSON that does not parse',
      { 'content-type': 'application/json', data: '{', success: true },
      ['the content type is application/json but data is not valid JSON ('],
    ],
    ['an invalid media type', { 'content-type': 'jpeg', data: 'x', success: true }, ["'content-type' \"jpeg\" is not a valid media type such as 'image/jpeg'"]],
    ['an unknown content type', { 'content-type': 'picture/jpeg', data: 'x', success: true }, ['unknown content type "picture/jpeg"']],
    [
      'image data as a string',
      { 'content-type': 'image/png', data: 'iVBOR', success: true },
      ['the content type is image/png but data is a string; image data must be a Buffer'],
    ],
    [
      'image data that does not decode',
      { 'content-type': 'image/jpeg', data: Buffer.from('not a jpeg at all'), success: true },
      ['the content type is image/jpeg but data (17 bytes) is not an image that can be decoded'],
    ],
    [
      'text that is not UTF-8',
      { 'content-type': 'text/plain', data: Buffer.from([0xc3, 0x28]), success: true },
      ['the content type is text/plain but data is not valid UTF-8 text'],
    ],
  ])('%s', async (_name, result, expected) => {
    const report = await checkResult(result);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(expected.length);
    for (const [index, text] of expected.entries()) expect(report.problems[index]).toContain(text);
  });

  test.each([
    ['undefined', undefined, 'got undefined: did the function forget to return? End it with a result, e.g. `return json({'],
    ['a plain object', { label: 'cat', score: 0.93 }, 'got the plain object { label, score }; to return it as JSON write `return json({ label, score })`'],
    [
      'a wide plain object',
      { a: 1, b: 2, c: 3, d: 4, e: 5 },
      'got the plain object { a, b, c, d, ... }; to return it as JSON write `return json({ a, b, c, d, ... })`',
    ],
    ['an array', [1, 2], 'got an array; to return it as JSON write `return json(value)`'],
    ['a number', 0.93, 'got number 0.93; to return it as JSON write `return json(value)`'],
    ['a string', 'cat', 'got the string "cat"; for text write `return text(value)`'],
    ['a Buffer', Buffer.from('x'), 'for an image write `return image(bytes)`, for other bytes `return file(bytes,'],
    ['a function', () => 1, 'got a function; did the function return another function instead of calling it?'],
  ])('%s is not a result: one problem naming the helper to use', async (_name, result, expected) => {
    const report = await checkResult(result);
    expect(report).toMatchObject({ ok: false, summary: 'not a result object' });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toContain("the result must be an object { 'content-type', data, success, error? }, ");
    expect(report.problems[0]).toContain(expected);
  });

  test('an object with any key of a result is checked as one, never taken for a value', async () => {
    const report = await checkResult({ data: [1, 2], success: true });
    expect(report.problems).toEqual(["'content-type' must be a string such as 'application/json', got undefined"]);
  });

  test('image data of another format than declared is reported with what it is', async () => {
    const report = await checkResult({ 'content-type': 'image/jpeg', data: png, success: true });
    expect(report.problems).toEqual(['the content type is image/jpeg but data is a png image']);
    expect(report.summary).toBe(`image/jpeg, 5x6 png, ${png.length} bytes`);
  });
});
