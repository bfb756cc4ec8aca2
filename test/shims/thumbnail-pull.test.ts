import { request } from 'undici';
import { beforeAll, describe, expect, test } from 'vitest';
import { exampleShimNamed, imageFacts, multipartForm, writeTemporaryFiles } from '../helpers/example-shims.js';
import { solidImage } from '../helpers/images.js';
import { serveDuringSuite } from '../helpers/http-server.js';
import { pythonPickle, runScript } from '../helpers/run-process.js';

const thumbnail = exampleShimNamed('thumbnail-pull');
let photo: Buffer; // a green 300 x 200 JPEG

beforeAll(async () => {
  photo = await solidImage(300, 200, { r: 0, g: 160, b: 0 }, 'jpeg');
});

describe('shims/thumbnail-pull.ts: the pull-style API', () => {
  test('test_model_integration: five requests pulled and answered in turn', async () => {
    const outcome = await runScript(thumbnail, { mode: 'test_model_integration' });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toContain('Self-test passed: 5/5');
    expect(await imageFacts(outcome.stdout)).toMatchObject({ format: 'png', width: 128, height: 85 });
  });

  test('test_single_image: the longer side becomes 128, the aspect ratio stays', async () => {
    const outcome = await runScript(thumbnail, { mode: 'test_single_image', stdin: photo });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(await imageFacts(outcome.stdout)).toMatchObject({ format: 'png', width: 128, height: 85 });
  });

  test('test_inputs_dict_json, test_inputs_pickled_dict and command_line take size and format', async () => {
    const json = await runScript(thumbnail, {
      mode: 'test_inputs_dict_json',
      stdin: JSON.stringify({ image: photo.toString('base64'), size: 30, format: 'webp' }),
    });
    expect(json.code, json.stderr).toBe(0);
    expect(await imageFacts(json.stdout)).toMatchObject({ format: 'webp', width: 30, height: 20 });

    const files = writeTemporaryFiles({ 'photo.jpg': photo });
    const pickled = await runScript(thumbnail, {
      mode: 'test_inputs_pickled_dict',
      stdin: pythonPickle(`{'image': open(${JSON.stringify(files['photo.jpg'])}, 'rb').read(), 'size': 60, 'format': 'jpeg'}`),
    });
    expect(pickled.code, pickled.stderr).toBe(0);
    expect(await imageFacts(pickled.stdout)).toMatchObject({ format: 'jpeg', width: 60, height: 40 });

    const commandLine = await runScript(thumbnail, { mode: 'command_line', args: ['--image', files['photo.jpg']!, '--size', '1000'] });
    expect(commandLine.code, commandLine.stderr).toBe(0);
    expect(await imageFacts(commandLine.stdout)).toMatchObject({ width: 300, height: 200 }); // never enlarged
  });
});

describe('shims/thumbnail-pull.ts over HTTP: concurrent requests through the pulled loop', () => {
  const url = serveDuringSuite(thumbnail, { CONCURRENCY: '4' });

  test('eight concurrent requests of different sizes each get their own thumbnail', async () => {
    const sizes = [10, 20, 30, 40, 50, 60, 70, 80];
    const answers = await Promise.all(
      sizes.map(async (size) => {
        const response = await request(`${url()}/predict`, {
          method: 'POST',
          body: multipartForm({ image: photo, size: String(size) }),
          headers: { accept: 'image/png' },
        });
        expect(response.statusCode).toBe(200);
        return imageFacts(Buffer.from(await response.body.arrayBuffer()));
      }),
    );
    expect(answers.map((facts) => facts.width)).toEqual(sizes);
  });
});
