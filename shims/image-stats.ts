/**
 * Example model: image statistics computed from the pixels with sharp. Returns JSON with the
 * size, the per-channel mean and standard deviation, the dominant colour, and whether the image
 * is (nearly) grayscale.
 */
import sharp from 'sharp';
import { json, startLoop } from 'ai-integration';

// A real model would load its weights here, once, before startLoop.
const grayscaleTolerance = 2;

startLoop(
  async (inputs) => {
    const image = sharp(inputs.image);
    const [metadata, stats] = await Promise.all([image.metadata(), image.stats()]);
    const round = (value: number) => Number(value.toFixed(inputs.precision));
    const [red, green, blue] = stats.channels;
    const grayscale =
      stats.channels.length < 3 ||
      (red !== undefined &&
        green !== undefined &&
        blue !== undefined &&
        Math.abs(red.mean - green.mean) <= grayscaleTolerance &&
        Math.abs(green.mean - blue.mean) <= grayscaleTolerance);
    const channelNames = stats.channels.length >= 3 ? ['red', 'green', 'blue', 'alpha'] : ['gray', 'alpha'];
    return json({
      width: metadata.width,
      height: metadata.height,
      format: metadata.format,
      channels: Object.fromEntries(
        stats.channels.map((channel, index) => [channelNames[index] ?? `channel${index}`, { mean: round(channel.mean), stdev: round(channel.stdev) }]),
      ),
      dominant: stats.dominant,
      grayscale,
      opaque: stats.isOpaque,
    });
  },
  {
    image: { type: 'image', description: 'the photo to analyse' },
    precision: { type: 'integer', min: 0, max: 6, default: 2, description: 'decimal places in the statistics' },
  },
  {
    name: 'image-stats',
    description: "Measures a photo: its size, each channel's mean and spread, its dominant colour, and whether it is grayscale.",
    output: {
      type: 'json',
      schema: {
        type: 'object',
        required: ['width', 'height', 'format', 'channels', 'dominant', 'grayscale', 'opaque'],
        properties: {
          width: { type: 'integer' },
          height: { type: 'integer' },
          format: { type: 'string', examples: ['jpeg'] },
          channels: {
            type: 'object',
            description: 'red, green, blue (or gray) and alpha',
            additionalProperties: { type: 'object', properties: { mean: { type: 'number' }, stdev: { type: 'number' } } },
          },
          dominant: { type: 'object', properties: { r: { type: 'integer' }, g: { type: 'integer' }, b: { type: 'integer' } } },
          grayscale: { type: 'boolean' },
          opaque: { type: 'boolean' },
        },
      },
    },
  },
);
