import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg, makePng, sha256 } from '../helpers/images.js';
import { exampleShimNamed } from '../helpers/example-shims.js';
import { runWithMemoryCap } from '../helpers/memory-cap.js';
import { exampleShim, fixture, runProcess, runScript, stdoutJson } from '../helpers/run-process.js';

const echoModel = fixture('echo-model.mjs');
const dir = mkdtempSync(join(tmpdir(), 'command-line-'));
const path = (name: string) => join(dir, name);
let photo: Buffer;

const run = (args: string[], extra: { stdin?: Buffer; env?: Record<string, string> } = {}) => runScript(echoModel, { mode: 'command_line', args, ...extra });

beforeAll(async () => {
  photo = await makeJpeg(40, 30);
  writeFileSync(path('photo.jpg'), photo);
  writeFileSync(path('config.json'), '{"layers": [1, 2, 3]}');
  writeFileSync(path('prompt.txt'), 'a prompt from a file');
  writeFileSync(path('not-an-image.jpg'), 'plain text, not a JPEG');
});

describe('command_line', () => {
  test('--help lists every input with its description, type and default, and exits 0', async () => {
    const outcome = await run(['--help']);
    expect(outcome.code).toBe(0);
    const help = outcome.stdout.toString('utf8').replace(/\s+/g, ' ');
    expect(help).toContain('--image <path> the picture (an image (JPEG, PNG, WebP, GIF, TIFF or AVIF bytes); a file path, - for stdin)');
    expect(help).toContain('--strength <value> (a number between 0 and 1; @path reads the value from a file; default: 0.5)');
    expect(help).toContain('--steps <value> (an integer between 1 and 50; @path reads the value from a file; default: 10)');
    expect(help).toContain('--style <value> (one of photo, sketch; @path reads the value from a file; default: "photo")');
    expect(help).toContain('--fast (true or false; default: false)');
    expect(help).toContain('--no-fast set fast to false');
    expect(help).toContain('--config <value> (a JSON value; @path reads the value from a file; optional)');
    expect(help).toContain('--attachment <path> (a file (binary data); a file path, - for stdin; optional)');
    expect(help).toContain('--output <path>');
    expect(help).toContain('--loop');
    expect(help).toContain('--count <n>');
  });

  test('typed options are converted: numbers, booleans, choices, JSON from @file, text from @file, a file input', async () => {
    const outcome = await run([
      '--image',
      path('photo.jpg'),
      '--strength',
      '0.25',
      '--steps',
      '7',
      '--fast',
      '--style',
      'sketch',
      '--config',
      `@${path('config.json')}`,
      '--prompt',
      `@${path('prompt.txt')}`,
      '--attachment',
      path('config.json'),
    ]);
    expect(outcome.code).toBe(0);
    const echoed = stdoutJson(outcome);
    expect(echoed.inputs).toMatchObject({
      image: { bytes: photo.length, sha256: sha256(photo) },
      strength: 0.25,
      steps: 7,
      fast: true,
      style: 'sketch',
      config: { layers: [1, 2, 3] },
      prompt: 'a prompt from a file',
      attachment: { bytes: 21 },
    });
  });

  test('--no-fast sets a boolean to false, @@ escapes a literal @', async () => {
    const outcome = await run(['--image', path('photo.jpg'), '--no-fast', '--prompt', '@@home']);
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome).inputs).toMatchObject({ fast: false, prompt: '@home' });
  });

  test('- reads a binary input from stdin', async () => {
    const png = await makePng(9, 7);
    const outcome = await run(['--image', '-'], { stdin: png });
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome).inputs.image).toEqual({ bytes: png.length, sha256: sha256(png) });
  });

  test('--output writes the result data to a file and nothing to stdout', async () => {
    const outcome = await run(['--image', path('photo.jpg'), '--output', path('negative.png')], { env: { FIXTURE_ACTION: 'image' } });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout.length).toBe(0);
    expect(outcome.stderr).toContain(`wrote image/png, 40x30 png`);
    const metadata = await sharp(readFileSync(path('negative.png'))).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['png', 40, 30]);
  });

  test('a binary result is only summarised when stdout is a terminal (a real pseudo-terminal made by script(1))', async () => {
    const command = `MODE=command_line FIXTURE_ACTION=image ${JSON.stringify(process.execPath)} ${JSON.stringify(echoModel)} --image ${JSON.stringify(path('photo.jpg'))}`;
    const terminal = execFileSync('script', ['-qec', command, '/dev/null'], { encoding: 'latin1' });
    expect(terminal).toContain('the binary result (image/png, 40x30 png');
    expect(terminal).toContain('is not written to a terminal; redirect stdout or use --output PATH');
    expect(terminal).not.toContain('\x89PNG');
  });

  test('a text result goes to stdout as is', async () => {
    const outcome = await run(['--image', path('photo.jpg'), '--prompt', 'draw a cat'], { env: { FIXTURE_ACTION: 'text' } });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout.toString('utf8')).toBe('prompt was draw a cat');
  });

  test('--loop --count 3 runs three inferences and prints time, running average and QPS for each', async () => {
    const outcome = await run(['--image', path('photo.jpg'), '--loop', '--count', '3']);
    expect(outcome.code).toBe(0);
    const lines = outcome.stderr.split('\n').filter((line) => line.startsWith('run '));
    expect(lines).toHaveLength(3);
    for (const [index, line] of lines.entries()) {
      expect(line).toMatch(new RegExp(`^run ${index + 1}: \\d+\\.\\d ms, average \\d+\\.\\d ms, \\d+\\.\\d\\d QPS$`));
    }
    expect(stdoutJson(outcome).inputs.image.bytes).toBe(photo.length);
  });

  test.each([
    { name: 'a missing file', args: ['--image', '/nonexistent/photo.jpg'], message: '--image: cannot read "/nonexistent/photo.jpg": no such file' },
    { name: 'a missing required option', args: [], message: "required option '--image <path>' not specified (see --help)" },
    { name: 'an unknown option', args: ['--image', 'x', '--colour', 'red'], message: "unknown option '--colour' (see --help)" },
    { name: 'a stray argument', args: ['--image', 'x', 'extra'], message: 'too many arguments' },
    { name: 'a number out of range', args: ['--strength', '1.5'], message: 'strength: 1.5 is out of range; expected a number between 0 and 1' },
    { name: 'a number that is not one', args: ['--steps', 'ten'], message: 'steps: expected an integer between 1 and 50, got the string "ten"' },
    { name: 'a fractional integer', args: ['--steps', '2.5'], message: 'steps: expected an integer between 1 and 50, got the string "2.5"' },
    {
      name: 'a choice not in the list',
      args: ['--style', 'skech'],
      message: 'style: expected one of photo, sketch, got the string "skech" (did you mean \'sketch\'?)',
    },
    { name: 'malformed JSON', args: ['--config', '{oops'], message: 'config: is not valid JSON' },
    { name: 'a file that is not an image', args: ['--image', 'NOT_AN_IMAGE'], message: 'image: is not an image that can be decoded' },
    { name: 'a bad --count', args: ['--count', '0'], message: "option '--count <n>' argument '0' is invalid. expected a positive integer" },
  ])('$name is a usage error: exit 2 and one clear line', async ({ args, message }) => {
    const resolved = args.map((arg) => (arg === 'NOT_AN_IMAGE' ? path('not-an-image.jpg') : arg));
    const withImage = resolved.includes('--image') ? resolved : ['--image', path('photo.jpg'), ...resolved];
    const outcome = await run(args.length === 0 ? [] : withImage);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(message);
    expect(outcome.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user's mistake
    expect(outcome.stdout.length).toBe(0);
  });

  test('--text @/dev/zero is refused past MAX_INPUT_BYTES without reading the endless file: exit 2, naming --text and the limit', async () => {
    // Killed past 400 MB of resident memory: reading first and measuring after would pass it.
    const outcome = await runWithMemoryCap(
      exampleShimNamed('keywords'),
      ['--text', '@/dev/zero'],
      { MODE: 'command_line', MAX_INPUT_BYTES: '1000000' },
      400 * 1024 * 1024,
    );
    expect(outcome.killed).toBe(false);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--text: "/dev/zero" holds more than 1000000 bytes (the limit; raise it with MAX_INPUT_BYTES)');
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
    expect(outcome.stdout.length).toBe(0);
    expect(outcome.peakBytes).toBeLessThan(400 * 1024 * 1024);
  });

  test('--image /dev/stdin from a shell pipe is read as a stream with the same bound', async () => {
    // A shell pipe, as a user types it: Node's own 'pipe' stdio is a socket, which /dev/stdin cannot open.
    const piped = (source: string, env: Record<string, string> = {}) =>
      runProcess('/bin/sh', ['-c', `${source} | exec "$NODE" "$SHIM" --image /dev/stdin`], {
        env: { ...(process.env as Record<string, string>), MODE: 'command_line', NODE: process.execPath, SHIM: echoModel, ...env },
      });
    const served = await piped(`cat "${path('photo.jpg')}"`);
    expect(served.code).toBe(0);
    expect(stdoutJson(served).inputs.image).toEqual({ bytes: photo.length, sha256: sha256(photo) });
    const refused = await piped('head -c 50000000 /dev/zero', { MAX_INPUT_BYTES: '1000000' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--image: "/dev/stdin" holds more than 1000000 bytes (the limit; raise it with MAX_INPUT_BYTES)');
  });

  const modeHints: [string, string][] = [
    ['command_line', 'docker run --rm -i IMAGE --image - < photo.jpg'],
    ['http', 'docker run --rm -p 5000:5000 -e MODE=http IMAGE'],
    ['test_model_integration', 'docker run --rm -e MODE=test_model_integration IMAGE'],
    ['test_single_image', 'docker run --rm -i -e MODE=test_single_image IMAGE < photo.jpg'],
    ['test_inputs_dict_json', '| docker run --rm -i -e MODE=test_inputs_dict_json IMAGE'],
    ['test_inputs_pickled_dict', 'cat dict.pkl | docker run --rm -i -e MODE=test_inputs_pickled_dict IMAGE'],
  ];
  const expectModeList = (text: string) => {
    for (const [mode, flags] of modeHints) expect(text).toMatch(new RegExp(`\\n  ${mode} +.*${flags.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  };

  test('MODE unset: one line on stderr, then command_line runs', async () => {
    const outcome = await runScript(exampleShim, { args: ['--image', path('photo.jpg')] });
    expect(outcome.code).toBe(0);
    // The one line, then what command_line says of every run (as with MODE=command_line).
    expect(outcome.stderr.split('\n')).toEqual([
      'MODE is not set: running command_line (--help lists its options and every mode)',
      expect.stringMatching(/^result: application\/json, \d+ bytes of valid JSON in [\d.]+ ms$/),
      '',
    ]);
    expect(stdoutJson(outcome)).toMatchObject({ width: 40, height: 30, format: 'jpeg' });
  });

  test('MODE unset: --help lists the options and every mode with its docker run hint', async () => {
    const outcome = await runScript(exampleShim, { args: ['--help'] });
    expect(outcome.code).toBe(0);
    const help = outcome.stdout.toString('utf8');
    expect(help).toContain('--image <path>');
    expect(help).toContain('Modes (this is command_line; select another with -e MODE=<name>):');
    expectModeList(help);
  });

  test('MODE unset: a usage error is its line, then the list of modes; with MODE=command_line, the line alone', async () => {
    const outcome = await runScript(exampleShim, { args: ['--imag', path('photo.jpg')] });
    expect(outcome.code).toBe(2);
    const lines = outcome.stderr.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'MODE is not set: running command_line (--help lists its options and every mode)',
      "error: unknown option '--imag'; did you mean '--image'? (see --help)",
      'Modes (select one with -e MODE=<name>):',
    ]);
    expectModeList(outcome.stderr);
    const chosen = await runScript(exampleShim, { mode: 'command_line', args: ['--imag', path('photo.jpg')] });
    expect(chosen.stderr).toBe("error: unknown option '--imag'; did you mean '--image'? (see --help)\n");
  });
});
