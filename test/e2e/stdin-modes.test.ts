import { beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg, makePng, sha256 } from '../helpers/images.js';
import { exampleShim, fixture, runScript, stdoutJson } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const echoModel = fixture('echo-model.mjs');
let jpeg: Buffer;
let png: Buffer;

beforeAll(async () => {
  jpeg = await makeJpeg(50, 20);
  png = await makePng(12, 8, { r: 0, g: 0, b: 255 });
});

const json = (stdin: string | Buffer, env: Record<string, string> = {}, script = echoModel) => runScript(script, { mode: 'test_inputs_dict_json', stdin, env });

function expectUsageError(outcome: Awaited<ReturnType<typeof json>>, message: string) {
  expect(outcome.stderr).toContain(message);
  expect(outcome.code).toBe(2);
  expect(outcome.stdout.length).toBe(0);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
}

describe('test_single_image', () => {
  test.each(['jpeg', 'png'])('reads a %s from stdin byte for byte and prints the JSON result', async (format) => {
    const image = format === 'jpeg' ? jpeg : png;
    const outcome = await runScript(exampleShim, { mode: 'test_single_image', stdin: image });
    expect(outcome.code).toBe(0);
    const stats = stdoutJson(outcome);
    expect(stats).toMatchObject({ format, width: format === 'jpeg' ? 50 : 12, height: format === 'jpeg' ? 20 : 8 });
    if (format === 'png') expect(stats.channels.blue.mean).toBe(255);
    const echoed = stdoutJson(await runScript(echoModel, { mode: 'test_single_image', stdin: image }));
    expect(echoed.inputs.image).toEqual({ bytes: image.length, sha256: sha256(image) });
  });

  test('empty stdin is a clear error', async () => {
    expectUsageError(await runScript(echoModel, { mode: 'test_single_image', stdin: '' }), 'stdin is empty; pipe an image in');
  });

  test('bytes that are not an image are refused, naming the input', async () => {
    expectUsageError(
      await runScript(echoModel, { mode: 'test_single_image', stdin: 'hello, not an image' }),
      'image: is not an image that can be decoded (19 bytes starting 68656c6c6f2c206e, which match no image format)',
    );
  });

  test('a schema without an image input is refused', async () => {
    expectUsageError(
      await runScript(fixture('text-model.mjs'), { mode: 'test_single_image', stdin: jpeg }),
      "test_single_image needs an image input, and this model's schema has none",
    );
  });

  test('a schema with two image inputs is ambiguous', async () => {
    expectUsageError(
      await runScript(fixture('two-image-model.mjs'), { mode: 'test_single_image', stdin: jpeg }),
      'this model has 2 (style, content); use MODE=test_inputs_dict_json',
    );
  });

  test('stdin over MAX_INPUT_BYTES is refused without reading it all', async () => {
    const outcome = await runScript(echoModel, { mode: 'test_single_image', stdin: Buffer.alloc(4 * 1024 * 1024), env: { MAX_INPUT_BYTES: '1000000' } });
    expectUsageError(outcome, 'stdin holds more than 1000000 bytes (the limit; raise it with MAX_INPUT_BYTES)');
  });
});

describe('test_inputs_dict_json', () => {
  test('binary inputs as base64 and as data: URLs arrive as Buffers; typed inputs are converted', async () => {
    const outcome = await json(
      JSON.stringify({
        image: `data:image/png;base64,${png.toString('base64')}`,
        attachment: jpeg.toString('base64url'),
        strength: 1,
        steps: '12',
        fast: 'yes',
        style: 'sketch',
        config: { nested: [1, { deep: true }] },
        model_option: 'passes through',
      }),
    );
    expect(outcome.code).toBe(0);
    const echoed = stdoutJson(outcome);
    expect(echoed.inputs).toEqual({
      image: { bytes: png.length, sha256: sha256(png) },
      attachment: { bytes: jpeg.length, sha256: sha256(jpeg) },
      prompt: 'hello',
      strength: 1,
      steps: 12,
      fast: true,
      style: 'sketch',
      config: { nested: [1, { deep: true }] },
      model_option: 'passes through',
    });
  });

  test.each([
    { how: 'directly', script: echoModel, args: [] },
    { how: 'under the supervisor', script: supervisorBin, args: [echoModel] },
  ])('a UTF-8 byte-order mark before the JSON (Windows editors, PowerShell) is accepted, $how', async ({ script, args }) => {
    const body = JSON.stringify({ image: jpeg.toString('base64'), prompt: 'from notepad' });
    for (const stdin of [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]), Buffer.from(`\uFEFF\r\n${body}\r\n`)]) {
      const outcome = await runScript(script, { mode: 'test_inputs_dict_json', args, stdin });
      expect(outcome.code).toBe(0);
      expect(stdoutJson(outcome).inputs).toMatchObject({ image: { bytes: jpeg.length }, prompt: 'from notepad' });
    }
  });

  test('a percent-encoded data: URL is decoded byte for byte', async () => {
    const outcome = await json(JSON.stringify({ image: jpeg.toString('base64'), attachment: 'data:application/octet-stream,%00%FFab%41' }));
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome).inputs.attachment).toEqual({ bytes: 5, sha256: sha256(Buffer.from([0, 255, 0x61, 0x62, 0x41])) });
  });

  test('__proto__ and constructor are ordinary input names and never reach a prototype', async () => {
    const body = `{"image": "${jpeg.toString('base64')}", "__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}`;
    const outcome = await json(body);
    expect(outcome.code).toBe(0);
    const echoed = stdoutJson(outcome);
    expect(echoed.plainPrototype).toBe(true);
    expect(echoed.polluted).toBeNull();
    expect(echoed.inputs.__proto__).toEqual({ polluted: 'yes' });
    expect(echoed.inputs.constructor).toEqual({ prototype: { polluted: 'yes' } });
  });

  test('STRICT_INPUTS=true refuses an input the schema does not list', async () => {
    const outcome = await json(JSON.stringify({ image: jpeg.toString('base64'), stile: 'photo' }), { STRICT_INPUTS: 'true' });
    expectUsageError(
      outcome,
      "stile: is not an input of this model; this model's inputs are image, prompt, strength, steps, fast, style, config, attachment (did you mean 'style'?)",
    );
  });

  test.each([
    { name: 'empty stdin', stdin: '', message: 'stdin is empty; expected a JSON object of inputs' },
    { name: 'malformed JSON', stdin: '{"image": ', message: 'stdin is not valid JSON (' },
    { name: 'an array', stdin: '[1, 2]', message: 'stdin holds an array; expected a JSON object of inputs' },
    { name: 'null', stdin: 'null', message: 'stdin holds null; expected a JSON object of inputs' },
    { name: 'a string', stdin: '"image"', message: 'stdin holds the string "image"; expected a JSON object' },
    { name: 'invalid UTF-8', stdin: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), message: 'stdin is not UTF-8 text' },
    { name: 'a missing required input', stdin: '{"prompt": "x"}', message: 'image: is required; expected an image' },
    { name: 'an image that is not base64', stdin: '{"image": "not base64!"}', message: 'image: is not valid base64' },
    { name: 'an image as a number', stdin: '{"image": 5}', message: 'image: expected an image (JPEG, PNG, WebP, GIF, TIFF or AVIF bytes), got number 5' },
    {
      name: 'base64 of something that is not an image',
      stdin: `{"image": "${Buffer.from('plain text').toString('base64')}"}`,
      message: 'image: is not an image that can be decoded',
    },
    { name: 'a number out of range', stdin: 'IMAGE{"strength": -0.1}', message: 'strength: -0.1 is out of range; expected a number between 0 and 1' },
    { name: 'a number as a word', stdin: 'IMAGE{"strength": "half"}', message: 'strength: expected a number between 0 and 1, got the string "half"' },
    { name: 'an integer with a fraction', stdin: 'IMAGE{"steps": 2.5}', message: 'steps: expected an integer between 1 and 50, got number 2.5' },
    { name: 'a boolean as a word it does not know', stdin: 'IMAGE{"fast": "maybe"}', message: 'fast: expected true or false' },
    { name: 'text as a number', stdin: 'IMAGE{"prompt": 42}', message: 'prompt: expected a string, got number 42' },
    { name: 'a choice not in the list', stdin: 'IMAGE{"style": "oil"}', message: 'style: expected one of photo, sketch, got the string "oil"' },
  ])('$name is refused with exit 2 and a message naming it', async ({ stdin, message }) => {
    const text =
      typeof stdin === 'string' && stdin.startsWith('IMAGE') ? JSON.stringify({ image: jpeg.toString('base64'), ...JSON.parse(stdin.slice(5)) }) : stdin;
    expectUsageError(await json(text), message);
  });
});
