// queueEventsFromNow (src/queue/queue-events.ts), which the producer client and the gateway wait on:
// every event written after it resolves reaches it. BullMQ's QueueEvents starts at '$', which Redis
// counts from its first XREAD, and that XREAD goes out after waitUntilReady() resolves: a job that
// ended in between (bad inputs fail in milliseconds) was never seen, and its producer waited for
// ever. Here a loopback proxy in front of a real Redis holds that first XREAD until the test has
// written an event, so the race is taken every time instead of now and then.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, expect, test } from 'vitest';
import { queueEventsFromNow } from '../../src/queue/queue-events.js';
import { startRedis, type RunningRedis } from '../helpers/redis.js';

interface XreadHold {
  url: string;
  /** Resolves when a client sent its first XREAD, which the proxy keeps until `release`. */
  held: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `redis` that forwards every byte, except that it holds the first XREAD sent through it (and what follows on that connection) until released. */
async function proxyHoldingFirstXread(redis: RunningRedis): Promise<XreadHold> {
  const sockets: Socket[] = [];
  let armed = true;
  let onHeld!: () => void;
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  let releaseHeld: (() => void) | undefined;
  let released = false;
  const server: Server = createServer((client) => {
    const upstream = connect(redis.port, '127.0.0.1');
    sockets.push(client, upstream);
    upstream.on('data', (chunk) => client.write(chunk));
    let waiting: Buffer[] | undefined;
    client.on('data', (chunk: Buffer) => {
      if (waiting) return void waiting.push(chunk);
      if (armed && /xread/i.test(chunk.toString('latin1'))) {
        armed = false;
        waiting = [chunk];
        releaseHeld = () => {
          for (const part of waiting ?? []) upstream.write(part);
          waiting = undefined;
        };
        if (released) releaseHeld();
        onHeld();
        return;
      }
      upstream.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    release: () => {
      released = true;
      releaseHeld?.();
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

test('an event written after queueEventsFromNow resolves, before its first XREAD reaches Redis, is delivered', async () => {
  const redis = await startRedis();
  cleanups.push(() => redis.dispose());
  const proxy = await proxyHoldingFirstXread(redis);
  cleanups.push(() => proxy.close());
  const connection = new Redis(proxy.url, { maxRetriesPerRequest: null });
  cleanups.push(async () => connection.disconnect());
  const queue = new Queue('race', { connection });
  cleanups.push(() => queue.close());
  // An event from before: it must not be delivered (the events start now, not at the stream's start).
  const direct = new Redis(redis.url);
  cleanups.push(async () => direct.disconnect());
  await direct.xadd(queue.keys.events!, '*', 'event', 'failed', 'jobId', 'old', 'failedReason', 'before');

  const events = await queueEventsFromNow(queue, connection);
  cleanups.push(() => events.close());
  const failed: string[] = [];
  const seen = new Promise<void>((resolve) =>
    events.on('failed', ({ jobId }) => {
      failed.push(jobId);
      if (jobId === 'quick') resolve();
    }),
  );
  // Its first XREAD is on its way and held: the job ends now, as a refused job does.
  await proxy.held;
  await direct.xadd(queue.keys.events!, '*', 'event', 'failed', 'jobId', 'quick', 'failedReason', 'refused at once');
  proxy.release();
  // With BullMQ's '$' the XREAD would wait for the next event, which never comes.
  let deadline: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([seen.then(() => 'delivered'), new Promise((resolve) => (deadline = setTimeout(resolve, 15_000, 'lost')))]);
  clearTimeout(deadline);
  expect(outcome).toBe('delivered');
  expect(failed).toEqual(['quick']);
});
