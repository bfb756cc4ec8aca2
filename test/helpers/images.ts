import { createHash } from 'node:crypto';
import sharp from 'sharp';

/** A real JPEG made with sharp: a horizontal gradient, so it is not a flat colour. */
export async function makeJpeg(width = 64, height = 48): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      pixels[offset] = Math.round((x / width) * 255);
      pixels[offset + 1] = Math.round((y / height) * 255);
      pixels[offset + 2] = 90;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A real image made with sharp: one flat colour. */
export function solidImage(width: number, height: number, colour: { r: number; g: number; b: number }, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .toFormat(format)
    .toBuffer();
}

/** A real PNG made with sharp: one flat colour. */
export function makePng(width = 20, height = 10, colour = { r: 255, g: 0, b: 0 }): Promise<Buffer> {
  return solidImage(width, height, colour);
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
