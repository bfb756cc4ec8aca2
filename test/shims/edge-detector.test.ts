import sharp from 'sharp';
import { request } from 'undici';
import { beforeAll, describe, expect, test } from 'vitest';
import { exampleShimNamed, imageFacts, multipartForm, writeTemporaryFiles } from '../helpers/example-shims.js';
import { serveDuringSuite } from '../helpers/http-server.js';
import { pythonPickle, runScript } from '../helpers/run-process.js';

const edgeDetector = exampleShimNamed('edge-detector');
let square: Buffer; // a 40 x 30 PNG: black, with a white 20 x 10 rectangle from (10, 10)

beforeAll(async () => {
  const pixels = Buffer.alloc(40 * 30);
  for (let y = 10; y < 20; y++) pixels.fill(255, y * 40 + 10, y * 40 + 30);
  square = await sharp(pixels, { raw: { width: 40, height: 30, channels: 1 } })
    .png()
    .toBuffer();
});

/** The gray value of the result at (x, y). */
async function pixelAt(png: Buffer, x: number, y: number): Promise<number> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  return data[y * info.width + x]!;
}

/** Edges are bright on the rectangle's border and black inside it and far from it. */
async function expectRectangleOutline(png: Buffer): Promise<void> {
  expect(await imageFacts(png)).toMatchObject({ format: 'png', width: 40, height: 30 });
  expect(await pixelAt(png, 10, 15)).toBeGreaterThan(200); // left border
  expect(await pixelAt(png, 20, 10)).toBeGreaterThan(200); // top border
  expect(await pixelAt(png, 20, 15)).toBe(0); // inside
  expect(await pixelAt(png, 35, 3)).toBe(0); // outside
}

describe('shims/edge-detector.ts: onnxruntime-node on the ONNX graph the build writes', () => {
  test('test_model_integration: a flat gray image has no edges but its frame (zero padding)', async () => {
    const outcome = await runScript(edgeDetector, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '2' } });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(await imageFacts(outcome.stdout)).toMatchObject({ format: 'png', width: 600, height: 400 });
    expect(await pixelAt(outcome.stdout, 300, 200)).toBe(0);
    expect(await pixelAt(outcome.stdout, 0, 200)).toBeGreaterThan(200);
  });

  test('test_single_image: the outline of a white rectangle', async () => {
    const outcome = await runScript(edgeDetector, { mode: 'test_single_image', stdin: square });
    expect(outcome.code, outcome.stderr).toBe(0);
    await expectRectangleOutline(outcome.stdout);
  });

  test('the gain option scales the edges', async () => {
    const faint = await runScript(edgeDetector, { mode: 'test_inputs_dict_json', stdin: JSON.stringify({ image: square.toString('base64'), gain: 0.5 }) });
    expect(faint.code, faint.stderr).toBe(0);
    const value = await pixelAt(faint.stdout, 10, 15);
    expect(value).toBeGreaterThan(40);
    expect(value).toBeLessThan(120);
  });

  test('test_inputs_pickled_dict and command_line give the same outline', async () => {
    const files = writeTemporaryFiles({ 'square.png': square });
    const pickled = await runScript(edgeDetector, {
      mode: 'test_inputs_pickled_dict',
      stdin: pythonPickle(`{'image': open(${JSON.stringify(files['square.png'])}, 'rb').read()}`),
    });
    expect(pickled.code, pickled.stderr).toBe(0);
    await expectRectangleOutline(pickled.stdout);
    const commandLine = await runScript(edgeDetector, { mode: 'command_line', args: ['--image', files['square.png']!] });
    expect(commandLine.code, commandLine.stderr).toBe(0);
    expect(commandLine.stdout.equals(pickled.stdout)).toBe(true);
  });
});

describe('shims/edge-detector.ts over HTTP', () => {
  const url = serveDuringSuite(edgeDetector);

  test('POST /predict with a file answers the PNG as a data: URL', async () => {
    const response = await request(`${url()}/predict`, { method: 'POST', body: multipartForm({ image: square }) });
    expect(response.statusCode).toBe(200);
    const answer = (await response.body.json()) as { status: string; content_type: string; output: string };
    expect(answer).toMatchObject({ status: 'succeeded', content_type: 'image/png' });
    await expectRectangleOutline(Buffer.from(answer.output.replace(/^data:image\/png;base64,/, ''), 'base64'));
  });
});
