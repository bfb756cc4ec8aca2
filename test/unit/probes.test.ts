import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { livenessProbe, readinessProbe } from '../../src/http/probes.js';
import type { Readiness, RouteHandler } from '../../src/http/protocol.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

// One GET through a real server: the status, the content type and the body as text.
async function probe(handler: RouteHandler): Promise<{ status: number; type: string | null; body: string }> {
  server = createServer((request, response) => void handler({ request, response, id: 'test', params: {} }));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const answer = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  return { status: answer.status, type: answer.headers.get('content-type'), body: await answer.text() };
}

const ready: Readiness = { status: 'ready' };
const restarting: Readiness = { status: 'restarting', reason: 'the model is restarting' };

describe('probes', () => {
  test('readiness: 200 ready, 503 otherwise, with the readiness as the body by default', async () => {
    expect(await probe(readinessProbe({ readiness: () => ready }))).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: '{"status":"ready"}',
    });
    expect(await probe(readinessProbe({ readiness: () => restarting }))).toMatchObject({ status: 503, body: JSON.stringify(restarting) });
  });

  test("readiness with the protocol's body, or none", async () => {
    expect(await probe(readinessProbe({ readiness: () => restarting }, (readiness) => ({ ready: readiness.status === 'ready' })))).toMatchObject({
      status: 503,
      body: '{"ready":false}',
    });
    expect(await probe(readinessProbe({ readiness: () => ready }, () => undefined))).toEqual({ status: 200, type: null, body: '' });
  });

  test('liveness: 200 live, 503 not, the body made for each', async () => {
    const body = (live: boolean) => ({ live });
    expect(await probe(livenessProbe({ live: () => true }, body))).toMatchObject({ status: 200, body: '{"live":true}' });
    expect(await probe(livenessProbe({ live: () => false }, body))).toMatchObject({ status: 503, body: '{"live":false}' });
  });
});
