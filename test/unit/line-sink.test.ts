// The access log's writer: every line, in order, in few writes; what waits is written at exit;
// a reader that stops reading costs dropped lines (said once it reads again), never the process.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { LineSink } from '../../src/http/line-sink.js';

// The child processes below run the sink as JavaScript (esbuild, which the build uses, strips the types).
const sinkModule = join(mkdtempSync(join(tmpdir(), 'line-sink-module-')), 'line-sink.mjs');
writeFileSync(sinkModule, transformSync(readFileSync(new URL('../../src/http/line-sink.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'esm' }).code);

function runChild(source: string, options: { pauseStdoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  if (options.pauseStdoutMs) {
    child.stdout.pause();
    setTimeout(() => child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk)).resume(), options.pauseStdoutMs);
  } else child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() })));
}

describe('LineSink', () => {
  test('writes every line in order', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'line-sink-')), 'log');
    const fd = openSync(file, 'w');
    const sink = new LineSink(fd);
    const lines = Array.from({ length: 5000 }, (_, index) => `line ${index} ✓\n`);
    for (const line of lines) sink.write(line);
    await new Promise((resolve) => setTimeout(resolve, 200));
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''));
  });

  test('with gatherMs, lines wait that long for others and go out together, in order', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'line-sink-')), 'log');
    const fd = openSync(file, 'w');
    const sink = new LineSink(fd, undefined, 1000);
    sink.write('first\n');
    await new Promise((resolve) => setImmediate(resolve));
    sink.write('second\n');
    // Nothing is written before the window ends.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readFileSync(file, 'utf8')).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 1400));
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n');
  });

  test('a process with lines gathering exits when its work is done (the window holds nothing open), and they are written', async () => {
    const { code, stdout } = await runChild(`
      import { LineSink } from ${JSON.stringify(sinkModule)};
      const sink = new LineSink(1, undefined, 60000);
      sink.write('gathered\\n');
    `);
    expect(code).toBe(0);
    expect(stdout).toBe('gathered\n');
  });

  test('lines still waiting when the process exits are written', async () => {
    const { code, stdout } = await runChild(`
      import { LineSink } from ${JSON.stringify(sinkModule)};
      const sink = new LineSink(1);
      for (let index = 0; index < 20000; index++) sink.write('line ' + index + '\\n');
      process.exit(0);
    `);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(20000);
    expect(lines.at(-1)).toBe('line 19999');
  });

  test('a reader that stops reading costs dropped lines, counted in a warning, and the process goes on', async () => {
    const { code, stdout } = await runChild(
      `
      import { LineSink } from ${JSON.stringify(sinkModule)};
      const sink = new LineSink(1, 1024 * 1024);
      const line = 'x'.repeat(1023) + '\\n';
      let refused = 0;
      // 3 MB while the reader sleeps: more than the 1 MB this sink holds.
      for (let index = 0; index < 3 * 1024; index++) if (!sink.write(line)) refused++;
      process.stderr.write('refused ' + refused + '\\n');
      setTimeout(() => { sink.write('after\\n'); }, 1500);
    `,
      { pauseStdoutMs: 1000 },
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/warning: \d+ log line\(s\) dropped: the log's reader fell more than 1048576 bytes behind\n/);
    expect(stdout.endsWith('after\n')).toBe(true);
  });
});
