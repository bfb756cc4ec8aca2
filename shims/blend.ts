/**
 * Example model with two image inputs and an image result, in the style of the Python library's
 * style-transfer example: the style image is resized to the content image and mixed into it,
 * pixel by pixel, with a chosen strength. Returns a JPEG.
 */
import sharp from 'sharp';
import { image, startLoop } from 'ai-integration';

/** Decodes an image to 8-bit RGB pixels, resized to the given size when one is given. */
async function rgbPixels(image: Buffer, size?: { width: number; height: number }) {
  let pipeline = sharp(image).rotate().removeAlpha().toColourspace('srgb');
  if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'cover' });
  return pipeline.raw().toBuffer({ resolveWithObject: true });
}

startLoop(
  async (inputs) => {
    const content = await rgbPixels(inputs.content);
    const { width, height, channels } = content.info;
    const style = await rgbPixels(inputs.style, { width, height });
    const mixed = Buffer.alloc(content.data.length);
    const weight = inputs.strength;
    for (let index = 0; index < mixed.length; index++) {
      mixed[index] = Math.round(content.data[index]! * (1 - weight) + style.data[index]! * weight);
    }
    const jpeg = await sharp(mixed, { raw: { width, height, channels } }).jpeg({ quality: inputs.quality }).toBuffer();
    return image(jpeg);
  },
  {
    style: { type: 'image', description: 'the image whose look is mixed in' },
    content: { type: 'image', description: 'the image that keeps its shape and size' },
    strength: { type: 'number', min: 0, max: 1, default: 0.5, description: 'how much of the style image: 0 keeps the content, 1 is all style' },
    quality: { type: 'integer', min: 1, max: 100, default: 85, description: 'JPEG quality of the result' },
  },
  // The examples live inside the runtime's own package, so they name themselves here; a model in a
  // folder of its own gets these from its package.json.
  {
    name: 'blend',
    description: 'Mixes the look of a style image into a content image, with a chosen strength.',
    output: { type: 'image', mediaType: 'image/jpeg', description: 'the blended image, the size of the content image' },
  },
);
