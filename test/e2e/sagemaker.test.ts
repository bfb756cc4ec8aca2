// MODE=sagemaker where a process of its own is needed: exit codes, the container argument serve,
// the supervisor's restart in place. The protocol's shapes are tested in the test's process:
// test/unit/sagemaker-protocol.test.ts.
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { makeJpeg } from '../helpers/images.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { expectNothingLost, loadWithThrows, type LoadProtocol } from '../helpers/load-with-throws.js';
import { modelLoadHold } from '../helpers/model-load-hold.js';
import { fixture, runScript } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';
import { freePort } from '../helpers/free-port.js';
import { expectError, get, invoke, invokeJson } from '../helpers/sagemaker-client.js';

const httpModel = fixture('http-model.mjs');

/** Starts a shim (or the supervisor with a shim) with MODE=sagemaker on a free loopback port. */
const serveSageMaker = (script: string, env: Record<string, string> = {}, args: string[] = []) => startServer(script, { MODE: 'sagemaker', ...env }, args);

let photo: Buffer;
beforeAll(async () => {
  photo = await makeJpeg(64, 48);
});

describe('MODE=sagemaker: a malformed setting, and a throw run directly', () => {
  const servers: RunningServer[] = [];
  const serve = async (script: string, env: Record<string, string> = {}, args: string[] = []) => {
    const server = await serveSageMaker(script, env, args);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  test('a malformed SageMaker variable stops the container with exit 3, naming it', async () => {
    const outcome = await runScript(httpModel, { mode: 'sagemaker', env: { SAGEMAKER_BIND_TO_PORT: 'eighty', PORT: '0' } });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain('SAGEMAKER_BIND_TO_PORT="eighty" is not a whole number from 1 to 65535');
  });

  test('run directly, a throw answers 500 with its message, then the process exits 70 to be restarted', async () => {
    const server = await serve(httpModel);
    expectError(
      await invokeJson(server.url, { action: 'throw' }),
      500,
      'the inference function threw: CUDA error: device-side assert triggered',
      'AI_ERR_INFERENCE_THREW',
    );
    expect(await server.exited).toEqual({ code: 70, signal: null });
  });
});

describe('the argument serve (how SageMaker starts a container), no MODE set', () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  // MODE='' is no MODE (startServer would set MODE=http); SageMaker's port is simulated with
  // SAGEMAKER_BIND_TO_PORT, as 8080 may be taken on the test machine.
  const startServe = async (script: string, args: string[], env: Record<string, string> = {}) => {
    const port = await freePort();
    const server = await startServer(script, { MODE: '', PORT: '', SAGEMAKER_BIND_TO_PORT: String(port), ...env }, args);
    servers.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect(server.stderr()).toMatch(/\(SageMaker \/ping, \/invocations/);
    expect((await get(`${server.url}/ping`)).status).toBe(200);
    const answer = await invoke(server.url, photo, 'image/jpeg');
    expect(answer.status).toBe(200);
    expect(answer.body.received.image).toBe('64x48 jpeg');
    return server;
  };

  test('node dist/cli.js shim serve: the supervisor runs the shim and selects sagemaker', async () => {
    await startServe(supervisorBin, [httpModel, 'serve']);
  });

  test('AI_INTEGRATION_SHIM=shim node dist/cli.js serve: docker run IMAGE serve replacing CMD', async () => {
    await startServe(supervisorBin, ['serve'], { AI_INTEGRATION_SHIM: httpModel });
  });

  test('node shim serve, without the supervisor', async () => {
    await startServe(httpModel, ['serve']);
  });
});

describe('MODE=sagemaker under the supervisor', () => {
  const servers: RunningServer[] = [];
  const holds: ReturnType<typeof modelLoadHold>[] = [];
  const loadHold = () => {
    const hold = modelLoadHold();
    holds.push(hold);
    return hold;
  };
  afterEach(async () => {
    for (const hold of holds.splice(0)) hold.remove();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });
  const serve = async (env: Record<string, string>) => {
    const server = await serveSageMaker(supervisorBin, env, [httpModel]);
    servers.push(server);
    return server;
  };

  test('/ping is 503 while the model restarts after a throw; a request sent meanwhile waits and is served', async () => {
    const load = loadHold();
    const server = await serve(load.env);
    load.hold(); // the restart's load waits until the test has seen it
    expectError(
      await invokeJson(server.url, { action: 'throw' }),
      500,
      'the inference function threw: CUDA error: device-side assert triggered',
      'AI_ERR_INFERENCE_THREW',
    );
    expect(await eventually(async () => (await get(`${server.url}/ping`)).status === 503, 10_000)).toBe(true);
    const waiting = invokeJson(server.url, { note: 'meanwhile' });
    const ping = await get(`${server.url}/ping`);
    expect(ping.status).toBe(503);
    expect(ping.body).toMatchObject({ status: 'restarting', reason: expect.any(String) });
    load.release();
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.body.received.note).toBe('meanwhile');
    expect(await eventually(async () => (await get(`${server.url}/ping`)).status === 200, 20_000)).toBe(true);
  });

  test('a throwing load on /invocations: no connection errors, nothing lost; a throw in a JSON Lines request names its line', async () => {
    const server = await serve({ START_DELAY_MS: '300', MAX_QUEUE: '200' });
    const total = 90;
    expectNothingLost(
      await loadWithThrows(server.url, total, 6, 30, invocationsLoad),
      total,
      'the inference function threw: CUDA error: device-side assert triggered',
    );

    const lines = await invoke(server.url, '{"note": "before"}\n{"action": "throw"}\n{"note": "after"}', 'application/jsonlines');
    expectError(lines, 500, 'line 2: the inference function threw: CUDA error: device-side assert triggered', 'AI_ERR_INFERENCE_THREW');
    const after = await invoke(server.url, '{"note": "still"}\n{"note": "here"}', 'application/jsonlines');
    expect(after.status).toBe(200);
    expect(
      after.bytes
        .toString()
        .split('\n')
        .map((line) => JSON.parse(line).received.note),
    ).toEqual(['still', 'here']);
    const metrics = (await get(`${server.url}/metrics`)).bytes.toString();
    expect(metrics).toMatch(/^model_restarts_total\{cause="threw"\} 4$/m);
  });
});

// test/helpers/load-with-throws.ts's load, spoken to SageMaker: each request an inputs object to
// /invocations (the answer is the model's JSON itself), readiness from /ping's status code.
const invocationsLoad: LoadProtocol = {
  healthPath: '/ping',
  request: (inputs) => ({ path: '/invocations', headers: { 'content-type': 'application/json' }, body: JSON.stringify(inputs) }),
  read: (status, body) => {
    const answer = body as { received?: { note: string }; error?: string };
    return { note: status === 200 ? answer.received?.note : undefined, error: answer.error };
  },
};
