import { createHmac, timingSafeEqual } from 'node:crypto';
import { AiIntegrationError } from '../errors.js';

/**
 * Standard Webhooks (https://www.standardwebhooks.com): a call carries `webhook-id` (one per event,
 * the same on every retry), `webhook-timestamp` (the attempt's, in seconds) and `webhook-signature`
 * (`v1,` and the base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed with the secret's bytes;
 * several, separated by spaces, while a secret is rotated).
 */
const secretPrefix = 'whsec_';
// The specification's range for a random signing secret.
const secretBytes = { least: 24, most: 64 } as const;

/** A webhook call that does not verify: a missing header, a timestamp out of tolerance, no matching signature, a body that is not JSON. */
export class WebhookVerificationError extends AiIntegrationError {
  override name = 'WebhookVerificationError';
  constructor(message: string) {
    super('AI_ERR_WEBHOOK_UNVERIFIED', message);
  }
}

/**
 * The bytes of a Standard Webhooks secret, `whsec_` and the base64 of 24 to 64 bytes; `prefix`
 * false also takes the base64 alone. Throws a message that never repeats the secret.
 */
export function decodeWebhookSecret(secret: string, { prefix = true, name = 'the webhook secret' } = {}): Buffer {
  const text = secret.trim();
  const encoded = text.startsWith(secretPrefix) ? text.slice(secretPrefix.length) : prefix ? undefined : text;
  if (encoded === undefined) throw new Error(`${name} must start with ${secretPrefix} followed by base64, as Standard Webhooks writes a secret`);
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
  if (bytes === undefined || bytes.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, ''))
    throw new Error(`${name} is not valid base64 after ${secretPrefix}`);
  if (bytes.length < secretBytes.least || bytes.length > secretBytes.most)
    throw new Error(
      `${name} holds ${bytes.length} bytes; Standard Webhooks takes ${secretBytes.least} to ${secretBytes.most} random bytes (e.g. ${secretPrefix}$(openssl rand -base64 32))`,
    );
  return bytes;
}

/** The `webhook-signature` value of one call: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`. */
export function signWebhook(key: Buffer, id: string, timestamp: number, body: string | Uint8Array): string {
  return `v1,${signature(key, id, String(timestamp), body).toString('base64')}`;
}

function signature(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** Request headers as node:http gives them (`request.headers`) or as a fetch `Headers`. */
export type WebhookHeaders = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, either way, in seconds (replays older than this are refused). */
  toleranceSeconds?: number;
  /** Now, in milliseconds since the epoch (tests). */
  now?: number;
}

/**
 * Verifies a webhook call signed with WEBHOOK_SECRET, in a receiver: the signature over the body
 * exactly as received (before parsing it), in constant time, and a timestamp within tolerance.
 * Returns the parsed JSON body; throws WebhookVerificationError (code AI_ERR_WEBHOOK_UNVERIFIED).
 * @example
 * const prediction = verifyWebhook(process.env.WEBHOOK_SECRET!, request.headers, rawBody); // then use request.headers['webhook-id'] to ignore a repeat
 */
export function verifyWebhook<T = unknown>(secret: string, headers: WebhookHeaders, body: string | Uint8Array, options: VerifyWebhookOptions = {}): T {
  const { toleranceSeconds = 300, now = Date.now() } = options;
  let key: Buffer;
  try {
    key = decodeWebhookSecret(secret, { prefix: false });
  } catch (error) {
    throw new WebhookVerificationError((error as Error).message);
  }
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError(`the webhook-timestamp header is not a time in seconds: ${JSON.stringify(timestamp)}`);
  const skew = Math.round(now / 1000) - Number(timestamp);
  if (Math.abs(skew) > toleranceSeconds) {
    throw new WebhookVerificationError(
      `the webhook-timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'}, past the tolerance of ${toleranceSeconds} s: a replayed or delayed call`,
    );
  }
  const expected = signature(key, id, timestamp, body);
  const matches = signatures.split(' ').some((entry) => {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') return false;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches)
    throw new WebhookVerificationError(
      'no webhook-signature matches the body: a wrong secret, or a body changed on the way (verify the bytes received, before parsing)',
    );
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new WebhookVerificationError('the webhook body is signed but is not JSON');
  }
}

function header(headers: WebhookHeaders, name: string): string {
  const value = typeof headers.get === 'function' ? (headers as { get(name: string): string | null }).get(name) : (headers as Record<string, unknown>)[name];
  const text = Array.isArray(value) ? value.join(' ') : value;
  if (typeof text !== 'string' || text.trim() === '') throw new WebhookVerificationError(`the ${name} header is missing: not a signed webhook call`);
  return text.trim();
}
