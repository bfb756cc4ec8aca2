import { AiIntegrationError } from '../errors.js';
import { decodeWebhookSecret } from '../serving/webhook-signature.js';
import type { Parser } from './env-values.js';
import { type AllowedHost, parseAllowedHosts } from './url-inputs.js';

/** How webhooks are sent: signing, the bearer token and where it may go, and the bounds of delivery. */
export interface WebhookSettings {
  /** The bytes of WEBHOOK_SECRET: every call is signed with them (Standard Webhooks). */
  secret: Buffer | undefined;
  /** WEBHOOK_AUTH_TOKEN, sent only to the hosts of `authHosts`. */
  authToken: string | undefined;
  authHosts: readonly AllowedHost[];
  /** One call's limit: connecting, the answer's headers and its body. */
  timeoutMs: number;
  /** Calls in flight at once, across receivers, and to one receiver (an origin: scheme, host and port). */
  concurrency: number;
  receiverConcurrency: number;
  /** Predictions whose `completed` call is owed (not yet delivered or given up), across receivers and to one receiver; past either, a new one is refused. */
  maxPending: number;
  receiverMaxPending: number;
}

/** WEBHOOK_SECRET: `whsec_` and base64, as Standard Webhooks writes a secret; anything else stops the start (exit 3). */
export const webhookSecret: Parser<Buffer> = {
  read(env, name) {
    const text = env[name]?.trim();
    if (!text) return undefined;
    try {
      return decodeWebhookSecret(text, { name });
    } catch (error) {
      throw new AiIntegrationError('AI_ERR_INVALID_OPTION', (error as Error).message);
    }
  },
};

/** WEBHOOK_AUTH_HOSTS: comma-separated host or host:port entries, as URL_INPUTS_ALLOW_HOSTS takes them. */
export const webhookHosts: Parser<readonly AllowedHost[]> = {
  read(env, name) {
    const text = env[name];
    return text?.trim() ? parseAllowedHosts(text, name) : undefined;
  },
};

/** Whether `url` names a host of `hosts` (and its port, when the entry gives one). */
export function listedHost(url: URL, hosts: readonly AllowedHost[]): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return hosts.some((entry) => entry.host === host && (entry.port === undefined || entry.port === port));
}
