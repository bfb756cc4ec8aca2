// The model of the output-upload benchmark: it answers the same PNG every time, about IMAGE_MB
// (10) megabytes of deterministic noise (which PNG cannot compress), made once at load, so the
// figures measure what the server does with a large file output.
import { startLoop } from 'ai-integration';
import sharp from 'sharp';

const side = Math.round(Math.sqrt((Number(process.env.IMAGE_MB ?? 10) * 1e6) / 3));
const noise = Buffer.alloc(side * side * 3);
for (let index = 0, state = 7; index < noise.length; index++) {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  noise[index] = state >>> 24;
}
const png = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
  .png({ compressionLevel: 1 })
  .toBuffer();

startLoop(() => ({ 'content-type': 'image/png', data: png, success: true }), {});
