// SageMaker's health check: `GET /ping` must answer within 2 s, and the container must keep
// accepting connections, whatever the model is doing. Under the supervisor the model runs in its
// own process, so an inference that holds the CPU in a synchronous loop (no await: that
// process's event loop is blocked) must not hold the probes back. The spin fixture creates a
// file as its loop starts; each probe is then sent on a new connection, and must be answered
// while the 3 s invocation is still unanswered: an ordering, not a measured speed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startServer, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';
import { childPids, eventually, supervisorBin } from '../helpers/supervisor.js';
import { freePort } from '../helpers/free-port.js';

const spinModel = fixture('spin-model.mjs');
const spinMs = 3000;

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'sagemaker-ping-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
}

/** A GET on a connection of its own (a new TCP connection, closed after), as a health checker sends it. */
async function getOnNewConnection(url: string, path: string): Promise<Answer> {
  const client = new Client(url, { pipelining: 0 });
  try {
    const response = await client.request({ method: 'GET', path });
    return { status: response.statusCode, headers: response.headers, bytes: Buffer.from(await response.body.arrayBuffer()) };
  } finally {
    await client.close();
  }
}

/**
 * Starts a spinning invocation and waits until the model's loop has started. `answered()` says
 * whether its HTTP answer has arrived yet; `answer` resolves with it.
 */
async function startSpinning(url: string, path: string, body: (startedFile: string) => unknown) {
  const startedFile = join(scratch, `started-${Math.random().toString(36).slice(2)}`);
  let answeredYet = false;
  const answer = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(startedFile)) }).then(
    async (response) => {
      const bytes = Buffer.from(await response.body.arrayBuffer());
      answeredYet = true;
      return { status: response.statusCode, bytes };
    },
  );
  // Known even if the invocation fails before the loop starts: that failure would then show.
  answer.catch(() => {});
  const started = await eventually(() => existsSync(startedFile) || answeredYet, 20_000);
  expect(started).toBe(true);
  expect(answeredYet, 'the invocation was answered before its loop was seen running').toBe(false);
  return { answer, answered: () => answeredYet, modelPid: Number(readFileSync(startedFile, 'utf8')) };
}

describe('SageMaker as it starts the container: AI_INTEGRATION_SHIM=shim, then `ai-integration serve` (the supervisor)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const port = await freePort();
    // MODE='' and PORT='' are unset for the shim's purposes: the single argument serve selects the
    // mode. SageMaker's own port (8080) may be taken here, so SAGEMAKER_BIND_TO_PORT gives one.
    server = await startServer(supervisorBin, { MODE: '', PORT: '', AI_INTEGRATION_SHIM: spinModel, SAGEMAKER_BIND_TO_PORT: String(port) }, ['serve']);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await stopOrKill(server);
  });

  test('the argument serve selected MODE=sagemaker and /ping is 200 with an empty body', async () => {
    expect(server.stderr()).toMatch(/\(SageMaker \/ping, \/invocations/);
    const ping = await getOnNewConnection(server.url, '/ping');
    expect(ping.status).toBe(200);
    expect(ping.bytes.length).toBe(0);
  });

  test(`while the model spins synchronously for ${spinMs} ms in one invocation, /ping (each on a new connection) answers 200 before that invocation is answered`, async () => {
    const spinning = await startSpinning(server.url, '/invocations', (startedFile) => ({ spin_ms: spinMs, started_file: startedFile, note: 'spun' }));
    // The loop runs in the model's worker, a child of the supervisor, not in the process that answers /ping.
    expect(childPids(server.pid)).toContain(spinning.modelPid);
    expect(spinning.modelPid).not.toBe(server.pid);

    for (let probe = 1; probe <= 3; probe++) {
      const ping = await getOnNewConnection(server.url, '/ping');
      expect(ping.status, `probe ${probe}: ${ping.bytes.toString()}`).toBe(200);
      expect(ping.bytes.length).toBe(0);
      expect(ping.headers['content-length']).toBe('0');
      expect(spinning.answered(), `probe ${probe} was answered only after the ${spinMs} ms invocation`).toBe(false);
    }
    const execution = await getOnNewConnection(server.url, '/execution-parameters');
    expect(execution.status).toBe(200);
    expect(spinning.answered(), `/execution-parameters was answered only after the ${spinMs} ms invocation`).toBe(false);

    const answer = await spinning.answer;
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(JSON.parse(answer.bytes.toString())).toEqual({ spun_ms: spinMs, note: 'spun' });
    // The same worker, never replaced for being busy.
    expect(childPids(server.pid)).toContain(spinning.modelPid);
    expect((await getOnNewConnection(server.url, '/ping')).status).toBe(200);
  });
});

describe('the native mode under the supervisor (node dist/cli.js SHIM, MODE=http)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(supervisorBin, {}, [spinModel]);
  });
  afterAll(async () => {
    await stopOrKill(server);
  });
  afterEach(() => {
    expect(server.child.exitCode).toBeNull();
  });

  test(`while the model spins synchronously for ${spinMs} ms, /health/live and /health answer 200 before that prediction is answered`, async () => {
    const spinning = await startSpinning(server.url, '/predict', (startedFile) => ({ inputs: { spin_ms: spinMs, started_file: startedFile, note: 'native' } }));
    expect(childPids(server.pid)).toContain(spinning.modelPid);

    const live = await getOnNewConnection(server.url, '/health/live');
    expect(live.status, live.bytes.toString()).toBe(200);
    expect(JSON.parse(live.bytes.toString())).toEqual({ status: 'alive' });
    expect(spinning.answered(), `/health/live was answered only after the ${spinMs} ms prediction`).toBe(false);
    const ready = await getOnNewConnection(server.url, '/health');
    expect(ready.status, ready.bytes.toString()).toBe(200);
    expect(JSON.parse(ready.bytes.toString())).toMatchObject({ status: 'ready' });
    expect(spinning.answered(), `/health was answered only after the ${spinMs} ms prediction`).toBe(false);

    const answer = await spinning.answer;
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(JSON.parse(answer.bytes.toString())).toMatchObject({ status: 'succeeded', output: { spun_ms: spinMs, note: 'native' } });
  });
});
