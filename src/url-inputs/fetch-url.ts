import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { InvalidInputError } from '../errors.js';
import { plural } from '../plural.js';
import type { UrlInputSettings } from '../settings-parts/url-inputs.js';
import { runtimeVersion } from '../version.js';
import { classifyAddress } from './address-class.js';

/** A DNS answer: every address a host name resolves to. */
export type ResolveHost = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

/** What tests replace: the DNS lookup, and the connector reached only once an address has passed its check. */
export interface FetcherHooks {
  resolve?: ResolveHost;
  connect?: buildConnector.connector;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** An address refused at connection time; the fetcher turns it into the input's error. */
class RefusedAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly what: string,
  ) {
    super(`${host} resolves to ${address}, ${what}`);
  }
}

class FetchTimeoutError extends Error {}

const resolveWithDns: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, order: 'verbatim' });

/**
 * Fetches http(s) URLs given for binary inputs, within the settings' limits. The address check
 * sits in the connector, so it applies to the address each connection actually goes to: the
 * host is resolved once, every answer is checked, and the socket is opened to the checked
 * address (never resolved again), for the first URL and every redirect alike.
 */
export class UrlFetcher {
  private readonly agent: Agent;

  constructor(
    private readonly settings: UrlInputSettings,
    hooks: FetcherHooks = {},
  ) {
    const connect = hooks.connect ?? buildConnector({ timeout: settings.timeoutMs });
    const resolve = hooks.resolve ?? resolveWithDns;
    this.agent = new Agent({
      connect: (options, callback) => {
        const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
        const port = options.port === '' ? (options.protocol === 'https:' ? 443 : 80) : Number(options.port);
        if (this.mayReachPrivate(host, port)) {
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
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    });
  }

  /** Fetches `url` for the input `name`: its bytes, or an `InvalidInputError` (422, exit 2) naming the input. */
  async fetch(name: string, url: string): Promise<Buffer> {
    let current: URL;
    try {
      current = new URL(url);
    } catch {
      throw new InvalidInputError(name, `is not a valid URL: ${JSON.stringify(url.slice(0, 200))}`);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new FetchTimeoutError()), this.settings.timeoutMs);
    try {
      for (let redirects = 0; ; redirects++) {
        const subject = redirects === 0 ? "the URL's host" : `the URL redirected to ${describeUrl(current)}, whose host`;
        const response = await this.send(name, current, subject, controller.signal);
        const location = response.headers.location;
        if (redirectStatuses.has(response.statusCode) && typeof location === 'string') {
          discard(response.body);
          if (redirects >= this.settings.maxRedirects) {
            throw new InvalidInputError(
              name,
              `${describeUrl(new URL(url))} redirected more than ${plural(this.settings.maxRedirects, 'time')} (URL_MAX_REDIRECTS)`,
            );
          }
          const next = parseLocation(location, current);
          if (next === undefined)
            throw new InvalidInputError(name, `${describeUrl(current)} redirected to ${JSON.stringify(location.slice(0, 200))}, which is not an http(s) URL`);
          current = next;
          continue;
        }
        if (response.statusCode < 200 || response.statusCode > 299) {
          discard(response.body);
          throw new InvalidInputError(name, `fetching ${describeUrl(current)} answered HTTP ${response.statusCode}; expected 2xx with the ${name}'s data`);
        }
        return await this.readBody(name, current, response, controller.signal);
      }
    } catch (error) {
      if (controller.signal.aborted && !(error instanceof InvalidInputError)) {
        throw new InvalidInputError(name, `fetching ${describeUrl(current)} took longer than ${this.settings.timeoutMs} ms (URL_FETCH_TIMEOUT_MS)`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the idle connections. */
  close(): Promise<void> {
    return this.agent.close();
  }

  private mayReachPrivate(host: string, port: number): boolean {
    if (this.settings.allowPrivate) return true;
    const name = host.toLowerCase();
    return this.settings.allowHosts.some((entry) => entry.host === name && (entry.port === undefined || entry.port === port));
  }

  private async send(name: string, url: URL, subject: string, signal: AbortSignal) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError(name, `${describeUrl(url)} is not an http(s) URL`);
    try {
      return await request(url, {
        method: 'GET',
        headers: { accept: '*/*', 'user-agent': `ai-integration/${runtimeVersion}` },
        dispatcher: this.agent,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      const refused = findCause(error, RefusedAddressError);
      if (refused) {
        const where = isIP(refused.host) ? `${subject} is ${refused.address}` : `${subject} ${refused.host} resolves to ${refused.address}`;
        throw new InvalidInputError(name, `${where}, ${refused.what}; private addresses are refused (URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS)`);
      }
      throw new InvalidInputError(name, `cannot fetch ${describeUrl(url)}: ${describeFailure(error, url)}`);
    }
  }

  private async readBody(name: string, url: URL, response: Awaited<ReturnType<typeof request>>, signal: AbortSignal): Promise<Buffer> {
    const { maxBytes } = this.settings;
    const tooLarge = () => new InvalidInputError(name, `${describeUrl(url)} is larger than the limit of ${plural(maxBytes, 'byte')} (MAX_INPUT_BYTES)`);
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      discard(response.body);
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > maxBytes) {
          discard(response.body);
          throw tooLarge();
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof InvalidInputError || signal.aborted) throw error;
      throw new InvalidInputError(
        name,
        `cannot fetch ${describeUrl(url)}: the body broke off after ${plural(length, 'byte')} (${describeFailure(error, url)})`,
      );
    }
    return Buffer.concat(chunks, length);
  }
}

const fetchers = new WeakMap<UrlInputSettings, UrlFetcher>();

/** Fetches a URL input with the fetcher of these settings (made on the first URL, then kept: its connections are pooled). */
export function fetchUrlInput(name: string, url: string, settings: UrlInputSettings): Promise<Buffer> {
  let fetcher = fetchers.get(settings);
  if (fetcher === undefined) {
    fetcher = new UrlFetcher(settings);
    fetchers.set(settings, fetcher);
  }
  return fetcher.fetch(name, url);
}

// The query and any user name or password stay out of messages: signed URLs carry their secrets there.
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

// Destroying an undici body makes it emit an abort error, which has no one to go to here.
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}

function parseLocation(location: string, base: URL): URL | undefined {
  try {
    const next = new URL(location, base);
    return next.protocol === 'http:' || next.protocol === 'https:' ? next : undefined;
  } catch {
    return undefined;
  }
}

function findCause<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (current instanceof type) return current;
  }
  return undefined;
}

function describeFailure(error: unknown, url: URL): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host ${url.hostname} was not found`;
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${message} (${code})` : message;
}
