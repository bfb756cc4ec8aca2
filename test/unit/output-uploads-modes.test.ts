// OUTPUT_UPLOAD_URL and Cog's output_file_prefix through the modes' own code (in process, real
// HTTP on loopback): the native API (sync, async with a webhook) and Cog (sync, async with a
// webhook, a prefix per prediction). The store is the loopback receiver, its hosts allowed
// with URL_INPUTS_ALLOW_HOSTS; answers carry URLs, and a failed upload fails the prediction with
// no data: URL anywhere.
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';
import { startUploadReceiver, type UploadReceiver } from '../helpers/upload-receiver.js';
// @ts-expect-error: a fixture shim in plain JavaScript
import { expectedPng } from '../fixtures/image-output-model.mjs';

let receiver: UploadReceiver;
const services: InProcessService[] = [];
const servers: Server[] = [];
beforeEach(async () => {
  receiver = await startUploadReceiver();
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await receiver.close();
});

async function serve(mode: 'http' | 'cog', env: Record<string, string>): Promise<InProcessService> {
  const service = await startInProcess({ mode, model: 'image-output-model.mjs', env: { URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts, ...env } });
  services.push(service);
  return service;
}

/** A webhook receiver on loopback: resolves with the body of the first `completed` call (a final status). */
async function webhook(): Promise<{ url: string; completed: Promise<any> }> {
  let done!: (body: unknown) => void;
  const completed = new Promise<any>((resolve) => (done = resolve));
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (['succeeded', 'failed', 'canceled'].includes(body.status)) done(body);
    response.writeHead(200).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, completed };
}

const noDataUrl = (body: unknown) => expect(JSON.stringify(body)).not.toContain('data:');

describe('MODE=http with OUTPUT_UPLOAD_URL', () => {
  test('POST /predict: the output is the uploaded URL, `uploads` lists the file, the store has the bytes', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/signed/outputs` });
    const response = await service.inject({
      method: 'POST',
      url: '/predict',
      body: { inputs: { width: 16, shade: 40 } },
      headers: { 'x-request-id': 'req-1' },
    });
    expect(response.status).toBe(200);
    const body = response.json();
    const url = `${receiver.bucket}/signed/outputs/req-1/output.png`;
    const png: Buffer = await expectedPng(16, 40);
    expect(body).toMatchObject({
      id: 'req-1',
      status: 'succeeded',
      output: url,
      content_type: 'image/png',
      uploads: [{ field: 'output', url, content_type: 'image/png', bytes: png.length }],
    });
    noDataUrl(body);
    expect(receiver.stored.get('/signed/outputs/req-1/output.png')).toEqual(png);
  });

  test('a JSON result has no file: answered as before, nothing uploaded', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const body = (await service.inject({ method: 'POST', url: '/predict', body: { inputs: { action: 'json', shade: 3 } } })).json();
    expect(body.output).toEqual({ shade: 3 });
    expect(body.uploads).toBeUndefined();
    expect(receiver.requests).toEqual([]);
  });

  test('asked for the raw bytes (Accept: image/png), the client gets them, and nothing is uploaded', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const response = await service.inject({ method: 'POST', url: '/predict', body: { inputs: { width: 4 } }, headers: { accept: 'image/png' } });
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.body).toEqual(await expectedPng(4, 10));
    expect(receiver.requests).toEqual([]);
  });

  test('a store that fails twice: retried, then the URL', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/flaky` });
    const body = (await service.inject({ method: 'POST', url: '/predict', body: { inputs: {} }, headers: { 'x-request-id': 'req-2' } })).json();
    expect(body.output).toBe(`${receiver.api}/public/flaky/req-2/output.png`);
    expect(receiver.requests.map((request) => request.status)).toEqual([503, 503, 201]);
  });

  test('a store that refuses: 502 AI_ERR_UPLOAD_FAILED, and no data: URL', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/refuse` });
    const response = await service.inject({ method: 'POST', url: '/predict', body: { inputs: {} }, headers: { 'x-request-id': 'req-3' } });
    expect(response.status).toBe(502);
    const body = response.json();
    expect(body).toMatchObject({ id: 'req-3', status: 'failed', error: { code: 'AI_ERR_UPLOAD_FAILED' } });
    expect(body.error.message).toMatch(
      /^uploading the output "output" \(image\/png, \d+ bytes\) to http:\/\/127\.0\.0\.1:\d+\/refuse\/req-3\/output\.png failed: HTTP 403$/,
    );
    noDataUrl(body);
  });

  test('async with a webhook: the completed state carries the URL and `uploads`; GET says the same', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/direct` });
    const hook = await webhook();
    const accepted = await service.inject({
      method: 'POST',
      url: '/predict',
      body: { inputs: { shade: 99 } },
      headers: { prefer: 'respond-async', webhook: hook.url },
    });
    expect(accepted.status).toBe(202);
    const { id } = accepted.json();
    const completed = await hook.completed;
    const url = `${receiver.api}/public/direct/${id}/output.png`;
    expect(completed).toMatchObject({ id, status: 'succeeded', output: url, uploads: [{ field: 'output', url }] });
    noDataUrl(completed);
    expect((await service.inject({ url: `/predictions/${id}` })).json()).toMatchObject({ status: 'succeeded', output: url, uploads: [{ url }] });
  });

  test('async, the store refuses: the prediction fails with AI_ERR_UPLOAD_FAILED and `uploads` says none was stored', async () => {
    const service = await serve('http', { OUTPUT_UPLOAD_URL: `${receiver.api}/refuse` });
    const hook = await webhook();
    await service.inject({ method: 'POST', url: '/predict', body: { inputs: {} }, headers: { prefer: 'respond-async', webhook: hook.url } });
    const completed = await hook.completed;
    expect(completed).toMatchObject({ status: 'failed', output: null, error: { code: 'AI_ERR_UPLOAD_FAILED' }, uploads: [] });
    noDataUrl(completed);
  });
});

describe('the drain on shutdown', () => {
  test('an async prediction whose file is uploading when the service is closed completes before the service ends', async () => {
    const service = await startInProcess({
      mode: 'http',
      model: 'image-output-model.mjs',
      env: { URL_INPUTS_ALLOW_HOSTS: receiver.allowHosts, OUTPUT_UPLOAD_URL: `${receiver.api}/direct` },
    });
    const hook = await webhook();
    let release!: () => void;
    receiver.hold = new Promise((resolve) => (release = resolve));
    const { id } = (
      await service.inject({ method: 'POST', url: '/predict', body: { inputs: {} }, headers: { prefer: 'respond-async', webhook: hook.url } })
    ).json();
    while (receiver.inFlight.now === 0) await new Promise((resolve) => setImmediate(resolve));
    let ended = false;
    const closed = service.close().finally(() => (ended = true));
    // The model has returned and the service drains: it says it waits for the prediction still
    // uploading (without the drain's wait it never says so, and ends at once, the scheduler being
    // idle), and it has not ended while the store holds the PUT.
    await vi.waitFor(() => expect(service.logs()).toContain('shutdown: waiting for 1 prediction the model has answered'), { timeout: 5_000 });
    expect(ended).toBe(false);
    release();
    expect(await closed).toBe(0);
    expect(receiver.stored.has(`/direct/${id}/output.png`)).toBe(true);
    expect((await hook.completed).output).toBe(`${receiver.api}/public/direct/${id}/output.png`);
  });
});

describe('MODE=cog: OUTPUT_UPLOAD_URL (as --upload-url) and output_file_prefix', () => {
  test('sync: output is the uploaded URL', async () => {
    const service = await serve('cog', { OUTPUT_UPLOAD_URL: `${receiver.api}/signed` });
    const response = await service.inject({ method: 'PUT', url: '/predictions/cog-1', body: { input: { width: 8, shade: 7 } } });
    expect(response.status).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ id: 'cog-1', status: 'succeeded', output: `${receiver.bucket}/signed/cog-1/output.png` });
    noDataUrl(body);
    expect(receiver.stored.get('/signed/cog-1/output.png')).toEqual(await expectedPng(8, 7));
    expect(receiver.requests[0]).toMatchObject({ method: 'PUT', contentType: 'image/png', predictionId: 'cog-1' });
  });

  test('output_file_prefix in the request, with no OUTPUT_UPLOAD_URL: the files go there', async () => {
    const service = await serve('cog', {});
    const body = (
      await service.inject({ method: 'POST', url: '/predictions', body: { id: 'cog-2', input: {}, output_file_prefix: `${receiver.api}/direct/mine/` } })
    ).json();
    expect(body).toMatchObject({ status: 'succeeded', output: `${receiver.api}/public/direct/mine/cog-2/output.png` });
  });

  test('output_file_prefix on a host the address check refuses: the prediction fails, no request is made', async () => {
    const service = await serve('cog', { URL_INPUTS_ALLOW_HOSTS: '' });
    const body = (
      await service.inject({ method: 'POST', url: '/predictions', body: { id: 'cog-3', input: {}, output_file_prefix: `${receiver.api}/direct` } })
    ).json();
    expect(body).toMatchObject({ id: 'cog-3', status: 'failed', output: null });
    expect(body.error).toMatch(/^uploading the output "output" .* failed: its host is 127\.0\.0\.1, a loopback address; private addresses are refused/);
    expect(receiver.requests).toEqual([]);
  });

  test('an output_file_prefix that is not an http(s) URL is a 422 naming it', async () => {
    const service = await serve('cog', {});
    const response = await service.inject({ method: 'POST', url: '/predictions', body: { input: {}, output_file_prefix: 'ftp://store/' } });
    expect(response.status).toBe(422);
    expect(response.json().detail[0]).toMatchObject({ loc: ['body', 'output_file_prefix'] });
  });

  test('async with a webhook, a store that fails twice: the completed webhook carries the URL', async () => {
    const service = await serve('cog', { OUTPUT_UPLOAD_URL: `${receiver.api}/flaky` });
    const hook = await webhook();
    const accepted = await service.inject({
      method: 'POST',
      url: '/predictions',
      body: { id: 'cog-4', input: {}, webhook: hook.url },
      headers: { prefer: 'respond-async' },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.json().output).toBeNull();
    const completed = await hook.completed;
    expect(completed).toMatchObject({ id: 'cog-4', status: 'succeeded', output: `${receiver.api}/public/flaky/cog-4/output.png` });
    expect(receiver.requests.map((request) => request.status)).toEqual([503, 503, 201]);
  });

  test('async, the store refuses: the completed webhook says failed with the upload error, never a data: URL', async () => {
    const service = await serve('cog', { OUTPUT_UPLOAD_URL: `${receiver.api}/refuse` });
    const hook = await webhook();
    await service.inject({ method: 'POST', url: '/predictions', body: { id: 'cog-5', input: {}, webhook: hook.url }, headers: { prefer: 'respond-async' } });
    const completed = await hook.completed;
    expect(completed).toMatchObject({ id: 'cog-5', status: 'failed', output: null });
    expect(completed.error).toMatch(/failed: HTTP 403$/);
    noDataUrl(completed);
  });
});
