import { randomUUID } from 'node:crypto';
import { Cancellation } from '../engine/cancellation.js';
import { AiIntegrationError, PredictionCanceledError } from '../errors.js';
import type { PredictionSettings } from '../settings-parts/predictions.js';
import type { InferenceResult, Logger } from '../types.js';
import { chunkOutput, outputSoFar, type ChunkOutput } from '../http/chunk-output.js';
import { timingMetrics, type Prediction } from '../http/predict.js';
import type { SubmitOptions } from './admission-queue.js';
import type { WebhookSender, WebhookTarget } from './webhooks.js';
import { UploadFailedError } from '../uploads/upload-failed.js';
import type { OutputUploads } from '../uploads/output-uploads.js';
import type { UploadedFile, UploadTarget } from '../uploads/uploaded-file.js';

export type PredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';

/** A prediction the server knows by id: its state as it goes, for GET, cancel and webhooks. */
export interface TrackedPrediction {
  readonly id: string;
  status: PredictionStatus;
  readonly createdMs: number;
  startedMs: number | undefined;
  completedMs: number | undefined;
  /** The model's time, once it returned a result (a failure it reported included): not its wait in a worker's queue. */
  predictMs: number | undefined;
  /** The checked result, once succeeded. */
  prediction: Prediction | undefined;
  /** Why it failed or was canceled. */
  error: Error | undefined;
  /** What the model logged (`context.log`), line by line. */
  logs: string;
  /** A streamed result's chunks so far, rendered (`outputSoFar` collects them). */
  readonly chunks: ChunkOutput[];
  /** Its output files uploaded, once an upload was made (OUTPUT_UPLOAD_URL): all of them, or those before one failed. */
  uploads: readonly UploadedFile[] | undefined;
  /** Resolves when it has ended, however it ended. */
  readonly settled: Promise<void>;
  readonly done: boolean;
}

interface Entry extends TrackedPrediction {
  done: boolean;
  cancellation: Cancellation;
}

/** What starting a prediction takes beyond its converted inputs. */
export interface StartOptions {
  /** Its id; a new UUID (without dashes, as Cog makes them) when not given. */
  id?: string;
  /** The client's request: its disconnect cancels the prediction (a synchronous request). */
  signal?: Cancellation;
  webhook?: { target: WebhookTarget; render: (prediction: TrackedPrediction) => object };
  /** Takes each chunk of a streamed result as it comes (after it joined `chunks`): the SSE response. */
  onChunk?: (chunk: ChunkOutput, prediction: TrackedPrediction) => void;
  /** Its own upload URL for output files (Cog's `output_file_prefix`), instead of OUTPUT_UPLOAD_URL. */
  uploadUrl?: string;
}

/**
 * How a prediction's output files are uploaded (OutputUploads): the result's before it succeeds
 * (`apply`), and each streamed chunk's as it comes (`uploadChunk`).
 */
export type PredictionUploads = Pick<OutputUploads, 'apply' | 'uploadsFor' | 'uploadChunk'>;

const noUploads: PredictionUploads = {
  apply: async (prediction) => prediction,
  uploadsFor: () => false,
  uploadChunk: async () => undefined,
};

/** How a cancel went: `stopped` false when the model did not stop (run directly, not honouring its signal). */
export type CancelOutcome = { prediction: TrackedPrediction; stopped: boolean } | undefined;

/**
 * The predictions the server knows by id, shared by every protocol: running ones, and finished
 * ones until PREDICTION_TTL_SECONDS after they end. Bounded by MAX_PREDICTIONS: past it the oldest
 * finished goes first; a running one is never dropped, and when every entry runs a new one is
 * refused (429).
 */
export class PredictionStore {
  private readonly entries = new Map<string, Entry>();
  // Insertion order is finishing order: the first key is the oldest finished.
  private readonly finished = new Map<string, Entry>();

  constructor(
    private readonly settings: PredictionSettings,
    private readonly run: (inputs: Record<string, unknown>, options: SubmitOptions) => Promise<Prediction>,
    private readonly refusal: () => AiIntegrationError | undefined,
    private readonly webhooks: WebhookSender,
    private readonly log: Logger,
    private readonly uploads: PredictionUploads = noUploads,
  ) {}

  /** The prediction held under `id`, unless unknown or expired. */
  get(id: string): TrackedPrediction | undefined {
    this.expire();
    return this.entries.get(id);
  }

  /** How many predictions are held, running and finished. */
  get counts(): { running: number; finished: number } {
    return { running: this.entries.size - this.finished.size, finished: this.finished.size };
  }

  /**
   * Queues converted inputs as a prediction held by id, or throws at once what the queue would
   * refuse (429, 503), so a refused request never becomes a prediction.
   * @example const prediction = core.predictions.start(inputs, { webhook }); await prediction.settled;
   */
  start(inputs: Record<string, unknown>, options: StartOptions = {}): TrackedPrediction {
    const refused = this.refusal();
    if (refused) throw refused;
    if (options.webhook) this.webhooks.admit(options.webhook.target);
    this.expire();
    const id = options.id ?? randomUUID().replaceAll('-', '');
    const held = this.entries.get(id);
    // The model runs once per id: a held id is refused, unless its prediction never ran (its
    // client left before its turn), which a retry with its id may start.
    if (held && !neverRan(held))
      throw new AiIntegrationError(
        'AI_ERR_ID_IN_USE',
        `a prediction with the ID ${JSON.stringify(id)} ${held.done ? 'has finished' : 'is running'} already; GET /predictions/${id} answers it`,
      );
    if (held) this.forget(id);
    if (this.entries.size >= this.settings.maxPredictions) {
      const oldest = this.finished.keys().next();
      if (oldest.done)
        throw new AiIntegrationError('AI_ERR_QUEUE_FULL', `${this.settings.maxPredictions} predictions are running or waiting (MAX_PREDICTIONS); retry later`);
      this.forget(oldest.value);
    }
    const cancellation = new Cancellation();
    if (options.signal) {
      const client = options.signal;
      if (client.aborted) cancellation.cancel();
      else client.onCancel(() => cancellation.cancel());
    }
    let settle!: () => void;
    const entry: Entry = {
      id,
      status: 'starting',
      createdMs: Date.now(),
      startedMs: undefined,
      completedMs: undefined,
      predictMs: undefined,
      prediction: undefined,
      error: undefined,
      logs: '',
      chunks: [],
      uploads: undefined,
      settled: new Promise((resolve) => (settle = resolve)),
      done: false,
      cancellation,
    };
    this.entries.set(id, entry);
    const webhook = options.webhook ? this.webhooks.forPrediction(options.webhook.target, () => options.webhook!.render(entry)) : undefined;
    const onStart = () => {
      entry.status = 'processing';
      entry.startedMs = Date.now();
      webhook?.emit('start');
    };
    const publish = (output: ChunkOutput) => {
      entry.chunks.push(output);
      options.onChunk?.(output, entry);
      webhook?.emit('output');
    };
    // The AbortSignal is made only when a file uploads (Cancellation's point: most predictions need none).
    const target: UploadTarget = {
      predictionId: id,
      url: options.uploadUrl,
      cancellation,
    };
    const uploaded = (files: readonly UploadedFile[] | undefined) => {
      if (files) entry.uploads = [...(entry.uploads ?? []), ...files];
    };
    // With an upload URL, each chunk's files upload as the chunk comes (within the uploader's
    // bound), and the chunks are published in their order, each once its files are stored. The
    // first upload that fails stops the model and fails the prediction with its error.
    const streamUploads = this.uploads.uploadsFor(target);
    let chunksStored: Promise<void> = Promise.resolve();
    let chunkFailure: unknown;
    let chunkIndex = 0;
    const onChunk = (chunk: InferenceResult) => {
      if (!streamUploads) return publish(chunkOutput(chunk));
      const index = chunkIndex++;
      const uploading = this.uploads.uploadChunk(chunk, index, target);
      uploading.catch(() => {});
      chunksStored = chunksStored.then(async () => {
        try {
          const files = await uploading;
          if (chunkFailure !== undefined) return;
          uploaded(files);
          publish(chunkOutput(chunk, files && { files, index }));
        } catch (error) {
          if (chunkFailure !== undefined) return;
          chunkFailure = error;
          if (error instanceof UploadFailedError) uploaded(error.uploaded);
          cancellation.cancel();
        }
      });
    };
    const onLog = (text: string) => {
      entry.logs += text;
      webhook?.emit('logs');
    };
    const onPredictTime = (ms: number) => {
      entry.predictMs = ms;
    };
    // It stays `processing` while its files upload: it has succeeded only once they are stored.
    // A streamed prediction ends once its chunks' files are stored; a failed one with that failure.
    const afterChunks = async () => {
      await chunksStored;
      if (chunkFailure !== undefined) throw chunkFailure;
    };
    this.run(inputs, { signal: cancellation, onStart, onChunk, onLog, onPredictTime })
      .then(
        async (prediction) => {
          await afterChunks();
          return this.uploads.apply(prediction, target);
        },
        async (error: unknown) => {
          await afterChunks();
          throw error;
        },
      )
      .then(
        (prediction) => {
          entry.status = 'succeeded';
          // Kept with its answer, not its inputs: the body's bytes would stay in memory until the
          // prediction expires, and under the supervisor their buffer is reused once the request
          // is done (src/supervisor/gather-pool.ts). Nothing reads a stored prediction's inputs.
          entry.prediction = { ...prediction, inputs: {} };
          uploaded(prediction.uploads);
        },
        (error: unknown) => {
          entry.status = error instanceof PredictionCanceledError ? 'canceled' : 'failed';
          entry.error = error instanceof Error ? error : new Error(String(error));
          if (error instanceof UploadFailedError) uploaded(error.uploaded);
        },
      )
      .finally(() => {
        entry.done = true;
        entry.completedMs = Date.now();
        if (this.entries.get(id) === entry) this.finished.set(id, entry);
        webhook?.emit('completed');
        settle();
      })
      .catch((error: unknown) => this.log.error(`internal error while finishing prediction ${id}: ${(error as Error).stack ?? String(error)}`));
    return entry;
  }

  /**
   * Resolves once every prediction held has ended. The drain on SIGTERM waits for it after the
   * inferences: a prediction the model has finished may still be checking its result or
   * uploading its files (OUTPUT_UPLOAD_URL), and an async one would otherwise be lost there.
   */
  /** How many predictions held have not ended (the drain says how many it waits for). */
  get unfinished(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (!entry.done) count += 1;
    return count;
  }

  async whenFinished(): Promise<void> {
    for (;;) {
      const running = [...this.entries.values()].filter((entry) => !entry.done);
      if (running.length === 0) return;
      await Promise.all(running.map((entry) => entry.settled));
    }
  }

  /** Resolves once every `completed` webhook owed has been delivered or given up (the drain waits for it after the predictions). */
  webhooksDelivered(): Promise<void> {
    return this.webhooks.whenDelivered();
  }

  /** Ends webhook delivery and closes its connections, at the end of the drain. */
  closeWebhooks(): Promise<void> {
    return this.webhooks.close();
  }

  /**
   * Cancels a prediction: a queued one is dropped at once; a running one gets its signal aborted,
   * and the answer waits until it ends or CANCEL_GRACE_MS (and a little more, for the supervisor
   * to restart a worker that did not stop) has passed. undefined for an unknown id.
   */
  async cancel(id: string): Promise<CancelOutcome> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.done) return { prediction: entry, stopped: true };
    entry.cancellation.cancel();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.settings.cancelGraceMs + 1000)));
    const stopped = await Promise.race([entry.settled.then(() => true), gaveUp]);
    clearTimeout(timer);
    return { prediction: entry, stopped };
  }

  // Finished entries past their time, oldest first; they finish in order, so the first one that
  // has time left ends the sweep.
  private expire(): void {
    const now = Date.now();
    for (const [id, entry] of this.finished) {
      if (entry.completedMs! + this.settings.ttlMs > now) return;
      this.forget(id);
    }
  }

  private forget(id: string): void {
    this.finished.delete(id);
    this.entries.delete(id);
  }
}

/** Whether a prediction ended before the model ran it: canceled (its client left) while it waited for its turn. */
export const neverRan = (prediction: TrackedPrediction): boolean => prediction.status === 'canceled' && prediction.startedMs === undefined;

/** An ISO timestamp, or null. */
export const isoTime = (epochMs: number | undefined): string | null => (epochMs === undefined ? null : new Date(epochMs).toISOString());

/**
 * The native API's view of a prediction (GET /predictions/{id}, the 202 answer, webhooks):
 * `{id, status, output, content_type, error, logs, created_at, started_at, completed_at, metrics}`,
 * and `uploads` (the output files stored) once an upload was made.
 */
export function nativePredictionState(entry: TrackedPrediction, output: (prediction: Prediction) => unknown): object {
  const prediction = entry.prediction;
  const error = entry.error;
  return {
    id: entry.id,
    status: entry.status,
    output: prediction ? output(prediction) : outputSoFar(entry.chunks),
    content_type: prediction ? prediction.result['content-type'] : null,
    error: error ? { code: error instanceof AiIntegrationError ? error.code : 'AI_ERR_INTERNAL', message: error.message } : null,
    logs: entry.logs,
    created_at: isoTime(entry.createdMs),
    started_at: isoTime(entry.startedMs),
    completed_at: isoTime(entry.completedMs),
    metrics: prediction ? timingMetrics(prediction) : {},
    ...(entry.uploads ? { uploads: entry.uploads } : {}),
  };
}
