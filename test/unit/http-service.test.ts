// The HTTP core started inside the test's own process (startHttpService's handle): no child
// process, no port but loopback's, the whole stack from the socket to the engine and back.
import { Writable } from 'node:stream';
import { request } from 'undici';
import { describe, expect, test } from 'vitest';
import { engineAround } from '../../src/engine/engine-base.js';
import { InferenceThrewError } from '../../src/errors.js';
import { startHttpService } from '../../src/http/lifecycle.js';
import { sendJson } from '../../src/http/respond.js';
import type { HttpCore, HttpProtocol } from '../../src/http/protocol.js';
import { createLogger } from '../../src/logger.js';
import { modelFaults } from '../../src/model-faults.js';
import { readSettings } from '../../src/settings.js';
import type { ModeContext } from '../../src/types.js';

function contextWith(infer: (inputs: Record<string, unknown>) => Promise<{ 'content-type': string; data: string; success: boolean }>) {
  let logged = '';
  const log = createLogger(
    new Writable({
      write: (chunk, _encoding, done) => {
        logged += String(chunk);
        done();
      },
    }),
  );
  const engine = engineAround(infer);
  const env = { ACCESS_LOG: 'false' };
  const context: ModeContext = {
    modelName: 'unit',
    modelVersion: '1',
    modelDescription: '',
    engine,
    faults: modelFaults(engine, log),
    schema: { text: { type: 'text' } },
    settings: readSettings({ http: { port: 0, host: '127.0.0.1' } }, env),
    argv: [],
    env,
    stdin: process.stdin,
    stdout: process.stdout,
    log,
  };
  return { context, logged: () => logged };
}

const upper: HttpProtocol = {
  name: 'upper',
  defaultPort: 0,
  summary: 'POST /upper',
  routes: (core) => [
    {
      method: 'POST',
      path: '/upper',
      handler: async (route) =>
        sendJson(route.response, 200, {
          text: String((await core.predict((await core.readJson(route)) as Record<string, unknown>, 'data', route)).result.data),
        }),
    },
  ],
  openApi: () => ({ openapi: '3.1.0', info: { title: 'upper', version: '1' }, paths: {} }),
};

const post = (port: number, body: unknown) =>
  request(`http://127.0.0.1:${port}/upper`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('startHttpService: the HTTP core in the test process', () => {
  test('serves, answers errors from the table, and close() drains and ends with 0', async () => {
    const { context } = contextWith(async (inputs) => ({ 'content-type': 'text/plain', data: String(inputs.text).toUpperCase(), success: true }));
    const service = await startHttpService(context, () => upper, { handleSignals: false });
    expect(service.address.port).toBeGreaterThan(0);
    const answer = await post(service.address.port, { text: 'abc' });
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.json()).toEqual({ text: 'ABC' });
    const invalid = await post(service.address.port, {});
    expect(invalid.statusCode).toBe(422);
    expect(await invalid.body.json()).toMatchObject({ error: { code: 'AI_ERR_INVALID_INPUT', field: 'text' } });
    expect(await service.close()).toBe(0);
    await expect(post(service.address.port, { text: 'late' })).rejects.toThrow();
  });

  test('run directly, a throw is reported to the fault policy, which ends the service with the threw code', async () => {
    const { context, logged } = contextWith(async () => {
      throw new InferenceThrewError(new Error('broken model'));
    });
    const service = await startHttpService(context, () => upper, { handleSignals: false });
    const answer = await post(service.address.port, { text: 'x' });
    expect(answer.statusCode).toBe(500);
    await answer.body.dump();
    expect(await service.finished).toBe(70);
    expect(logged()).toContain('the inference function threw');
  });
  test("not ready until the mode's background work has started (KServe's gRPC server, the queue's consumer), then ready", async () => {
    const { context } = contextWith(async (inputs) => ({ 'content-type': 'text/plain', data: String(inputs.text), success: true }));
    let whileStarting: ReturnType<HttpCore['readiness']> | undefined;
    let core: HttpCore | undefined;
    const withBackground: HttpProtocol = {
      ...upper,
      background: async (started) => {
        core = started;
        whileStarting = started.readiness();
        return { stop: async () => {} };
      },
    };
    const service = await startHttpService(context, () => withBackground, { handleSignals: false });
    expect(whileStarting).toEqual({ status: 'not_ready', reason: "starting upper's background work" });
    expect(core?.readiness().status).toBe('ready');
    expect(await service.close()).toBe(0);
  });
});
