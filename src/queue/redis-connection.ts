import { Redis } from 'ioredis';
import type { Logger } from '../types.js';

// A lost Redis is retried for ever, with back-off from 50 ms to 5 s: a worker or a gateway never
// gives up on its queue, and its readiness says it is not connected meanwhile.
const reconnectDelay = (attempt: number) => Math.min(5000, 50 * 2 ** Math.min(attempt, 7));

/** A Redis connection as BullMQ needs it, with whether it is up and why not, for readiness. */
export interface TrackedRedis {
  redis: Redis;
  readonly connected: boolean;
  /** The last reason it was not connected ("connecting to Redis" at first). */
  readonly lastError: string;
}

/**
 * Connects to `url` for BullMQ (no per-command retry limit: a blocking command waits through a
 * reconnect) and tracks the connection's state. ioredis reports every failed reconnect; the log
 * gets one line per new reason. `onReady` runs on every (re)connect.
 */
export function connectRedis(url: string, log: Logger, onReady?: (redis: Redis) => void): TrackedRedis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: reconnectDelay });
  const state = { redis, connected: false, lastError: 'connecting to Redis' };
  redis.on('ready', () => {
    state.connected = true;
    onReady?.(redis);
  });
  redis.on('close', () => {
    if (state.connected) log.warn('queue: the Redis connection closed; reconnecting with back-off');
    state.connected = false;
  });
  redis.on('error', (error: Error) => {
    if (error.message !== state.lastError) log.warn(`queue: Redis: ${error.message}`);
    state.lastError = error.message;
  });
  return state;
}
