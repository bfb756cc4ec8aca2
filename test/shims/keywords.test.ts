import { request } from 'undici';
import { describe, expect, test } from 'vitest';
import { exampleShimNamed } from '../helpers/example-shims.js';
import { serveDuringSuite } from '../helpers/http-server.js';
import { pythonPickle, runScript, stdoutJson } from '../helpers/run-process.js';

const keywords = exampleShimNamed('keywords');
const text = 'The cat sat on the mat. The Cat ran! Cat, cat, mat.';

describe('shims/keywords.ts: a text model with typed options', () => {
  test('test_model_integration: the sample text "ai-integration self-test" gives its four words', async () => {
    const outcome = await runScript(keywords, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '1' } });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toEqual({
      words: 4,
      keywords: [
        { word: 'ai', count: 1, share: 0.25 },
        { word: 'integration', count: 1, share: 0.25 },
        { word: 'self', count: 1, share: 0.25 },
        { word: 'test', count: 1, share: 0.25 },
      ],
    });
  });

  test('test_inputs_dict_json: counts without stop words, folded case, top N', async () => {
    const outcome = await runScript(keywords, { mode: 'test_inputs_dict_json', stdin: JSON.stringify({ text, top: 2 }) });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toEqual({
      words: 8,
      keywords: [
        { word: 'cat', count: 4, share: 0.5 },
        { word: 'mat', count: 2, share: 0.25 },
      ],
    });
  });

  test('every option changes the answer: case_sensitive, keep_stop_words, min_share, format', async () => {
    const inputs = { text, case_sensitive: true, keep_stop_words: true, min_share: 0.15, format: 'text' };
    const outcome = await runScript(keywords, { mode: 'test_inputs_dict_json', stdin: JSON.stringify(inputs) });
    expect(outcome.code, outcome.stderr).toBe(0);
    // 13 words; "The" 2, "cat" 2, "Cat" 2, "the" 1...: only those at 2/13 = 0.154 or more are kept
    expect(outcome.stdout.toString()).toBe('Cat\t2\nThe\t2\ncat\t2\nmat\t2\n');
  });

  test('test_inputs_pickled_dict: a Python str and int', async () => {
    const outcome = await runScript(keywords, { mode: 'test_inputs_pickled_dict', stdin: pythonPickle(`{'text': ${JSON.stringify(text)}, 'top': 1}`) });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome).keywords).toEqual([{ word: 'cat', count: 4, share: 0.5 }]);
  });

  test('command_line: the options as flags, and a bad choice or an out-of-range number named with exit 2', async () => {
    const outcome = await runScript(keywords, { mode: 'command_line', args: ['--text', text, '--top', '1', '--format', 'text'] });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout.toString()).toBe('cat\t4\n');

    const badChoice = await runScript(keywords, { mode: 'command_line', args: ['--text', text, '--format', 'xml'] });
    expect(badChoice.code).toBe(2);
    expect(badChoice.stderr).toMatch(/format/);
    expect(badChoice.stderr).toMatch(/json, text|"json", "text"|json or text/);

    const outOfRange = await runScript(keywords, { mode: 'command_line', args: ['--text', text, '--min-share', '1.5'] });
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toMatch(/min_share|min-share/);
  });

  test('test_single_image is refused: the model has no image input', async () => {
    const outcome = await runScript(keywords, { mode: 'test_single_image', stdin: 'not an image' });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain("this model's schema has none; use MODE=test_inputs_dict_json");
  });
});

describe('shims/keywords.ts over HTTP', () => {
  const url = serveDuringSuite(keywords);

  test('POST /predict with JSON answers the keywords as JSON output', async () => {
    const response = await request(`${url()}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { text, top: 1 } }),
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toMatchObject({
      status: 'succeeded',
      content_type: 'application/json',
      output: { words: 8, keywords: [{ word: 'cat', count: 4 }] },
    });
  });

  test('POST /predict with top out of its bounds is a 422 that names the field', async () => {
    const response = await request(`${url()}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { text, top: 0 } }),
    });
    expect(response.statusCode).toBe(422);
    expect(((await response.body.json()) as { error: { field: string } }).error.field).toBe('top');
  });
});
