import { isIPv6 } from 'node:net';
import { AiIntegrationError } from '../errors.js';
import { flagSetting, integerSetting } from './env-values.js';

/** The environment variables of this area, with what each sets; the README's environment table lists them. */
export const urlInputsVariables = {
  URL_INPUTS: 'false: refuse http(s) URLs given for image and file inputs instead of fetching them (default true)',
  URL_FETCH_TIMEOUT_MS: 'longest time fetching one URL input may take, redirects and body included (default 30000)',
  URL_MAX_REDIRECTS: 'most redirects followed when fetching a URL input (default 5; 0 follows none)',
  URL_INPUTS_ALLOW_PRIVATE: 'true: let URL inputs reach loopback, link-local, private and reserved addresses (default false: refused)',
  URL_INPUTS_ALLOW_HOSTS: 'comma-separated hosts (host or host:port; [v6]:port) whose URLs may reach private addresses, e.g. models.internal,10.0.0.5:9000',
} as const;

/** A host whose URLs may reach private addresses: its name or address as the URL writes it, and the port when the entry names one. */
export interface AllowedHost {
  host: string;
  port?: number;
}

/** How URL inputs are fetched; `startLoop` reads these once. */
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

// Node's timers turn a delay past 2^31-1 ms into 1 ms (the same bound as src/settings.ts's durations).
const longestDurationMs = 2 ** 31 - 1;
const mostRedirects = 100;

/** Reads the URL-input settings from the environment; a malformed value is a configuration error (exit 3) naming the variable. */
export function readUrlInputSettings(env: Readonly<Record<string, string | undefined>>, maxInputBytes: number): UrlInputSettings {
  return {
    enabled: flagSetting(env, 'URL_INPUTS') ?? true,
    maxBytes: maxInputBytes,
    timeoutMs: integerSetting(env, 'URL_FETCH_TIMEOUT_MS', 1, longestDurationMs) ?? 30_000,
    maxRedirects: integerSetting(env, 'URL_MAX_REDIRECTS', 0, mostRedirects) ?? 5,
    allowPrivate: flagSetting(env, 'URL_INPUTS_ALLOW_PRIVATE') ?? false,
    allowHosts: parseAllowedHosts(env.URL_INPUTS_ALLOW_HOSTS ?? ''),
  };
}

/**
 * Parses URL_INPUTS_ALLOW_HOSTS: comma-separated `host` or `host:port` entries (an IPv6 address
 * in brackets, `[fd00::1]:8080`), matched against the host of each URL as written, case-insensitively.
 * @example parseAllowedHosts('models.internal, 127.0.0.1:9000') // [{ host: 'models.internal' }, { host: '127.0.0.1', port: 9000 }]
 */
export function parseAllowedHosts(text: string): AllowedHost[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  return entries.map((entry) => {
    const match = /^(\[[^\]]+\]|[^:[\]/]+)(?::(\d{1,5}))?$/.exec(entry);
    const host = match?.[1]?.toLowerCase();
    const port = match?.[2] === undefined ? undefined : Number(match[2]);
    const badHost = host === undefined || (host.startsWith('[') && !isIPv6(host.slice(1, -1)));
    if (badHost || (port !== undefined && (port < 1 || port > 65535))) {
      throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `URL_INPUTS_ALLOW_HOSTS: ${JSON.stringify(entry)} is not a host or host:port (write an IPv6 address in brackets: [fd00::1]:8080)`);
    }
    return port === undefined ? { host: host.replace(/^\[(.*)\]$/, '$1') } : { host: host.replace(/^\[(.*)\]$/, '$1'), port };
  });
}
