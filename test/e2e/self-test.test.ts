import { describe, expect, test } from 'vitest';
import { exampleShim, fixture, runScript, stdoutJson } from '../helpers/run-process.js';

describe('test_model_integration', () => {
  test('runs the example 5 times on the 600 x 400 RGB (200, 200, 200) JPEG, a line per check and a summary', async () => {
    const outcome = await runScript(exampleShim, { mode: 'test_model_integration' });
    expect(outcome.code).toBe(0);
    const runLines = outcome.stderr.split('\n').filter((line) => /^✓ run \d\/5: /.test(line));
    expect(runLines).toHaveLength(5);
    for (const line of runLines) expect(line).toMatch(/application\/json, \d+ bytes of valid JSON \(\d+\.\d ms\)$/);
    expect(outcome.stderr).toContain('Self-test passed: 5/5 inferences succeeded and every check passed.');
    const stats = stdoutJson(outcome);
    expect(stats).toMatchObject({ width: 600, height: 400, format: 'jpeg', grayscale: true });
    expect(stats.channels).toEqual({ red: { mean: 200, stdev: 0 }, green: { mean: 200, stdev: 0 }, blue: { mean: 200, stdev: 0 } });
  });

  test('SELF_TEST_RUNS sets the number of runs', async () => {
    const outcome = await runScript(exampleShim, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '2' } });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain('Self-test passed: 2/2');
    expect(outcome.stderr).not.toContain('run 3/');
  });

  test('fails with exit 1 and a failed line per run when the model reports failures (the Python library exits 0 here)', async () => {
    const outcome = await runScript(fixture('echo-model.mjs'), { mode: 'test_model_integration', env: { FIXTURE_ACTION: 'fail', SELF_TEST_RUNS: '3' } });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.split('\n').filter((line) => line.startsWith('✗ run '))).toEqual([
      '✗ run 1/3: the model reported a failure: the model could not find a face',
      '✗ run 2/3: the model reported a failure: the model could not find a face',
      '✗ run 3/3: the model reported a failure: the model could not find a face',
    ]);
    expect(outcome.stderr).toContain('Self-test FAILED: 3 of 3 inferences failed a check.');
  });

  test('fills every required input with a valid sample: the gray image, the lower bound, the first choice', async () => {
    const outcome = await runScript(fixture('required-inputs-model.mjs'), { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '1' } });
    expect(outcome.code).toBe(0);
    const received = stdoutJson(outcome);
    expect(received).toMatchObject({
      caption: 'ai-integration self-test',
      temperature: 0.2,
      offset: -3,
      beams: 2,
      count: 0,
      upscale: false,
      sampler: 'euler',
      extra: {},
    });
    expect(received.photo.bytes).toBeGreaterThan(1000);
    expect(received.document).toEqual(received.photo);
    expect(received).not.toHaveProperty('optional_note');
  });

  test("a malformed SELF_TEST_RUNS is the operator's mistake: exit 3, one line", async () => {
    const outcome = await runScript(exampleShim, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: 'five' } });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr.trim()).toBe('error: SELF_TEST_RUNS="five" is not a positive integer');
  });
});

describe('schema checked at start-up', () => {
  test.each([
    {
      schema: { image: { type: 'imgae' } },
      message:
        'invalid inputs schema: image: unknown type "imgae"; expected one of image, text, number, integer, boolean, choice, json, file (did you mean \'image\'?)',
    },
    {
      schema: { steps: { type: 'integer', min: 1, max: 10, default: 20 } },
      message: 'invalid inputs schema: steps: default 20 is outside the bounds between 1 and 10',
    },
    { schema: { style: { type: 'choice' } }, message: "invalid inputs schema: style: a choice input needs 'choices', a non-empty list of strings" },
    {
      schema: { image: { type: 'image', requried: false } },
      message:
        "invalid inputs schema: image: unknown property 'requried' for type image (did you mean 'required'?); allowed: type, description, required, example",
    },
  ])('$message', async ({ schema, message }) => {
    const outcome = await runScript(fixture('bad-schema-model.mjs'), { mode: 'test_model_integration', env: { BAD_SCHEMA: JSON.stringify(schema) } });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr.trim().split('\n')).toEqual([`error: ${message}`]);
  });
});
