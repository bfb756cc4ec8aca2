// The baseline for the self-test benchmark: the same work as the example shim under
// MODE=test_model_integration (make the gray JPEG, compute its statistics 5 times, print JSON),
// with no framework around it.
import sharp from 'sharp';

const gray = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 200, g: 200, b: 200 } } })
  .jpeg()
  .toBuffer();
let output;
for (let run = 0; run < 5; run++) {
  const image = sharp(gray);
  const [metadata, stats] = await Promise.all([image.metadata(), image.stats()]);
  output = JSON.stringify({ width: metadata.width, height: metadata.height, channels: stats.channels.map((c) => c.mean), dominant: stats.dominant });
}
process.stdout.write(`${output}\n`);
