import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The events of `queue`, every one written after this resolves included. BullMQ's QueueEvents
 * starts at '$', which Redis counts from its first XREAD, and that goes out after
 * waitUntilReady() resolves: the end of a job that ends in between (bad inputs fail in a few
 * milliseconds) was lost, and job.waitUntilFinished, which checks the job before the event comes,
 * waited for its timeout, or for ever without one. Reading from the stream's last entry instead
 * loses nothing. `redis` is a connection to the queue's Redis (QueueEvents makes its own from it).
 */
export async function queueEventsFromNow(queue: Queue, redis: Redis): Promise<QueueEvents> {
  const [last] = await redis.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
  const events = new QueueEvents(queue.name, { connection: redis, lastEventId: last?.[0] ?? '0-0' });
  await events.waitUntilReady();
  return events;
}
