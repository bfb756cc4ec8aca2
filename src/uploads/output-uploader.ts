import { setTimeout as sleep } from 'node:timers/promises';
import { type Agent, request } from 'undici';
import { PredictionCanceledError } from '../errors.js';
import { plural } from '../plural.js';
import { fileExtension } from '../result/output-fields.js';
import { retryableStatus, retryDelay } from '../serving/retry-policy.js';
import type { UploadSettings } from '../settings-parts/uploads.js';
import {
  checkedAgent,
  describeFailure,
  describeUrl,
  discard,
  type FetcherHooks,
  findCause,
  parseLocation,
  RefusedAddressError,
} from '../url-inputs/checked-agent.js';
import { runtimeVersion } from '../version.js';
import { UploadFailedError } from './upload-failed.js';
import type { OutputFile, UploadedFile } from './uploaded-file.js';

// 303 is left out: it answers a PUT with where to GET something else, which is not the file's home.
const redirectStatuses = new Set([301, 302, 307, 308]);

/** The file name an output gets: `<field>.<ext>`, the extension from its media type as the command line's `-o` names files (`bin` when none is known). */
export function outputFileName(file: Pick<OutputFile, 'field' | 'contentType'>): string {
  return `${file.field}.${fileExtension(file.contentType)}`;
}

/**
 * Where one file is PUT: `<base>/<prediction id>/<field>.<ext>`, each segment percent-encoded.
 * @example uploadUrlOf('https://store.example/outputs', 'abc', { field: 'output', contentType: 'image/png' }) // https://store.example/outputs/abc/output.png
 */
export function uploadUrlOf(base: string, predictionId: string, file: Pick<OutputFile, 'field' | 'contentType'>): URL {
  const root = base.endsWith('/') ? base : `${base}/`;
  return new URL(`${encodeURIComponent(predictionId)}/${encodeURIComponent(outputFileName(file))}`, root);
}

type TryOutcome = { url: string } | { reason: string; retry: boolean };

/**
 * PUTs output files to storage as Cog's `--upload-url` does: the file's bytes with its
 * Content-Type (and `X-Prediction-ID`), redirects followed with the same PUT (a store that answers
 * with a signed URL, cog#735), the final URL taken from the answer's `Location`, else the URL the
 * PUT ended at, without its query. Every connection passes the address check of URL inputs.
 * A try that fails on 408, 429, 5xx or a broken connection is retried as a webhook's `completed`
 * call is (src/serving/retry-policy.ts); any other answer fails the upload at once.
 * OUTPUT_UPLOAD_CONCURRENCY tries are in flight at once, across predictions.
 */
export class OutputUploader {
  private readonly agent: Agent;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly settings: UploadSettings,
    hooks: FetcherHooks = {},
  ) {
    this.agent = checkedAgent(settings, hooks);
  }

  /**
   * Uploads one prediction's files under `<base>/<prediction id>/`, all at once (within the
   * concurrency): their uploaded forms, or an UploadFailedError naming the first that failed and
   * listing those that were uploaded.
   */
  async uploadFiles(
    files: readonly OutputFile[],
    options: { predictionId: string; baseUrl: string; signal?: AbortSignal | undefined },
  ): Promise<UploadedFile[]> {
    const { signal } = options;
    const outcomes = await Promise.allSettled(
      files.map((file) => this.uploadFile(file, uploadUrlOf(options.baseUrl, options.predictionId, file), options.predictionId, signal)),
    );
    const uploaded = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    // A canceled prediction's uploads were stopped, not refused: it ends canceled.
    if (signal?.aborted) throw new PredictionCanceledError('the prediction was canceled while its output files were uploading');
    if (failure) {
      const others = uploaded.length === 0 ? '' : `; uploaded: ${uploaded.map((file) => file.field).join(', ')}`;
      throw new UploadFailedError(`${(failure.reason as Error).message}${others}`, uploaded);
    }
    return uploaded;
  }

  /** Closes the idle connections. */
  close(): Promise<void> {
    return this.agent.close();
  }

  private async uploadFile(file: OutputFile, target: URL, predictionId: string, signal: AbortSignal | undefined): Promise<UploadedFile> {
    const firstTryMs = Date.now();
    for (let tries = 1; ; tries++) {
      signal?.throwIfAborted();
      const outcome = await this.withSlot(() => this.put(target, file, predictionId, signal));
      if ('url' in outcome) return { field: file.field, url: outcome.url, content_type: file.contentType, bytes: file.data.length };
      const delay = outcome.retry ? retryDelay(tries, firstTryMs) : undefined;
      if (delay === undefined) {
        throw new Error(
          `uploading the output ${JSON.stringify(file.field)} (${file.contentType}, ${plural(file.data.length, 'byte')}) to ${describeUrl(target)} failed: ${outcome.reason}${tries > 1 ? ` (after ${plural(tries, 'try', 'tries')})` : ''}`,
        );
      }
      await sleep(delay, undefined, signal ? { signal } : undefined);
    }
  }

  // One try: the PUT, and the same PUT again at each redirect, within OUTPUT_UPLOAD_TIMEOUT_MS.
  // A cancel aborts it where it is (connecting, sending, waiting for the answer): undici closes the connection.
  private async put(url: URL, file: OutputFile, predictionId: string, canceled: AbortSignal | undefined): Promise<TryOutcome> {
    const { timeoutMs, maxRedirects } = this.settings;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = canceled ? AbortSignal.any([timeout, canceled]) : timeout;
    let current = url;
    for (let redirects = 0; ; redirects++) {
      let response: Awaited<ReturnType<typeof request>>;
      try {
        response = await request(current, {
          method: 'PUT',
          dispatcher: this.agent,
          headers: { 'content-type': file.contentType, 'x-prediction-id': headerSafe(predictionId), 'user-agent': `ai-integration/${runtimeVersion}` },
          body: file.data,
          signal,
        });
      } catch (error) {
        if (canceled?.aborted) throw canceled.reason;
        if (timeout.aborted) return { reason: `no answer within ${timeoutMs} ms (OUTPUT_UPLOAD_TIMEOUT_MS)`, retry: true };
        const refused = findCause(error, RefusedAddressError);
        if (refused) {
          const where = redirects === 0 ? 'its host' : `the redirect to ${describeUrl(current)}, whose host`;
          return {
            reason: `${where} ${refused.host === refused.address ? 'is' : `${refused.host} resolves to`} ${refused.address}, ${refused.what}; private addresses are refused (URL_INPUTS_ALLOW_PRIVATE, URL_INPUTS_ALLOW_HOSTS)`,
            retry: false,
          };
        }
        return { reason: describeFailure(error, current), retry: true };
      }
      const { statusCode, headers } = response;
      const location = typeof headers.location === 'string' ? headers.location : undefined;
      if (redirectStatuses.has(statusCode) && location !== undefined) {
        discard(response.body);
        if (redirects >= maxRedirects) return { reason: `redirected more than ${plural(maxRedirects, 'time')} (URL_MAX_REDIRECTS)`, retry: false };
        const next = parseLocation(location, current);
        if (next === undefined) return { reason: `redirected to ${JSON.stringify(location.slice(0, 200))}, which is not an http(s) URL`, retry: false };
        current = next;
        continue;
      }
      // Undici reads at most a little of a body it dumps, then closes the connection.
      await response.body.dump().catch(() => {});
      if (statusCode >= 200 && statusCode < 300) return { url: finalUrl((location && parseLocation(location, current)) || current) };
      const where = current === url ? '' : ` (redirected to ${describeUrl(current)})`;
      return { reason: `HTTP ${statusCode}${where}`, retry: statusCode === 408 || retryableStatus(statusCode) };
    }
  }

  private async withSlot<T>(run: () => Promise<T>): Promise<T> {
    // A slot that frees passes straight to the next waiter, so `active` never goes past the bound.
    if (this.active < this.settings.concurrency) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await run();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

// A prediction id may hold any character but controls (Cog's rule); a header value only visible ASCII and spaces.
function headerSafe(id: string): string {
  return /^[\x20-\x7e]*$/.test(id) ? id : encodeURIComponent(id);
}

// The file's lasting URL: a signed URL's query (its signature) and any credentials left out, as Cog does.
function finalUrl(url: URL): string {
  const plain = new URL(url.href);
  plain.search = '';
  plain.hash = '';
  plain.username = '';
  plain.password = '';
  return plain.href;
}
