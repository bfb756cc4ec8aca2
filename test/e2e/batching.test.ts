import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { startServer, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { fixture, runScript, stdoutJson } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('batch-model.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'ai-batching-'));
let files = 0;
const newCallsFile = () => join(scratch, `calls-${++files}`);

/** One call of the batch function, as CALLS_FILE has it: "batch <size> <notes>". */
interface Call {
  size: number;
  notes: string[];
}

// Only whole lines: the model may have created the file and not written its line yet.
const readCalls = (callsFile: string): Call[] =>
  existsSync(callsFile)
    ? readFileSync(callsFile, 'utf8')
        .split('\n')
        .slice(0, -1)
        .map((line) => {
          const [word, size, notes = ''] = line.split(' ');
          expect(word).toBe('batch');
          return { size: Number(size), notes: notes === '' ? [] : notes.split(',') };
        })
    : [];

interface Served {
  server: RunningServer;
  calls: () => Call[];
}

const servers: RunningServer[] = [];
async function serve(supervised: boolean, env: Record<string, string> = {}): Promise<Served> {
  const callsFile = newCallsFile();
  const server = supervised
    ? await startServer(supervisorBin, { CALLS_FILE: callsFile, ...env }, [model])
    : await startServer(model, { CALLS_FILE: callsFile, ...env });
  servers.push(server);
  return { server, calls: () => readCalls(callsFile) };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map(stopOrKill));
});

async function predict(url: string, inputs: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const response = await request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });
  return { status: response.statusCode, body: await response.body.json() };
}

const metrics = async (url: string) => (await request(`${url}/metrics`)).body.text();
const metricValue = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Waits until a batch holding `note` has started (the model is busy with it), and returns it. */
async function batchStarted(calls: () => Call[], note: string): Promise<Call> {
  expect(await eventually(() => calls().some((call) => call.notes.includes(note)), 15_000)).toBe(true);
  return calls().find((call) => call.notes.includes(note))!;
}

/**
 * Occupies the model with a batch of one (`delay_ms` long), then sends `inputs` together: they
 * gather while it runs and go as the next batch. Resolves with the blocker's answer and theirs.
 */
async function gatheredBehindBlocker(served: Served, inputs: Record<string, unknown>[], delayMs = 500) {
  const blocker = predict(served.server.url, { note: 'blocker', delay_ms: delayMs });
  expect(await batchStarted(served.calls, 'blocker')).toEqual({ size: 1, notes: ['blocker'] });
  const answers = Promise.all(inputs.map((item) => predict(served.server.url, item)));
  return { blocker: await blocker, answers };
}

describe.each([
  ['run directly', false],
  ['under the supervisor', true],
])('a batch model (%s)', (_, supervised) => {
  test('under load, requests gather into batches of more than one, never past maxSize; each answer is its own, and the histogram counts every batch', async () => {
    const served = await serve(supervised);
    const notes = Array.from({ length: 16 }, (_, index) => `load${index}`);
    const answers = await Promise.all(notes.map((note) => predict(served.server.url, { note, delay_ms: 50 })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(16).fill(200));
    expect(answers.map((answer) => answer.body.output.note)).toEqual(notes);

    const calls = served.calls();
    expect(calls.flatMap((call) => call.notes).sort()).toEqual([...notes].sort());
    for (const call of calls) expect(call.notes).toHaveLength(call.size);
    expect(Math.max(...calls.map((call) => call.size))).toBeGreaterThan(1);
    expect(Math.max(...calls.map((call) => call.size))).toBeLessThanOrEqual(8);
    // Each answer says the size of the very batch its note was in.
    for (const answer of answers) {
      const { note, batch } = answer.body.output;
      expect(batch).toBe(calls.find((call) => call.notes.includes(note))!.size);
    }
    expect(new Set(answers.map((answer) => answer.body.output.pid)).size).toBe(1);

    const text = await metrics(served.server.url);
    expect(metricValue(text, 'inference_batch_size_count')).toBe(calls.length);
    expect(metricValue(text, 'inference_batch_size_sum')).toBe(16);
    expect(text).toMatch(/^inference_batch_size_bucket\{le="8"\} \d+$/m);
    expect(metricValue(text, 'inference_batch_size_bucket\\{le="1"\\}')).toBe(calls.filter((call) => call.size === 1).length);
  });

  test('at idle, a request runs at once as a batch of one', async () => {
    const served = await serve(supervised);
    for (const note of ['idle1', 'idle2', 'idle3']) {
      const answer = await predict(served.server.url, { note });
      expect(answer.status).toBe(200);
      expect(answer.body.output).toMatchObject({ note, batch: 1 });
    }
    expect(served.calls()).toEqual([
      { size: 1, notes: ['idle1'] },
      { size: 1, notes: ['idle2'] },
      { size: 1, notes: ['idle3'] },
    ]);
  });

  test('the results answer their own requests in order: requests gathered behind a busy model get their own notes', async () => {
    const served = await serve(supervised);
    const notes = ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'];
    const { blocker, answers } = await gatheredBehindBlocker(
      served,
      notes.map((note) => ({ note })),
    );
    expect(blocker.body.output).toMatchObject({ note: 'blocker', batch: 1 });
    const outputs = (await answers).map((answer) => answer.body.output);
    expect(outputs.map((output) => output.note)).toEqual(notes);
    expect(outputs.map((output) => output.batch)).toEqual(Array(6).fill(6));
    expect(served.calls()[1]!.notes.sort()).toEqual(notes);
  });

  test('while the model is busy, what waits goes in full batches of maxSize, the rest after', async () => {
    const served = await serve(supervised, { BATCH_MAX_SIZE: '4' });
    const notes = Array.from({ length: 10 }, (_, index) => `full${index}`);
    // Each batch runs long enough for the next one to gather before it ends.
    const { answers } = await gatheredBehindBlocker(
      served,
      notes.map((note) => ({ note, delay_ms: 200 })),
    );
    const outputs = (await answers).map((answer) => answer.body.output);
    expect(outputs.map((output) => output.note)).toEqual(notes);
    const calls = served.calls();
    expect(calls.map((call) => call.size)).toEqual([1, 4, 4, 2]);
    expect(
      calls
        .slice(1)
        .flatMap((call) => call.notes)
        .sort(),
    ).toEqual([...notes].sort());
    for (const output of outputs) expect(output.batch).toBe(calls.find((call) => call.notes.includes(output.note))!.size);
  });

  test("one item's failure(...) fails only its own request; the others of its batch succeed", async () => {
    const served = await serve(supervised);
    const { answers } = await gatheredBehindBlocker(served, [{ note: 'a' }, { note: 'b', action: 'fail' }, { note: 'c' }]);
    const [a, b, c] = await answers;
    expect(served.calls()[1]).toEqual({ size: 3, notes: expect.arrayContaining(['a', 'b', 'c']) });
    expect(a).toMatchObject({ status: 200, body: { output: { note: 'a', batch: 3 } } });
    expect(c).toMatchObject({ status: 200, body: { output: { note: 'c', batch: 3 } } });
    expect(b!.status).toBe(500);
    expect(b!.body.error).toEqual({ code: 'AI_ERR_MODEL_FAILED', message: 'the model reported a failure: item b failed on its own' });
  });

  test('a result array of the wrong length fails every request of its batch with AI_ERR_INVALID_RESULT, and restarts nothing', async () => {
    const served = await serve(supervised);
    const { blocker, answers } = await gatheredBehindBlocker(served, [{ note: 'm1' }, { note: 'm2', action: 'mismatch' }, { note: 'm3' }]);
    const pid = blocker.body.output.pid;
    const failed = await answers;
    expect(served.calls()[1]).toEqual({ size: 3, notes: expect.arrayContaining(['m1', 'm2', 'm3']) });
    for (const answer of failed) {
      expect(answer.status).toBe(500);
      expect(answer.body.error).toEqual({
        code: 'AI_ERR_INVALID_RESULT',
        message: 'the batch function must return an array of one result per input (3 inputs in this batch, in order), got 2 results',
      });
    }
    const next = await predict(served.server.url, { note: 'next' });
    expect(next.status).toBe(200);
    expect(next.body.output).toMatchObject({ note: 'next', batch: 1, pid });
    expect(served.server.child.exitCode).toBeNull();
    expect(await metrics(served.server.url)).not.toMatch(/^model_restarts_total\{/m);
  });

  test('maxWaitMs: at idle, the model waits that long after the first request for a fuller batch', async () => {
    // The second comes 100 ms after the first (the gap the wait must cover: the point, not a wait
    // for an event), well within the 1 s wait even on a slow machine (it was 10 ms in 200).
    const served = await serve(supervised, { BATCH_MAX_WAIT_MS: '1000' });
    const first = predict(served.server.url, { note: 'w1' });
    await pause(100);
    const second = predict(served.server.url, { note: 'w2' });
    const answers = await Promise.all([first, second]);
    expect(answers.map((answer) => answer.body.output)).toEqual([
      expect.objectContaining({ note: 'w1', batch: 2 }),
      expect.objectContaining({ note: 'w2', batch: 2 }),
    ]);
    expect(served.calls()).toEqual([{ size: 2, notes: ['w1', 'w2'] }]);
  });

  // Waiting 60 s here would run past the test's own limit.
  test('maxWaitMs: a full batch goes at once, without waiting', { timeout: 30_000 }, async () => {
    const served = await serve(supervised, { BATCH_MAX_SIZE: '2', BATCH_MAX_WAIT_MS: '60000' });
    const answers = await Promise.all([predict(served.server.url, { note: 'f1' }), predict(served.server.url, { note: 'f2' })]);
    expect(answers.map((answer) => answer.body.output)).toEqual([
      expect.objectContaining({ note: 'f1', batch: 2 }),
      expect.objectContaining({ note: 'f2', batch: 2 }),
    ]);
  });

  test('KServe V2 infer with a batch of three runs them as one batch of three, outputs in order; the histogram has it', async () => {
    const callsFile = newCallsFile();
    const server = supervised
      ? await startServer(supervisorBin, { MODE: 'kserve', CALLS_FILE: callsFile }, [model])
      : await startServer(model, { MODE: 'kserve', CALLS_FILE: callsFile });
    servers.push(server);
    // Requests one after the other, each a batch of three at an idle model.
    const sent = ['k', 'l', 'm', 'n', 'o', 'p'].map((letter) => [1, 2, 3].map((index) => `${letter}${index}`));
    for (const notes of sent) {
      const response = await request(`${server.url}/v2/models/batch-model/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'note', shape: [3], datatype: 'BYTES', data: notes }] }),
      });
      const body = (await response.body.json()) as any;
      expect(response.statusCode, JSON.stringify(body)).toBe(200);
      expect(body.outputs).toHaveLength(1);
      expect(body.outputs[0].shape).toEqual([3]);
      const outputs = (body.outputs[0].data as string[]).map((text) => JSON.parse(text));
      expect(outputs.map((output) => output.note)).toEqual(notes);
      expect(outputs.map((output) => output.batch)).toEqual([3, 3, 3]);
    }
    expect(readCalls(callsFile)).toEqual(sent.map((notes) => ({ size: 3, notes })));
    const text = await metrics(server.url);
    expect(metricValue(text, 'inference_batch_size_count')).toBe(sent.length);
    expect(metricValue(text, 'inference_batch_size_sum')).toBe(3 * sent.length);
  });
});

describe('a batch model that throws', () => {
  test("under the supervisor: the batch's requests fail, the worker restarts (a new pid), and the requests queued behind it are served", async () => {
    const served = await serve(true);
    const { blocker, answers } = await gatheredBehindBlocker(served, [
      { note: 't1', delay_ms: 500 },
      { note: 't2', action: 'throw', delay_ms: 500 },
      { note: 't3', delay_ms: 500 },
    ]);
    const pid = blocker.body.output.pid;
    // While the throwing batch runs, more requests queue behind it.
    expect(await batchStarted(served.calls, 't2')).toEqual({ size: 3, notes: expect.arrayContaining(['t1', 't2', 't3']) });
    const queued = ['q1', 'q2', 'q3'].map((note) => predict(served.server.url, { note }));

    for (const answer of await answers) {
      expect(answer.status).toBe(500);
      expect(answer.body.error).toEqual({ code: 'AI_ERR_INFERENCE_THREW', message: 'the inference function threw: the batch threw' });
    }
    const after = await Promise.all(queued);
    expect(after.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(after.map((answer) => answer.body.output.note)).toEqual(['q1', 'q2', 'q3']);
    for (const answer of after) expect(answer.body.output.pid).not.toBe(pid);
    // Each queued request ran once, in the new worker.
    expect(
      served
        .calls()
        .flatMap((call) => call.notes)
        .filter((note) => note.startsWith('q'))
        .sort(),
    ).toEqual(['q1', 'q2', 'q3']);

    const text = await metrics(served.server.url);
    expect(text).toMatch(/^model_restarts_total\{cause="threw"\} 1$/m);
    const info = (await (await request(`${served.server.url}/info`)).body.json()) as { workers: { restarts: number; pid: number }[] };
    expect(info.workers).toEqual([expect.objectContaining({ restarts: 1, pid: after[0]!.body.output.pid })]);
  });

  test("run directly: the batch's requests fail, those waiting get 503 at once, and the process exits 70", async () => {
    const served = await serve(false);
    const { answers } = await gatheredBehindBlocker(served, [
      { note: 't1', delay_ms: 500 },
      { note: 't2', action: 'throw', delay_ms: 500 },
    ]);
    await batchStarted(served.calls, 't2');
    const queued = ['q1', 'q2'].map((note) => predict(served.server.url, { note }));
    for (const answer of await answers) {
      expect(answer.status).toBe(500);
      expect(answer.body.error).toEqual({ code: 'AI_ERR_INFERENCE_THREW', message: 'the inference function threw: the batch threw' });
    }
    for (const answer of await Promise.all(queued)) {
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('AI_ERR_NOT_READY');
    }
    expect(await served.server.exited).toEqual({ code: 70, signal: null });
    expect(served.calls().flatMap((call) => call.notes)).not.toContain('q1');
  });
});

describe('a batch model with WORKERS=2', () => {
  test('each worker gathers its own batches; the answers name both workers', async () => {
    const served = await serve(true, { WORKERS: '2' });
    expect(
      await eventually(async () => {
        const info = (await (await request(`${served.server.url}/info`)).body.json()) as { workers: { state: string }[] };
        return info.workers.filter((worker) => worker.state === 'ready').length === 2;
      }, 20_000),
    ).toBe(true);
    const notes = Array.from({ length: 16 }, (_, index) => `two${index}`);
    const answers = await Promise.all(notes.map((note) => predict(served.server.url, { note, delay_ms: 50 })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(16).fill(200));
    expect(answers.map((answer) => answer.body.output.note)).toEqual(notes);
    expect(new Set(answers.map((answer) => answer.body.output.worker))).toEqual(new Set(['0', '1']));
    const calls = served.calls();
    expect(calls.flatMap((call) => call.notes).sort()).toEqual([...notes].sort());
    expect(Math.max(...calls.map((call) => call.size))).toBeGreaterThan(1);
    // A batch runs in one worker: every answer of a batch names the same one.
    for (const call of calls) {
      const workers = new Set(answers.filter((answer) => call.notes.includes(answer.body.output.note)).map((answer) => answer.body.output.worker));
      expect(workers.size).toBe(1);
    }
    expect(metricValue(await metrics(served.server.url), 'inference_batch_size_sum')).toBe(16);
  });
});

describe('a batch model in the one-shot modes runs batches of one', () => {
  for (const [how, script, args, worker] of [
    ['run directly', model, [], null],
    ['under the supervisor', supervisorBin, [model], '0'],
  ] as const) {
    test(`command_line (${how}): --note x prints the JSON of a batch of one`, async () => {
      const callsFile = newCallsFile();
      const outcome = await runScript(script, { mode: 'command_line', args: [...args, '--note', 'x'], env: { CALLS_FILE: callsFile } });
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(stdoutJson(outcome)).toEqual({ note: 'x', batch: 1, worker, pid: expect.any(Number) });
      expect(readCalls(callsFile)).toEqual([{ size: 1, notes: ['x'] }]);
    });

    test(`test_inputs_dict_json (${how}): the inputs on stdin, the JSON of a batch of one on stdout`, async () => {
      const outcome = await runScript(script, { mode: 'test_inputs_dict_json', args: [...args], stdin: '{"note": "piped"}' });
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(stdoutJson(outcome)).toMatchObject({ note: 'piped', batch: 1, worker });
    });

    test(`test_model_integration (${how}) exits 0, each call a batch of one`, async () => {
      const callsFile = newCallsFile();
      const outcome = await runScript(script, { mode: 'test_model_integration', args: [...args], env: { CALLS_FILE: callsFile, SELF_TEST_RUNS: '2' } });
      expect(outcome.code, outcome.stderr).toBe(0);
      const calls = readCalls(callsFile);
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) expect(call.size).toBe(1);
    });
  }
});

describe('invalid batch options stop the program with exit code 3, naming the option', () => {
  const cases: [string, Record<string, string>][] = [
    ['batch.maxSize', { BATCH_MAX_SIZE: '0' }],
    ['batch.maxSize', { BATCH_MAX_SIZE: '5000' }],
    ['batch.maxSize', { BATCH_MAX_SIZE: '1.5' }],
    ['batch.maxWaitMs', { BATCH_MAX_WAIT_MS: '-1' }],
  ];
  test.each(cases)('%s: %o, run directly and under the supervisor', async (option, env) => {
    const direct = await runScript(model, { mode: 'http', env: { PORT: '0', HOST: '127.0.0.1', ...env } });
    const oneShot = await runScript(model, { mode: 'command_line', args: ['--note', 'x'], env });
    const supervised = await runScript(supervisorBin, { mode: 'http', args: [model], env: { PORT: '0', HOST: '127.0.0.1', ...env } });
    for (const outcome of [direct, oneShot, supervised]) {
      expect(outcome.code, outcome.stderr).toBe(3);
      expect(outcome.stderr).toContain(option);
      expect(outcome.stderr).not.toContain('listening on');
      expect(outcome.stdout.toString()).toBe('');
    }
  });
});
