import { setTimeout as delay } from 'node:timers/promises';
import { Agent, buildConnector, request } from 'undici';
import { describeCause } from './http-download.js';
import { readSetting } from '../settings-table.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** The metadata server's name on Google Cloud (Vertex AI, Compute Engine, GKE, Cloud Run). */
export const defaultMetadataHost = 'metadata.google.internal';

/**
 * The metadata server's origin as Google's client libraries find it: GCE_METADATA_HOST (a host
 * with an optional port, or an http:// URL), else http://metadata.google.internal.
 * @example metadataOrigin({ GCE_METADATA_HOST: '127.0.0.1:8089' }) // 'http://127.0.0.1:8089'
 */
export function metadataOrigin(env: Environment): string {
  const host = readSetting(env, 'GCE_METADATA_HOST')?.trim() || defaultMetadataHost;
  return new URL(/^https?:\/\//i.test(host) ? host : `http://${host}`).origin;
}

/** An access token: the value sent as `Authorization: Bearer`, and when it stops being good. */
interface AccessToken {
  value: string;
  expiresAt: number;
}

// A token this close to its end is renewed first: a 1 GB object may take minutes to arrive.
const renewBeforeMs = 5 * 60_000;
const triesInARow = 4;

/**
 * The default service account's access token from the metadata server, as Google's client
 * libraries get it on Vertex AI and Compute Engine, kept until shortly before it expires.
 *
 * The metadata server is the link-local address 169.254.169.254, which URL inputs may never reach
 * (src/url-inputs/address-class.ts refuses it: a user's URL must not read the machine's
 * credentials). This request is not a user's: the operator chose Cloud Storage weights, and the
 * token is the credential the platform gives the container for that. So it has an Agent of its
 * own whose connector reaches the metadata host and nothing else, and no user input ever goes
 * through it.
 */
export class MetadataTokenSource {
  private readonly origin: string;
  private readonly dispatcher: Agent;
  private readonly tries: number;
  private token: AccessToken | undefined;
  private pending: Promise<AccessToken> | undefined;

  /** `connect` replaces the connector (tests: one that fails if the real metadata address is reached); `tries`: in a row before giving up. */
  constructor(env: Environment, options: { connect?: buildConnector.connector; tries?: number } = {}) {
    this.origin = metadataOrigin(env);
    this.tries = options.tries ?? triesInARow;
    const allowed = new URL(this.origin);
    const connector = options.connect;
    this.dispatcher = new Agent({
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
      connect: (connectOptions, callback) => {
        // Only the metadata host: a redirect or a bug that points this agent anywhere else is refused before a socket opens.
        if (connectOptions.hostname !== allowed.hostname || String(connectOptions.port || '80') !== (allowed.port || '80')) {
          callback(new Error(`the metadata client connects only to ${allowed.host}, not ${connectOptions.hostname}:${connectOptions.port}`), null);
          return;
        }
        (connector ?? defaultConnector)(connectOptions, callback);
      },
    });
  }

  /** `Authorization: Bearer <token>`, renewed when it is about to expire. */
  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    const token = await this.current(signal);
    return { authorization: `Bearer ${token.value}` };
  }

  /** Closes the connections it holds. */
  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private async current(signal: AbortSignal | undefined): Promise<AccessToken> {
    if (this.token && this.token.expiresAt - Date.now() > renewBeforeMs) return this.token;
    this.pending ??= this.fetch(signal).finally(() => {
      this.pending = undefined;
    });
    this.token = await this.pending;
    return this.token;
  }

  private async fetch(signal: AbortSignal | undefined): Promise<AccessToken> {
    const url = `${this.origin}/computeMetadata/v1/instance/service-accounts/default/token`;
    for (let tries = 1; ; tries += 1) {
      try {
        return await this.ask(url, signal);
      } catch (error) {
        if (error instanceof RefusedToken || signal?.aborted || tries >= this.tries) {
          // (No cause attached: the message holds it, and describeCause would repeat it.)
          throw new Error(`no access token from the metadata server ${url}: ${describeCause(error)}`);
        }
        await delay(200 * 2 ** tries, undefined, signal ? { signal } : {}).catch(() => {});
      }
    }
  }

  private async ask(url: string, signal: AbortSignal | undefined): Promise<AccessToken> {
    const response = await request(url, { dispatcher: this.dispatcher, headers: { 'metadata-flavor': 'Google' }, ...(signal ? { signal } : {}) });
    const text = await response.body.text();
    if (response.statusCode >= 500) throw new Error(`it answered ${response.statusCode}`);
    if (response.statusCode !== 200) throw new RefusedToken(`it answered ${response.statusCode}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ''}`);
    // The metadata server says so on every answer; a proxy or a captive portal does not.
    if (response.headers['metadata-flavor'] !== 'Google')
      throw new RefusedToken('the answer has no Metadata-Flavor: Google header, so it is not the metadata server');
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new RefusedToken('its answer is not JSON');
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') throw new RefusedToken('its answer has no access_token');
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300;
    return { value: body.access_token, expiresAt: Date.now() + seconds * 1000 };
  }
}

// An answer that trying again will not change.
class RefusedToken extends Error {}

let builtConnector: buildConnector.connector | undefined;
// undici's own connector, what an Agent uses when none is given.
const defaultConnector: buildConnector.connector = (options, callback) => {
  builtConnector ??= buildConnector({ timeout: 10_000 });
  builtConnector(options, callback);
};
