// Start-up loads only what the mode uses. Each mode runs as a container runs it, with a preload
// that records every module the process loads (test/fixtures/trace-loads.mjs, ESM and require()
// alike); a built chunk counts as the sources esbuild marks in it (`// src/http/server.ts`). What
// a process loaded until it was ready must leave out the parts it loads at first use, and each of
// those parts does show up once used, so no check passes by tracing nothing.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { startServer, stopOrKill, type RunningServer } from '../helpers/http-server.js';
import { makeJpeg } from '../helpers/images.js';
import { fixture, runScript } from '../helpers/run-process.js';
import { eventually, supervisorBin } from '../helpers/supervisor.js';
import { freePort } from '../helpers/free-port.js';

const scratch = mkdtempSync(join(tmpdir(), 'startup-imports-'));
const servers: RunningServer[] = [];
const receivers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => stopOrKill(server)));
  for (const receiver of receivers.splice(0)) receiver.close();
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What a mode must not load before its first use of it, by the name a failure prints. */
const onFirstUse: Record<string, RegExp> = {
  undici: /\/node_modules\/undici\//,
  busboy: /\/node_modules\/busboy\//,
  'prom-client': /\/node_modules\/prom-client\//,
  'image-size': /\/node_modules\/image-size\//,
  pino: /\/node_modules\/pino\//,
};
/** MODE=kserve's gRPC side, loaded only when GRPC_PORT is not 0. */
const grpcStack: Record<string, RegExp> = {
  '@grpc/grpc-js': /\/node_modules\/@grpc\/grpc-js\//,
  'modes/kserve/grpc-server.ts': /^modes\/kserve\/grpc-server\.ts$/,
};
/** `ai-integration dev`'s own parts: the watcher and the TypeScript loader, never loaded by the other commands. */
const devLoop: Record<string, RegExp> = {
  chokidar: /\/node_modules\/chokidar\//,
  tsx: /\/node_modules\/tsx\//,
  'src/supervisor/dev-loop.ts': /^src\/supervisor\/(dev-loop|source-watcher)\.ts$/,
};
/** What a mode without a server must never load. */
const httpStack: Record<string, RegExp> = {
  'node:http': /^node:http$/,
  'src/http/': /^src\/http\//,
};

/** Every module a traced process loaded: URLs, and for a built chunk of ours, the sources in it. */
function loadedBy(traceFile: string): string[] {
  const urls = [...new Set(readFileSync(traceFile, 'utf8').split('\n').filter(Boolean))];
  const sources = urls
    .filter((url) => url.startsWith('file:') && url.includes('/dist/') && !url.includes('/node_modules/') && /\.c?js$/.test(url))
    .flatMap((url) => [...readFileSync(fileURLToPath(url), 'utf8').matchAll(/^\/\/ ((?:src|modes)\/\S+\.ts)$/gm)].map((match) => match[1]!));
  return [...urls, ...sources];
}

/** The names in `table` whose pattern matches a module in `loaded`. */
const present = (loaded: string[], table: Record<string, RegExp>) => Object.keys(table).filter((name) => loaded.some((module) => table[name]!.test(module)));

const tracing = (name: string) => ({ TRACE_FILE: join(scratch, `${name}-{pid}.txt`) });
const traceOf = (name: string, pid: number) => join(scratch, `${name}-${pid}.txt`);
const nodeArgs = ['--import', fixture('trace-loads.mjs')];

async function serveTraced(name: string, args: { script: string; shimArgs?: string[]; env?: Record<string, string> }): Promise<RunningServer> {
  const server = await startServer(args.script, { ...tracing(name), ...args.env }, args.shimArgs ?? [], nodeArgs);
  servers.push(server);
  return server;
}

async function statusOf(url: string): Promise<number> {
  const response = await request(url);
  await response.body.dump();
  return response.statusCode;
}

/** Ready: the first 200 on the readiness route, as a container platform's probe sees it. */
async function ready(url: string): Promise<void> {
  expect(await eventually(async () => (await statusOf(url)) === 200, 20_000)).toBe(true);
}

function multipart(files: Record<string, Buffer>): { headers: Record<string, string>; body: Buffer } {
  const boundary = 'startupboundary';
  const parts = Object.entries(files).flatMap(([name, data]) => [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    data,
    Buffer.from('\r\n'),
  ]);
  return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]) };
}

/** A webhook receiver on 127.0.0.1 that counts the calls it got. */
async function webhookReceiver(): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => {
      calls++;
      response.writeHead(200).end();
    });
  });
  receivers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, calls: () => calls };
}

describe('start-up loads only what the mode uses', () => {
  test('MODE=http run directly: ready without undici, busboy, prom-client, image-size or pino; each loads at its first use', async () => {
    const server = await serveTraced('http', { script: fixture('two-image-model.mjs') });
    await ready(`${server.url}/health`);
    const trace = traceOf('http', server.pid);
    const atStart = loadedBy(trace);
    expect(present(atStart, onFirstUse)).toEqual([]);
    // The trace is real: the server's own code and node:http are in it.
    expect(present(atStart, httpStack)).toEqual(['node:http', 'src/http/']);

    const image = await makeJpeg(16, 12);
    const form = multipart({ style: image, content: image });
    const predicted = await request(`${server.url}/predict`, { method: 'POST', ...form });
    expect(predicted.statusCode).toBe(200);
    await predicted.body.dump();
    expect(present(loadedBy(trace), onFirstUse)).toEqual(['busboy', 'image-size']);

    const metrics = await request(`${server.url}/metrics`);
    expect(metrics.statusCode).toBe(200);
    // The content type is known before prom-client is loaded: it must be prom-client's own.
    expect(metrics.headers['content-type']).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
    const scraped = await metrics.body.text();
    expect(scraped).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(scraped).toContain('model_info{name="two-image-model"');
    expect(scraped).toMatch(/^http_requests_total\{route="\/predict",method="POST",status="200"\} 1$/m);
    expect(present(loadedBy(trace), onFirstUse)).toContain('prom-client');

    const css = await request(`${server.url}/docs/swagger-ui.css`);
    expect(css.statusCode).toBe(200);
    expect(await css.body.text()).toContain('.swagger-ui');
    // The docs' files are the package's own (dist/docs-ui/): read, never a module of swagger-ui-dist.
    expect(loadedBy(trace).filter((module) => module.includes('/node_modules/swagger-ui-dist/'))).toEqual([]);

    const hook = await webhookReceiver();
    const json = { inputs: { style: image.toString('base64'), content: image.toString('base64') } };
    const accepted = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async', webhook: hook.url },
      body: JSON.stringify(json),
    });
    expect(accepted.statusCode).toBe(202);
    await accepted.body.dump();
    expect(await eventually(() => hook.calls() >= 1, 10_000)).toBe(true);
    expect(present(loadedBy(trace), onFirstUse)).toEqual(['undici', 'busboy', 'prom-client', 'image-size']);
  });

  test('MODE=http under the supervisor: neither the supervisor nor its worker loads the optional parts before it is ready', async () => {
    const server = await serveTraced('supervised', { script: supervisorBin, shimArgs: [fixture('two-image-model.mjs')] });
    await ready(`${server.url}/health`);
    const supervisorTrace = traceOf('supervised', server.pid);
    const workerTraces = readdirSync(scratch).filter((name) => name.startsWith('supervised-') && name !== `supervised-${server.pid}.txt`);
    expect(workerTraces).toHaveLength(1);
    const supervisor = loadedBy(supervisorTrace);
    const worker = loadedBy(join(scratch, workerTraces[0]!));
    expect(present(supervisor, onFirstUse)).toEqual([]);
    expect(present(supervisor, httpStack)).toEqual(['node:http', 'src/http/']);
    // The worker only runs the model: no server, and nothing a server uses.
    expect(present(worker, { ...onFirstUse, ...httpStack })).toEqual([]);
    expect(worker.some((module) => module.endsWith('/two-image-model.mjs'))).toBe(true);

    const image = await makeJpeg(16, 12);
    const predicted = await request(`${server.url}/predict`, { method: 'POST', ...multipart({ style: image, content: image }) });
    expect(predicted.statusCode).toBe(200);
    await predicted.body.dump();
    // The supervisor reads the body and checks the images; the worker still has neither.
    expect(present(loadedBy(supervisorTrace), onFirstUse)).toEqual(['busboy', 'image-size']);
    expect(present(loadedBy(join(scratch, workerTraces[0]!)), onFirstUse)).toEqual([]);
    expect(present(loadedBy(supervisorTrace), devLoop)).toEqual([]);
    expect(present(loadedBy(join(scratch, workerTraces[0]!)), devLoop)).toEqual([]);
  });

  test('MODE=kserve: ready without the optional parts; /metrics loads prom-client; with GRPC_PORT=0, never gRPC', async () => {
    const server = await serveTraced('kserve', { script: fixture('two-image-model.mjs'), env: { MODE: 'kserve', GRPC_PORT: '0' } });
    await ready(`${server.url}/v2/health/ready`);
    const trace = traceOf('kserve', server.pid);
    expect(present(loadedBy(trace), onFirstUse)).toEqual([]);
    expect(await statusOf(`${server.url}/metrics`)).toBe(200);
    expect(present(loadedBy(trace), onFirstUse)).toEqual(['prom-client']);
    expect(present(loadedBy(trace), grpcStack)).toEqual([]);
  });

  test('MODE=kserve with GRPC_PORT: gRPC (grpc-js, modes/kserve/grpc-server) loads, once the HTTP port listens', async () => {
    const port = await freePort();
    const server = await serveTraced('kserve-grpc', { script: fixture('two-image-model.mjs'), env: { MODE: 'kserve', GRPC_PORT: String(port) } });
    expect(await eventually(() => server.stderr().includes(`listening on grpc://127.0.0.1:${port}`), 20_000)).toBe(true);
    expect(present(loadedBy(traceOf('kserve-grpc', server.pid)), grpcStack)).toEqual(Object.keys(grpcStack));
  });

  describe('modes without a server never load the HTTP stack', () => {
    const run = async (name: string, script: string, options: { mode: string; stdin?: Buffer | string; args?: string[]; env?: Record<string, string> }) => {
      const traceFile = join(scratch, `${name}.txt`);
      const outcome = await runScript(script, {
        mode: options.mode,
        stdin: options.stdin,
        args: options.args,
        env: { TRACE_FILE: traceFile, ...options.env },
        nodeArgs,
      });
      expect(outcome.stderr).not.toMatch(/^error/m);
      expect(outcome.code).toBe(0);
      return loadedBy(traceFile);
    };

    test('a stdin mode (test_inputs_dict_json): no node:http, src/http, undici, busboy, prom-client, pino; image-size and pino only when used', async () => {
      const text = await run('stdin-text', fixture('text-model.mjs'), { mode: 'test_inputs_dict_json', stdin: '{"sentence": "hi"}' });
      expect(text.some((module) => /\/dist\/test-inputs-dict-json-\w+\.js$/.test(module))).toBe(true);
      expect(present(text, { ...onFirstUse, ...httpStack })).toEqual([]);
      // An image input is checked (image-size), and LOG_FORMAT=json logs through pino: each loads then, and no more.
      const image = (await makeJpeg(16, 12)).toString('base64');
      const used = await run('stdin-image', fixture('two-image-model.mjs'), {
        mode: 'test_inputs_dict_json',
        stdin: JSON.stringify({ style: image, content: image }),
        env: { LOG_FORMAT: 'json' },
      });
      expect(present(used, { ...onFirstUse, ...httpStack })).toEqual(['image-size', 'pino']);
    });

    test('test_model_integration and command_line: the same', async () => {
      const selfTest = await run('self-test', fixture('two-image-model.mjs'), { mode: 'test_model_integration', env: { SELF_TEST_RUNS: '1' } });
      expect(present(selfTest, { ...onFirstUse, ...httpStack })).toEqual(['image-size']);
      const commandLine = await run('command-line', fixture('text-model.mjs'), { mode: 'command_line', args: ['--sentence', 'hi'] });
      expect(commandLine.some((module) => /\/node_modules\/commander\//.test(module))).toBe(true);
      expect(present(commandLine, { ...onFirstUse, ...httpStack })).toEqual([]);
    });
  });
});
