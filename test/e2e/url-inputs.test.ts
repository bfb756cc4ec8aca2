import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../helpers/http-server.js';
import { makeJpeg, sha256 } from '../helpers/images.js';
import { fixture, runScript, stdoutJson } from '../helpers/run-process.js';

// Every server here listens on loopback (127.0.0.1, 127.0.0.2); the refused addresses outside
// loopback (169.254.169.254, 10.0.0.1) are tested on the address check itself (test/unit/url-*).

interface Site {
  url: string;
  port: number;
  /** The paths requested so far. */
  paths: string[];
  server: Server;
}

async function listen(host: string, handler: (request: IncomingMessage, response: ServerResponse, site: Site) => void): Promise<Site> {
  const server = createServer();
  const site: Site = { url: '', port: 0, paths: [], server };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    site.paths.push(request.url ?? '');
    handler(request, response, site);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  site.port = (server.address() as AddressInfo).port;
  site.url = `http://${host}:${site.port}`;
  return site;
}

let photo: Buffer;
let streamed = 0;
let streamStopped!: () => void;
const streamClosed = new Promise<void>((resolve) => (streamStopped = resolve));
let site: Site; // the image server the tests allow
let decoy: Site; // what the refused URLs point at: it must never be asked for anything
let inner: Site; // on 127.0.0.2, where the allowed site redirects
const servers: RunningServer[] = [];
let open: RunningServer; // URL_INPUTS_ALLOW_PRIVATE=true
let guarded: RunningServer; // only the image server allowed (URL_INPUTS_ALLOW_HOSTS)

beforeAll(async () => {
  photo = await makeJpeg(40, 30);
  site = await listen('127.0.0.1', (request, response, self) => {
    if (request.url === '/photo.jpg') response.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
    else if (request.url === '/moved') response.writeHead(302, { location: '/photo.jpg' }).end();
    else if (request.url?.startsWith('/loop')) response.writeHead(302, { location: `/loop${self.paths.length}` }).end();
    else if (request.url === '/to-inner') response.writeHead(302, { location: `${inner.url}/secret` }).end();
    else if (request.url === '/missing.jpg') response.writeHead(404).end('no such photo');
    else if (request.url === '/endless') {
      // Streams for as long as it is read (up to 1 GB): the fetcher must stop it.
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (!response.destroyed && streamed < 1024 ** 3) {
          streamed += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
      };
      response.on('close', streamStopped);
      pump();
    }
    // '/never': no answer at all
  });
  decoy = await listen('127.0.0.1', (_request, response) => response.end(photo));
  inner = await listen('127.0.0.2', (_request, response) => response.end(photo));
  const model = fixture('http-model.mjs');
  [open, guarded] = await Promise.all([
    startServer(model, { URL_INPUTS_ALLOW_PRIVATE: 'true', MAX_INPUT_BYTES: '1000000', URL_FETCH_TIMEOUT_MS: '1000', URL_MAX_REDIRECTS: '2' }),
    startServer(model, { URL_INPUTS_ALLOW_HOSTS: `127.0.0.1:${site.port}` }),
  ]);
  servers.push(open, guarded);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  for (const each of [site, decoy, inner]) {
    each?.server.closeAllConnections();
    each?.server.close();
  }
});

async function predict(server: RunningServer, inputs: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const response = await request(`${server.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs }),
  });
  return { status: response.statusCode, body: await response.body.json() };
}

describe('URL inputs in the native JSON API', () => {
  test('an image URL is fetched (redirects followed) and the model gets its bytes', async () => {
    for (const path of ['/photo.jpg', '/moved']) {
      const answer = await predict(open, { image: `${site.url}${path}`, note: 'url' });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'succeeded', output: { received: { image: '40x30 jpeg', note: 'url' } } });
    }
  });

  test('loopback is refused without a connection, whether written as 127.0.0.1, [::1] or a name that resolves to it', async () => {
    for (const [url, message] of [
      [
        `${decoy.url}/photo.jpg`,
        "image: the URL's host is 127.0.0.1, a loopback address; private addresses are refused (URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS)",
      ],
      [`http://[::1]:${decoy.port}/photo.jpg`, "image: the URL's host is ::1, a loopback address; private addresses are refused"],
      [`http://localhost:${decoy.port}/photo.jpg`, "image: the URL's host localhost resolves to"],
    ] as const) {
      const answer = await predict(guarded, { image: url });
      expect(answer.status).toBe(422);
      expect(answer.body.error).toMatchObject({ code: 'AI_ERR_INVALID_INPUT', field: 'image' });
      expect(answer.body.error.message).toContain(message);
      expect(answer.body.error.message).toMatch(/a loopback address/);
    }
    expect(decoy.paths).toEqual([]);
  });

  test('an allow-listed host is fetched; its redirect to an address that is not allowed (127.0.0.2) is refused before connecting', async () => {
    expect((await predict(guarded, { image: `${site.url}/photo.jpg` })).body).toMatchObject({
      status: 'succeeded',
      output: { received: { image: '40x30 jpeg' } },
    });
    const answer = await predict(guarded, { image: `${site.url}/to-inner` });
    expect(answer.status).toBe(422);
    expect(answer.body.error.message).toBe(
      `image: the URL redirected to ${inner.url}/secret, whose host is 127.0.0.2, a loopback address; private addresses are refused (URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS)`,
    );
    expect(inner.paths).toEqual([]);
  });

  test('size, time and redirect limits, and a status other than 2xx: 422 naming the input', async () => {
    const tooLarge = await predict(open, { image: `${site.url}/endless` });
    expect(tooLarge.status).toBe(422);
    expect(tooLarge.body.error.message).toBe(`image: ${site.url}/endless is larger than the limit of 1000000 bytes (MAX_INPUT_BYTES)`);
    await streamClosed; // stopped while streaming, far from its end
    expect(streamed).toBeLessThan(1024 ** 3);

    const slow = await predict(open, { image: `${site.url}/never` });
    expect(slow.status).toBe(422);
    expect(slow.body.error.message).toBe(`image: fetching ${site.url}/never took longer than 1000 ms (URL_FETCH_TIMEOUT_MS)`);

    const before = site.paths.length;
    const looping = await predict(open, { image: `${site.url}/loop` });
    expect(looping.status).toBe(422);
    expect(looping.body.error.message).toBe(`image: ${site.url}/loop redirected more than 2 times (URL_MAX_REDIRECTS)`);
    expect(site.paths.length - before).toBe(3);

    const missing = await predict(open, { image: `${site.url}/missing.jpg` });
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toContain('answered HTTP 404');
  });
});

describe('URL inputs in the Cog API', () => {
  test("an http(s) URL in Cog's input is fetched", async () => {
    const cog = await startServer(fixture('cog-model.mjs'), { MODE: 'cog', URL_INPUTS_ALLOW_PRIVATE: 'true' });
    servers.push(cog);
    const response = await request(`${cog.url}/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { image: `${site.url}/photo.jpg` } }),
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toMatchObject({ status: 'succeeded', output: { image: '40x30 jpeg' } });
    await cog.stop();
  });
});

describe('URL inputs in the KServe API', () => {
  test('a BYTES element that is an http(s) URL is fetched', async () => {
    const kserve = await startServer(fixture('http-model.mjs'), { MODE: 'kserve', URL_INPUTS_ALLOW_PRIVATE: 'true' });
    servers.push(kserve);
    const body = { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [`${site.url}/photo.jpg`] }] };
    const response = await request(`${kserve.url}/v2/models/http-model/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    expect(response.statusCode, text).toBe(200);
    expect(text).toContain('40x30 jpeg');
    await kserve.stop();
  });
});

describe('URL inputs on the command line and stdin', () => {
  const echoModel = fixture('echo-model.mjs');

  test('--image https://... is fetched; refused (exit 2) when the address is not allowed, and with a hint when URL_INPUTS=false', async () => {
    const fetched = await runScript(echoModel, { mode: 'command_line', args: ['--image', `${site.url}/photo.jpg`], env: { URL_INPUTS_ALLOW_PRIVATE: 'true' } });
    expect(fetched.code).toBe(0);
    expect(stdoutJson(fetched).inputs.image).toEqual({ bytes: photo.length, sha256: sha256(photo) });

    const refused = await runScript(echoModel, { mode: 'command_line', args: ['--image', `${decoy.url}/photo.jpg`] });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("image: the URL's host is 127.0.0.1, a loopback address; private addresses are refused");

    const off = await runScript(echoModel, { mode: 'command_line', args: ['--image', `${decoy.url}/photo.jpg`], env: { URL_INPUTS: 'false' } });
    expect(off.code).toBe(2);
    expect(off.stderr).toContain('image: is not valid base64: it is an http(s) URL, and URL inputs are turned off here (URL_INPUTS=false)');
    expect(decoy.paths).toEqual([]);
  });

  test('stdin JSON (test_inputs_dict_json) fetches a URL input too', async () => {
    const outcome = await runScript(echoModel, {
      mode: 'test_inputs_dict_json',
      stdin: JSON.stringify({ image: `${site.url}/photo.jpg` }),
      env: { URL_INPUTS_ALLOW_HOSTS: `127.0.0.1:${site.port}` },
    });
    expect(outcome.code).toBe(0);
    expect(stdoutJson(outcome).inputs.image).toEqual({ bytes: photo.length, sha256: sha256(photo) });
  });

  test('a malformed URL setting stops the program before it starts (exit 3)', async () => {
    const outcome = await runScript(echoModel, { mode: 'command_line', args: ['--image', `${site.url}/photo.jpg`], env: { URL_FETCH_TIMEOUT_MS: 'soon' } });
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain('URL_FETCH_TIMEOUT_MS="soon" is not a positive integer');
  });
});
