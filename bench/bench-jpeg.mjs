// The JPEG every HTTP benchmark sends: 5.5 KB of noise (noise compresses badly, so a small noisy
// image lands near the size wanted), from a fixed LCG, so it is the same bytes every run.
import sharp from 'sharp';

const side = 74;
const noise = Buffer.alloc(side * side * 3);
for (let index = 0, state = 1; index < noise.length; index++) {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  noise[index] = state >>> 24;
}

export const benchJpeg = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
  .jpeg({ quality: 90 })
  .toBuffer();
