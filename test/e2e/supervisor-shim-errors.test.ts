/**
 * A shim the supervisor cannot load (a module not found, a syntax error) or that startLoop refuses
 * (an invalid schema) is its author's configuration error: one line naming the file and the
 * cause, exit 3, and no retries. A model that throws while loading is still retried (see
 * supervisor.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { fixture, runScript } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const folder = mkdtempSync(join(tmpdir(), 'supervisor-shim-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
function shim(name: string, source: string): string {
  const path = join(folder, name);
  writeFileSync(path, source);
  return path;
}

/** Runs the shim under the supervisor in `mode`; asserts the configuration error's shape and returns its one line. */
async function configurationError(args: string[], mode: string, env: Record<string, string> = {}): Promise<string> {
  const outcome = await runScript(supervisorBin, { args, mode, env: { WORKER_MAX_START_FAILURES: '5', ...env } });
  expect(outcome.code, outcome.stderr).toBe(3);
  expect(outcome.stdout.toString()).toBe('');
  const lines = outcome.stderr.split('\n').filter((line) => line !== '');
  expect(lines, outcome.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('the supervisor and a shim that cannot be loaded', () => {
  test('a package that is not installed: exit 3, one line naming the shim and the package, no retry', async () => {
    const path = shim('missing-package.mjs', "import model from 'no-such-model-package';\nconsole.log(model);\n");
    expect(await configurationError([path], 'test_model_integration')).toBe(
      `error: the shim ${JSON.stringify(path)} cannot be loaded: Cannot find package 'no-such-model-package' imported from ${path}`,
    );
  });

  test('a relative import of a file that does not exist, in a serving mode', async () => {
    const path = shim('missing-file.mjs', "import './weights-loader.js';\n");
    expect(await configurationError([path], 'http', { PORT: '0' })).toBe(
      `error: the shim ${JSON.stringify(path)} cannot be loaded: Cannot find module '${join(folder, 'weights-loader.js')}' imported from ${path}`,
    );
  });

  test('a syntax error: the line names the file and the line', async () => {
    const path = shim('syntax-error.mjs', "import { readFileSync } from 'node:fs';\nconst = readFileSync;\n");
    expect(await configurationError([path], 'command_line')).toBe(
      `error: the shim ${JSON.stringify(path)} cannot be loaded: SyntaxError in ${path}:2: Unexpected token '='`,
    );
  });

  test('an import of a name the module does not export', async () => {
    const path = shim('missing-export.mjs', "import { startLoop } from 'node:fs';\nstartLoop();\n");
    expect(await configurationError([path], 'test_model_integration')).toBe(
      `error: the shim ${JSON.stringify(path)} cannot be loaded: SyntaxError in ${path}:1: The requested module 'node:fs' does not provide an export named 'startLoop'`,
    );
  });

  test('a syntax error in a module the shim imports', async () => {
    shim('broken-helper.mjs', 'export const = 1;\n');
    const path = shim('imports-broken.mjs', "import './broken-helper.mjs';\n");
    expect(await configurationError([path], 'test_model_integration')).toMatch(
      /^error: the shim ".*imports-broken\.mjs" cannot be loaded: SyntaxError in a module the shim imports: /,
    );
  });

  test("AI_INTEGRATION_SHIM (a container's own shim) that cannot be loaded", async () => {
    const path = shim('container-shim.mjs', "import 'no-such-model-package';\n");
    const line = await configurationError(['--image', 'photo.jpg'], 'command_line', { AI_INTEGRATION_SHIM: path });
    expect(line).toContain("cannot be loaded: Cannot find package 'no-such-model-package'");
  });

  test("an invalid schema under the supervisor: startLoop's one line, exit 3, no retry", async () => {
    const line = await configurationError([fixture('bad-schema-model.mjs')], 'http', { PORT: '0', BAD_SCHEMA: JSON.stringify({ image: { type: 'picture' } }) });
    expect(line).toMatch(/^error: invalid inputs schema: image: unknown type "picture"; expected one of /);
  });

  test("a JSON.parse SyntaxError while the model loads is the model's failure, not a configuration error: retried by a serving mode", async () => {
    const path = shim('bad-config.mjs', "JSON.parse('{not json');\n");
    const outcome = await runScript(supervisorBin, { args: [path], mode: 'http', env: { WORKER_MAX_START_FAILURES: '2', PORT: '0' } });
    expect(outcome.code).toBe(70);
    expect(outcome.stderr).toContain('the model worker failed to start (exit code 1); retrying in 100 ms (attempt 2 of 2)');
    expect(outcome.stderr).not.toContain('cannot be loaded');
  });

  test.each([
    ['test_model_integration', {}],
    ['test_inputs_dict_json', {}],
    ['command_line', { args: ['--text', 'x'] }],
    ['(MODE unset: the command line)', { args: ['--text', 'x'] }],
  ])('a model that throws while loading, %s: no retry, the stack once, then one line', async (mode, { args = [] }: { args?: string[] }) => {
    const path = shim('throws-on-load.mjs', "throw new Error('weights.onnx: no such file');\n");
    const outcome = await runScript(supervisorBin, {
      args: [path, ...args],
      ...(mode.startsWith('(') ? {} : { mode }),
      env: { WORKER_MAX_START_FAILURES: '5' },
    });
    expect(outcome.code).toBe(70);
    expect(outcome.stderr.match(/Error: weights\.onnx: no such file/g)).toHaveLength(1);
    expect(outcome.stderr).toMatch(/\n\s+at .*throws-on-load\.mjs/);
    expect(outcome.stderr.trimEnd().split('\n').at(-1)).toBe(
      'error: the model worker failed to start (exit code 1); a mode that runs once does not retry it. Its own error is in the log above.',
    );
    expect(outcome.stderr).not.toContain('retrying');
  });
});
