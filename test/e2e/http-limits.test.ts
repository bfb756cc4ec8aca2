import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { FormData, request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { everythingSentIsRead } from '../helpers/raw-connection.js';
import { fixture } from '../helpers/run-process.js';

const model = fixture('http-model.mjs');
const servers: RunningServer[] = [];
async function serve(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer(model, env);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const predict = (server: RunningServer, inputs: Record<string, unknown>) =>
  request(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs }) });

async function* chunks(total: number, size = 1024 * 1024) {
  const chunk = Buffer.alloc(size, 0x41);
  for (let sent = 0; sent < total; sent += size) yield chunk;
}

describe('HTTP limits', () => {
  test('a body over MAX_INPUT_BYTES is 413, whether it declares its length or streams', async () => {
    const server = await serve({ MAX_INPUT_BYTES: '100000' });
    const declared = await predict(server, { note: 'x'.repeat(200_000) });
    expect(declared.statusCode).toBe(413);
    expect(((await declared.body.json()) as { error: { code: string } }).error.code).toBe('AI_ERR_INPUT_TOO_LARGE');
    const multipart = new FormData();
    multipart.append('image', new Blob([Buffer.alloc(300_000)]), 'big.jpg');
    const streamed = await request(`${server.url}/predict`, { method: 'POST', body: multipart });
    expect(streamed.statusCode).toBe(413);
    expect(((await streamed.body.json()) as { error: { message: string } }).error.message).toBe(
      'the request body is larger than 100000 bytes (the limit; raise it with MAX_INPUT_BYTES)',
    );
  });

  test('a 150 MB upload is refused with 413 while streaming, and the process memory stays bounded', async () => {
    const server = await serve();
    await (await predict(server, {})).body.dump();
    const before = server.peakMemory();
    const boundary = 'bigupload';
    async function* body() {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
      yield* chunks(150 * 1024 * 1024);
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }
    const response = await request(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.from(body()),
    }).catch((error: Error) => error);
    // The server answers 413 as soon as the limit passes; the client may see the answer or, when
    // the server closes the connection while it is still sending, a reset.
    if (!(response instanceof Error)) expect(response.statusCode).toBe(413);
    // 100 MB may be held (the limit), never the whole 150 MB on top of what was there.
    expect(server.peakMemory() - before).toBeLessThan(130 * 1024 * 1024);
    const after = await request(`${server.url}/health`);
    expect(after.statusCode).toBe(200);
    await after.body.dump();
  });

  test('too many files or fields is 413 naming the limit', async () => {
    const server = await serve({ MAX_FILES: '1', MAX_FIELDS: '2' });
    const files = new FormData();
    files.append('image', new Blob([Buffer.from('a')]), 'a.jpg');
    files.append('other', new Blob([Buffer.from('b')]), 'b.jpg');
    const tooManyFiles = await request(`${server.url}/predict`, { method: 'POST', body: files });
    expect(tooManyFiles.statusCode).toBe(413);
    expect(((await tooManyFiles.body.json()) as { error: { message: string } }).error.message).toBe(
      'the multipart body has too many files (the limit is 1, MAX_FILES)',
    );
    const fields = new FormData();
    for (const name of ['a', 'b', 'c']) fields.append(name, 'x');
    const tooManyFields = await request(`${server.url}/predict`, { method: 'POST', body: fields });
    expect(tooManyFields.statusCode).toBe(413);
    await tooManyFields.body.dump();
  });

  test('requests beyond concurrency and queue get 429 with Retry-After; the others are answered', async () => {
    const server = await serve({ CONCURRENCY: '1', MAX_QUEUE: '2' });
    const responses = await Promise.all(
      Array.from({ length: 6 }, async (_, index) => {
        const response = await predict(server, { delay_ms: 400, note: String(index) });
        return { status: response.statusCode, retryAfter: response.headers['retry-after'], body: (await response.body.json()) as Record<string, any> };
      }),
    );
    const refused = responses.filter((response) => response.status === 429);
    const answered = responses.filter((response) => response.status === 200);
    expect(refused).toHaveLength(3);
    expect(answered).toHaveLength(3);
    for (const response of refused) {
      expect(response.retryAfter).toBe('1');
      expect(response.body.error.code).toBe('AI_ERR_QUEUE_FULL');
    }
    const metrics = await (await request(`${server.url}/metrics`)).body.text();
    expect(metrics).toMatch(/^http_requests_total\{route="\/predict",method="POST",status="429"\} 3$/m);
  });

  test('an inference past INFERENCE_TIMEOUT_MS is 504', async () => {
    const server = await serve({ INFERENCE_TIMEOUT_MS: '200' });
    // An inference that never returns: the timeout, not a race with the model's speed.
    const response = await predict(server, { action: 'hang' });
    expect(response.statusCode).toBe(504);
    expect(((await response.body.json()) as { error: unknown }).error).toEqual({
      code: 'AI_ERR_TIMEOUT',
      message: 'inference took longer than 200 ms (INFERENCE_TIMEOUT_MS)',
    });
  });

  test('a slow client does not hold up others, and is answered when it is done', async () => {
    const server = await serve();
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    const body = JSON.stringify({ inputs: { note: 'slow' } });
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
    );
    const fast = await predict(server, { note: 'fast' });
    expect(((await fast.body.json()) as { output: { received: { note: string } } }).output.received.note).toBe('fast');
    expect(reply).toBe('');
    socket.end(body.slice(10));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(reply).toContain('"note":"slow"');
  });

  test('a client that disconnects mid-upload leaves the server serving', async () => {
    const server = await serve();
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n`,
    );
    socket.write(Buffer.alloc(500_000));
    await new Promise<void>((resolve, reject) => socket.write('', (error) => (error ? reject(error) : resolve())));
    socket.destroy();
    // The server has read the upload's bytes and seen the connection go.
    await everythingSentIsRead(server.url, '/health/live');
    const after = await predict(server, { note: 'still here' });
    expect(after.statusCode).toBe(200);
    await after.body.dump();
    expect(server.child.exitCode).toBeNull();
  });
});
