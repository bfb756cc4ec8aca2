import { isIP } from 'node:net';
import { type Agent, request } from 'undici';
import { InvalidInputError } from '../errors.js';
import { plural } from '../plural.js';
import type { UrlInputSettings } from '../settings-parts/url-inputs.js';
import { runtimeVersion } from '../version.js';
import { checkedAgent, describeFailure, describeUrl, discard, type FetcherHooks, findCause, parseLocation, RefusedAddressError } from './checked-agent.js';

export type { FetcherHooks, ResolveHost } from './checked-agent.js';

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

class FetchTimeoutError extends Error {}

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
    this.agent = checkedAgent(settings, hooks);
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
