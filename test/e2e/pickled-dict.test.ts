import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg, sha256 } from '../helpers/images.js';
import { exampleShim, fixture, pythonPickle, runScript, stdoutJson } from '../helpers/run-process.js';

const echoModel = fixture('echo-model.mjs');
const dir = mkdtempSync(join(tmpdir(), 'pickled-dict-'));
const photoPath = join(dir, 'photo.jpg');
let photo: Buffer;

beforeAll(async () => {
  photo = await makeJpeg(36, 28);
  writeFileSync(photoPath, photo);
});

const pickled = (stdin: Buffer, script = echoModel, env: Record<string, string> = {}) => runScript(script, { mode: 'test_inputs_pickled_dict', stdin, env });

describe('test_inputs_pickled_dict', () => {
  test.each([0, 1, 2, 3, 4, 5])('python3 pickle.dump(..., protocol=%i) | MODE=test_inputs_pickled_dict node example', async (protocol) => {
    const outcome = await pickled(pythonPickle(`{'image': open(${JSON.stringify(photoPath)}, 'rb').read(), 'precision': 1}`, protocol), exampleShim);
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome)).toMatchObject({ width: 36, height: 28, format: 'jpeg' });
  });

  test('typed inputs from Python values: float, int, bool, str, dict; big ints and sets pass through', async () => {
    const outcome = await pickled(
      pythonPickle(
        `{'image': open(${JSON.stringify(photoPath)}, 'rb').read(), 'strength': 0.25, 'steps': 8, 'fast': True, 'style': 'sketch',
        'prompt': 'h\\xe9llo \\U0001F600', 'config': {'a': [1, 2.5, None]}, 'seed': 2**70, 'tags': {'x'}}`,
        2,
      ),
    );
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome).inputs).toEqual({
      image: { bytes: photo.length, sha256: sha256(photo) },
      strength: 0.25,
      steps: 8,
      fast: true,
      style: 'sketch',
      prompt: 'héllo 😀',
      config: { a: [1, 2.5, null] },
      seed: { bigint: String(2n ** 70n) },
      tags: { set: ['x'] },
    });
  });

  test('a Python 2 pickle: str is bytes, and the schema decides what it becomes', async () => {
    const header = Buffer.alloc(5);
    header.write('T', 0, 'latin1');
    header.writeInt32LE(photo.length, 1);
    const python2 = Buffer.concat([
      Buffer.from('\x80\x02}q\x00(U\x05imageq\x01', 'latin1'),
      header,
      photo,
      Buffer.from('U\x05stepsU\x0212U\x06promptU\x02hiU\x04fastI01\nu.', 'latin1'),
    ]);
    const outcome = await pickled(python2);
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome).inputs).toMatchObject({ image: { bytes: photo.length, sha256: sha256(photo) }, steps: 12, prompt: 'hi', fast: true });
  });

  test('a malicious pickle (REDUCE of os.system) is refused by name, runs nothing, exit 2', async () => {
    const marker = join(dir, 'pwned');
    rmSync(marker, { force: true });
    const outcome = await pickled(Buffer.from(`cos\nsystem\n(S'touch ${marker}'\ntR.`, 'latin1'));
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.trim()).toMatch(/^error: pickle: refused global os\.system: only plain data is read \(allowed: .*\) \(at byte 0\)$/);
    expect(existsSync(marker)).toBe(false);
  });

  test.each([
    { name: 'empty stdin', stdin: Buffer.alloc(0), message: 'stdin is empty; pipe a pickled dict of inputs in' },
    { name: 'a truncated pickle', stdin: Buffer.from('\x80\x04\x95', 'latin1'), message: 'pickle: FRAME needs 8 bytes but only 0 remain (at byte 2)' },
    { name: 'a pickle of a list', stdin: Buffer.from(']K\x01a.', 'latin1'), message: 'the pickle holds an array; expected a dict of inputs' },
    {
      name: 'text that is no pickle',
      stdin: Buffer.from('{"image": "x"}'),
      message: 'stdin is not a pickle: it looks like a JSON object with the key "image"; MODE=test_inputs_dict_json reads',
    },
    {
      name: 'an input the schema refuses',
      stdin: Buffer.from('}(X\x05\x00\x00\x00imageC\x03abcu.', 'latin1'),
      message: 'image: is not an image that can be decoded',
    },
  ])('$name: exit 2 and one clear line', async ({ stdin, message }) => {
    const outcome = await pickled(stdin);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(message);
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
  });
});
