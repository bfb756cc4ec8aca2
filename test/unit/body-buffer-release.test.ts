// When the HTTP exchange tells the supervisor's buffer pool it is done with a body
// (src/supervisor/gather-pool.ts): once the response has closed and the route's handler has
// settled, for a protocol whose handlers say they keep no view of the body (the built-in modes),
// and never for a mode of one's own that does not say so. Run in process with an allocator that
// records the releases in place of the supervisor's pool.
import { FormData } from 'undici';
import { afterEach, expect, test, vi } from 'vitest';
import type { HttpProtocol } from '../../src/http/protocol.js';
import { sendJson } from '../../src/http/respond.js';
import { useGatherAllocator } from '../../src/inputs/gather-buffer.js';
import { startInProcess } from '../helpers/in-process-service.js';

const model = {
  inference: () => ({ 'content-type': 'text/plain', data: 'ok', success: true }),
  schema: { file: { type: 'file' } },
} as const;

let gathered = 0;
let released = 0;
afterEach(() => {
  useGatherAllocator(undefined);
  gathered = 0;
  released = 0;
});
function recordReleases(): void {
  useGatherAllocator({
    allocate: (length, owner) => {
      if (!owner) return undefined;
      const bytes = Buffer.allocUnsafe(length);
      gathered++;
      owner.whenDone(() => released++);
      return { bytes, write: (chunk, at) => void chunk.copy(bytes, at) };
    },
    hold: () => undefined,
  });
}

// A mode of one's own that reads a raw body; `handlersReleaseBodies` as given.
const ownProtocol = (handlersReleaseBodies: boolean): HttpProtocol => ({
  name: 'own',
  defaultPort: 5000,
  summary: 'POST /upload',
  ...(handlersReleaseBodies ? { handlersReleaseBodies } : {}),
  routes: (core) => [
    {
      method: 'POST',
      path: '/upload',
      handler: async (route) => {
        const body = await core.readBody(route);
        sendJson(route.response, 200, { length: body.length });
      },
    },
  ],
  openApi: () => ({}),
});

const body = Buffer.alloc(1024 * 1024, 7);
const octets = { 'content-type': 'application/octet-stream' };

test('a built-in mode releases the buffer of a body once its response is done', async () => {
  recordReleases();
  const service = await startInProcess({ mode: 'http', model });
  try {
    const form = new FormData();
    form.append('file', new Blob([body]), 'file.bin');
    const answer = await service.inject({ method: 'POST', url: '/predict', body: form });
    expect(answer.status, answer.text()).toBe(200);
    expect(gathered).toBe(1);
    await vi.waitFor(() => expect(released).toBe(1));
  } finally {
    await service.close();
  }
});

test('a mode of its own releases it only when its protocol says its handlers keep no view of the body', async () => {
  recordReleases();
  const saying = await startInProcess({ mode: 'http', model, protocol: ownProtocol(true) });
  const silent = await startInProcess({ mode: 'http', model, protocol: ownProtocol(false) });
  try {
    const first = await silent.inject({ method: 'POST', url: '/upload', headers: octets, body });
    expect(first.json()).toEqual({ length: body.length });
    expect(gathered).toBe(1);
    // The same exchange on a protocol that says so is released: the silent one had as long.
    const second = await saying.inject({ method: 'POST', url: '/upload', headers: octets, body });
    expect(second.json()).toEqual({ length: body.length });
    expect(gathered).toBe(2);
    await vi.waitFor(() => expect(released).toBe(1));
    // Another round trip on the silent one: its first exchange has long closed, and still nothing.
    await silent.inject({ method: 'POST', url: '/upload', headers: octets, body });
    expect(gathered).toBe(3);
    expect(released).toBe(1);
  } finally {
    await Promise.all([saying.close(), silent.close()]);
  }
});
