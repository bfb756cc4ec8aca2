// Several files into one command line, as Cog's `cog predict -i a=@x -i b=@y`: paths (in a
// container, of a bind-mounted folder), `@path` as Cog writes it, and stdin for one of them
// (`-` or `@-`), run directly and under the supervisor as the container's ENTRYPOINT runs it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg, makePng } from '../helpers/images.js';
import { fixture, runScript, stdoutJson } from '../helpers/run-process.js';
import { supervisorBin } from '../helpers/supervisor.js';

const twoImages = fixture('two-image-model.mjs');
const dir = mkdtempSync(join(tmpdir(), 'command-line-files-'));
const path = (name: string) => join(dir, name);
let style: Buffer;
let content: Buffer;

beforeAll(async () => {
  style = await makeJpeg(40, 30);
  content = await makePng(9, 7);
  writeFileSync(path('style.jpg'), style);
  writeFileSync(path('content.png'), content);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Run directly (node shim.js) and as the container runs it (the supervisor with the shim).
const ways = [
  ['run directly', (args: string[], stdin?: Buffer) => runScript(twoImages, { mode: 'command_line', args, stdin })],
  ['under the supervisor', (args: string[], stdin?: Buffer) => runScript(supervisorBin, { mode: 'command_line', args: [twoImages, ...args], stdin })],
] as const;

describe.each(ways)('two file inputs on one command line, %s', (_, run) => {
  test('--style PATH --content PATH: both files', async () => {
    const outcome = await run(['--style', path('style.jpg'), '--content', path('content.png')]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toEqual({ style: style.length, content: content.length });
  });

  test("--style @PATH --content @PATH: Cog's @ before a path is taken too", async () => {
    const outcome = await run(['--style', `@${path('style.jpg')}`, '--content', `@${path('content.png')}`]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(stdoutJson(outcome)).toEqual({ style: style.length, content: content.length });
  });

  test('one from stdin (- or @-), the other from a path', async () => {
    for (const stdinFlag of ['-', '@-']) {
      const outcome = await run(['--style', stdinFlag, '--content', path('content.png')], style);
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(stdoutJson(outcome)).toEqual({ style: style.length, content: content.length });
    }
  });

  test('two inputs reading stdin: a usage error (exit 2) naming both, and how to give the others', async () => {
    const outcome = await run(['--style', '-', '--content', '@-'], style);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--style and --content all read stdin, which holds one file; give the others as paths');
    expect(outcome.stdout.toString()).toBe('');
  });
});
