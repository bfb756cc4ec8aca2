// MODE=vertex where a process of its own is needed: exit codes, a throw, the supervisor's restart
// in place, AIP_STORAGE_URI in the worker. The protocol's shapes are tested in the test's process:
// test/unit/vertex-protocol.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startFakeStorage } from '../helpers/fake-cloud-storage.js';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { expectNothingLost, loadWithThrows, type LoadProtocol } from '../helpers/load-with-throws.js';
import { modelLoadHold } from '../helpers/model-load-hold.js';
import { fixture, runScript } from '../helpers/run-process.js';
import { childPids, eventually, supervisorBin } from '../helpers/supervisor.js';
import { expectError, get, postJson, vertexHealth, vertexPredict } from '../helpers/vertex-client.js';

const httpModel = fixture('http-model.mjs');
const storageModel = fixture('vertex-storage-model.mjs');

/** Starts a shim (or the supervisor with a shim) with MODE=vertex on loopback (PORT=0 unless the test says). */
const serveVertex = (script: string, env: Record<string, string> = {}, args: string[] = []) => startServer(script, { MODE: 'vertex', ...env }, args);

describe('MODE=vertex: the port and routes Vertex AI sets', () => {
  test('a port or route Vertex could never reach is exit code 3 with a message naming the variable, run directly and under the supervisor', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ AIP_HTTP_PORT: '80a' }, 'error: AIP_HTTP_PORT="80a" is not a port number from 1 to 65535'],
      [{ AIP_PREDICT_ROUTE: 'predict' }, 'error: AIP_PREDICT_ROUTE="predict" must be a path starting with /, such as /predict'],
      [{ AIP_HEALTH_ROUTE: '/same', AIP_PREDICT_ROUTE: '/same' }, 'error: AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE are both "/same"'],
      [
        { AIP_HEALTH_ROUTE: '/metrics' },
        'error: AIP_HEALTH_ROUTE="/metrics" collides with /metrics, which every HTTP mode serves (/metrics, /openapi.json, /docs); choose another path',
      ],
    ];
    for (const [env, message] of cases) {
      const outcome = await runScript(httpModel, { mode: 'vertex', env });
      expect(outcome.code, outcome.stderr).toBe(3);
      expect(outcome.stderr).toContain(message);
      expect(outcome.stderr).not.toContain('listening');
    }
    const supervised = await runScript(supervisorBin, { mode: 'vertex', args: [httpModel], env: { AIP_PREDICT_ROUTE: '/openapi.json' } });
    expect(supervised.code, supervised.stderr).toBe(3);
    expect(supervised.stderr).toContain('error: AIP_PREDICT_ROUTE="/openapi.json" collides with /openapi.json');
  });
});

describe('MODE=vertex: a throw, the supervisor, and AIP_STORAGE_URI', () => {
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
  const serve = async (script: string, env: Record<string, string> = {}, args: string[] = []) => {
    const server = await serveVertex(script, env, args);
    servers.push(server);
    return server;
  };

  test('run directly, a throw answers 500 naming the instance, then the process exits 70 to be restarted', async () => {
    const server = await serve(httpModel);
    expectError(
      await postJson(`${server.url}/predict`, { instances: [{ action: 'throw' }] }),
      500,
      'instances[0]: the inference function threw: CUDA error: device-side assert triggered',
    );
    expect(await server.exited).toEqual({ code: 70, signal: null });
  });

  test('under the supervisor, the health route is 503 while the model restarts after a throw, and a request sent meanwhile waits and is served', async () => {
    const load = loadHold();
    const server = await serve(supervisorBin, { ...load.env, AIP_HEALTH_ROUTE: vertexHealth, AIP_PREDICT_ROUTE: vertexPredict }, [httpModel]);
    load.hold(); // the restart's load waits until the test has seen it
    const predict = `${server.url}${vertexPredict}`;
    expectError(
      await postJson(predict, { instances: [{ action: 'throw' }] }),
      500,
      'instances[0]: the inference function threw: CUDA error: device-side assert triggered',
    );
    expect(await eventually(async () => (await get(`${server.url}${vertexHealth}`)).status === 503, 10_000)).toBe(true);
    const waiting = postJson(predict, { instances: [{ note: 'meanwhile' }] });
    const health = await get(`${server.url}${vertexHealth}`);
    expect(health).toMatchObject({ status: 503, body: { status: 'restarting', reason: expect.any(String) } });
    load.release();
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.body.predictions[0].received.note).toBe('meanwhile');
    expect(await eventually(async () => (await get(`${server.url}${vertexHealth}`)).status === 200, 20_000)).toBe(true);
  });

  test('under the supervisor with a throwing load: no connection errors, nothing lost; a throw inside a request names its instance', async () => {
    const server = await serve(supervisorBin, { START_DELAY_MS: '300', MAX_QUEUE: '200', AIP_HEALTH_ROUTE: vertexHealth, AIP_PREDICT_ROUTE: vertexPredict }, [
      httpModel,
    ]);
    const total = 90;
    expectNothingLost(
      await loadWithThrows(server.url, total, 6, 30, vertexLoad),
      total,
      'instances[0]: the inference function threw: CUDA error: device-side assert triggered',
    );

    const predict = `${server.url}${vertexPredict}`;
    const batch = await postJson(predict, { instances: [{ note: 'before' }, { action: 'throw' }, { note: 'after' }] });
    expectError(batch, 500, 'instances[1]: the inference function threw: CUDA error: device-side assert triggered');
    const after = await postJson(predict, { instances: [{ note: 'still here' }] });
    expect(after.body.predictions[0].received.note).toBe('still here');
    const metrics = (await get(`${server.url}/metrics`)).body as string;
    expect(metrics).toMatch(/^model_restarts_total\{cause="threw"\} 4$/m);
  });

  test('AIP_STORAGE_URI reaches the shim: the model worker under the supervisor reads it from its environment', async () => {
    const storageUri = 'gs://vertex-managed-bucket/model-7/artifacts';
    // The supervisor fetches the folder first (test/e2e/storage-weights.test.ts): from a fake Cloud Storage on loopback, never Google's.
    const storage = await startFakeStorage({ 'vertex-managed-bucket': { 'model-7/artifacts/model.bin': Buffer.from('weights') } }, { pageSize: 10 });
    const weightsDir = mkdtempSync(join(tmpdir(), 'vertex-weights-'));
    const server = await serve(
      supervisorBin,
      { AIP_STORAGE_URI: storageUri, STORAGE_EMULATOR_HOST: storage.endpoint, GCE_METADATA_HOST: '', WEIGHTS_DIR: weightsDir },
      [storageModel],
    ).finally(() => storage.close());
    rmSync(weightsDir, { recursive: true, force: true });
    const answer = await postJson(`${server.url}/predict`, { instances: [{}] });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [reported] = answer.body.predictions;
    expect(reported.storage_uri).toBe(storageUri);
    // It was the worker (the supervisor's child) that read it, not the supervisor.
    expect(reported.pid).not.toBe(server.pid);
    expect(childPids(server.pid)).toContain(reported.pid);
  });
});

// test/helpers/load-with-throws.ts's load in Vertex's shape: one instance per request, readiness
// from the health route's status code.
const vertexLoad: LoadProtocol = {
  healthPath: vertexHealth,
  request: (inputs) => ({ path: vertexPredict, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [inputs] }) }),
  read: (_status, body) => {
    const answer = body as { predictions?: { received: { note: string } }[]; error?: string };
    return { note: answer.predictions?.[0]?.received.note, error: answer.error };
  },
};
