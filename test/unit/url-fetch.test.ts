import diagnosticsChannel from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { buildConnector } from 'undici';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { convertInputs } from '../../src/inputs/convert-inputs.js';
import type { UrlInputSettings } from '../../src/settings-parts/url-inputs.js';
import { UrlFetcher } from '../../src/url-inputs/fetch-url.js';
import { makeJpeg } from '../helpers/images.js';

const settings = (overrides: Partial<UrlInputSettings> = {}): UrlInputSettings => ({
  enabled: true,
  maxBytes: 1024 * 1024,
  timeoutMs: 10_000,
  maxRedirects: 5,
  allowPrivate: false,
  allowHosts: [],
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
}

/** A server on 127.0.0.1 (or another loopback address) that records each request's path and answers with `handler`. */
async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void, host = '127.0.0.1') {
  const paths: string[] = [];
  const server: Server = createServer((request, response) => {
    paths.push(request.url ?? '');
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    paths,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the address check, with DNS and the connection replaced (no traffic at all)', () => {
  // Every connection the fetcher would open goes to this connector, which opens none.
  const attempts: string[] = [];
  const connect: buildConnector.connector = (options, callback) => {
    attempts.push(options.hostname);
    callback(new Error('test: no connection is ever opened here'), null);
  };
  const lookups: string[] = [];
  const dns: Record<string, string[]> = {
    'metadata.test': ['169.254.169.254'],
    'intranet.test': ['10.0.0.1'],
    localhost: ['127.0.0.1', '::1'],
    'rebind.test': ['93.184.216.34', '127.0.0.1'],
    'six.test': ['::ffff:10.0.0.1'],
    'public.test': ['93.184.216.34'],
  };
  const fetcher = new UrlFetcher(settings(), {
    connect,
    resolve: async (hostname) => {
      lookups.push(hostname);
      const answers = dns[hostname];
      if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  });
  afterAll(() => fetcher.close());

  test.each([
    [
      'http://127.0.0.1:8080/a.jpg',
      "image: the URL's host is 127.0.0.1, a loopback address; private addresses are refused (URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS)",
    ],
    [
      'http://169.254.169.254/latest/meta-data/',
      "image: the URL's host is 169.254.169.254, a link-local address (cloud metadata); private addresses are refused",
    ],
    ['http://10.0.0.1/', "image: the URL's host is 10.0.0.1, a private address (10.0.0.0/8)"],
    ['http://[::1]:5000/', "image: the URL's host is ::1, a loopback address"],
    ['http://[::ffff:169.254.169.254]/', 'an IPv4-mapped form of 169.254.169.254, a link-local address (cloud metadata)'],
    ['http://2130706433/', "the URL's host is 127.0.0.1, a loopback address"], // the URL parser's spelling of 127.0.0.1
    ['http://0x7f.1/', "the URL's host is 127.0.0.1, a loopback address"],
    ['https://0.0.0.0/', "a 'this network' address"],
    ['http://metadata.test/', "image: the URL's host metadata.test resolves to 169.254.169.254, a link-local address (cloud metadata)"],
    ['http://intranet.test/', "the URL's host intranet.test resolves to 10.0.0.1, a private address"],
    ['http://localhost:5000/', "the URL's host localhost resolves to 127.0.0.1, a loopback address"],
    ['https://rebind.test/', "the URL's host rebind.test resolves to 127.0.0.1, a loopback address"],
    ['http://six.test/', 'resolves to ::ffff:10.0.0.1, an IPv4-mapped form of 10.0.0.1, a private address'],
  ])('%s is refused before any connection', async (url, message) => {
    const before = attempts.length;
    const error = await refusal(fetcher.fetch('image', url));
    expect(error.code).toBe('AI_ERR_INVALID_INPUT');
    expect(error.message).toContain(message);
    expect(attempts.length).toBe(before);
  });

  test('a public address passes the check, and the connection goes to the very address that was checked (resolved once)', async () => {
    lookups.length = 0;
    const before = attempts.length;
    const error = await refusal(fetcher.fetch('image', 'http://public.test/cat.jpg?signature=secret'));
    expect(attempts.slice(before)).toEqual(['93.184.216.34']);
    expect(lookups).toEqual(['public.test']);
    expect(error.message).toMatch(/^image: cannot fetch http:\/\/public\.test\/cat\.jpg: test: no connection/);
    expect(error.message).not.toContain('secret'); // signed URLs carry their secrets in the query
  });

  test('an unknown host, and what is not an http(s) URL', async () => {
    expect((await refusal(fetcher.fetch('image', 'http://nowhere.test/'))).message).toBe(
      'image: cannot fetch http://nowhere.test/: the host nowhere.test was not found',
    );
    expect((await refusal(fetcher.fetch('image', 'http://exa mple/'))).message).toMatch(/^image: is not a valid URL/);
  });
});

describe('fetching from a local server', () => {
  let photo: Buffer;
  beforeAll(async () => {
    photo = await makeJpeg(40, 30);
  });

  test('the bytes, across redirects (relative and absolute), when private addresses are allowed', async () => {
    const site = await listen((request, response) => {
      if (request.url === '/start') response.writeHead(302, { location: '/middle' }).end();
      else if (request.url === '/middle') response.writeHead(301, { location: `http://127.0.0.1:${site.port}/photo.jpg` }).end();
      else response.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
    });
    const fetcher = new UrlFetcher(settings({ allowPrivate: true }));
    try {
      expect((await fetcher.fetch('image', `${site.url}/start`)).equals(photo)).toBe(true);
      expect(site.paths).toEqual(['/start', '/middle', '/photo.jpg']);
    } finally {
      await fetcher.close();
      await site.close();
    }
  });

  test('more redirects than URL_MAX_REDIRECTS is refused after exactly that many', async () => {
    const site = await listen((_request, response) => response.writeHead(307, { location: `/hop${site.paths.length}` }).end());
    const fetcher = new UrlFetcher(settings({ allowPrivate: true, maxRedirects: 2 }));
    try {
      const error = await refusal(fetcher.fetch('file', `${site.url}/hop0`));
      expect(error.message).toBe(`file: http://127.0.0.1:${site.port}/hop0 redirected more than 2 times (URL_MAX_REDIRECTS)`);
      expect(site.paths).toEqual(['/hop0', '/hop1', '/hop2']);
    } finally {
      await fetcher.close();
      await site.close();
    }
  });

  test('a redirect from an allowed host to an address that is not allowed is refused before connecting to it', async () => {
    // 127.0.0.2 is loopback too: even if the check failed, nothing would leave this machine.
    const target = await listen((_request, response) => response.end('secret'), '127.0.0.2');
    const site = await listen((_request, response) => response.writeHead(302, { location: `${target.url}/internal` }).end());
    const fetcher = new UrlFetcher(settings({ allowHosts: [{ host: '127.0.0.1', port: site.port }] }));
    try {
      const error = await refusal(fetcher.fetch('image', `${site.url}/photo.jpg`));
      expect(error.message).toBe(
        `image: the URL redirected to ${target.url}/internal, whose host is 127.0.0.2, a loopback address; private addresses are refused (URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS)`,
      );
      expect(site.paths).toEqual(['/photo.jpg']);
      expect(target.paths).toEqual([]);
    } finally {
      await fetcher.close();
      await site.close();
      await target.close();
    }
  });

  test('an allow-list entry with a port allows that port only', async () => {
    const site = await listen((_request, response) => response.end(photo));
    const allowed = new UrlFetcher(settings({ allowHosts: [{ host: '127.0.0.1', port: site.port }] }));
    const otherPort = new UrlFetcher(settings({ allowHosts: [{ host: '127.0.0.1', port: site.port === 65535 ? 1 : site.port + 1 }] }));
    try {
      expect((await allowed.fetch('image', `${site.url}/a`)).equals(photo)).toBe(true);
      expect((await refusal(otherPort.fetch('image', `${site.url}/b`))).message).toContain("the URL's host is 127.0.0.1, a loopback address");
      expect(site.paths).toEqual(['/a']);
    } finally {
      await allowed.close();
      await otherPort.close();
      await site.close();
    }
  });

  test('a body past the size limit is stopped while it streams; a declared one is refused before reading', async () => {
    let sent = 0;
    let finished = false;
    let streamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (streamClosed = resolve));
    const server = await listen((request, response) => {
      if (request.url === '/declared') {
        response.writeHead(200, { 'content-length': String(10 * 1024 * 1024) }).write(Buffer.alloc(1024));
        return;
      }
      // An endless body (up to 1 GB), written as fast as the client reads it.
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (!response.destroyed && sent < 1024 * 1024 * 1024) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        finished = true;
      };
      response.on('close', streamClosed);
      pump();
    });
    const fetcher = new UrlFetcher(settings({ allowPrivate: true, maxBytes: 1024 * 1024 }));
    try {
      const error = await refusal(fetcher.fetch('file', `${server.url}/endless`));
      expect(error.message).toBe(`file: http://127.0.0.1:${server.port}/endless is larger than the limit of 1048576 bytes (MAX_INPUT_BYTES)`);
      await closed;
      expect(finished).toBe(false);
      expect(sent).toBeLessThan(1024 * 1024 * 1024);
      expect((await refusal(fetcher.fetch('file', `${server.url}/declared`))).message).toContain('is larger than the limit of 1048576 bytes (MAX_INPUT_BYTES)');
    } finally {
      await fetcher.close();
      await server.close();
    }
  });

  test('a server that never answers is given up on after URL_FETCH_TIMEOUT_MS; one that stalls mid-body too', async () => {
    const arrived = new Map<string, () => void>();
    const site = await listen((request, response) => {
      if (request.url === '/stall') response.writeHead(200).write('partial');
      // otherwise: never answers
      arrived.get(request.url ?? '')?.();
    });
    // The fetcher's clock is a fake one, moved by hand once the request is where the test wants it.
    // undici's own timeouts (the same 5 s, on its own timer wheel) stay real, so they never come first.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fetcher = new UrlFetcher(settings({ allowPrivate: true, timeoutMs: 5_000 }));
    /** Fetches `path`; resolves once the request is where `at` says, with the refusal to come. */
    const fetchUntil = async (path: string, at: Promise<unknown>) => {
      let settled = false;
      const refused = refusal(fetcher.fetch('image', `${site.url}${path}`)).finally(() => (settled = true));
      await at;
      return { refused, settled: () => settled };
    };
    const headersOf = (path: string) =>
      new Promise<void>((resolve) => {
        const onHeaders = (message: unknown) => {
          if ((message as { request: { path: string } }).request.path !== path) return;
          diagnosticsChannel.unsubscribe('undici:request:headers', onHeaders);
          resolve();
        };
        diagnosticsChannel.subscribe('undici:request:headers', onHeaders);
      });
    try {
      // Never: the request has reached the server, which says nothing.
      const never = await fetchUntil('/never', new Promise<void>((resolve) => arrived.set('/never', resolve)));
      await vi.advanceTimersByTimeAsync(4_999);
      expect(never.settled()).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect((await never.refused).message).toBe(`image: fetching http://127.0.0.1:${site.port}/never took longer than 5000 ms (URL_FETCH_TIMEOUT_MS)`);
      // Stalls mid-body: the answer's headers have come, then part of the body, then nothing.
      const stall = await fetchUntil('/stall', headersOf('/stall'));
      await vi.advanceTimersByTimeAsync(4_999);
      expect(stall.settled()).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect((await stall.refused).message).toBe(`image: fetching http://127.0.0.1:${site.port}/stall took longer than 5000 ms (URL_FETCH_TIMEOUT_MS)`);
    } finally {
      vi.useRealTimers();
      await fetcher.close();
      await site.close();
    }
  });

  test('a status other than 2xx names the input and the status', async () => {
    const site = await listen((_request, response) => response.writeHead(404).end('not here'));
    const fetcher = new UrlFetcher(settings({ allowPrivate: true }));
    try {
      const error = await refusal(fetcher.fetch('image', `${site.url}/missing.jpg`));
      expect(error).toMatchObject({ code: 'AI_ERR_INVALID_INPUT' });
      expect(error.message).toBe(`image: fetching http://127.0.0.1:${site.port}/missing.jpg answered HTTP 404; expected 2xx with the image's data`);
    } finally {
      await fetcher.close();
      await site.close();
    }
  });
});

describe('convertInputs with URL inputs', () => {
  test('a fetched image goes through the same checks as any image; URL_INPUTS=false refuses with a hint', async () => {
    const photo = await makeJpeg(20, 10);
    const broken = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(40)]);
    const site = await listen((request, response) => response.end(request.url === '/photo.jpg' ? photo : broken));
    const urlInputs = settings({ allowPrivate: true });
    const schema = { image: { type: 'image' }, attachment: { type: 'file', required: false } } as const;
    try {
      const inputs = await convertInputs(schema, { image: `${site.url}/photo.jpg`, attachment: `${site.url}/any` }, { origin: 'data', urlInputs });
      expect((inputs.image as Buffer).equals(photo)).toBe(true);
      expect((inputs.attachment as Buffer).equals(broken)).toBe(true);
      await expect(convertInputs(schema, { image: `${site.url}/broken.jpg` }, { origin: 'data', urlInputs })).rejects.toThrow(
        /^image: is not an image that can be decoded/,
      );
      await expect(convertInputs(schema, { image: `${site.url}/photo.jpg` }, { origin: 'data', urlInputs: { ...urlInputs, enabled: false } })).rejects.toThrow(
        'image: is not valid base64: it is an http(s) URL, and URL inputs are turned off here (URL_INPUTS=false); send the data itself as base64 or a data: URL',
      );
      await expect(convertInputs(schema, { image: `${site.url}/photo.jpg` }, { origin: 'data' })).rejects.toThrow(
        /is not valid base64: it is an http\(s\) URL/,
      );
      expect(site.paths).toEqual(['/photo.jpg', '/any', '/broken.jpg']);
    } finally {
      await site.close();
    }
  });
});
