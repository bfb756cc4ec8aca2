// The access log's writer in a process of its own: a window of gathering lines holds nothing open,
// lines still waiting when the process exits are written, and a reader that stops reading costs
// dropped lines (said once it reads again), never the process. The rest is in
// test/unit/line-sink.test.ts.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, test } from 'vitest';

// The child processes below run the sink as JavaScript (esbuild, which the build uses, strips the types).
const sinkModule = join(mkdtempSync(join(tmpdir(), 'line-sink-module-')), 'line-sink.mjs');
writeFileSync(sinkModule, transformSync(readFileSync(new URL('../../src/http/line-sink.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'esm' }).code);

/**
 * Runs `source` in a node process. With `readStdoutAfter`, its stdout is not read until its
 * stderr has said that much; then it is, and the child's stdin ends to tell it so.
 */
function runChild(source: string, options: { readStdoutAfter?: RegExp } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { readStdoutAfter } = options;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const read = (chunk: Buffer) => stdout.push(chunk);
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  if (readStdoutAfter) {
    child.stdout.pause();
    const onStderr = () => {
      if (!readStdoutAfter.test(Buffer.concat(stderr).toString())) return;
      child.stderr.off('data', onStderr);
      child.stdout.on('data', read).resume();
      child.stdin.end();
    };
    child.stderr.on('data', onStderr);
  } else {
    child.stdout.on('data', read);
    child.stdin.end();
  }
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() })),
  );
}

describe('LineSink in a process', () => {
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
    const { code, stdout, stderr } = await runChild(
      `
      import { LineSink } from ${JSON.stringify(sinkModule)};
      const sink = new LineSink(1, 1024 * 1024);
      const line = 'x'.repeat(1023) + '\\n';
      let refused = 0;
      // 3 MB while the reader does not read: more than the 1 MB this sink holds.
      for (let index = 0; index < 3 * 1024; index++) if (!sink.write(line)) refused++;
      process.stderr.write('refused ' + refused + '\\n');
      // The reader reads again, and ends stdin to say so.
      process.stdin.on('end', () => sink.write('after\\n')).resume();
    `,
      { readStdoutAfter: /refused \d+\n/ },
    );
    expect(code).toBe(0);
    expect(stderr).toMatch(/^refused [1-9]\d*\n$/);
    expect(stdout).toMatch(/warning: \d+ log line\(s\) dropped: the log's reader fell more than 1048576 bytes behind\n/);
    expect(stdout.endsWith('after\n')).toBe(true);
  });
});
