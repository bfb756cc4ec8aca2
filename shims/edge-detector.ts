/**
 * Example model run by a real inference engine: onnxruntime-node on an edge detector (Sobel
 * filters, see models/edge-detector.ts, written by the build). The session is created once,
 * before startLoop, as a model's weights are loaded once: under the supervisor this runs in the
 * worker, again after each restart. Returns the edges as a grayscale PNG.
 */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { image, startLoop } from 'ai-integration';

const session = await ort.InferenceSession.create(new URL('./models/edge-detector.onnx', import.meta.url).pathname);

startLoop(
  async (inputs) => {
    const { data, info } = await sharp(inputs.image).rotate().greyscale().raw().toBuffer({ resolveWithObject: true });
    // Plain loops: TypedArray.from with a mapping function is many times slower on images.
    const scaled = new Float32Array(data.length);
    for (let index = 0; index < data.length; index++) scaled[index] = data[index]! / 255;
    const gray = new ort.Tensor('float32', scaled, [1, 1, info.height, info.width]);
    const { edges } = await session.run({ gray });
    const magnitudes = edges!.data as Float32Array;
    // A Sobel magnitude on [0, 1] pixels is at most 4·√2; scale it to bytes.
    const scale = (255 * inputs.gain) / (4 * Math.SQRT2);
    const pixels = new Uint8ClampedArray(magnitudes.length); // clamps to 255 as it stores
    for (let index = 0; index < magnitudes.length; index++) pixels[index] = Math.round(magnitudes[index]! * scale);
    const png = await sharp(pixels, { raw: { width: info.width, height: info.height, channels: 1 } })
      .png()
      .toBuffer();
    return image(png);
  },
  {
    image: { type: 'image', description: 'the picture whose edges are drawn' },
    gain: { type: 'number', min: 0.1, max: 20, default: 4, description: 'brightens faint edges; 1 maps the strongest possible edge to white' },
  },
  {
    name: 'edge-detector',
    description: 'Draws the edges of a picture (Sobel filters run by onnxruntime).',
    output: { type: 'image', mediaType: 'image/png', description: 'the edges, white on black, as a grayscale PNG' },
  },
);
