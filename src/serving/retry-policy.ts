/**
 * How a call that must get through is retried: a webhook's `completed` call, an output file's
 * upload. On 429, 5xx and connection errors, at most `tries` tries, waiting `firstDelayMs`, then
 * twice as long each time (at most `maxDelayMs`), and never past `totalMs` after the first try
 * (docs/how-to/async-and-webhooks.md and docs/how-to/output-uploads.md state these figures).
 */
export const retryPolicy = {
  tries: 6,
  firstDelayMs: 500,
  maxDelayMs: 8000,
  totalMs: 60_000,
} as const;

/** Whether an HTTP answer invites another try: 429 (too many requests) and every 5xx. */
export const retryableStatus = (status: number): boolean => status === 429 || status >= 500;

/**
 * The wait before the next try, after `tries` tries of which the first began at `firstTryMs`;
 * undefined when the policy gives up.
 * @example retryDelay(1, start) // 500; retryDelay(6, start) // undefined
 */
export function retryDelay(tries: number, firstTryMs: number, nowMs = Date.now()): number | undefined {
  const delay = Math.min(retryPolicy.firstDelayMs * 2 ** (tries - 1), retryPolicy.maxDelayMs);
  if (tries >= retryPolicy.tries || nowMs - firstTryMs + delay >= retryPolicy.totalMs) return undefined;
  return delay;
}
