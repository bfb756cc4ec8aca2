import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { fixture } from '../helpers/run-process.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer(fixture('http-model.mjs'));
});
afterAll(async () => {
  await server.stop();
});

const get = (path: string, method: 'GET' | 'HEAD' | 'DELETE' | 'PUT' = 'GET') => request(`${server.url}${path}`, { method });

describe('HTTP operations routes', () => {
  test('GET / is the web page: a form built from the schema, with no external resources', async () => {
    const response = await get('/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = await response.body.text();
    expect(html).toContain('<input type="file" accept="image/*" id="input-image" name="image"');
    expect(html).toContain('<select id="input-action" name="action"><option value="json" selected>json</option>');
    expect(html).toContain('<input type="number" step="any" min="0" max="1" id="input-strength" name="strength" value="0.5">');
    expect(html).toContain('<input type="number" step="1" min="0" max="60000"');
    expect(html).toContain('<input type="checkbox" id="input-flag" name="flag" value="true">');
    expect(html).toContain('how strong');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test('GET and HEAD /health answer readiness; /health/live answers liveness', async () => {
    const ready = await get('/health');
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toEqual({ status: 'ready' });
    const head = await get('/health', 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(await head.body.text()).toBe('');
    const live = await get('/health/live');
    expect(await live.body.json()).toEqual({ status: 'alive' });
  });

  test('GET /info describes the model, schema, mode, limits and runtime version', async () => {
    const info = (await (await get('/info')).body.json()) as Record<string, any>;
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(info.model.name).toBe('http-model');
    expect(info.mode).toBe('http');
    expect(info.schema.action).toEqual({
      type: 'choice',
      choices: ['json', 'image', 'text', 'fail', 'throw', 'orphan', 'hang', 'spin'],
      default: 'json',
      description: 'what the model does',
    });
    expect(info.limits).toEqual({
      max_input_bytes: 104857600,
      max_input_depth: 128,
      strict_inputs: false,
      port: 0,
      host: '127.0.0.1',
      concurrency: 1,
      max_queue: 64,
      inference_timeout_ms: 300000,
      shutdown_timeout_ms: 8000,
      max_files: 16,
      max_fields: 256,
      max_parts: 512,
      // The body budget defaults to a quarter of the machine's memory (or the heap limit), so it varies.
      max_buffered_bytes: expect.any(Number),
      max_concurrent_uploads: 32,
      max_connections: 1024,
      headers_timeout_ms: 20000,
      request_timeout_ms: 300000,
      keep_alive_timeout_ms: 5000,
      body_idle_timeout_ms: 30000,
      min_body_bytes_per_second: 1024,
      body_rate_window_ms: 10000,
    });
    expect(info.runtime).toEqual({ name: 'ai-integration', version, node: process.version });
  });

  test('GET /openapi.json is a valid OpenAPI 3.1 document generated from the schema', async () => {
    const document = (await (await get('/openapi.json')).body.json()) as Record<string, any>;
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const json = document.paths['/predict'].post.requestBody.content['application/json'].schema.properties.inputs;
    expect(json.properties.strength).toMatchObject({ type: 'number', minimum: 0, maximum: 1, default: 0.5 });
    expect(json.properties.action.enum).toEqual(['json', 'image', 'text', 'fail', 'throw', 'orphan', 'hang', 'spin']);
    expect(json.properties.image).toMatchObject({ type: 'string', contentEncoding: 'base64' });
    expect(Object.keys(document.paths['/predict'].post.responses)).toEqual(['200', '400', '413', '415', '422', '429', '500', '503', '504']);
  });

  test('GET /docs serves interactive docs from the package, with its assets', async () => {
    const page = await get('/docs');
    expect(page.statusCode).toBe(200);
    const html = await page.body.text();
    expect(html).toMatch(/SwaggerUIBundle\(\{\s*url: 'openapi\.json',/);
    const bundle = await get('/docs/swagger-ui-bundle.js');
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await bundle.body.text()).length).toBeGreaterThan(100_000);
    const css = await get('/docs/swagger-ui.css');
    expect(css.statusCode).toBe(200);
    await css.body.dump();
    const missing = await get('/docs/../package.json');
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
  });

  test('GET /metrics is Prometheus text with requests, latency, queue depth and inferences', async () => {
    await (await get('/health')).body.dump();
    const response = await get('/metrics');
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.body.text();
    expect(text).toMatch(/^http_requests_total\{route="\/health",method="GET",status="200"\} \d+$/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0\.005",route="\/health"\} \d+$/m);
    expect(text).toContain('# TYPE inference_queue_depth gauge');
    expect(text).toContain('# TYPE inferences_total counter');
    expect(text).toContain('process_resident_memory_bytes');
  });

  test('an unknown route is 404 and a wrong method 405 with Allow, both as error objects with a request id', async () => {
    const missing = await get('/nowhere');
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toEqual({ error: { code: 'AI_ERR_NOT_FOUND', message: 'no route /nowhere; see /docs for the API' } });
    expect(missing.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const wrong = await get('/predict', 'PUT');
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(await wrong.body.json()).toEqual({ error: { code: 'AI_ERR_METHOD_NOT_ALLOWED', message: 'PUT is not allowed on /predict; use POST' } });
  });
});
