// A complete HTTP-speaking mode from a folder under test/fixtures/echo-mode, made with the public
// API only (ai-integration, ai-integration/http): registered by its module's URL, it gets what
// every built-in protocol gets from the core, run directly and under the supervisor.
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, runScript } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';

const model = fixture('echo-mode-model.mjs');
const token = 'echo-secret';
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function serve(supervised: boolean, env: Record<string, string> = {}): Promise<RunningServer> {
  const server = supervised
    ? await startServer(supervisorBin, { MODE: 'echo', AUTH_TOKEN: token, ECHO_PREFIX: '> ', ...env }, [model])
    : await startServer(model, { MODE: 'echo', AUTH_TOKEN: token, ECHO_PREFIX: '> ', ...env });
  servers.push(server);
  return server;
}

const echo = (url: string, text: string, authorized = true) =>
  request(`${url}/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorized ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ text }),
  });

describe('a mode of your own, from a folder (MODE=echo)', () => {
  for (const supervised of [false, true]) {
    test(`${supervised ? 'under the supervisor' : 'run directly'}: its routes, probes, auth, metrics, access log, docs and the error table`, async () => {
      const server = await serve(supervised);
      const answer = await echo(server.url, 'hello');
      expect(answer.statusCode).toBe(200);
      expect(answer.headers['x-request-id']).toBeTruthy();
      expect(await answer.body.json()).toEqual({ echo: '> HELLO' });
      // Auth: the protocol's route needs the token; its probe does not.
      const refused = await echo(server.url, 'hello', false);
      expect(refused.statusCode).toBe(401);
      await refused.body.dump();
      const ready = await request(`${server.url}/ready`);
      expect(ready.statusCode).toBe(200);
      expect(await ready.body.json()).toEqual({ status: 'ready' });
      // Inputs are checked against the schema, errors answered from the one table.
      const invalid = await request(`${server.url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{}',
      });
      expect(invalid.statusCode).toBe(422);
      expect(((await invalid.body.json()) as { error: { field: string } }).error.field).toBe('text');
      // Metrics, labelled by the mode's route template, and the shared docs.
      const metrics = await (await request(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).body.text();
      expect(metrics).toMatch(/http_requests_total\{[^}]*route="\/echo"[^}]*status="200"[^}]*\} 1/);
      const openApi = await request(`${server.url}/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await openApi.body.json()) as { paths: object }).paths).toHaveProperty('/echo');
      // The access log has a line per request.
      expect(await eventually(() => /"POST \/echo" 200 /.test(server.stderr()), 5000)).toBe(true);
    });
  }

  test('under the supervisor a throw restarts the model in place and the service carries on', async () => {
    const server = await serve(true);
    const thrown = await echo(server.url, 'throw');
    expect(thrown.statusCode).toBe(500);
    expect(((await thrown.body.json()) as { error: { code: string } }).error.code).toBe('AI_ERR_INFERENCE_THREW');
    const after = await echo(server.url, 'again');
    expect(after.statusCode).toBe(200);
    expect(await after.body.json()).toEqual({ echo: '> AGAIN' });
    expect(server.child.exitCode).toBeNull();
  });

  test('run directly a throw ends the process with the threw code, to be restarted', async () => {
    const server = await serve(false);
    const thrown = await echo(server.url, 'throw');
    expect(thrown.statusCode).toBe(500);
    await thrown.body.dump();
    expect((await server.exited).code).toBe(70);
  });

  test('it is listed with the built-in modes, and a mode registered as an object is refused under the supervisor with what to do', async () => {
    const listed = await runScript(model, { args: ['--help'] });
    expect(listed.stdout.toString('utf8')).toMatch(/\n {2}echo +echoes \{"text": \.\.\.\} through the model/);
    const objectMode = await runScript(supervisorBin, { mode: 'shout', args: [fixture('custom-mode-model.mjs')] });
    expect(objectMode.code).toBe(2);
    expect(objectMode.stderr).toContain("MODE=shout is registered in the shim as an object, which runs only in the shim's own process");
  });
});
