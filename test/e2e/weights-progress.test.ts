// WEIGHTS_URL's progress as a person and a log collector see it: the supervisor run under a real
// pseudo-terminal (script(1), util-linux) draws a bar redrawn in place on one line; run with
// stderr on a pipe, it writes progress lines and never a carriage return.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RangeFileServer, startRangeFileServer, writeTestFile } from '../helpers/range-file-server.js';
import { fixture, repoRoot, runScript } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('weights-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'weights-progress-'));
const MiB = 2 ** 20;
let server: RangeFileServer;
let folders = 0;
const freshDir = () => join(scratch, `dir-${(folders += 1)}`);

beforeAll(async () => {
  const small = join(scratch, 'small.bin');
  writeTestFile(small, 20, 'small');
  server = await startRangeFileServer({ 'small.bin': small });
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The supervisor in MODE=command_line with the weights model, its stderr a pseudo-terminal: `output()` is what the terminal received. */
function startOnTerminal(env: Record<string, string>) {
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(supervisorBin)} ${JSON.stringify(model)}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: repoRoot,
    env: { ...(process.env as Record<string, string>), MODE: 'command_line', LOG_FORMAT: 'text', WEIGHTS_CONNECTIONS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { output: () => output, exited };
}

/** Each drawing of the bar: the text after a carriage return and erase-line, up to the next control character. */
const barDraws = (output: string) =>
  output
    .split('\r\x1b[K')
    .slice(1)
    .map((draw) => /^[^\r\n\x1b]*/.exec(draw)![0]);

describe('WEIGHTS_URL progress', () => {
  test('on a terminal: a bar redrawn in place while the file arrives, left whole at 100% above the last line; no progress lines between', async () => {
    const hold = server.holdAfter(12 * MiB);
    const run = startOnTerminal({ WEIGHTS_URL: server.url('small.bin'), WEIGHTS_DIR: freshDir() });
    try {
      await hold.reached;
      // Drawn while the download runs, not only once it is over.
      expect(await eventually(() => barDraws(run.output()).length > 0, 20_000), run.output()).toBe(true);
      expect(barDraws(run.output())[0]).toMatch(/^small\.bin \[\.{30}\] 0% /);
    } finally {
      hold.release();
    }
    expect(await run.exited, run.output()).toBe(0);
    const output = run.output();
    const draws = barDraws(output);
    expect(draws.length, output).toBeGreaterThanOrEqual(2);
    for (const draw of draws) expect(draw).toMatch(/^small\.bin \[[#.]{30}\] \d+% [\d.]+ [kMG]?B\/s$/);
    const percents = draws.map((draw) => Number(/\] (\d+)%/.exec(draw)![1]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(draws.at(-1)).toMatch(/^small\.bin \[#{30}\] 100% /);
    // The finished bar keeps its line (the terminal turns \n into \r\n); the last line follows it.
    expect(output).toMatch(/\r\x1b\[Ksmall\.bin \[#{30}\] 100% [^\r\n]*\r\nweights: small\.bin in place, sha256 [0-9a-f]{64} /);
    expect(output).toContain(`weights: fetching small.bin from ${server.url('small.bin')} (21 MB)`);
    expect(output).not.toMatch(/weights: small\.bin \d+%/);
    // The model's answer comes after, on a line of its own.
    expect(output).toContain('"size": 20971520');
  });

  test('on a terminal, a download that fails part-way: the bar stays where it stopped, on its own line above the error', async () => {
    // A server of its own: it refuses every request after the cut, for good.
    const failing = await startRangeFileServer({ 'small.bin': join(scratch, 'small.bin') });
    failing.cutNextAfter(8 * MiB, 1_000);
    const run = startOnTerminal({ WEIGHTS_URL: failing.url('small.bin'), WEIGHTS_DIR: freshDir() });
    const code = await run.exited;
    await failing.close();
    const output = run.output();
    expect(code, output).not.toBe(0);
    const last = barDraws(output).at(-1);
    expect(last, output).toMatch(/^small\.bin \[#+\.+\] \d+% /);
    // The terminal turns the bar's \n into \r\n: the error starts a line of its own.
    expect(output).toMatch(/\r\x1b\[Ksmall\.bin \[#+\.+\] \d+% [^\r\n]*\r\n[^\r\n]*WEIGHTS_URL [^\r\n]*small\.bin/);
  });

  test('on a terminal with LOG_FORMAT=json: log lines only, no bar in among them', async () => {
    const run = startOnTerminal({ WEIGHTS_URL: server.url('small.bin'), WEIGHTS_DIR: freshDir(), LOG_FORMAT: 'json' });
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).not.toContain('\x1b[K');
    expect(run.output()).toContain('weights: small.bin 50%');
  });

  test('with stderr on a pipe: a line at the start, at every tenth and at the end, and never a carriage return', async () => {
    const outcome = await runScript(supervisorBin, {
      mode: 'command_line',
      args: [model],
      env: { WEIGHTS_URL: server.url('small.bin'), WEIGHTS_DIR: freshDir(), WEIGHTS_CONNECTIONS: '1', LOG_FORMAT: 'text' },
      timeoutMs: 120_000,
    });
    expect(outcome.code, outcome.stderr).toBe(0);
    const weightsLines = outcome.stderr.split('\n').filter((line) => line.startsWith('weights: '));
    expect(weightsLines[0]).toBe(`weights: fetching small.bin from ${server.url('small.bin')} (21 MB)`);
    expect(weightsLines.slice(1, -1).map((line) => /^weights: small\.bin (\d+)% \(/.exec(line)?.[1])).toEqual([
      '10',
      '20',
      '30',
      '40',
      '50',
      '60',
      '70',
      '80',
      '90',
    ]);
    expect(weightsLines.at(-1)).toMatch(/^weights: small\.bin in place, sha256 [0-9a-f]{64} /);
    expect(outcome.stderr).not.toContain('\r');
    expect(outcome.stderr).not.toContain('\x1b[');
  });
});
