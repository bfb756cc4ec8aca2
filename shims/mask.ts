/**
 * Example model: a structured output, data and a file together. Finds the bright part of a photo
 * and returns its mask as a PNG beside the numbers: `output({ width, height, coverage, label,
 * mask: image(png) })`. Each mode encodes it in its own terms (JSON with the mask as a data: URL,
 * one KServe tensor per field, the mask written beside the JSON with `-o DIR`).
 */
import sharp from 'sharp';
import { image, output, startLoop } from 'ai-integration';

startLoop(
  async (inputs) => {
    const { data, info } = await sharp(inputs.image).grayscale().raw().toBuffer({ resolveWithObject: true });
    const mask = Buffer.alloc(data.length);
    let bright = 0;
    for (let index = 0; index < data.length; index++) {
      if (data[index]! >= inputs.threshold) {
        mask[index] = 255;
        bright++;
      }
    }
    const coverage = Number((bright / data.length).toFixed(4));
    const png = await sharp(mask, { raw: { width: info.width, height: info.height, channels: 1 } })
      .png()
      .toBuffer();
    return output({
      width: info.width,
      height: info.height,
      coverage,
      label: coverage >= 0.5 ? 'mostly bright' : 'mostly dark',
      mask: image(png),
    });
  },
  {
    image: { type: 'image', description: 'the photo to threshold' },
    threshold: { type: 'integer', min: 0, max: 255, default: 128, description: 'the gray level from which a pixel counts as bright' },
  },
  {
    name: 'mask',
    description: 'Finds the bright part of a photo: its mask as a PNG, with the share of the photo it covers.',
    output: {
      type: 'fields',
      fields: {
        width: { type: 'json', schema: { type: 'integer' } },
        height: { type: 'json', schema: { type: 'integer' } },
        coverage: { type: 'json', schema: { type: 'number', minimum: 0, maximum: 1 }, description: 'the share of bright pixels' },
        label: { type: 'json', schema: { type: 'string', enum: ['mostly bright', 'mostly dark'] } },
        mask: { type: 'image', mediaType: 'image/png', description: 'white where the photo is bright' },
      },
    },
  },
);
