// The JPEGs the HTTP benchmarks send: noise (it compresses badly, so an image of a given side lands
// near a known size) from a fixed LCG, so they are the same bytes every run. benchJpeg is 5.5 KB
// (74 x 74), what most benchmarks send; noiseJpeg(1328) is 1.46 MB, an image model's input.
import sharp from 'sharp';

/** A JPEG (quality 90) of `side` x `side` pixels of deterministic noise. */
export function noiseJpeg(side) {
  const noise = Buffer.alloc(side * side * 3);
  for (let index = 0, state = 1; index < noise.length; index++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    noise[index] = state >>> 24;
  }
  return sharp(noise, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export const benchJpeg = await noiseJpeg(74);
