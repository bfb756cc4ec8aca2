// Webhook delivery against real receivers over loopback HTTP (the native API, in the test's own
// process: test/helpers/in-process-service.ts): fairness between receivers, the bound that refuses
// new webhook predictions rather than drop a `completed` call, Standard Webhooks signatures, and
// where WEBHOOK_AUTH_TOKEN may go.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { json } from '../../src/result/result-helpers.js';
import { WebhookVerificationError, verifyWebhook } from '../../src/webhooks.js';
import { startInProcess, type InProcessService } from '../helpers/in-process-service.js';

const model = {
  inference: async (inputs: { note?: string }) => json({ note: inputs.note ?? null }),
  schema: { note: { type: 'text' as const, required: false } },
};

const services: InProcessService[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await Promise.all(services.splice(0).map((service) => service.close()));
});

async function serve(env: Record<string, string>): Promise<InProcessService> {
  // The drain waits for the completed calls owed: a test's dead receivers would hold each
  // teardown for the whole default SHUTDOWN_TIMEOUT_MS.
  const service = await startInProcess({ mode: 'http', model: model as never, env: { SHUTDOWN_TIMEOUT_MS: '200', ...env } });
  services.push(service);
  return service;
}

interface Call {
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, any>;
}

/** Calls held unanswered across every receiver of a test now, and the most at once. */
let heldCalls = { now: 0, most: 0 };
afterEach(() => {
  // A fresh count: the calls of this test close later, into the count they were held in.
  heldCalls = { now: 0, most: 0 };
});

/**
 * A webhook receiver on 127.0.0.1. `answer` gives each call's status, or undefined to hold it
 * unanswered (a dead receiver: it accepts and never responds) until `release(status)`, or
 * 'reset' to close the connection with no answer.
 */
async function receiver(answer: (call: Call, index: number) => number | 'reset' | undefined = () => 200) {
  const calls: Call[] = [];
  const held: ServerResponse[] = [];
  const sockets: Socket[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let released: number | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const call = { headers: request.headers, body, json: JSON.parse(body) as Record<string, any> };
      calls.push(call);
      const status = released ?? answer(call, calls.length - 1);
      if (status === 'reset') request.socket.destroy();
      else if (status !== undefined) response.writeHead(status).end();
      else {
        held.push(response);
        const count = heldCalls;
        count.most = Math.max(count.most, ++count.now);
        response.on('close', () => count.now--);
      }
      for (const waiter of waiters.filter((waiter) => calls.length >= waiter.count)) waiter.resolve();
    });
  });
  // Its keep-alive hint (Keep-Alive: timeout=...) lets the sender hold an idle connection for minutes.
  server.keepAliveTimeout = 600_000;
  server.on('connection', (socket: Socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/hook`,
    calls,
    /** Calls received and not answered yet. */
    open: () => held.filter((response) => !response.writableEnded && !response.destroyed).length,
    /** Resolves once `count` calls have arrived. */
    received: (count: number) =>
      calls.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve: () => resolve() })),
    /** Resolves once every connection the sender opened to it has been closed by the sender. */
    allClosed: () => Promise.all(sockets.map((socket) => (socket.closed ? undefined : once(socket, 'close')))),
    /** Answers the held calls, and every later one, with `status`. */
    release(status = 200) {
      released = status;
      for (const response of held.splice(0)) if (!response.destroyed) response.writeHead(status).end();
    },
  };
}

const submit = (service: InProcessService, note: string, webhook: string, headers: Record<string, string> = { prefer: 'respond-async' }) =>
  service.inject({
    method: 'POST',
    url: '/predict',
    body: { inputs: { note } },
    headers: { ...headers, webhook, 'webhook-events-filter': 'completed' },
  });

describe('fair delivery: receivers that never answer hold up no other', () => {
  // WEBHOOK_TIMEOUT_MS of 60 s: no call times out while a test runs, so a dead receiver's slots
  // stay held throughout, and a live receiver's call either arrives at once or not at all.
  test("a dead receiver not heard from before holds one slot; another receiver's completed arrives meanwhile", async () => {
    const service = await serve({ WEBHOOK_CONCURRENCY: '3', WEBHOOK_RECEIVER_CONCURRENCY: '2', WEBHOOK_TIMEOUT_MS: '60000' });
    const dead = await receiver(() => undefined);
    const live = await receiver();
    // More predictions naming the dead receiver than there were shared slots before (16).
    for (let index = 0; index < 20; index++) expect((await submit(service, `dead-${index}`, dead.url)).status).toBe(202);
    await dead.received(1);
    const accepted = await submit(service, 'live', live.url);
    expect(accepted.status).toBe(202);
    await live.received(1);
    // Observed at the receivers: the live call came while the dead one held its slot, and no more
    // than one call ever reached the dead one (it never answered, so it never earned more).
    expect(dead.open()).toBe(1);
    expect(dead.calls).toHaveLength(1);
    expect(live.calls[0]!.json).toMatchObject({ id: accepted.json().id, status: 'succeeded', output: { note: 'live' } });
  });

  test('a receiver that answers gets WEBHOOK_RECEIVER_CONCURRENCY calls at once', async () => {
    const service = await serve({ WEBHOOK_RECEIVER_CONCURRENCY: '3', WEBHOOK_TIMEOUT_MS: '60000' });
    // It answers its first call, then holds every later one.
    const slow = await receiver((_, index) => (index === 0 ? 200 : undefined));
    await submit(service, 'first', slow.url);
    await slow.received(1);
    await expect.poll(() => slow.open(), { timeout: 5000 }).toBe(0);
    for (let index = 0; index < 6; index++) await submit(service, `held-${index}`, slow.url);
    await slow.received(4);
    expect(slow.open()).toBe(3);
  });

  test("many dead receivers, more than WEBHOOK_CONCURRENCY / WEBHOOK_RECEIVER_CONCURRENCY: a new receiver's completed still arrives at once", async () => {
    const service = await serve({ WEBHOOK_CONCURRENCY: '16', WEBHOOK_TIMEOUT_MS: '60000' });
    // 8 dead receivers x 3 predictions: before, 8 x 4 slots each >= 16 held every slot.
    const dead = await Promise.all(Array.from({ length: 8 }, () => receiver(() => undefined)));
    for (const [index, hook] of dead.entries()) for (let count = 0; count < 3; count++) await submit(service, `dead-${index}-${count}`, hook.url);
    await Promise.all(dead.map((hook) => hook.received(1)));
    const live = await receiver();
    const accepted = await submit(service, 'live', live.url);
    await live.received(1);
    expect(live.calls[0]!.json).toMatchObject({ id: accepted.json().id, status: 'succeeded' });
    expect(dead.map((hook) => hook.open())).toEqual(Array<number>(8).fill(1));
  });

  test('more dead receivers than the slots: a receiver that answered before gets its completed from the quarter of the slots kept for it', async () => {
    const service = await serve({ WEBHOOK_CONCURRENCY: '16', WEBHOOK_TIMEOUT_MS: '60000' });
    const live = await receiver();
    await submit(service, 'earlier', live.url);
    await live.received(1);
    // 20 dead receivers x 2 predictions: they hold three quarters of the slots (12), one each, and
    // the rest of their calls wait.
    const dead = await Promise.all(Array.from({ length: 20 }, () => receiver(() => undefined)));
    for (const [index, hook] of dead.entries()) for (let count = 0; count < 2; count++) await submit(service, `dead-${index}-${count}`, hook.url);
    await expect.poll(() => dead.reduce((sum, hook) => sum + hook.open(), 0), { timeout: 5000 }).toBe(12);
    const accepted = await submit(service, 'live', live.url);
    await live.received(2);
    expect(live.calls[1]!.json).toMatchObject({ id: accepted.json().id, status: 'succeeded', output: { note: 'live' } });
    expect(dead.reduce((sum, hook) => sum + hook.open(), 0)).toBe(12);
  });

  test('receivers whose last call got no answer: one call at a time each, a quarter of the slots between them; a new receiver is served meanwhile', async () => {
    const service = await serve({ WEBHOOK_CONCURRENCY: '16', WEBHOOK_TIMEOUT_MS: '60000' });
    // Each closes the connection on its first call (no answer: failing), and holds every later one.
    const dead = await Promise.all(Array.from({ length: 10 }, () => receiver((_, index) => (index === 0 ? 'reset' : undefined))));
    for (const [index, hook] of dead.entries()) for (let count = 0; count < 3; count++) await submit(service, `dead-${index}-${count}`, hook.url);
    // Their calls go on (the first one's retry, then the others), four at a time in all.
    await expect.poll(() => heldCalls.now, { timeout: 20_000 }).toBe(4);
    const live = await receiver();
    const accepted = await submit(service, 'live', live.url);
    await live.received(1);
    expect(live.calls[0]!.json).toMatchObject({ id: accepted.json().id, status: 'succeeded' });
    expect(heldCalls.most).toBe(4);
    expect(dead.every((hook) => hook.open() <= 1)).toBe(true);
  }, 30_000);
});

describe('the bound: new webhook predictions are refused, a completed call is never dropped', () => {
  test('past WEBHOOK_RECEIVER_MAX_PENDING a new prediction naming that receiver gets 429 with Retry-After; every completed owed arrives once the receiver answers', async () => {
    const service = await serve({ WEBHOOK_RECEIVER_MAX_PENDING: '3', WEBHOOK_RECEIVER_CONCURRENCY: '1', WEBHOOK_TIMEOUT_MS: '60000' });
    const slow = await receiver(() => undefined);
    const other = await receiver();
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const accepted = await submit(service, `owed-${index}`, slow.url);
      expect(accepted.status).toBe(202);
      ids.push(accepted.json().id);
    }
    // Refused before it runs, async or not: the receiver is owed three completed calls already.
    for (const headers of [{ prefer: 'respond-async' }, {}] as Record<string, string>[]) {
      const refused = await submit(service, 'refused', slow.url, headers);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.json().error).toMatchObject({ code: 'AI_ERR_WEBHOOKS_BEHIND' });
      expect(refused.json().error.message).toMatch(/WEBHOOK_RECEIVER_MAX_PENDING/);
    }
    // Another receiver is served meanwhile.
    expect((await submit(service, 'elsewhere', other.url)).status).toBe(202);
    await other.received(1);
    // Nothing was dropped: once the slow receiver answers, each of the three completed calls arrives.
    await slow.received(1);
    slow.release(200);
    await slow.received(3);
    expect(slow.calls.map((call) => [call.json.id, call.json.status]).sort()).toEqual(ids.map((id) => [id, 'succeeded']).sort());
    // Delivered, they are owed no more: the receiver takes new predictions again.
    await expect.poll(async () => (await submit(service, 'again', slow.url)).status, { timeout: 5000 }).toBe(202);
  });

  test('past WEBHOOK_MAX_PENDING, across receivers, a new webhook prediction gets 429; one without a webhook is served', async () => {
    const service = await serve({ WEBHOOK_MAX_PENDING: '2', WEBHOOK_TIMEOUT_MS: '60000' });
    const first = await receiver(() => undefined);
    const second = await receiver(() => undefined);
    expect((await submit(service, 'a', first.url)).status).toBe(202);
    expect((await submit(service, 'b', second.url)).status).toBe(202);
    const third = await receiver();
    const refused = await submit(service, 'c', third.url);
    expect(refused.status).toBe(429);
    expect(refused.json().error.message).toMatch(/WEBHOOK_MAX_PENDING/);
    expect((await service.inject({ method: 'POST', url: '/predict', body: { inputs: { note: 'plain' } } })).status).toBe(200);
  });
});

describe('signed webhooks (Standard Webhooks)', () => {
  const key = randomBytes(32);
  const secret = `whsec_${key.toString('base64')}`;
  // Computed here from the specification, not by the package's code.
  const expectedSignature = (call: Call) =>
    `v1,${createHmac('sha256', key).update(`${call.headers['webhook-id']}.${call.headers['webhook-timestamp']}.${call.body}`).digest('base64')}`;

  test('every call carries webhook-id (the same on a retry), webhook-timestamp and webhook-signature; verifyWebhook and an independent HMAC agree', async () => {
    const service = await serve({ WEBHOOK_SECRET: secret });
    const hook = await receiver((_, index) => (index === 0 ? 500 : 200));
    const accepted = await submit(service, 'signed', hook.url);
    await hook.received(2);
    const [first, retry] = hook.calls as [Call, Call];
    expect(first.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9]+$/);
    expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
    for (const call of [first, retry]) {
      expect(Math.abs(Number(call.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(call.headers['webhook-signature']).toBe(expectedSignature(call));
      expect(verifyWebhook(secret, call.headers, call.body)).toMatchObject({ id: accepted.json().id, status: 'succeeded', output: { note: 'signed' } });
    }
    // Fetch's Headers and a Buffer body, as other receivers hold them.
    expect(verifyWebhook(secret, new Headers(first.headers as Record<string, string>), Buffer.from(first.body))).toMatchObject({ status: 'succeeded' });
    // The bearer token is not sent: none is set.
    expect(first.headers.authorization).toBeUndefined();
  });

  test('verifyWebhook refuses a tampered body, an old or future timestamp, a wrong secret and a missing header; it takes any matching signature of several', async () => {
    const service = await serve({ WEBHOOK_SECRET: secret });
    const hook = await receiver();
    await submit(service, 'tamper', hook.url);
    await hook.received(1);
    const call = hook.calls[0]!;
    const timestamp = Number(call.headers['webhook-timestamp']);
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookVerificationError);
        expect((error as WebhookVerificationError).code).toBe('AI_ERR_WEBHOOK_UNVERIFIED');
        return (error as Error).message;
      }
      throw new Error('verifyWebhook accepted it');
    };
    expect(refusal(() => verifyWebhook(secret, call.headers, call.body.replace('tamper', 'tamped')))).toMatch(/no webhook-signature matches/);
    expect(refusal(() => verifyWebhook(secret, call.headers, call.body, { now: (timestamp + 301) * 1000 }))).toMatch(/301 s old/);
    expect(refusal(() => verifyWebhook(secret, call.headers, call.body, { now: (timestamp - 301) * 1000 }))).toMatch(/in the future/);
    expect(verifyWebhook(secret, call.headers, call.body, { now: (timestamp + 3000) * 1000, toleranceSeconds: 3600 })).toMatchObject({ status: 'succeeded' });
    expect(refusal(() => verifyWebhook(`whsec_${randomBytes(32).toString('base64')}`, call.headers, call.body))).toMatch(/no webhook-signature matches/);
    expect(refusal(() => verifyWebhook(secret, { ...call.headers, 'webhook-signature': undefined }, call.body))).toMatch(/webhook-signature header is missing/);
    // A signature made for another timestamp does not move to this one.
    expect(refusal(() => verifyWebhook(secret, { ...call.headers, 'webhook-timestamp': String(timestamp + 1) }, call.body))).toMatch(/no webhook-signature/);
    // Rotation: several signatures, space-separated; another scheme's (v1a) is skipped.
    const several = `v1a,${randomBytes(64).toString('base64')} v1,${randomBytes(32).toString('base64')} ${call.headers['webhook-signature']}`;
    expect(verifyWebhook(secret, { ...call.headers, 'webhook-signature': several }, call.body)).toMatchObject({ status: 'succeeded' });
  });

  test('a malformed WEBHOOK_SECRET stops the start with a message that names it and never repeats it', async () => {
    for (const [value, reason] of [
      ['c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', /must start with whsec_/],
      ['whsec_not*base64!', /not valid base64/],
      [`whsec_${randomBytes(8).toString('base64')}`, /holds 8 bytes; Standard Webhooks takes 24 to 64/],
    ] as const) {
      const started = startInProcess({ mode: 'http', model: model as never, env: { WEBHOOK_SECRET: value } });
      const message = await started.then(
        () => 'started',
        (error: Error) => error.message,
      );
      expect(message).toMatch(reason);
      expect(message).toMatch(/WEBHOOK_SECRET/);
      expect(message).not.toContain(value.slice(6));
    }
  });
});

describe('WEBHOOK_AUTH_TOKEN goes only to the hosts WEBHOOK_AUTH_HOSTS lists', () => {
  test('a listed host:port gets the bearer token, another host does not; without the list it goes nowhere and the start says so', async () => {
    const listed = await receiver();
    const unlisted = await receiver();
    const service = await serve({ WEBHOOK_AUTH_TOKEN: 'operator-secret', WEBHOOK_AUTH_HOSTS: `hooks.example.com, 127.0.0.1:${listed.port}` });
    await submit(service, 'listed', listed.url);
    await submit(service, 'unlisted', unlisted.url);
    await listed.received(1);
    await unlisted.received(1);
    expect(listed.calls[0]!.headers.authorization).toBe('Bearer operator-secret');
    expect(unlisted.calls[0]!.headers.authorization).toBeUndefined();
    expect(service.logs()).not.toMatch(/WEBHOOK_AUTH_TOKEN is sent to no receiver/);

    const unlistedOnly = await serve({ WEBHOOK_AUTH_TOKEN: 'operator-secret' });
    expect(unlistedOnly.logs()).toMatch(/WEBHOOK_AUTH_TOKEN is sent to no receiver, since WEBHOOK_AUTH_HOSTS lists none/);
    await submit(unlistedOnly, 'nowhere', listed.url);
    await listed.received(2);
    expect(listed.calls[1]!.headers.authorization).toBeUndefined();
  });
});

describe('at shutdown', () => {
  test('the drain delivers the completed call of a prediction that finishes in it, its retry included, then closes the connections to the receiver', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let finishModel!: () => void;
    const gate = new Promise<void>((resolve) => (finishModel = resolve));
    const gated = {
      inference: async (inputs: { note?: string }) => {
        started();
        await gate;
        return json({ note: inputs.note ?? null });
      },
      schema: model.schema,
    };
    const service = await startInProcess({ mode: 'http', model: gated as never, env: {} });
    // Its first answer asks for a retry, which comes after a back-off of its own.
    const hook = await receiver((_, index) => (index === 0 ? 503 : 200));
    const accepted = await submit(service, 'last', hook.url);
    expect(accepted.status).toBe(202);
    await running;
    const ended = service.close();
    finishModel();
    expect(await ended).toBe(0);
    expect(hook.calls.map((call) => [call.json.id, call.json.status])).toEqual([
      [accepted.json().id, 'succeeded'],
      [accepted.json().id, 'succeeded'],
    ]);
    expect(service.logs()).not.toContain('not delivered');
    // The receiver's keep-alive would let an idle connection stay for minutes: the service closed it.
    await hook.allClosed();
  });

  test('a completed call still owed when SHUTDOWN_TIMEOUT_MS ends is given up in one line, and its connection is closed', async () => {
    const service = await startInProcess({ mode: 'http', model: model as never, env: { SHUTDOWN_TIMEOUT_MS: '300', WEBHOOK_TIMEOUT_MS: '60000' } });
    const dead = await receiver(() => undefined);
    expect((await submit(service, 'held', dead.url)).status).toBe(202);
    await dead.received(1);
    expect(await service.close()).toBe(0);
    expect(service.logs()).toContain('shutdown: 1 completed webhook not delivered before the end of the drain (SHUTDOWN_TIMEOUT_MS)');
    await dead.allClosed();
  });
});
