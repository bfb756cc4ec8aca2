// Run directly (no supervisor) in the modes whose stdout is the result, stdout carries the result
// and nothing else: what the model prints with console.log, console.info, console.debug or
// process.stdout.write, while it loads or while it infers, goes to stderr, as it does under the
// supervisor (which sends its worker's stdout to stderr).
import { expect, test } from 'vitest';
import { fixture, runScript, type RunOptions } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const model = fixture('chatty-model.mjs');
const modelLines = [
  'chatty: loading weights',
  'chatty: log during inference',
  'chatty: info during inference',
  'chatty: debug during inference',
  'chatty: stdout.write during inference',
];

test.each<[string, string, RunOptions, string]>([
  ['command_line', model, { mode: 'command_line', args: ['--word', 'hello'] }, 'hello'],
  ['MODE unset (command_line)', model, { args: ['--word', 'hello'] }, 'hello'],
  ['test_inputs_dict_json', model, { mode: 'test_inputs_dict_json', stdin: '{"word": "hello"}' }, 'hello'],
  ['test_model_integration', model, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '1' } }, 'ai-integration self-test'],
  ['command_line under the supervisor', supervisorBin, { mode: 'command_line', args: [model, '--word', 'hello'] }, 'hello'],
])('%s: stdout is exactly the result; the model prints on stderr', async (_name, script, options, word) => {
  const outcome = await runScript(script, options);
  expect(outcome.code, outcome.stderr).toBe(0);
  expect(outcome.stdout.toString('utf8')).toBe(`${JSON.stringify({ word }, null, 2)}\n`);
  for (const line of modelLines) expect(outcome.stderr).toContain(`${line}\n`);
});
