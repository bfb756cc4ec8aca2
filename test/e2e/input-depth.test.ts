// Input values nested past MAX_INPUT_DEPTH are refused where inputs are read, the same way in
// every mode, run directly or under the supervisor (whose structured-clone send to the model
// worker would otherwise overflow the stack).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg } from '../helpers/images.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, pythonPickle, runScript, stdoutJson } from '../helpers/run-process.js';
import { childPids, supervisorBin } from '../helpers/supervisor.js';

const httpModel = fixture('http-model.mjs');
const echoModel = fixture('echo-model.mjs');
const nestedJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const tooDeep = (depth: number, limit = 128) => `x: nests ${depth} levels of arrays and objects, deeper than the limit of ${limit} (MAX_INPUT_DEPTH)`;
let photo: Buffer;

beforeAll(async () => {
  photo = await makeJpeg(24, 16);
});

const predictWithX = (url: string, depth: number) =>
  request(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"inputs": {"image": "${photo.toString('base64')}", "note": "depth ${depth}", "x": ${nestedJson(depth)}}}`,
  });

describe.each([
  { how: 'run directly (node SHIM)', start: () => startServer(httpModel) },
  { how: 'under the supervisor (node dist/cli.js SHIM)', start: () => startServer(supervisorBin, {}, [httpModel]) },
])('POST /predict, $how', ({ start }) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server.stop();
  });

  test('an unlisted input nested 10,000 levels is 422 naming it, and the service keeps serving', async () => {
    const workersBefore = childPids(server.pid);
    const response = await predictWithX(server.url, 10_000);
    expect(response.statusCode).toBe(422);
    expect(((await response.body.json()) as { error: unknown }).error).toEqual({ code: 'AI_ERR_INVALID_INPUT', field: 'x', message: tooDeep(10_000) });
    const after = await predictWithX(server.url, 1);
    expect(after.statusCode).toBe(200);
    expect(((await after.body.json()) as { output: unknown }).output).toMatchObject({ received: { image: '24x16 jpeg', note: 'depth 1' } });
    expect(childPids(server.pid)).toEqual(workersBefore); // under the supervisor: the same worker, never restarted
  });

  test('nested 100 levels (within the default 128) is served', async () => {
    const response = await predictWithX(server.url, 100);
    expect(response.statusCode).toBe(200);
    expect(((await response.body.json()) as { output: unknown }).output).toMatchObject({ received: { note: 'depth 100' } });
  });
});

describe('the same limit in every mode', () => {
  const deepStdin = `{"note": "deep", "x": ${nestedJson(10_000)}}`;

  test.each([
    { how: 'directly', script: httpModel, args: [] },
    { how: 'under the supervisor', script: supervisorBin, args: [httpModel] },
  ])('test_inputs_dict_json $how: exit 2 with the message, nothing on stdout', async ({ script, args }) => {
    const outcome = await runScript(script, { mode: 'test_inputs_dict_json', args, stdin: deepStdin });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(tooDeep(10_000));
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
    expect(outcome.stdout.length).toBe(0);
  });

  test('test_inputs_dict_json: MAX_INPUT_DEPTH sets the limit', async () => {
    const refused = await runScript(httpModel, { mode: 'test_inputs_dict_json', stdin: `{"x": ${nestedJson(20)}}`, env: { MAX_INPUT_DEPTH: '10' } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(tooDeep(20, 10));
    const served = await runScript(httpModel, { mode: 'test_inputs_dict_json', stdin: `{"x": ${nestedJson(500)}}`, env: { MAX_INPUT_DEPTH: '500' } });
    expect(served.code).toBe(0);
  });

  test('a JSON input parsed from a multipart field is measured too', async () => {
    const server = await startServer(echoModel);
    try {
      const form = new FormData();
      form.append('image', new Blob([photo], { type: 'image/jpeg' }), 'photo.jpg');
      form.append('config', nestedJson(5000));
      const response = await request(`${server.url}/predict`, { method: 'POST', body: form });
      expect(response.statusCode).toBe(422);
      expect(((await response.body.json()) as { error: unknown }).error).toMatchObject({ field: 'config', message: tooDeep(5000).replace('x:', 'config:') });
    } finally {
      await server.stop();
    }
  });

  test('a JSON input parsed from argv (command_line) is measured too: exit 2', async () => {
    const photoPath = join(mkdtempSync(join(tmpdir(), 'input-depth-')), 'photo.jpg');
    writeFileSync(photoPath, photo);
    const outcome = await runScript(echoModel, { mode: 'command_line', args: ['--image', photoPath, '--config', nestedJson(5000)] });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(tooDeep(5000).replace('x:', 'config:'));
  });

  test('test_inputs_pickled_dict: the dict of inputs is not counted, so a value may nest exactly as deep as in JSON', async () => {
    const pickleWithX = (depth: number) => pythonPickle(`{'note': 'pickled', 'x': ${nestedJson(depth).replace('[]', '[0]')}}`);
    const atLimit = await runScript(httpModel, { mode: 'test_inputs_pickled_dict', stdin: pickleWithX(128) });
    expect(atLimit.code).toBe(0);
    expect(stdoutJson(atLimit)).toMatchObject({ received: { note: 'pickled' } });
    const past = await runScript(httpModel, { mode: 'test_inputs_pickled_dict', stdin: pickleWithX(129) });
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(
      /pickle: data nests deeper than 129 levels \(at byte \d+\): a value in the dict of inputs may nest at most 128 levels of lists, tuples, dicts and sets \(MAX_INPUT_DEPTH\), the dict itself being one more/,
    );
    expect(past.stdout.length).toBe(0);
  });

  test('MAX_INPUT_DEPTH above what structured clone can carry is refused at start-up with the maximum: exit 3', async () => {
    const outcome = await runScript(httpModel, { mode: 'test_inputs_dict_json', stdin: '{}', env: { MAX_INPUT_DEPTH: '1001' } });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain('MAX_INPUT_DEPTH=1001 is more than the runtime can honour; the maximum is 1000');
  });
});
