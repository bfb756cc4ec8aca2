import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Agent, request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer, stderrLine, type RunningServer } from '../helpers/http-server.js';
import { fixture, runScript, stdoutJson } from '../helpers/run-process.js';
import { expectNothingLost, loadWithThrows } from '../helpers/load-with-throws.js';
import { childPids, processState, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('http-model.mjs');
const servers: RunningServer[] = [];
async function supervise(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer(supervisorBin, env, [model]);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});
const signals = modelSignals();
afterAll(() => signals.remove());

const predict = (url: string, inputs: Record<string, unknown>, dispatcher?: Agent) =>
  request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }), dispatcher });

describe('the supervisor (ai-integration SHIM)', () => {
  test('under load, throws restart the model in place: no connection errors, no wrong or missing answers', async () => {
    const server = await supervise({ START_DELAY_MS: '300', MAX_QUEUE: '200' });
    const total = 90;
    expectNothingLost(await loadWithThrows(server.url, total, 6, 30), total, 'the inference function threw: CUDA error: device-side assert triggered');
    const metrics = await (await request(`${server.url}/metrics`)).body.text();
    expect(metrics).toMatch(/^model_restarts_total\{cause="threw"\} 3$/m);
  });

  test('a worker killed with SIGKILL mid-inference: that request gets a 500 saying how; the queue is then served', async () => {
    const server = await supervise(signals.env);
    const info = (await (await request(`${server.url}/info`)).body.json()) as { model: { name: string } };
    expect(info.model.name).toBe('http-model'); // the shim's name, not the supervisor's
    const [worker] = childPids(server.pid);
    expect(worker).toBeGreaterThan(0);
    const inFlight = predict(server.url, { action: 'hang', note: 'killed' });
    expect(await signals.started('killed')).toBe(true);
    const queued = predict(server.url, { note: 'queued behind it' });
    process.kill(worker!, 'SIGKILL');
    const killed = await inFlight;
    expect(killed.statusCode).toBe(500);
    expect(((await killed.body.json()) as { error: unknown }).error).toEqual({
      code: 'AI_ERR_WORKER_DIED',
      message: 'the model worker died (killed by SIGKILL) during this inference; it is being restarted',
    });
    const served = await queued;
    expect(served.statusCode).toBe(200);
    expect(((await served.body.json()) as { output: { received: { note: string } } }).output.received.note).toBe('queued behind it');
    expect(childPids(server.pid)).not.toContain(worker);
    expect(server.stderr()).toContain('the model worker died (killed by SIGKILL); restarting it');
  });

  test('a process the model abandons is reparented to the supervisor (a child subreaper) and reaped when it exits', async () => {
    const server = await supervise();
    const response = await predict(server.url, { action: 'orphan', delay_ms: 1500 });
    expect(response.statusCode).toBe(200);
    const { orphan } = ((await response.body.json()) as { output: { orphan: number } }).output;
    expect(processState(orphan)).toEqual({ parent: server.pid, state: expect.stringMatching(/^[RS]$/) });
    // The line is logged once it is reaped (it was looked for as soon as /proc no longer had the
    // process, before the line had come through the pipe: that failed under load). A zombie
    // nobody waits for stays in /proc forever; a reaped one disappears.
    await stderrLine(server, `reaped orphaned process ${orphan}`);
    expect(processState(orphan)).toBeUndefined();
  });

  test('a worker that fails to start is retried with back-off, its stack printed once and a short line per retry, then given up with a clear error', async () => {
    const outcome = await runScript(supervisorBin, { args: [model], mode: 'http', env: { FAIL_START: '1', WORKER_MAX_START_FAILURES: '3', PORT: '0' } });
    expect(outcome.code).toBe(70);
    expect(outcome.stderr.match(/Error: could not load the weights: model\.onnx is missing/g)).toHaveLength(1);
    expect(outcome.stderr.match(/\n\s+at /g)?.length).toBeGreaterThan(0);
    const lines = outcome.stderr.trimEnd().split('\n');
    expect(lines.slice(-3)).toEqual([
      'error: the model worker failed to start (exit code 1); retrying in 100 ms (attempt 2 of 3)',
      'error: the model worker failed to start again, with the same output as above (exit code 1); retrying in 200 ms (attempt 3 of 3)',
      'error: the model worker failed to start 3 times in a row (last: exit code 1); giving up (WORKER_MAX_START_FAILURES=3). Its own error is in the log above.',
    ]);
  });

  test('a worker that fails to start twice, then loads, serves', async () => {
    const failures = join(mkdtempSync(join(tmpdir(), 'supervisor-')), 'failures');
    writeFileSync(failures, '2');
    const server = await supervise({ START_FAILURES_FILE: failures });
    expect(server.stderr()).toContain('could not load the weights (2 failures left)');
    expect(server.stderr()).toContain('could not load the weights (1 failures left)');
    const response = await predict(server.url, { note: 'finally' });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
  });

  test('one-shot modes: a throw exits with the "threw" code, once, with no restart', async () => {
    const outcome = await runScript(supervisorBin, { args: [model], mode: 'test_inputs_dict_json', stdin: '{"action": "throw"}' });
    expect(outcome.code).toBe(70);
    expect(outcome.stderr.match(/CUDA error: device-side assert triggered/g)!.length).toBeGreaterThanOrEqual(1);
    expect(outcome.stderr).not.toContain('the model worker died');
    expect(outcome.stderr).not.toContain('Restarting the model worker');
    expect(outcome.stderr).not.toContain('run the shim under the supervisor');
  });

  test("stdin and argv reach the mode unchanged; the model's stdout never mixes with the result", async () => {
    const json = await runScript(supervisorBin, { args: [model], mode: 'test_inputs_dict_json', stdin: '{"note": "piped", "strength": 0.25}' });
    expect(json.code).toBe(0);
    expect(stdoutJson(json)).toEqual({ received: { image: null, strength: 0.25, flag: false, note: 'piped' } });
    const argv = await runScript(supervisorBin, { args: [model, '--note', 'from argv', '--action', 'text'], mode: 'command_line' });
    expect(argv.code).toBe(0);
    expect(argv.stdout.toString()).toBe('hello from argv');
    const selfTest = await runScript(supervisorBin, { args: [model], mode: 'test_model_integration', env: { SELF_TEST_RUNS: '2' } });
    expect(selfTest.code).toBe(0);
    expect(selfTest.stderr).toContain('Self-test passed: 2/2');
  });

  test('AI_INTEGRATION_SHIM: arguments that do not start with a script (docker run IMAGE --note ...) reach that shim; a missing shim is exit 3 naming it', async () => {
    const argv = await runScript(supervisorBin, {
      args: ['--note', 'from argv', '--action', 'text'],
      mode: 'command_line',
      env: { AI_INTEGRATION_SHIM: model },
    });
    expect(argv.stderr).not.toContain('error');
    expect(argv.code).toBe(0);
    expect(argv.stdout.toString()).toBe('hello from argv');
    const missing = await runScript(supervisorBin, { args: ['--note', 'x'], mode: 'command_line', env: { AI_INTEGRATION_SHIM: 'no-such-shim.js' } });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('the shim "no-such-shim.js" does not exist');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  test('the pull-style API works in the worker too', async () => {
    const outcome = await runScript(supervisorBin, {
      args: [fixture('pull-model.mjs')],
      mode: 'test_inputs_dict_json',
      stdin: '{"sentence": "ab", "times": 2}',
    });
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome)).toEqual({ echoed: 'abab', served: 1 });
  });

  test('without the supervisor, the log says an in-place restart needs it', async () => {
    const outcome = await runScript(model, { mode: 'test_inputs_dict_json', stdin: '{"action": "throw"}' });
    expect(outcome.code).toBe(70);
    expect(outcome.stderr).toContain('run the shim under the supervisor: ai-integration shim.js');
  });

  test('usage: no shim is a usage error', async () => {
    const outcome = await runScript(supervisorBin, {});
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('usage: ai-integration SHIM [ARGS...]');
  });
});
