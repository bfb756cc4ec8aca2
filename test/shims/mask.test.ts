import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { exampleShimNamed, writeTemporaryFiles } from '../helpers/example-shims.js';
import { makePng } from '../helpers/images.js';
import { runScript } from '../helpers/run-process.js';

const mask = exampleShimNamed('mask');

describe('shims/mask.ts: a structured output, numbers and a PNG together', () => {
  test('command_line -o DIR: the mask written into the folder, the numbers and its path on stdout', async () => {
    // The left half white, the right half black: half the photo is bright.
    const half = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#000' } })
      .composite([{ input: await makePng(10, 10, { r: 255, g: 255, b: 255 }), left: 0, top: 0 }])
      .png()
      .toBuffer();
    const files = writeTemporaryFiles({ 'half.png': half });
    const folder = join(files['half.png']!, '..', 'out');
    const outcome = await runScript(mask, { mode: 'command_line', args: ['--image', files['half.png']!, '-o', folder] });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(JSON.parse(outcome.stdout.toString('utf8'))).toEqual({
      width: 20,
      height: 10,
      coverage: 0.5,
      label: 'mostly bright',
      mask: join(folder, 'mask.png'),
    });
    const written = readFileSync(join(folder, 'mask.png'));
    expect(await sharp(written).metadata()).toMatchObject({ format: 'png', width: 20, height: 10 });
  });

  test('test_single_image: the JSON with the mask as a data: URL', async () => {
    const outcome = await runScript(mask, { mode: 'test_single_image', stdin: await makePng(8, 8, { r: 10, g: 10, b: 10 }) });
    expect(outcome.code, outcome.stderr).toBe(0);
    const printed = JSON.parse(outcome.stdout.toString('utf8'));
    expect(printed).toMatchObject({ width: 8, height: 8, coverage: 0, label: 'mostly dark' });
    expect(printed.mask).toMatch(/^data:image\/png;base64,/);
  });
});
