// The header check every image input goes through: whole headers of the formats sharp decodes
// pass with their size; truncated headers, and formats sharp cannot open, are refused with why.
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { parseImageHeader } from '../../src/inputs/image-header.js';

const made = (format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif') =>
  sharp({ create: { width: 33, height: 21, channels: 3, background: '#123456' } })
    .toFormat(format)
    .toBuffer();

// A 2 x 1 24-bit BMP, written by hand: sharp has no BMP reader, so the check must refuse it.
function bmp(): Buffer {
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + 8, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(1, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  return Buffer.concat([header, Buffer.alloc(8)]);
}

describe('parseImageHeader', () => {
  test.each(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const)('a whole %s header gives its format and size', async (format) => {
    expect(parseImageHeader(await made(format))).toEqual({ format, width: 33, height: 21 });
  });

  test('a JPEG cut inside its header is refused with the reason; cut in its pixel data it passes (the model decodes pixels)', async () => {
    const jpeg = await made('jpeg');
    expect(parseImageHeader(jpeg.subarray(0, 12))).toMatch(/corrupt|exceeded/i);
    expect(parseImageHeader(jpeg.subarray(0, jpeg.length - 10))).toEqual({ format: 'jpeg', width: 33, height: 21 });
  });

  test('formats sharp does not decode are refused by name', () => {
    expect(parseImageHeader(bmp())).toBe('bmp is not a format the runtime decodes');
    expect(parseImageHeader(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"></svg>'))).toBe(
      'svg is not a format the runtime decodes',
    );
  });

  test('no bytes, or bytes of no image, are refused', () => {
    expect(parseImageHeader(Buffer.alloc(0))).toBe('no bytes');
    expect(typeof parseImageHeader(Buffer.from('hello, this is not an image at all'))).toBe('string');
  });
});
