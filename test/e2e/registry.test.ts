import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { makeJpeg } from '../helpers/images.js';
import { exampleShim, fixture, runScript, stdoutJson } from '../helpers/run-process.js';

describe('MODE', () => {
  test('an unknown MODE lists the valid names and suggests the closest one: exit 2', async () => {
    const outcome = await runScript(exampleShim, { mode: 'test_single_imag' });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.trim()).toBe(
      'error: unknown MODE "test_single_imag". Valid modes: command_line, http, kserve, cog, sagemaker, vertex, openai, lambda, queue, test_model_integration, test_single_image, test_inputs_dict_json, test_inputs_pickled_dict. Did you mean test_single_image?',
    );
  });

  test('a name far from every mode gets no suggestion', async () => {
    const outcome = await runScript(exampleShim, { mode: 'kubernetes' });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).not.toContain('Did you mean');
  });

  test('modes load lazily: a stdin mode never loads the command-line mode or commander', async () => {
    const traceDir = mkdtempSync(join(tmpdir(), 'trace-'));
    const trace = async (mode: string, stdin: Buffer | string, args: string[] = []) => {
      const traceFile = join(traceDir, `${mode}.txt`);
      const outcome = await runScript(exampleShim, { mode, stdin, args, env: { TRACE_FILE: traceFile }, nodeArgs: ['--import', fixture('trace-loads.mjs')] });
      expect(outcome.code).toBe(0);
      return readFileSync(traceFile, 'utf8');
    };
    const image = await makeJpeg(8, 8);
    const stdinMode = await trace('test_single_image', image);
    expect(stdinMode).toMatch(/dist\/test-single-image-\w+\.js/);
    expect(stdinMode).not.toMatch(/command-line/);
    expect(stdinMode).not.toMatch(/node_modules\/commander/);
    // The check can fail: the command-line mode does show up when it runs.
    const commandLine = await trace('command_line', image, ['--image', '-']);
    expect(commandLine).toMatch(/dist\/command-line-\w+\.js/);
    expect(commandLine).toMatch(/node_modules\/commander/);
  });

  test('user code registers its own mode, selected by MODE and listed with the built-in ones', async () => {
    const outcome = await runScript(fixture('custom-mode-model.mjs'), { mode: 'shout', args: ['hello', 'there'] });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout.toString('utf8')).toBe('YOU SAID HELLO THERE!\n');
    const unknown = await runScript(fixture('custom-mode-model.mjs'), { mode: 'shuot' });
    expect(unknown.stderr).toContain(
      'Valid modes: command_line, http, kserve, cog, sagemaker, vertex, openai, lambda, queue, test_model_integration, test_single_image, test_inputs_dict_json, test_inputs_pickled_dict, shout. Did you mean shout?',
    );
    // MODE unset, a run says one line; --help lists every mode, the user's with the built-in ones.
    const listed = await runScript(fixture('custom-mode-model.mjs'), { args: ['--help'] });
    expect(listed.code).toBe(0);
    expect(listed.stdout.toString('utf8')).toMatch(/\n {2}shout +runs the model on argv and shouts the result/);
  });
});

describe('pull-style API (inferenceRequests)', () => {
  test('drives the same modes: JSON on stdin, typed inputs, the response written as the result', async () => {
    const outcome = await runScript(fixture('pull-model.mjs'), { mode: 'test_inputs_dict_json', stdin: '{"sentence": "ab", "times": 3}' });
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome)).toEqual({ echoed: 'ababab', served: 1 });
  });

  test('the self-test runs every request through the loop', async () => {
    const outcome = await runScript(fixture('pull-model.mjs'), { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '4' } });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain('Self-test passed: 4/4');
  });

  test('a request the loop moves past without responding gets an error result', async () => {
    const outcome = await runScript(fixture('pull-model.mjs'), { mode: 'test_inputs_dict_json', stdin: '{"sentence": "x"}', env: { PULL_ACTION: 'skip' } });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('the model reported a failure: no result was sent for this request');
  });

  test('a loop that ends without responding fails the request instead of hanging', async () => {
    const outcome = await runScript(fixture('pull-model.mjs'), { mode: 'test_model_integration', env: { PULL_ACTION: 'break', SELF_TEST_RUNS: '3' } });
    expect(outcome.signal).toBeNull();
    expect(outcome.stderr).toContain('✗ run 1/3: the model reported a failure: no result was sent for this request');
    // Nobody is left to serve the next request: that is a broken model, reported as a throw.
    expect(outcome.stderr).toContain('Error: the inference request loop has ended');
    expect(outcome.code).toBe(70);
  });
});
