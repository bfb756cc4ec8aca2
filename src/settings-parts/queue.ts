import { AiIntegrationError } from '../errors.js';
import { integerSetting } from './env-values.js';

/** The environment variables of MODE=queue; the README's environment table lists them. */
export const queueVariables = {
  QUEUE_BACKEND: 'a gateway: the Redis of a BullMQ queue whose MODE=queue workers run the model; the HTTP-speaking modes then run no model and send every prediction there (redis://host:port)',
  REDIS_URL: 'MODE=queue: the Redis that holds the BullMQ queue (redis://[user:password@]host:port[/db], rediss:// for TLS); required',
  QUEUE_NAME: "MODE=queue: the BullMQ queue's name (default the model's name)",
  QUEUE_ATTEMPTS: 'MODE=queue: most tries of a job whose inference threw, died or timed out, within the attempts its producer gave it (default 1: not retried)',
  QUEUE_MAX_STALLED: "MODE=queue: how often a job whose worker died (its lock expired) goes back to the queue before it fails (BullMQ's maxStalledCount, default 1)",
  QUEUE_LOCK_MS: "MODE=queue: a job's lock, renewed while it runs; a worker silent this long has died and its job stalls (BullMQ's lockDuration, default 30000)",
} as const;

export interface QueueSettings {
  redisUrl: string;
  queueName: string;
  attempts: number;
  maxStalledCount: number;
  lockDurationMs: number;
}

/** MODE=queue's settings, checked: a missing REDIS_URL or a bad value stops the worker (exit 3) before it connects. */
export function readQueueSettings(env: Readonly<Record<string, string | undefined>>, modelName: string): QueueSettings {
  const redisUrl = env.REDIS_URL?.trim();
  if (!redisUrl) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', 'MODE=queue needs REDIS_URL, the Redis of the BullMQ queue (e.g. REDIS_URL=redis://redis:6379)');
  return {
    redisUrl: checkRedisUrl('REDIS_URL', redisUrl),
    queueName: readQueueName(env, modelName),
    attempts: integerSetting(env, 'QUEUE_ATTEMPTS', 1, 1000) ?? 1,
    maxStalledCount: integerSetting(env, 'QUEUE_MAX_STALLED', 0, 1000) ?? 1,
    lockDurationMs: integerSetting(env, 'QUEUE_LOCK_MS', 1000, 2 ** 31 - 1) ?? 30_000,
  };
}

/** A redis:// or rediss:// URL, or an error naming the variable. */
export function checkRedisUrl(variable: 'REDIS_URL' | 'QUEUE_BACKEND', url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${variable}=${JSON.stringify(url)} is not a URL; expected redis://host:port (or rediss:// for TLS)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${variable}=${JSON.stringify(url)} is not a redis:// or rediss:// URL`);
  }
  return url;
}

/** QUEUE_NAME, else the model's name; without a ':' (BullMQ builds its Redis keys as bull:name:...). */
export function readQueueName(env: Readonly<Record<string, string | undefined>>, modelName: string): string {
  const queueName = env.QUEUE_NAME?.trim() || modelName;
  if (queueName.includes(':')) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `QUEUE_NAME=${JSON.stringify(queueName)} must not contain ':' (BullMQ uses it in its Redis keys)`);
  return queueName;
}
