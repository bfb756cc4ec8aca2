import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { modelSignals } from '../helpers/gates.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, repoRoot } from '../helpers/run-process.js';
import { childPids, eventually, processState, supervisorBin } from '../helpers/supervisor.js';

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

const predict = (url: string, inputs: Record<string, unknown>) =>
  request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });

async function answer(url: string, inputs: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const response = await predict(url, inputs);
  return { status: response.statusCode, body: await response.body.json() };
}

describe('the supervisor replaces a model that hangs', () => {
  for (const action of ['hang', 'spin'] as const) {
    test(`an inference that ${action === 'hang' ? 'never returns' : 'spins in a busy loop'}: 504 for it, the worker replaced, and the requests sent ahead to it served by the next one`, async () => {
      const server = await supervise({ INFERENCE_TIMEOUT_MS: '1000', CONCURRENCY: '1', WORKER_KILL_GRACE_MS: '500', ...signals.env });
      const [worker] = childPids(server.pid);
      expect(worker).toBeGreaterThan(0);
      const stuck = answer(server.url, { action, note: `stuck ${action}` });
      expect(await signals.started(`stuck ${action}`)).toBe(true);
      // These go ahead into the worker's queue, behind the stuck inference, and never start there.
      const behind = [1, 2, 3].map((index) => answer(server.url, { note: `behind ${index}` }));

      const timedOut = await stuck;
      expect(timedOut.status).toBe(504);
      expect(timedOut.body.error.code).toBe('AI_ERR_TIMEOUT');
      expect(timedOut.body.error.message).toBe('inference took longer than 1000 ms (INFERENCE_TIMEOUT_MS); the model worker is being replaced');
      const served = await Promise.all(behind);
      expect(served.map((outcome) => outcome.status)).toEqual([200, 200, 200]);
      expect(served.map((outcome) => outcome.body.output.received.note)).toEqual(['behind 1', 'behind 2', 'behind 3']);

      expect(await eventually(() => processState(worker!) === undefined, 10_000)).toBe(true);
      expect(childPids(server.pid)).not.toContain(worker);
      expect((await request(`${server.url}/health`)).statusCode).toBe(200);
      const metrics = await (await request(`${server.url}/metrics`)).body.text();
      expect(metrics).toMatch(/^model_restarts_total\{cause="timeout"\} 1$/m);
      expect(metrics).toMatch(/^inferences_total\{outcome="timeout"\} 1$/m);
      expect(server.stderr()).toContain(
        'error: the model worker did not finish an inference within 1000 ms (INFERENCE_TIMEOUT_MS); stopping it (SIGTERM, then SIGKILL after 500 ms) and starting a new one\n',
      );
    });
  }

  test('readiness says the model is restarting while a hung worker is replaced', async () => {
    // The replacement loads once the test has seen readiness say so (the first worker loads at once).
    const hangFlag = join(mkdtempSync(join(tmpdir(), 'supervisor-')), 'hang');
    const server = await supervise({ INFERENCE_TIMEOUT_MS: '800', HANG_START_FILE: hangFlag });
    expect(await eventually(async () => (await request(`${server.url}/health`)).statusCode === 200, 20_000)).toBe(true);
    writeFileSync(hangFlag, 'replacements load when the test has looked');
    const stuck = answer(server.url, { action: 'hang' });
    expect(await eventually(async () => (await request(`${server.url}/health`)).statusCode === 503, 10_000)).toBe(true);
    const health = await request(`${server.url}/health`);
    expect(health.statusCode).toBe(503);
    expect(((await health.body.json()) as { status: string; reason: string }).reason).toBe(
      'restarting: the model worker did not finish an inference within 800 ms (INFERENCE_TIMEOUT_MS)',
    );
    expect((await stuck).status).toBe(504);
    rmSync(hangFlag);
    expect(await eventually(async () => (await request(`${server.url}/health`)).statusCode === 200, 15_000)).toBe(true);
  });

  test('a worker that hangs while loading is killed after WORKER_START_TIMEOUT_MS; when restarts give up, every waiting request gets its 503 before the exit', async () => {
    const hangFlag = join(mkdtempSync(join(tmpdir(), 'supervisor-')), 'hang');
    // The first worker must load within the limit: on a busy machine (load 20 on 2 cores) it took
    // 2-3 s, so 1 s failed the start itself.
    const server = await supervise({ HANG_START_FILE: hangFlag, WORKER_START_TIMEOUT_MS: '5000', WORKER_MAX_START_FAILURES: '2', WORKER_KILL_GRACE_MS: '300' });
    writeFileSync(hangFlag, 'from now on, loading never ends');
    const threw = await answer(server.url, { action: 'throw' });
    expect(threw.status).toBe(500);
    const waiting = await Promise.all([1, 2, 3].map((index) => answer(server.url, { note: `waiting ${index}` })));
    for (const outcome of waiting) {
      expect(outcome.status).toBe(503);
      expect(outcome.body.error.code).toBe('AI_ERR_WORKER_START_FAILED');
    }
    expect(await server.exited).toEqual({ code: 70, signal: null });
    expect(server.stderr()).toContain('the model worker did not become ready within 5000 ms (WORKER_START_TIMEOUT_MS); stopping it');
    expect(server.stderr()).toContain('the model worker failed to start (not ready within 5000 ms, WORKER_START_TIMEOUT_MS); retrying in');
    expect(server.stderr()).toContain('giving up (WORKER_MAX_START_FAILURES=2)');
  });
});

describe('the supervisor leaves no worker behind', () => {
  test('SIGTERM while the worker spins: the supervisor drains, kills the worker and exits', async () => {
    const server = await supervise({ INFERENCE_TIMEOUT_MS: '0', SHUTDOWN_TIMEOUT_MS: '500', WORKER_KILL_GRACE_MS: '500', ...signals.env });
    const [worker] = childPids(server.pid);
    const spinning = predict(server.url, { action: 'spin', note: 'spinning at SIGTERM' }).catch((error: Error) => error);
    expect(await signals.started('spinning at SIGTERM')).toBe(true);
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    await spinning;
    expect(await eventually(() => processState(worker!) === undefined, 10_000)).toBe(true);
  });

  test('SIGTERM while the worker is still loading: the worker is stopped, nothing is left running', async () => {
    const hangFlag = join(mkdtempSync(join(tmpdir(), 'supervisor-')), 'hang');
    writeFileSync(hangFlag, 'loading never ends');
    const child = spawn(process.execPath, [supervisorBin, model], {
      cwd: repoRoot,
      env: { ...(process.env as Record<string, string>), MODE: 'http', PORT: '0', HOST: '127.0.0.1', HANG_START_FILE: hangFlag, WORKER_KILL_GRACE_MS: '500' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(await eventually(() => childPids(child.pid!).length === 1, 15_000)).toBe(true);
    const [worker] = childPids(child.pid!);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(await eventually(() => processState(worker!) === undefined, 10_000)).toBe(true);
  });
});

describe('a request the IPC channel cannot carry', () => {
  test('is answered at once and kept on no list: the next restart neither re-sends it nor blames it', async () => {
    const { SupervisedEngine } = await import('../../src/supervisor/supervised-engine.js');
    const lines: string[] = [];
    const log = { info: (line: string) => lines.push(line), warn: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    const engine = new SupervisedEngine(
      model,
      [],
      { maxStartFailures: 3, startTimeoutMs: 20_000, killGraceMs: 500, initialBackoffMs: 100, maxBackoffMs: 1000 },
      log,
    );
    engine.restartAfterThrow = true;
    // The worker takes its environment from this process: the model's signals reach it that way.
    process.env.SIGNAL_DIR = signals.env.SIGNAL_DIR;
    try {
      await engine.start();
      engine.configure({ concurrency: 1, inferenceTimeoutMs: 0 });
      // Deeper than structured clone can recurse: the send itself throws (the HTTP and stdin
      // modes refuse such inputs before they get here; this is the engine's own guard).
      let deep: unknown = 1;
      for (let level = 0; level < 100_000; level++) deep = [deep];
      await expect(engine.infer({ note: 'too deep', deep })).rejects.toMatchObject({
        code: 'AI_ERR_INVALID_INPUT',
        message: expect.stringContaining('the inputs cannot be sent to the model worker'),
      });

      signals.hold('in flight');
      const inFlight = engine.infer({ note: 'in flight' });
      expect(await signals.started('in flight')).toBe(true);
      const [worker] = childPids(process.pid).filter((pid) => engine.isOwnChild(pid));
      process.kill(worker!, 'SIGKILL');
      // The request that was running is the one blamed, not the one that never left.
      await expect(inFlight).rejects.toMatchObject({ code: 'AI_ERR_WORKER_DIED' });
      const result = await engine.infer({ note: 'after the restart' });
      expect(JSON.parse(String(result.data))).toMatchObject({ received: { note: 'after the restart' } });
    } finally {
      delete process.env.SIGNAL_DIR;
      signals.release('in flight');
      await engine.stop();
    }
  });
});
