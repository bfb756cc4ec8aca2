// The error messages a new user met in a trial (issue 11), each checked by its text: the mistake
// named for what it is, with the way to the right form, mode or option.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listModes } from '../../src/registry.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { makeJpeg, makePng, sha256, solidImage } from '../helpers/images.js';
import { supervisorBin } from '../helpers/supervisor.js';
import { exampleShim, fixture, pythonPickle, repoRoot, runScript, stdoutJson, type ProcessOutcome } from '../helpers/run-process.js';

const echoModel = fixture('echo-model.mjs');
const anySchemaModel = fixture('bad-schema-model.mjs'); // startLoop with the schema in BAD_SCHEMA
const dir = mkdtempSync(join(tmpdir(), 'error-messages-'));
const photoPath = join(dir, 'photo.jpg');
let photo: Buffer;

beforeAll(async () => {
  photo = await makeJpeg(30, 20);
  writeFileSync(photoPath, photo);
});

/** A usage error: exit 2, the one line given, nothing on stdout, no stack trace. */
function expectUsageError(outcome: ProcessOutcome, message: string): void {
  expect(outcome.stderr.trim().split('\n')).toEqual([`error: ${message}`]);
  expect(outcome.code).toBe(2);
  expect(outcome.stdout.length).toBe(0);
}

describe('the inputs schema, checked at start-up: exit 3 with a did-you-mean', () => {
  const types = 'expected one of image, text, number, integer, boolean, choice, json, file';
  test.each([
    { schema: { strength: { type: 'float' } }, message: `strength: unknown type "float"; ${types} (did you mean 'number'?)` },
    { schema: { steps: { type: 'int' } }, message: `steps: unknown type "int"; ${types} (did you mean 'integer'?)` },
    { schema: { fast: { type: 'bool' } }, message: `fast: unknown type "bool"; ${types} (did you mean 'boolean'?)` },
    { schema: { prompt: { type: 'str' } }, message: `prompt: unknown type "str"; ${types} (did you mean 'text'?)` },
    { schema: { prompt: { type: 'string' } }, message: `prompt: unknown type "string"; ${types} (did you mean 'text'?)` },
    { schema: { config: { type: 'dict' } }, message: `config: unknown type "dict"; ${types} (did you mean 'json'?)` },
    { schema: { audio: { type: 'bytes' } }, message: `audio: unknown type "bytes"; ${types} (did you mean 'file'?)` },
    { schema: { photo: { type: 'img' } }, message: `photo: unknown type "img"; ${types} (did you mean 'image'?)` },
    {
      schema: { prompt: { type: 'text', defualt: 'a cat' } },
      message: "prompt: unknown property 'defualt' for type text (did you mean 'default'?); allowed: type, description, required, default, example",
    },
    {
      schema: { style: { type: 'choice', choice: ['photo', 'sketch'] } },
      message: "style: unknown property 'choice' for type choice (did you mean 'choices'?); allowed: type, description, required, default, choices, example",
    },
    {
      schema: { strength: { type: 'number', minimum: 0 } },
      message: "strength: unknown property 'minimum' for type number (did you mean 'min'?); allowed: type, description, required, default, min, max, example",
    },
    {
      schema: { image: { type: 'image', defualt: 1 } },
      message:
        "image: unknown property 'defualt' for type image; allowed: type, description, required, example; did you mean 'default'? binary inputs cannot have a default",
    },
    { schema: { steps: { type: 'integer', max: 50, example: 80 } }, message: 'steps: example 80 is outside the bounds at most 50' },
    {
      schema: { image: { type: 'image', example: 'cat.jpg' } },
      message:
        "image: example must be a data: URL such as data:image/jpeg;base64,..., got the string \"cat.jpg\"; for a file beside the shim, read it into one: `data:image/jpeg;base64,${readFileSync(new URL('cat.jpg', import.meta.url)).toString('base64')}`",
    },
  ])('$message', async ({ schema, message }) => {
    const outcome = await runScript(anySchemaModel, { mode: 'test_model_integration', env: { BAD_SCHEMA: JSON.stringify(schema) } });
    expect(outcome.stderr.trim().split('\n')).toEqual([`error: invalid inputs schema: ${message}`]);
    expect(outcome.code).toBe(3);
  });

  test('every problem of the schema in one run, one line each, run directly and under the supervisor', async () => {
    const schema = {
      image: { type: 'imgae' },
      strength: { type: 'number', minimum: 0, max: 1, default: 2 },
      style: { type: 'choice', choice: ['photo', 'sketch'] },
      prompt: { type: 'text', required: 'no' },
    };
    const expected = [
      'error: invalid inputs schema, 5 problems:',
      `  image: unknown type "imgae"; ${types} (did you mean 'image'?)`,
      "  strength: unknown property 'minimum' for type number (did you mean 'min'?); allowed: type, description, required, default, min, max, example",
      '  strength: default 2 is outside the bounds at most 1',
      "  style: unknown property 'choice' for type choice (did you mean 'choices'?); allowed: type, description, required, default, choices, example",
      '  prompt: \'required\' must be true or false, got the string "no"',
    ];
    const env = { BAD_SCHEMA: JSON.stringify(schema) };
    const direct = await runScript(anySchemaModel, { mode: 'test_model_integration', env });
    expect(direct.stderr.trim().split('\n')).toEqual(expected);
    expect(direct.code).toBe(3);
    const supervised = await runScript(supervisorBin, { mode: 'test_model_integration', args: [anySchemaModel], env });
    expect(supervised.stderr.trim().split('\n')).toEqual(expected);
    expect(supervised.code).toBe(3);
  });

  test('a valid example of every kind starts, and the self-test runs', async () => {
    const png = (await makePng(4, 3)).toString('base64');
    const schema = {
      image: { type: 'image', example: `data:image/png;base64,${png}` },
      prompt: { type: 'text', example: 'a cat' },
      style: { type: 'choice', choices: ['photo', 'sketch'], example: 'sketch' },
    };
    const outcome = await runScript(anySchemaModel, { mode: 'test_model_integration', env: { BAD_SCHEMA: JSON.stringify(schema), SELF_TEST_RUNS: '1' } });
    expect(outcome.code, outcome.stderr).toBe(0);
  });
});

describe('test_inputs_pickled_dict: what is not a pickle is named for what it is, with the mode that reads it', () => {
  const pickled = (stdin: Buffer | string, script = echoModel) => runScript(script, { mode: 'test_inputs_pickled_dict', stdin });
  const pickleExample = `pipe a pickled dict of inputs in, e.g. python3 -c 'import pickle, sys; pickle.dump({"image": open("photo.jpg", "rb").read()}, sys.stdout.buffer)' | docker run -i -e MODE=test_inputs_pickled_dict IMAGE`;
  const jsonMode = `MODE=test_inputs_dict_json reads a JSON object of inputs: echo '{"image": "<base64>"}' | docker run --rm -i -e MODE=test_inputs_dict_json IMAGE`;
  const imageMode = 'MODE=test_single_image reads one image: docker run --rm -i -e MODE=test_single_image IMAGE < photo.jpg';

  test('JSON: the mistake of the trial, which said "memo key 101 is not defined (at byte 0)"', async () => {
    expectUsageError(
      await pickled('{"image": "data:image/jpeg;base64,/9j/4AAQ"}\n'),
      `stdin is not a pickle: it looks like a JSON object with the key "image"; ${jsonMode}`,
    );
    expectUsageError(await pickled('[1, 2, 3]'), `stdin is not a pickle: it looks like a JSON array (3 items); ${jsonMode}`);
  });

  test('an image, by its signature, whatever its first byte means to a pickle reader', async () => {
    expectUsageError(await pickled(photo), `stdin is not a pickle: it looks like a JPEG image (${photo.length} bytes); ${imageMode}`);
    const png = await makePng(6, 4);
    expectUsageError(await pickled(png), `stdin is not a pickle: it looks like a PNG image (${png.length} bytes); ${imageMode}`);
    // 'G' is BINFLOAT, 'I' is INT: these start like a protocol 0 or 1 pickle and fail on the way.
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    expectUsageError(await pickled(gif), `stdin is not a pickle: it looks like a GIF image (${gif.length} bytes); ${imageMode}`);
    const tiff = await sharp(await solidImage(5, 5, { r: 1, g: 2, b: 3 }))
      .tiff()
      .toBuffer();
    expectUsageError(await pickled(tiff), `stdin is not a pickle: it looks like a TIFF image (${tiff.length} bytes); ${imageMode}`);
  });

  test('plain text, binary data and nothing', async () => {
    expectUsageError(await pickled('hello world\n'), `stdin is not a pickle: it looks like plain text ("hello world"); ${pickleExample}`);
    expectUsageError(await pickled('Some words\n'), `stdin is not a pickle: it looks like plain text ("Some words"); ${pickleExample}`); // 'S' is STRING
    expectUsageError(
      await pickled(Buffer.from([0, 1, 2, 250])),
      `stdin is not a pickle: it looks like binary data (4 bytes starting 000102fa); ${pickleExample}`,
    );
    expectUsageError(await pickled(''), `stdin is empty; ${pickleExample}`);
  });

  test('real pickles of protocols 0 to 5 from python3, an OrderedDict in protocols 0 and 1 included, still run', async () => {
    for (const protocol of [0, 1, 2, 3, 4, 5]) {
      const outcome = await pickled(pythonPickle(`{'image': open(${JSON.stringify(photoPath)}, 'rb').read(), 'steps': 3}`, protocol));
      expect(outcome.code, `protocol ${protocol}: ${outcome.stderr}`).toBe(0);
      expect(stdoutJson(outcome).inputs).toMatchObject({ image: { bytes: photo.length, sha256: sha256(photo) }, steps: 3 });
    }
    for (const protocol of [0, 1]) {
      const outcome = await pickled(pythonPickle(`collections.OrderedDict(image=open(${JSON.stringify(photoPath)}, 'rb').read())`, protocol));
      expect(outcome.code, `OrderedDict, protocol ${protocol}: ${outcome.stderr}`).toBe(0);
    }
  });

  test('a damaged protocol 0 pickle is still reported as a damaged pickle, by the reader', async () => {
    const whole = pythonPickle("{'prompt': 'hello'}", 0);
    const outcome = await pickled(whole.subarray(0, whole.length - 1)); // without its STOP
    expectUsageError(outcome, `pickle: the data ends before the STOP opcode (truncated?) (at byte ${whole.length - 1})`);
  });
});

describe('test_inputs_dict_json', () => {
  const json = (stdin: Buffer | string, script = echoModel, env: Record<string, string> = {}) =>
    runScript(script, { mode: 'test_inputs_dict_json', stdin, env });

  test('{"inputs": {...}}, the HTTP API\'s form, is refused with the unwrapped form (the trial said "image: is required")', async () => {
    const body = JSON.stringify({ inputs: { image: photo.toString('base64'), steps: 3 } });
    expectUsageError(
      await json(body),
      'stdin wraps the inputs in {"inputs": {...}}, as the HTTP API takes them; this mode reads the inputs object itself: pipe {"image": ..., "steps": ...} without the wrapper',
    );
    expectUsageError(
      await json(JSON.stringify({ input: { image: 'x' } })),
      'stdin wraps the inputs in {"input": {...}}, as the HTTP API takes them; this mode reads the inputs object itself: pipe {"image": ...} without the wrapper',
    );
    // Unwrapped, the same inputs run.
    const outcome = await json(JSON.stringify({ image: photo.toString('base64'), steps: 3 }));
    expect(outcome.code, outcome.stderr).toBe(0);
  });

  test('wrapped inputs are refused even where every input has a default, as the model would never see them', async () => {
    const schema = JSON.stringify({ prompt: { type: 'text', default: 'a dog' } });
    expectUsageError(
      await json('{"inputs": {"prompt": "a cat"}}', anySchemaModel, { BAD_SCHEMA: schema }),
      'stdin wraps the inputs in {"inputs": {...}}, as the HTTP API takes them; this mode reads the inputs object itself: pipe {"prompt": ...} without the wrapper',
    );
  });

  test('no hint where the schema has an input named inputs, or the object has other keys', async () => {
    const schema = JSON.stringify({ inputs: { type: 'json' } });
    const named = await json('{"inputs": {"image": "x"}}', anySchemaModel, { BAD_SCHEMA: schema });
    expect(named.code, named.stderr).toBe(0);
    const other = await json(JSON.stringify({ inputs: { image: 'x' }, steps: 3 }));
    expectUsageError(other, 'image: is required; expected an image (JPEG, PNG, WebP, GIF, TIFF or AVIF bytes)');
  });

  test('binary data is named, with the mode that reads it', async () => {
    expectUsageError(
      await json(photo),
      `stdin is not UTF-8 text: it looks like a JPEG image (${photo.length} bytes); MODE=test_single_image reads one image: docker run --rm -i -e MODE=test_single_image IMAGE < photo.jpg`,
    );
    expectUsageError(
      await json(pythonPickle("{'prompt': 'x'}", 4)),
      'stdin is not UTF-8 text: it looks like a Python pickle (protocol 4); MODE=test_inputs_pickled_dict reads a pickled dict of inputs: cat dict.pkl | docker run --rm -i -e MODE=test_inputs_pickled_dict IMAGE',
    );
  });
});

describe('command_line: an unknown option is reported first, with the option meant', () => {
  const run = (args: string[]) => runScript(echoModel, { mode: 'command_line', args });

  test('--imag photo.jpg says --imag is unknown (the trial said --image was missing)', async () => {
    expectUsageError(await run(['--imag', photoPath]), "unknown option '--imag'; did you mean '--image'? (see --help)");
    expectUsageError(await run(['--image', photoPath, '--strenght', '0.5']), "unknown option '--strenght'; did you mean '--strength'? (see --help)");
    expectUsageError(await run(['--imag=photo.jpg']), "unknown option '--imag'; did you mean '--image'? (see --help)");
  });

  test('an option like no other gets no guess; a short one neither', async () => {
    expectUsageError(await run(['--image', photoPath, '--colour', 'red']), "unknown option '--colour' (see --help)");
    expectUsageError(await run(['-x']), "unknown option '-x' (see --help)");
  });

  test('--help still wins, and a missing option with nothing unknown is still reported as missing', async () => {
    const help = await run(['--imag', 'x', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString('utf8')).toContain('--image <path>');
    expectUsageError(await run([]), "required option '--image <path>' not specified (see --help)");
  });
});

describe('counts agree with their nouns', () => {
  test('SELF_TEST_RUNS=1: "1 inference", not "1 inferences"', async () => {
    const outcome = await runScript(exampleShim, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '1' } });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toMatch(/^Self-test: 1 inference on a 600x400 gray JPEG \(\d+ bytes\)\.$/m);
    expect(outcome.stderr).toContain('Self-test passed: 1/1 inference succeeded and every check passed.');
    const three = await runScript(exampleShim, { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '3' } });
    expect(three.stderr).toContain('Self-test: 3 inferences on a 600x400 gray JPEG');
    expect(three.stderr).toContain('Self-test passed: 3/3 inferences succeeded and every check passed.');
  });

  test('MAX_INPUT_BYTES=1: "more than 1 byte"', async () => {
    const outcome = await runScript(echoModel, { mode: 'test_inputs_dict_json', stdin: '{}', env: { MAX_INPUT_BYTES: '1' } });
    expectUsageError(outcome, 'stdin holds more than 1 byte (the limit; raise it with MAX_INPUT_BYTES)');
  });

  test('a one-byte image: "1 byte", in the input\'s error', async () => {
    expectUsageError(
      await runScript(echoModel, { mode: 'test_single_image', stdin: 'x' }),
      'image: is not an image that can be decoded (1 byte starting 78, which matches no image format); expected an image (JPEG, PNG, WebP, GIF, TIFF or AVIF bytes)',
    );
  });
});

describe('/docs/ with a trailing slash redirects to /docs, in every protocol', () => {
  const httpModes = ['http', 'kserve', 'cog', 'sagemaker', 'vertex'].filter((name) => listModes().some((mode) => mode.name === name));
  for (const mode of httpModes) {
    describe(mode, () => {
      let server: RunningServer;
      beforeAll(async () => {
        server = await startServer(echoModel, { MODE: mode });
      });
      afterAll(async () => {
        await server?.stop();
      });

      test('308 to ../docs, whose page loads with its assets', async () => {
        const redirect = await request(`${server.url}/docs/`);
        expect(redirect.statusCode).toBe(308);
        expect(redirect.headers.location).toBe('../docs');
        expect(await redirect.body.text()).toBe('the API docs are at /docs\n');
        const target = new URL(String(redirect.headers.location), `${server.url}/docs/`);
        expect(target.pathname).toBe('/docs');
        const page = await request(target);
        expect(page.statusCode).toBe(200);
        const html = await page.body.text();
        const stylesheet = /href="([^"]+\.css)"/.exec(html)![1]!;
        const asset = await request(new URL(stylesheet, target));
        expect(asset.statusCode).toBe(200);
        expect(asset.headers['content-type']).toBe('text/css; charset=utf-8');
        await asset.body.dump();
      });
    });
  }
});

describe('npm in this repository prints no warning', () => {
  // Run under `npm test`, the environment says which project npm is in (npm_config_local_prefix,
  // npm_package_json, ...): the copy must be a project of its own.
  const npmEnvironment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD')) as Record<
    string,
    string
  >;
  npmEnvironment.npm_config_update_notifier = 'false';

  /** Runs npm in `cwd` to the end; what it printed. */
  const npm = (args: string[], cwd: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('npm', args, { cwd, env: npmEnvironment });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  test("no unknown project config (the .npmrc that skipped onnxruntime-node's download warned on every command)", async () => {
    const outcome = await npm(['--version'], repoRoot);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
  });

  test("npm ci on a fresh copy, offline from the cache: no warning, onnxruntime-node's GPU download skipped, its CPU binary works", async () => {
    const copy = mkdtempSync(join(tmpdir(), 'npm-ci-'));
    try {
      for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(repoRoot, file), join(copy, file));
      // Offline: were onnxruntime-node's install script to run, its download would fail the install.
      const outcome = await npm(['ci', '--offline'], copy);
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stderr).toBe('');
      // npm says "in 812ms", "in 4s", or past a minute on a busy machine "in 1m".
      expect(outcome.stdout.trim()).toMatch(/^added \d+ packages in [\d.]+(?:ms|s|m)$/);
      const binaries = join(copy, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch);
      expect(existsSync(join(binaries, 'libonnxruntime_providers_cuda.so'))).toBe(false);
      const model = join(repoRoot, 'dist/shims/models/edge-detector.onnx');
      const session = await new Promise<string>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['-e', `require('onnxruntime-node').InferenceSession.create(${JSON.stringify(model)}).then((s) => console.log(s.inputNames.join(',')))`],
          { cwd: copy },
        );
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
      });
      expect(session.length).toBeGreaterThan(0);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 180_000);
});
