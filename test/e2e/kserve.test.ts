// MODE=kserve where a process of its own is needed: a throw's exit code, the supervisor's restart
// in place. The protocol's shapes are tested in the test's process: test/unit/kserve-protocol.test.ts.
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { expectValid, type OpenInferenceSchema } from '../helpers/open-inference.js';
import { expectNothingLost, loadWithThrows, type LoadProtocol } from '../helpers/load-with-throws.js';
import { modelLoadHold } from '../helpers/model-load-hold.js';
import { fixture } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const httpModel = fixture('http-model.mjs');

/** Starts a shim (or the supervisor with a shim) with MODE=kserve on a free loopback port. */
const serveKserve = (script: string, env: Record<string, string> = {}, args: string[] = []) => startServer(script, { MODE: 'kserve', ...env }, args);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  bytes: Buffer;
}

async function call(url: string, method: 'GET' | 'POST' | 'PUT' | 'HEAD', body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await request(url, { method, body, headers });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  const type = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    headers: response.headers,
    body: type.startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : undefined,
    bytes,
  };
}

const get = (url: string) => call(url, 'GET');
const postJson = (url: string, body: unknown) => call(url, 'POST', JSON.stringify(body), { 'content-type': 'application/json' });

function expectError(answer: Answer, status: number, message: string | RegExp, schemaName: OpenInferenceSchema = 'inference_error_response'): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(Object.keys(answer.body)).toEqual(['error']);
  if (typeof message === 'string') expect(answer.body.error).toBe(message);
  else expect(answer.body.error).toMatch(message);
  expectValid(schemaName, answer.body);
}

describe('MODE=kserve: a throw, run directly and under the supervisor', () => {
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
    const server = await serveKserve(script, env, args);
    servers.push(server);
    return server;
  };

  test('run directly, a throw answers 500 {"error": ...}, then the process exits 70 to be restarted', async () => {
    const server = await serve(httpModel);
    expectError(
      await postJson(`${server.url}/v2/models/http-model/infer`, { inputs: [{ name: 'action', shape: [1], datatype: 'BYTES', data: ['throw'] }] }),
      500,
      'the inference function threw: CUDA error: device-side assert triggered',
    );
    expect(await server.exited).toEqual({ code: 70, signal: null });
  });

  test('under the supervisor, readiness is 503 while the model restarts after a throw, and a request sent meanwhile waits and is served', async () => {
    const load = loadHold();
    const server = await serve(supervisorBin, load.env, [httpModel]);
    load.hold(); // the restart's load waits until the test has seen it
    const infer = `${server.url}/v2/models/http-model/infer`;
    expectError(
      await postJson(infer, { inputs: [{ name: 'action', shape: [1], datatype: 'BYTES', data: ['throw'] }] }),
      500,
      'the inference function threw: CUDA error: device-side assert triggered',
    );
    expect(await eventually(async () => (await get(`${server.url}/v2/health/ready`)).status === 503, 10_000)).toBe(true);
    const waiting = postJson(infer, { inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', data: ['meanwhile'] }] });
    const ready = await get(`${server.url}/v2/health/ready`);
    const modelReady = await get(`${server.url}/v2/models/http-model/ready`);
    const v1Ready = await get(`${server.url}/v1/models/http-model`);
    load.release();
    const answer = await waiting;
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ready: false, reason: expect.any(String) });
    expect(modelReady).toMatchObject({ status: 503, body: { name: 'http-model', ready: false } });
    expect(v1Ready).toMatchObject({ status: 503, body: { name: 'http-model', ready: false } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.outputs[0].data[0]).received.note).toBe('meanwhile');
    expect(await eventually(async () => (await get(`${server.url}/v2/health/ready`)).status === 200, 20_000)).toBe(true);
    expect((await get(`${server.url}/v2/health/live`)).status).toBe(200);
  });

  test('under the supervisor with a throwing load: no connection errors, nothing lost; a throw inside a batch names its item and spares the others', async () => {
    const server = await serve(supervisorBin, { START_DELAY_MS: '300', MAX_QUEUE: '200' }, [httpModel]);
    const total = 90;
    expectNothingLost(
      await loadWithThrows(server.url, total, 6, 30, inferLoad),
      total,
      'the inference function threw: CUDA error: device-side assert triggered',
    );

    const batch = await postJson(`${server.url}/v2/models/http-model/infer`, {
      inputs: [
        { name: 'action', shape: [3], datatype: 'BYTES', data: ['json', 'throw', 'json'] },
        { name: 'note', shape: [3], datatype: 'BYTES', data: ['before', 'thrower', 'after'] },
      ],
    });
    expectError(batch, 500, 'batch item 1: the inference function threw: CUDA error: device-side assert triggered');
    const after = await postJson(`${server.url}/v2/models/http-model/infer`, {
      inputs: [{ name: 'note', shape: [1], datatype: 'BYTES', data: ['still here'] }],
    });
    expect(after.status).toBe(200);
    const metrics = (await get(`${server.url}/metrics`)).bytes.toString();
    expect(metrics).toMatch(/^model_restarts_total\{cause="threw"\} 4$/m);
  });
});

// test/helpers/load-with-throws.ts's load, spoken in the Open Inference Protocol: each request a
// V2 infer with one tensor per input, readiness from /v2/health/ready's status code.
const inferLoad: LoadProtocol = {
  healthPath: '/v2/health/ready',
  request: (inputs) => {
    const tensors = Object.entries(inputs).map(([name, value]) =>
      typeof value === 'number' ? { name, shape: [1], datatype: 'INT64', data: [value] } : { name, shape: [1], datatype: 'BYTES', data: [String(value)] },
    );
    return { path: '/v2/models/http-model/infer', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: tensors }) };
  },
  read: (status, body) => {
    const answer = body as { outputs?: { data: string[] }[]; error?: string };
    const note = status === 200 ? (JSON.parse(answer.outputs![0]!.data[0]!) as { received: { note: string } }).received.note : undefined;
    return { note, error: answer.error };
  },
};
