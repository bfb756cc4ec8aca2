// Streaming outputs in the one-shot modes, against test/fixtures/stream-model.mjs: the command line
// and the stdin modes print text chunks as they come (the first before the model has made the
// rest: its `gate` input holds it after the first chunk until the file exists), JSON chunks one per
// line, and the final result only when the chunks did not already show it; the self-test lists and
// checks every chunk.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { gateFiles } from '../helpers/gates.js';
import { fixture, repoRoot, runScript } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('stream-model.mjs');
const gates = gateFiles('ai-streaming-cli-');
const { scratch, gate } = gates;
const children: ChildProcess[] = [];

// A failing test must leave no model held, nor a process behind.
afterEach(() => {
  gates.openAll();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => gates.remove());

/** Starts the model (directly, or under the supervisor) in `mode`, its stdout readable while it runs. */
function start(supervised: boolean, mode: string, args: string[], stdin?: string) {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), MODE: mode };
  const child = spawn(process.execPath, supervised ? [supervisorBin, model, ...args] : [model, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin!.on('error', () => {});
  child.stdin!.end(stdin ?? '');
  const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { stdout: () => Buffer.concat(stdout).toString('utf8'), stderr: () => stderr, ended };
}

const runModel = (mode: string, args: string[], env: Record<string, string> = {}, stdin?: string) =>
  runScript(model, { mode, args, env, ...(stdin === undefined ? {} : { stdin }) });

describe.each([
  ['run directly', false],
  ['under the supervisor', true],
])('text chunks are printed as they come (%s)', (_, supervised) => {
  test('MODE=command_line: the first word is on stdout while the model is still held; at the end stdout is exactly the text and a newline', async () => {
    const held = gate();
    const run = start(supervised, 'command_line', ['--prompt', 'Words as they come', '--gate', held]);
    expect(await eventually(() => run.stdout() !== '', 15_000), run.stderr()).toBe(true);
    expect(run.stdout()).toBe('Words');
    expect(existsSync(held)).toBe(false);
    writeFileSync(held, '');
    expect(await run.ended, run.stderr()).toBe(0);
    expect(run.stdout()).toBe('Words as they come\n');
  });

  test('MODE=test_inputs_dict_json: the same from a JSON object on stdin; the log says how many chunks', async () => {
    const held = gate();
    const run = start(supervised, 'test_inputs_dict_json', [], JSON.stringify({ prompt: 'Piped words flow', gate: held }));
    expect(await eventually(() => run.stdout() !== '', 15_000), run.stderr()).toBe(true);
    expect(run.stdout()).toBe('Piped');
    expect(existsSync(held)).toBe(false);
    writeFileSync(held, '');
    expect(await run.ended, run.stderr()).toBe(0);
    expect(run.stdout()).toBe('Piped words flow\n');
    expect(run.stderr()).toMatch(/^result: text\/plain, 16 bytes, streamed in 3 chunks in [\d.]+ ms$/m);
  });
});

describe('MODE=command_line with a streaming model', () => {
  test('JSON chunks are printed one per line, and the collected list is not printed again', async () => {
    const outcome = await runModel('command_line', ['--prompt', 'a b c', '--kind', 'json']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout.toString('utf8')).toBe('{"index":0,"word":"a"}\n{"index":1,"word":" b"}\n{"index":2,"word":" c"}\n');
  });

  test('a returned result of another kind is printed after the chunks', async () => {
    const outcome = await runModel('command_line', ['--prompt', 'a b c', '--kind', 'returned']);
    expect(outcome.code, outcome.stderr).toBe(0);
    const printed = outcome.stdout.toString('utf8');
    expect(printed.startsWith('a b c\n')).toBe(true);
    expect(JSON.parse(printed.slice('a b c\n'.length))).toEqual({ words: 3 });
  });

  test('image chunks are only listed on the log; stdout is the finished image', async () => {
    const outcome = await runModel('command_line', ['--kind', 'image']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr.split('\n').filter((line) => /^chunk \d: /.test(line))).toEqual([
      expect.stringMatching(/^chunk 1: image\/png, \d+ bytes$/),
      expect.stringMatching(/^chunk 2: image\/png, \d+ bytes$/),
      expect.stringMatching(/^chunk 3: image\/png, \d+ bytes$/),
    ]);
    const stats = await sharp(outcome.stdout).stats();
    expect(stats.channels.map((channel) => Math.round(channel.mean))).toEqual([255, 255, 255]);
  });

  test('--output: the chunks go to the log, the collected text to the file, nothing to stdout', async () => {
    const output = join(scratch, 'collected.txt');
    const outcome = await runModel('command_line', ['--prompt', 'into a file', '--output', output]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout.length).toBe(0);
    expect(outcome.stderr).toMatch(/^chunk 3: text\/plain; charset=utf-8, 5 bytes$/m);
    expect(readFileSync(output, 'utf8')).toBe('into a file');
  });

  test('a failure chunk ends the run as the model\'s failure (exit 1) after the text before it; a bad chunk is exit 1 naming "chunk 2"', async () => {
    const failure = await runModel('command_line', ['--prompt', 'Quits here', '--kind', 'failure']);
    expect(failure.code).toBe(1);
    expect(failure.stdout.toString('utf8')).toBe('Quits\n');
    expect(failure.stderr).toContain('error: the model reported a failure: the model gave up halfway');
    const bad = await runModel('command_line', ['--prompt', 'Bad chunk', '--kind', 'bad-chunk']);
    expect(bad.code).toBe(1);
    expect(bad.stdout.toString('utf8')).toBe('Bad\n'); // the printed text ends its line, even when the stream breaks
    expect(bad.stderr).toContain("error: chunk 2 of the stream is not a valid result: 'data' must be a string or a Buffer when success is true, got number 42");
  });

  test('the stdin modes print JSON chunks one per line too', async () => {
    const outcome = await runModel('test_inputs_dict_json', [], {}, JSON.stringify({ prompt: 'x y', kind: 'json' }));
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout.toString('utf8')).toBe('{"index":0,"word":"x"}\n{"index":1,"word":" y"}\n');
  });
});

describe('MODE=test_model_integration with a streaming model', () => {
  test('exits 0; the log lists each chunk of each run as checked, and each run as streamed', async () => {
    const outcome = await runModel('test_model_integration', [], { SELF_TEST_RUNS: '2' });
    expect(outcome.code, outcome.stderr).toBe(0);
    const lines = outcome.stderr.split('\n');
    for (const run of ['1/2', '2/2']) {
      expect(lines.filter((line) => line.startsWith(`  run ${run} chunk`))).toEqual([
        `  run ${run} chunk 1: text/plain; charset=utf-8, 5 bytes ✓`,
        `  run ${run} chunk 2: text/plain; charset=utf-8, 10 bytes ✓`,
        `  run ${run} chunk 3: text/plain; charset=utf-8, 6 bytes ✓`,
      ]);
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^✓ run ${run}: text/plain, 21 bytes, streamed in 3 checked chunks \\([\\d.]+ ms\\)$`)));
    }
    expect(outcome.stderr).toContain('Self-test passed: 2/2 inferences succeeded and every check passed.');
    expect(outcome.stdout.toString('utf8')).toBe('Hello streaming world');
  });
});
