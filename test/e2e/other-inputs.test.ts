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
  ['under the supervisor', (options: Parameters<typeof runScript>[1]) => runScript(supervisorBin, { ...options, args: [model] })],
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
      'error: test_single_image gives the model only the image, and the input "prompt" is required with no example or default in the schema; ' +
        "give it one (prompt: { type: 'text', example: ... }), or give every input with MODE=test_inputs_dict_json: " +
        `echo '{"image": "<base64>", "prompt": ...}' | docker run --rm -i -e MODE=test_inputs_dict_json IMAGE`,
    );
  });
});
