// The model's entrypoint (the shim): load the model once, then hand the inference function and
// its inputs schema to startLoop. MODE picks how it runs (npx ai-integration --help; the modes table of ai-integration's README).
// This example computes image statistics with sharp: replace them with your model.
// `npm run build` compiles it to shim.js, which `npm start` runs; the Dockerfile compiles it in the image.
import sharp from 'sharp';
import { json, startLoop } from 'ai-integration';

// Load weights here, once, before startLoop.

startLoop(
  async (inputs) => {
    // inputs.image is a Buffer, inputs.precision a number: typed from the schema below.
    const image = sharp(inputs.image);
    const [metadata, stats] = await Promise.all([image.metadata(), image.stats()]);
    const round = (value: number) => Number(value.toFixed(inputs.precision));
    const statistics = {
      width: metadata.width,
      height: metadata.height,
      format: metadata.format,
      means: stats.channels.map((channel) => round(channel.mean)),
      opaque: stats.isOpaque,
    };
    // json() builds the result object: { 'content-type': 'application/json', data, success: true }.
    return json(statistics);
  },
  {
    image: { type: 'image', description: 'the photo to analyse' },
    precision: { type: 'integer', min: 0, max: 6, default: 2, description: 'decimal places of the means' },
  },
);
