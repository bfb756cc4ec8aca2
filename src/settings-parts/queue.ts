import { AiIntegrationError } from '../errors.js';
import type { Parser } from './env-values.js';

/** MODE=queue's settings (src/settings.ts reads them, with the model's name). */
export interface QueueSettings {
  redisUrl: string;
  queueName: string;
  attempts: number;
  maxStalledCount: number;
  lockDurationMs: number;
}

/** REDIS_URL and QUEUE_BACKEND: a redis:// or rediss:// URL. */
export const redisUrl: Parser<string> = {
  read(env, name) {
    const url = env[name]?.trim();
    return url ? checkRedisUrl(name, url) : undefined;
  },
};

/** A redis:// or rediss:// URL, or an error naming the variable. */
function checkRedisUrl(variable: string, url: string): string {
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

/** A queue's name, without a ':' (BullMQ builds its Redis keys as bull:name:...). */
export function checkQueueName(queueName: string): string {
  if (queueName.includes(':'))
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `QUEUE_NAME=${JSON.stringify(queueName)} must not contain ':' (BullMQ uses it in its Redis keys)`);
  return queueName;
}
