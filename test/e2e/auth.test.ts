// AUTH_TOKEN on every route of every HTTP-speaking mode: the liveness and readiness probes stay
// open; everything else (the API, the page, the docs, /openapi.json, /metrics, unknown paths)
// answers 401 with WWW-Authenticate: Bearer without the token or with a wrong one, and works
// with it. The routes are every operation of each mode's own OpenAPI document, plus the core's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture, runScript } from '../helpers/run-process.js';

const model = fixture('http-model.mjs');
const token = 'tok-3f9a1c7e';
const bearer = { authorization: `Bearer ${token}` };
const scratch = mkdtempSync(join(tmpdir(), 'auth-'));

interface Operation {
  method: string;
  path: string;
}

// Each mode: the routes that must stay open (its liveness and readiness probes), and one
// prediction that must succeed with the token.
const modes = {
  http: { open: ['GET /health', 'GET /health/live'], predict: { path: '/predict', body: { inputs: { action: 'text', note: 'auth' } } } },
  kserve: {
    open: [
      'GET /v2/health/live',
      'GET /v2/health/ready',
      'GET /v2/models/{name}/ready',
      'GET /v2/models/{name}/versions/{version}/ready',
      'GET /v1/models/{name}',
    ],
    predict: { path: '/v1/models/http-model:predict', body: { instances: [{ action: 'text', note: 'auth' }] } },
  },
  cog: { open: ['GET /health-check'], predict: { path: '/predictions', body: { input: { action: 'text', note: 'auth' } } } },
  sagemaker: { open: ['GET /ping'], predict: { path: '/invocations', body: { action: 'text', note: 'auth' } } },
  vertex: { open: ['GET /health'], predict: { path: '/predict', body: { instances: [{ action: 'text', note: 'auth' }] } } },
} as const;

const concrete = (path: string) =>
  path
    .replace('{name}', 'http-model')
    .replace('{version}', '1')
    .replace(/\{\w+\}/g, 'some-id');

async function call(url: string, { method, path }: Operation, headers: Record<string, string> = {}) {
  const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
  const response = await request(`${url}${concrete(path)}`, { method: method as 'GET', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

describe.each(Object.keys(modes) as (keyof typeof modes)[])('AUTH_TOKEN in MODE=%s', (mode) => {
  let server: RunningServer;
  let operations: Operation[];
  let document: any;
  beforeAll(async () => {
    server = await startServer(model, { MODE: mode, AUTH_TOKEN: token });
    const answer = await request(`${server.url}/openapi.json`, { headers: bearer });
    expect(answer.statusCode).toBe(200);
    document = await answer.body.json();
    operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => ['get', 'post', 'put', 'delete'].includes(key))
        .map((method) => ({ method: method.toUpperCase(), path })),
    );
    // The core's own routes, whatever the document lists.
    for (const path of ['/openapi.json', '/docs', '/docs/', '/metrics', '/no-such-route']) operations.push({ method: 'GET', path });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('says at start-up that a token is required', () => {
    expect(server.stderr()).toContain('auth: every route but the health probes needs the bearer token (AUTH_TOKEN)');
  });

  test('the probes are open; every other route answers 401 with WWW-Authenticate: Bearer, without a token and with a wrong one', async () => {
    const open: string[] = [];
    for (const operation of operations) {
      const name = `${operation.method} ${operation.path}`;
      const without = await call(server.url, operation);
      if (without.status !== 401) {
        open.push(name);
        expect(without.status, `${name}: ${without.text}`).toBe(200);
        continue;
      }
      expect(without.headers['www-authenticate'], name).toBe('Bearer');
      expect(without.text, name).toContain('this service needs a bearer token');
      for (const wrong of [`Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Basic ${Buffer.from(`user:${token}`).toString('base64')}`, token, 'Bearer ']) {
        const refused = await call(server.url, operation, { authorization: wrong });
        expect(refused.status, `${name} with ${wrong}`).toBe(401);
        expect(refused.headers['www-authenticate'], name).toBe('Bearer error="invalid_token"');
      }
    }
    expect(open.sort()).toEqual([...modes[mode].open].sort());
    // The probes are open in the document too; everything else needs the scheme.
    expect(document.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    for (const probe of modes[mode].open) {
      const [method, path] = probe.split(' ') as [string, string];
      expect((document.paths[path][method.toLowerCase()] as { security: unknown }).security, probe).toEqual([]);
    }
  });

  test('with the token, no route refuses it, and a prediction succeeds', async () => {
    for (const operation of operations) {
      // Cog's POST /shutdown would end the server (without the token it is refused above).
      if (operation.path === '/shutdown') continue;
      const answer = await call(server.url, operation, { ...bearer });
      expect(answer.status, `${operation.method} ${operation.path}: ${answer.text}`).not.toBe(401);
    }
    const { path, body } = modes[mode].predict;
    const answer = await request(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await answer.body.text();
    expect(answer.statusCode, text).toBe(200);
    expect(text).toContain('hello auth');
    const metrics = await request(`${server.url}/metrics`, { headers: { authorization: `bearer  ${token}` } });
    expect(metrics.statusCode).toBe(200);
    expect(await metrics.body.text()).toContain('# TYPE');
  });
});

describe('AUTH_TOKEN in the native API', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(model, { AUTH_TOKEN: `  ${token}\n` });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('a refusal is the native error object, the token trimmed of surrounding space', async () => {
    const refused = await request(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":{}}' });
    expect(refused.statusCode).toBe(401);
    expect(await refused.body.json()).toEqual({
      error: { code: 'AI_ERR_UNAUTHORIZED', message: 'this service needs a bearer token: send Authorization: Bearer <token>' },
    });
    const wrong = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope', 'content-type': 'application/json' },
      body: '{"inputs":{}}',
    });
    expect(await wrong.body.json()).toEqual({ error: { code: 'AI_ERR_UNAUTHORIZED', message: 'the bearer token is not the one this service expects' } });
    const allowed = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: '{"inputs":{"action":"text"}}',
    });
    expect(allowed.statusCode).toBe(200);
  });

  test("a browser opening a page gets the token prompt (401, HTML), never the page's content", async () => {
    for (const path of ['/', '/docs']) {
      const answer = await request(`${server.url}${path}`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      const html = await answer.body.text();
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(html).toContain('Token required');
      expect(html).not.toContain('http-model');
    }
    // Swagger UI's own files are the same in every container: the docs page loads them as is.
    const asset = await request(`${server.url}/docs/swagger-ui.css`);
    expect(asset.statusCode).toBe(200);
    await asset.body.dump();
  });
});

describe('without AUTH_TOKEN', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(model, {});
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('the service is open, says so at start-up, and its document has no security scheme', async () => {
    expect(server.stderr()).toContain('auth: none, every route is open to whoever reaches the port (set AUTH_TOKEN to require a bearer token)');
    for (const path of ['/info', '/metrics', '/', '/docs']) {
      const answer = await request(`${server.url}${path}`);
      expect(answer.statusCode, path).toBe(200);
      await answer.body.dump();
    }
    const document = (await (await request(`${server.url}/openapi.json`)).body.json()) as Record<string, any>;
    expect(document.security).toBeUndefined();
    expect(document.components?.securitySchemes).toBeUndefined();
  });
});

describe('AUTH_TOKEN_FILE', () => {
  test('the token is read once from the file, trimmed', async () => {
    const file = join(scratch, 'token');
    writeFileSync(file, `${token}\n`);
    const server = await startServer(model, { AUTH_TOKEN_FILE: file });
    try {
      // Changing the file later changes nothing: it was read at start.
      writeFileSync(file, 'another-token\n');
      const refused = await request(`${server.url}/info`, { headers: { authorization: 'Bearer another-token' } });
      expect(refused.statusCode).toBe(401);
      await refused.body.dump();
      const allowed = await request(`${server.url}/info`, { headers: bearer });
      expect(allowed.statusCode).toBe(200);
      await allowed.body.dump();
    } finally {
      await server.stop();
    }
  });

  test.each([
    ['an empty AUTH_TOKEN', { AUTH_TOKEN: ' ' }, 'AUTH_TOKEN gives an empty token; set one, or unset it to serve without auth'],
    ['an empty token file', { AUTH_TOKEN_FILE: 'EMPTY' }, 'gives an empty token'],
    ['a missing token file', { AUTH_TOKEN_FILE: '/nonexistent/token' }, 'AUTH_TOKEN_FILE="/nonexistent/token" cannot be read: it does not exist'],
    ['both variables', { AUTH_TOKEN: token, AUTH_TOKEN_FILE: 'EMPTY' }, 'AUTH_TOKEN and AUTH_TOKEN_FILE are both set; set one'],
    ['a token with a space inside', { AUTH_TOKEN: 'two words' }, 'white space inside'],
  ])('%s is a configuration error (exit 3)', async (_name, env, message) => {
    const empty = join(scratch, 'empty');
    writeFileSync(empty, '\n \n');
    const resolved = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === 'EMPTY' ? empty : value]));
    const outcome = await runScript(model, { mode: 'http', env: { PORT: '0', HOST: '127.0.0.1', ...resolved } });
    expect(outcome.code, outcome.stderr).toBe(3);
    expect(outcome.stderr).toContain(message);
    expect(outcome.stderr).not.toContain('listening on');
  });

  // /dev/zero never ends (read whole, it once grew to 4 GB in seconds); a FIFO with no writer
  // blocked start-up for ever. Only a regular file of at most 64 KiB is read.
  test.each([
    ['/dev/zero', () => '/dev/zero', 'is a device, not a regular file'],
    [
      'a FIFO with no writer',
      () => {
        const fifo = join(scratch, 'fifo');
        execFileSync('mkfifo', [fifo]);
        return fifo;
      },
      'is a FIFO (named pipe), not a regular file',
    ],
    [
      'a directory',
      () => {
        const folder = join(scratch, 'folder');
        mkdirSync(folder);
        return folder;
      },
      'is a directory, not a regular file',
    ],
    [
      'a file over 64 KiB',
      () => {
        const large = join(scratch, 'large');
        writeFileSync(large, `${token}${' '.repeat(64 * 1024)}`);
        return large;
      },
      'is larger than 64 KiB',
    ],
  ])('AUTH_TOKEN_FILE naming %s is refused with exit 3, naming the file and the problem', async (_name, make, problem) => {
    const file = make();
    // The timeout only ends a hang; the assertion is the exit code and the message.
    const outcome = await runScript(model, { mode: 'http', env: { PORT: '0', HOST: '127.0.0.1', AUTH_TOKEN_FILE: file }, timeoutMs: 20_000 });
    expect(outcome.code, outcome.stderr).toBe(3);
    expect(outcome.stderr).toContain(`AUTH_TOKEN_FILE=${JSON.stringify(file)} ${problem}`);
    expect(outcome.stderr).not.toContain('listening on');
  });

  test('a symbolic link to the token file is followed (as Kubernetes mounts secrets)', async () => {
    const target = join(scratch, 'linked-token');
    writeFileSync(target, `${token}\n`);
    const link = join(scratch, 'token-link');
    symlinkSync(target, link);
    const server = await startServer(model, { AUTH_TOKEN_FILE: link });
    try {
      const refused = await request(`${server.url}/info`);
      expect(refused.statusCode).toBe(401);
      await refused.body.dump();
      const allowed = await request(`${server.url}/info`, { headers: bearer });
      expect(allowed.statusCode).toBe(200);
      await allowed.body.dump();
    } finally {
      await server.stop();
    }
  });
});
