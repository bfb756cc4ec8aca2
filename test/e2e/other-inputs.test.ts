// test_single_image and the self-test with a model that has inputs besides the image: each takes
// its schema's `example`, then its default; one with neither is named, with the way to give it.
import { beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg } from '../helpers/images.js';
import { fixture, runScript, stdoutJson } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const model = fixture('schema-echo-model.mjs');
const schema = {
  image: { type: 'image' },
  prompt: { type: 'text', example: 'a cat on a mat' },
  steps: { type: 'integer', min: 1, max: 50, default: 20, example: 8 },
  strength: { type: 'number', default: 0.5 },
  seed: { type: 'integer', required: false },
};
let photo: Buffer;
beforeAll(async () => {
  photo = await makeJpeg(16, 12);
});

describe.each([
  ['run directly', (options: Parameters<typeof runScript>[1]) => runScript(model, options)],
  ['under the supervisor', (options: Parameters<typeof runScript>[1]) => runScript(supervisorBin, { ...options, args: [model, ...(options?.args ?? [])] })],
])('%s', (_how, run) => {
  test('test_single_image: the image from stdin, the other inputs from their examples, then their defaults', async () => {
    const outcome = await run({ mode: 'test_single_image', stdin: photo, env: { SCHEMA: JSON.stringify(schema) } });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toEqual({ image: { bytes: photo.length }, prompt: 'a cat on a mat', steps: 8, strength: 0.5 });
  });

  test('the self-test uses the examples too', async () => {
    const outcome = await run({ mode: 'test_model_integration', env: { SCHEMA: JSON.stringify(schema), SELF_TEST_RUNS: '1' } });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toContain('input prompt = "a cat on a mat"');
    expect(outcome.stderr).toContain('input steps = 8');
  });

  test('test_single_image: a required input with no example or default is named, with the way to give it', async () => {
    const bare = { image: { type: 'image' }, prompt: { type: 'text' } };
    const outcome = await run({ mode: 'test_single_image', stdin: photo, env: { SCHEMA: JSON.stringify(bare) } });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.trim()).toBe(
      'error: the input "prompt" is required, and test_single_image takes only the image from stdin; ' +
        'give it on the command line (docker run --rm -i -e MODE=test_single_image IMAGE --prompt VALUE < photo.jpg), ' +
        "or an example in the schema (prompt: { type: 'text', example: ... })",
    );
  });

  test('test_single_image: --NAME VALUE gives the other inputs, before their examples and defaults', async () => {
    const bare = { ...schema, prompt: { type: 'text' }, fast: { type: 'boolean', default: true } };
    const outcome = await run({
      mode: 'test_single_image',
      stdin: photo,
      args: ['--prompt', 'a dog', '--steps=12', '--seed', '7', '--no-fast'],
      env: { SCHEMA: JSON.stringify(bare) },
    });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toEqual({ image: { bytes: photo.length }, prompt: 'a dog', steps: 12, strength: 0.5, seed: 7, fast: false });
  });

  test('test_single_image: an unknown argument, and a value the schema refuses, are usage errors naming them', async () => {
    const unknown = await run({ mode: 'test_single_image', stdin: photo, args: ['--promt', 'x'], env: { SCHEMA: JSON.stringify(schema) } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'test_single_image: unknown argument "--promt"; it takes --prompt, --steps, --strength, --seed, and reads the image from stdin',
    );
    const refused = await run({ mode: 'test_single_image', stdin: photo, args: ['--steps', '99'], env: { SCHEMA: JSON.stringify(schema) } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('steps');
  });
});
