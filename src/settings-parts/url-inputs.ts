import { isIPv6 } from 'node:net';
import { AiIntegrationError } from '../errors.js';
import type { Parser } from './env-values.js';

/** A host whose URLs may reach private addresses: its name or address as the URL writes it, and the port when the entry names one. */
export interface AllowedHost {
  host: string;
  port?: number;
}

/** How URL inputs are fetched; `startLoop` reads these once (src/settings.ts). */
export interface UrlInputSettings {
  /** Whether http(s) URLs given for binary inputs are fetched (URL_INPUTS). */
  enabled: boolean;
  /** Most bytes one URL input may have (MAX_INPUT_BYTES). */
  maxBytes: number;
  /** Longest time one fetch may take, redirects and body included. */
  timeoutMs: number;
  maxRedirects: number;
  /** Whether loopback, link-local, private and reserved addresses may be reached. */
  allowPrivate: boolean;
  /** Hosts whose URLs may reach them even so. */
  allowHosts: readonly AllowedHost[];
}

/** URL_INPUTS_ALLOW_HOSTS: the hosts whose URLs may reach private addresses (parseAllowedHosts). */
export const allowedHosts: Parser<readonly AllowedHost[]> = {
  read(env, name) {
    const text = env[name];
    return text?.trim() ? parseAllowedHosts(text) : undefined;
  },
};

/**
 * Parses URL_INPUTS_ALLOW_HOSTS: comma-separated `host` or `host:port` entries (an IPv6 address
 * in brackets, `[fd00::1]:8080`), matched against the host of each URL as written, case-insensitively.
 * @example parseAllowedHosts('models.internal, 127.0.0.1:9000') // [{ host: 'models.internal' }, { host: '127.0.0.1', port: 9000 }]
 */
export function parseAllowedHosts(text: string, name = 'URL_INPUTS_ALLOW_HOSTS'): AllowedHost[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry) => {
    const match = /^(\[[^\]]+\]|[^:[\]/]+)(?::(\d{1,5}))?$/.exec(entry);
    const host = match?.[1]?.toLowerCase();
    const port = match?.[2] === undefined ? undefined : Number(match[2]);
    const badHost = host === undefined || (host.startsWith('[') && !isIPv6(host.slice(1, -1)));
    if (badHost || (port !== undefined && (port < 1 || port > 65535))) {
      throw new AiIntegrationError(
        'AI_ERR_INVALID_OPTION',
        `${name}: ${JSON.stringify(entry)} is not a host or host:port (write an IPv6 address in brackets: [fd00::1]:8080)`,
      );
    }
    return port === undefined ? { host: host.replace(/^\[(.*)\]$/, '$1') } : { host: host.replace(/^\[(.*)\]$/, '$1'), port };
  });
}
