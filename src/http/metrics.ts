import type { Gauge, Registry } from 'prom-client';
import type { BodyBufferCounts } from '../types.js';
import type { BodyTimeoutReason } from './body-budget.js';
import { HotCounter, HotHistogram } from './hot-metrics.js';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export type InferenceOutcome = 'success' | 'failed' | 'invalid' | 'threw' | 'timeout';

/**
 * The Prometheus metrics of one HTTP service: process metrics and gauges through prom-client (in
 * a registry of its own, never its global one), per-request counters in `hot-metrics.ts`.
 */
export function createMetrics(
  queueDepth: () => number,
  inFlight: () => number,
  restarts: () => Record<string, number>,
  model: { name: string; version: string },
  workers: () => readonly { index: number; state: string }[] = () => [],
  uploads: { readonly uploadsInUse: number; readonly maxUploads: number; readonly timeouts: Readonly<Record<BodyTimeoutReason, number>> } = {
    uploadsInUse: 0,
    maxUploads: 0,
    timeouts: { idle: 0, rate: 0 },
  },
  bodyBuffers: () => BodyBufferCounts | undefined = () => undefined,
) {
  // prom-client (70 ms to load) and its registry come with the first scrape, not at start-up.
  // Its process metrics read the process's totals (CPU, memory, handles) when scraped; only the
  // event loop's delay and the GC's durations are observed from the first scrape on.
  let queueCounts: (() => Promise<Record<string, number>>) | undefined;
  let loaded: Promise<{ registry: Registry; Gauge: typeof Gauge }> | undefined;
  const createRegistry = async () => {
    const { collectDefaultMetrics, Counter, Gauge, Registry } = await import('prom-client');
    const created = new Registry();
    collectDefaultMetrics({ register: created });
    // The "info" pattern: a constant 1 whose labels say which model (and version) a series comes from.
    new Gauge({
      name: 'model_info',
      help: 'The model this service runs: its name and version, as a constant 1',
      labelNames: ['name', 'version'] as const,
      registers: [created],
    }).set({ name: model.name, version: model.version }, 1);
    new Gauge({
      name: 'inference_queue_depth',
      help: 'Requests waiting to be handed to the model: past CONCURRENCY, and under the supervisor past the requests sent ahead to the workers',
      registers: [created],
      collect() {
        this.set(queueDepth());
      },
    });
    new Gauge({
      name: 'inferences_in_flight',
      help: "Inferences handed to the model: running, or under the supervisor sent ahead to wait in a worker's queue",
      registers: [created],
      collect() {
        this.set(inFlight());
      },
    });
    new Counter({
      name: 'model_restarts_total',
      help: 'Restarts of the model worker by cause (threw, signal_SIGKILL, exit_1, ...); 0 without the supervisor',
      labelNames: ['cause'] as const,
      registers: [created],
      collect() {
        this.reset();
        for (const [cause, count] of Object.entries(restarts())) this.inc({ cause }, count);
      },
    });
    new Gauge({
      name: 'model_worker_ready',
      help: 'Under the supervisor: 1 for each model worker that is ready, 0 for one starting or restarting, by worker index',
      labelNames: ['worker'] as const,
      registers: [created],
      collect() {
        this.reset();
        for (const worker of workers()) this.set({ worker: String(worker.index) }, worker.state === 'ready' ? 1 : 0);
      },
    });
    // Upload slots: in use beside the limit, so that an alert can say "all held" (a trickle, or a peak).
    new Gauge({
      name: 'http_upload_slots_in_use',
      help: 'Request bodies being read now, each holding an upload slot',
      registers: [created],
      collect() {
        this.set(uploads.uploadsInUse);
      },
    });
    new Gauge({
      name: 'http_upload_slots_limit',
      help: 'Upload slots in all (MAX_CONCURRENT_UPLOADS); past them, bodies get 503',
      registers: [created],
      collect() {
        this.set(uploads.maxUploads);
      },
    });
    new Counter({
      name: 'http_body_timeouts_total',
      help: 'Request bodies cut off with 408 by reason: idle (BODY_IDLE_TIMEOUT_MS), rate (MIN_BODY_BYTES_PER_SECOND)',
      labelNames: ['reason'] as const,
      registers: [created],
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(uploads.timeouts)) this.inc({ reason }, count);
      },
    });
    // Under the supervisor: whether body buffers are being reused, and the memory the free ones keep.
    if (bodyBuffers() !== undefined) {
      new Counter({
        name: 'body_buffers_reused_total',
        help: 'Under the supervisor: request bodies (64 KiB to 8 MiB) gathered into a buffer reused from an earlier request',
        registers: [created],
        collect() {
          this.reset();
          this.inc(bodyBuffers()?.reused ?? 0);
        },
      });
      new Gauge({
        name: 'body_buffers_free_bytes',
        help: 'Under the supervisor: bytes held by body buffers waiting to be reused (at most 32 MiB)',
        registers: [created],
        collect() {
          this.set(bodyBuffers()?.freeBytes ?? 0);
        },
      });
    }
    return { registry: created, Gauge };
  };
  const requests = new HotCounter('http_requests_total', 'HTTP requests by route, method and status');
  const requestDuration = new HotHistogram('http_request_duration_seconds', 'HTTP request latency by route', latencyBuckets);
  const inferences = new HotCounter(
    'inferences_total',
    'Inferences by outcome: success, failed (the model reported it), invalid (a malformed result), threw, timeout',
  );
  const inferenceDuration = new HotHistogram(
    'inference_duration_seconds',
    "Time the model spent on an inference, from when it started on it (a wait in the queue, a worker's queue or for a batch not counted)",
    [...latencyBuckets, 300],
  );
  const batchSizes = new HotHistogram('inference_batch_size', 'Requests per call of a batch model', [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
  return {
    /** What /metrics answers with (prom-client's Registry.PROMETHEUS_CONTENT_TYPE, known before prom-client is loaded). */
    registry: { contentType: 'text/plain; version=0.0.4; charset=utf-8' },
    recordRequest(route: string, method: string, status: number, seconds: number) {
      requests.inc(`${route} ${method} ${status}`, () => ({ route, method, status: String(status) }));
      requestDuration.observe(route, () => ({ route }), seconds);
    },
    recordInference(outcome: InferenceOutcome, seconds?: number) {
      inferences.inc(outcome, () => ({ outcome }));
      if (seconds !== undefined) inferenceDuration.observe('', () => ({}), seconds);
    },
    /** MODE=queue: the queue's job counts by state (waiting, active, failed, ...), read at each scrape. */
    registerQueue(counts: () => Promise<Record<string, number>>) {
      queueCounts = counts;
    },
    recordBatch(size: number) {
      batchSizes.observe('', () => ({}), size);
    },
    /** Everything, in the Prometheus text format. */
    async render(): Promise<string> {
      const hot = [requests, requestDuration, inferences, inferenceDuration, batchSizes].flatMap((family) => family.render());
      const { registry, Gauge } = await (loaded ??= createRegistry());
      if (queueCounts && !registry.getSingleMetric('queue_jobs')) {
        const counts = queueCounts;
        new Gauge({
          name: 'queue_jobs',
          help: "MODE=queue: the BullMQ queue's jobs by state (all workers of the queue together)",
          labelNames: ['state'] as const,
          registers: [registry],
          async collect() {
            this.reset();
            try {
              for (const [state, count] of Object.entries(await counts())) this.set({ state }, count);
            } catch {
              // Redis is away: readiness says so; the counts are left out of this scrape.
            }
          },
        });
      }
      return `${await registry.metrics()}\n${hot.join('\n')}\n`;
    },
  };
}

export type HttpMetrics = ReturnType<typeof createMetrics>;
