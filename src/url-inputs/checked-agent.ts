import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { AllowedHost } from '../settings-parts/url-inputs.js';
import { classifyAddress } from './address-class.js';

/** A DNS answer: every address a host name resolves to. */
export type ResolveHost = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

/** What tests replace: the DNS lookup, and the connector reached only once an address has passed its check. */
export interface FetcherHooks {
  resolve?: ResolveHost;
  connect?: buildConnector.connector;
}

/** Where a checked agent may go: the private addresses it may reach, and its timeouts. */
export interface AddressPolicy {
  /** Whether loopback, link-local, private and reserved addresses may be reached. */
  allowPrivate: boolean;
  /** Hosts (and ports) whose connections may reach them even so. */
  allowHosts: readonly AllowedHost[];
  /** Connecting, the answer's headers and its body, each. */
  timeoutMs: number;
}

/** An address refused at connection time; the caller turns it into its own error. */
export class RefusedAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly what: string,
  ) {
    super(`${host} resolves to ${address}, ${what}`);
  }
}

const resolveWithDns: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, order: 'verbatim' });

/**
 * An undici Agent whose every connection passes the address check: the host is resolved once,
 * every answer is checked, and the socket is opened to the checked address (never resolved
 * again), so a redirect or a DNS answer that changes between check and use cannot slip through.
 * URL inputs fetch with it, and output uploads PUT with it.
 */
export function checkedAgent(policy: AddressPolicy, hooks: FetcherHooks = {}): Agent {
  const connect = hooks.connect ?? buildConnector({ timeout: policy.timeoutMs });
  const resolve = hooks.resolve ?? resolveWithDns;
  return new Agent({
    connect: (options, callback) => {
      const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = options.port === '' ? (options.protocol === 'https:' ? 443 : 80) : Number(options.port);
      if (mayReachPrivate(policy, host, port)) {
        connect(options, callback);
        return;
      }
      const answers = isIP(host) ? Promise.resolve([{ address: host, family: isIP(host) }]) : resolve(host);
      answers.then(
        (addresses) => {
          for (const { address } of addresses) {
            const what = classifyAddress(address);
            if (what !== undefined) return callback(new RefusedAddressError(host, address, what), null);
          }
          const first = addresses[0];
          if (first === undefined) return callback(new Error(`the host ${host} has no address`), null);
          // The original `host` stays, so TLS still checks the certificate against the name.
          connect({ ...options, hostname: first.address }, callback);
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
      );
    },
    headersTimeout: policy.timeoutMs,
    bodyTimeout: policy.timeoutMs,
  });
}

function mayReachPrivate(policy: AddressPolicy, host: string, port: number): boolean {
  if (policy.allowPrivate) return true;
  const name = host.toLowerCase();
  return policy.allowHosts.some((entry) => entry.host === name && (entry.port === undefined || entry.port === port));
}

/** The first error of `type` in an error's chain of causes. */
export function findCause<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (current instanceof type) return current;
  }
  return undefined;
}

/** A URL as messages show it: the query and any user name or password left out, since signed URLs carry their secrets there. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** A failed request's cause in words: a host not found, a refused connection, or the error's own message. */
export function describeFailure(error: unknown, url: URL): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host ${url.hostname} was not found`;
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${message} (${code})` : message;
}

/** Drops a body unread. Destroying an undici body makes it emit an abort error, which has no one to go to here. */
export function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}

/** A redirect's `Location` against the URL it answered, when it is an http(s) URL. */
export function parseLocation(location: string, base: URL): URL | undefined {
  try {
    const next = new URL(location, base);
    return next.protocol === 'http:' || next.protocol === 'https:' ? next : undefined;
  } catch {
    return undefined;
  }
}
