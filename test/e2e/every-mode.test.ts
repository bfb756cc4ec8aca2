// One shared suite, run against every mode through a small driver: valid inputs, a model-reported
// failure, a malformed result, a throw, and a binary result.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg, sha256 } from '../helpers/images.js';
import { fixture, pythonPickle, runScript, stdoutJson, type ProcessOutcome } from '../helpers/run-process.js';

const echoModel = fixture('echo-model.mjs');
const workDir = mkdtempSync(join(tmpdir(), 'every-mode-'));
let photo: Buffer;
let grayImage: Buffer;

beforeAll(async () => {
  photo = await makeJpeg(64, 48);
  // The self-test's image, made the same way: the Python library's 600 x 400 RGB (200, 200, 200) JPEG.
  grayImage = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 200, g: 200, b: 200 } } })
    .jpeg()
    .toBuffer();
  writeFileSync(join(workDir, 'photo.jpg'), photo);
});

type Driver = (env: Record<string, string>) => Promise<ProcessOutcome>;

const drivers: Record<string, { run: Driver; sendsPhoto: boolean }> = {
  command_line: {
    run: (env) => runScript(echoModel, { mode: 'command_line', args: ['--image', join(workDir, 'photo.jpg')], env }),
    sendsPhoto: true,
  },
  test_inputs_dict_json: {
    run: (env) => runScript(echoModel, { mode: 'test_inputs_dict_json', stdin: JSON.stringify({ image: photo.toString('base64') }), env }),
    sendsPhoto: true,
  },
  test_single_image: {
    run: (env) => runScript(echoModel, { mode: 'test_single_image', stdin: photo, env }),
    sendsPhoto: true,
  },
  test_inputs_pickled_dict: {
    run: async (env) =>
      runScript(echoModel, {
        mode: 'test_inputs_pickled_dict',
        stdin: pythonPickle(`{'image': open(${JSON.stringify(join(workDir, 'photo.jpg'))}, 'rb').read()}`),
        env,
      }),
    sendsPhoto: true,
  },
  test_model_integration: {
    run: (env) => runScript(echoModel, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '2', ...env } }),
    sendsPhoto: false,
  },
};

describe.each(Object.keys(drivers))('MODE=%s', (mode) => {
  const driver = drivers[mode]!;

  test('valid inputs: exit 0, the converted inputs reach the model, stdout holds only the result', async () => {
    const outcome = await driver.run({});
    expect(outcome.stderr).not.toContain('error');
    expect(outcome.code).toBe(0);
    const echoed = stdoutJson(outcome);
    expect(echoed.types).toMatchObject({ image: 'Buffer', prompt: 'string', strength: 'number', steps: 'number', fast: 'boolean', style: 'string' });
    expect(echoed.inputs).toMatchObject({ prompt: 'hello', strength: 0.5, steps: 10, fast: false, style: 'photo' });
    if (driver.sendsPhoto) expect(echoed.inputs.image).toEqual({ bytes: photo.length, sha256: sha256(photo) });
    else expect(echoed.inputs.image).toEqual({ bytes: grayImage.length, sha256: sha256(grayImage) });
  });

  test("a model-reported failure: exit 1 and the model's error on stderr", async () => {
    const outcome = await driver.run({ FIXTURE_ACTION: 'fail' });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('the model reported a failure: the model could not find a face');
    expect(outcome.stdout.length).toBe(0);
  });

  test('a malformed result: exit 1 and what is wrong with it', async () => {
    const invalidJson = await driver.run({ FIXTURE_ACTION: 'bad-json' });
    expect(invalidJson.code).toBe(1);
    expect(invalidJson.stderr).toMatch(/application\/json but data is not valid JSON/);
    const notObject = await driver.run({ FIXTURE_ACTION: 'not-object' });
    expect(notObject.code).toBe(1);
    expect(notObject.stderr).toContain('the result must be an object { \'content-type\', data, success, error? }, got the string "just a string"');
  });

  test('a plain object or undefined: exit 1, and the error shows the line to write', async () => {
    const plain = await driver.run({ FIXTURE_ACTION: 'plain-object' });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('got the plain object { label, score }; to return it as JSON write `return json({ label, score })`');
    const nothing = await driver.run({ FIXTURE_ACTION: 'undefined' });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('got undefined: did the function forget to return?');
  });

  test('a throw: exit 70 with the stack and the reason for exiting', async () => {
    const outcome = await driver.run({ FIXTURE_ACTION: 'throw' });
    expect(outcome.code).toBe(70);
    expect(outcome.stderr).toContain('the inference function threw:\nError: CUDA error: an illegal memory access was encountered');
    expect(outcome.stderr).toMatch(/\n\s+at infer \(.*echo-model\.mjs/);
    expect(outcome.stderr).toContain('exits with code 70 to be restarted');
  });

  test('a binary result goes to a piped stdout as raw bytes', async () => {
    const outcome = await driver.run({ FIXTURE_ACTION: 'image' });
    expect(outcome.code).toBe(0);
    const metadata = await sharp(outcome.stdout).metadata();
    expect(metadata.format).toBe('png');
    expect(metadata.width).toBe(driver.sendsPhoto ? 64 : 600);
  });
});
