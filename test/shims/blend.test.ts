import { request } from 'undici';
import { beforeAll, describe, expect, test } from 'vitest';
import { exampleShimNamed, imageFacts, multipartForm, writeTemporaryFiles } from '../helpers/example-shims.js';
import { solidImage } from '../helpers/images.js';
import { serveDuringSuite } from '../helpers/http-server.js';
import { pythonPickle, runScript } from '../helpers/run-process.js';

const blend = exampleShimNamed('blend');
const red = { r: 200, g: 0, b: 0 };
const blue = { r: 0, g: 0, b: 200 };
let style: Buffer; // a blue 60 x 40 PNG
let content: Buffer; // a red 30 x 20 JPEG: the result keeps its size

beforeAll(async () => {
  style = await solidImage(60, 40, blue);
  content = await solidImage(30, 20, red, 'jpeg');
});

describe('shims/blend.ts: two images in, a JPEG out', () => {
  test('test_model_integration: the gray test image twice gives the same gray, 600 x 400', async () => {
    const outcome = await runScript(blend, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '2' } });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain('Self-test passed: 2/2');
    expect(await imageFacts(outcome.stdout)).toEqual({ format: 'jpeg', width: 600, height: 400, means: [200, 200, 200] });
  });

  test("test_inputs_dict_json: strength 0 keeps the content, 1 is all style, 0.5 is half way, at the content's size", async () => {
    const results = [];
    for (const strength of [0, 1, 0.5]) {
      const inputs = { style: style.toString('base64'), content: content.toString('base64'), strength };
      const outcome = await runScript(blend, { mode: 'test_inputs_dict_json', stdin: JSON.stringify(inputs) });
      expect(outcome.code, outcome.stderr).toBe(0);
      results.push(await imageFacts(outcome.stdout));
    }
    const [allContent, allStyle, half] = results;
    expect(allContent).toMatchObject({ format: 'jpeg', width: 30, height: 20 });
    expect(allContent!.means[0]).toBeGreaterThan(190);
    expect(allContent!.means[2]).toBeLessThan(10);
    expect(allStyle!.means[0]).toBeLessThan(10);
    expect(allStyle!.means[2]).toBeGreaterThan(190);
    for (const channel of [0, 2]) expect(Math.abs(half!.means[channel]! - 100)).toBeLessThanOrEqual(6);
  });

  test('test_inputs_pickled_dict: a dict of bytes written by python3', async () => {
    const files = writeTemporaryFiles({ 'style.png': style, 'content.jpg': content });
    const pickle = pythonPickle(
      `{'style': open(${JSON.stringify(files['style.png'])}, 'rb').read(), 'content': open(${JSON.stringify(files['content.jpg'])}, 'rb').read(), 'strength': 1.0}`,
    );
    const outcome = await runScript(blend, { mode: 'test_inputs_pickled_dict', stdin: pickle });
    expect(outcome.code, outcome.stderr).toBe(0);
    const facts = await imageFacts(outcome.stdout);
    expect(facts).toMatchObject({ format: 'jpeg', width: 30, height: 20 });
    expect(facts.means[2]).toBeGreaterThan(190);
  });

  test('command_line: --style and --content take paths, --quality is checked against its bounds', async () => {
    const files = writeTemporaryFiles({ 'style.png': style, 'content.jpg': content });
    const outcome = await runScript(blend, {
      mode: 'command_line',
      args: ['--style', files['style.png']!, '--content', files['content.jpg']!, '--strength', '0.5'],
    });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(await imageFacts(outcome.stdout)).toMatchObject({ format: 'jpeg', width: 30, height: 20 });

    const outOfBounds = await runScript(blend, {
      mode: 'command_line',
      args: ['--style', files['style.png']!, '--content', files['content.jpg']!, '--quality', '101'],
    });
    expect(outOfBounds.code).toBe(2);
    expect(outOfBounds.stderr).toMatch(/quality.*(101|at most 100)/);
  });

  test('test_single_image is refused with a pointer to the dict modes: the model has two image inputs', async () => {
    const outcome = await runScript(blend, { mode: 'test_single_image', stdin: content });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('test_single_image needs one image input, and this model has 2 (style, content)');
  });
});

describe('shims/blend.ts over HTTP', () => {
  const url = serveDuringSuite(blend);

  test('POST /predict with two files answers the JPEG itself when Accept asks for it', async () => {
    const response = await request(`${url()}/predict`, {
      method: 'POST',
      body: multipartForm({ style, content, strength: '1' }),
      headers: { accept: 'image/jpeg' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    const facts = await imageFacts(Buffer.from(await response.body.arrayBuffer()));
    expect(facts).toMatchObject({ format: 'jpeg', width: 30, height: 20 });
    expect(facts.means[2]).toBeGreaterThan(190);
  });

  test('POST /predict without the style image is a 422 that names it', async () => {
    const response = await request(`${url()}/predict`, { method: 'POST', body: multipartForm({ content }) });
    expect(response.statusCode).toBe(422);
    const answer = (await response.body.json()) as { error: { field?: string; message: string } };
    expect(answer.error.field).toBe('style');
  });
});
