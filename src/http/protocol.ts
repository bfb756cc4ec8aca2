import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cancellation } from '../engine/cancellation.js';
import type { ErrorAnswer } from '../errors.js';
import type { ValueOrigin } from '../inputs/convert-inputs.js';
import type { HttpSettings, ModeContext, ModelSlots, WorkerStatus } from '../types.js';
import type { HttpMetrics } from './metrics.js';
import type { Prediction } from './predict.js';
import type { PredictionStore } from '../serving/predictions.js';
import type { Reservation, SubmitOptions } from '../serving/admission-queue.js';
import type { UploadTarget } from '../uploads/uploaded-file.js';

/** Whether the service takes work, and why not. */
export interface Readiness {
  status: 'ready' | 'shutting_down' | 'failed' | 'restarting' | 'not_ready';
  reason?: string;
}

/** The model as every protocol describes it: its name and version (MODEL_NAME, MODEL_VERSION override them). */
export interface ModelInfo {
  name: string;
  version: string;
  description: string;
}

/** One request as a route handler sees it. */
export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  /** The request id (the client's X-Request-Id when sane, else a new UUID), already on the response. */
  id: string;
  /** The path's `{name}` segments, decoded. */
  params: Readonly<Record<string, string>>;
}

export type RouteHandler = (route: RouteContext) => Promise<void> | void;

/** A route a protocol declares. */
export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /**
   * An OpenAPI-style path template: `/predict`, `/v2/models/{name}/infer`, `/v1/models/{name}:predict`.
   * A parameter matches one path segment, or the part of one before a literal suffix. The template
   * is also the `route` label of the metrics, so their cardinality stays bounded.
   */
  path: string;
  handler: RouteHandler;
  /**
   * A probe (readiness, liveness, metrics): it stays reachable on the connections kept past
   * MAX_CONNECTIONS and while the service drains on SIGTERM.
   */
  probe?: boolean;
}

/** The reading side of a request's inputs: multipart fields (text origin) or JSON data. */
export interface RawInputs {
  raw: Record<string, unknown>;
  origin: ValueOrigin;
}

/**
 * What the core gives a protocol: every shared service (limits, queue, timeouts, readiness,
 * metrics, body reading within the budget) so that a protocol only maps its own format.
 */
export interface HttpCore {
  readonly context: ModeContext;
  readonly model: ModelInfo;
  readonly settings: HttpSettings;
  readonly metrics: HttpMetrics;
  /**
   * The predictions known by id (async ones, Cog's, any with a webhook), shared by every protocol:
   * `GET /predictions/{id}` and `POST /predictions/{id}/cancel` read it.
   */
  readonly predictions: PredictionStore;
  /** A cancel that fires when this request's client disconnects before its answer: pass it to cancel its prediction. */
  clientSignal(route: RouteContext): Cancellation;
  /** Whether the model can take work now: the service's state first, then the engine's (a restarting worker). */
  readiness(): Readiness;
  /** The work in hand, for a protocol's health and info answers: a snapshot, read when asked. */
  status(): ServiceStatus;
  /** Liveness: false once an inference has run past its timeout in this process (run directly). */
  live(): boolean;
  /**
   * Reads a body whole and decoded (Content-Encoding), within MAX_INPUT_BYTES and the body budget,
   * after checking the media type against `accepted` (415 otherwise; an empty list accepts any).
   */
  readBody(route: RouteContext, accepted?: readonly string[]): Promise<Buffer>;
  /** Reads a JSON body (`application/json` or `+json`), UTF-8, a byte-order mark skipped; 400 when it does not parse. */
  readJson(route: RouteContext): Promise<unknown>;
  /** Reads the native API's bodies: multipart form fields, or JSON `{"inputs": {...}}`. */
  readInputs(route: RouteContext, accepted: readonly ('multipart' | 'json')[]): Promise<RawInputs>;
  /**
   * Checks raw inputs against the schema (422 naming the field), runs them through the bounded
   * queue (429 past it) within INFERENCE_TIMEOUT_MS (504), and checks the result (500 when the
   * model failed or threw). A throw or a timeout is reported to the mode, which restarts the model.
   * `convert` then `infer`, for a protocol that checks a whole batch before any item runs.
   */
  predict(raw: Record<string, unknown>, origin: ValueOrigin, route: RouteContext, options?: { strict?: boolean }): Promise<Prediction>;
  /** `predict`'s first half: the inputs converted and checked against the schema (422 naming the field). */
  convert(raw: Record<string, unknown>, origin: ValueOrigin, options?: { strict?: boolean }): Promise<Record<string, unknown>>;
  /** `predict`'s second half: converted inputs through the queue and the model, the result checked; `reservation`: a place `reserve` took. */
  infer(inputs: Record<string, unknown>, route: RouteContext, options?: { reservation?: Reservation }): Promise<Prediction>;
  /**
   * Takes places in the queue for the `count` items of one request (KServe instances, Vertex
   * instances, SageMaker lines, OpenAI choices), all at once or none: 429 when fewer are free now,
   * before any item runs. Pass it to `infer` or `run` with each item; release it when done.
   * @example const reservation = core.reserve(items.length, 'instances'); try { ... } finally { reservation.release(); }
   */
  reserve(count: number, items: string): Reservation;
  /** `infer` for work that came by another way than an HTTP request (a queue's job): no client to watch. */
  run(inputs: Record<string, unknown>, options?: SubmitOptions): Promise<Prediction>;
  /**
   * Uploads a succeeded prediction's output files to its upload URL (`target.url`, else
   * OUTPUT_UPLOAD_URL) and gives it back with `uploads`, whose URLs its answers give instead of the
   * bytes; with no upload URL, or no file, it comes back as it was. A failed upload throws
   * AI_ERR_UPLOAD_FAILED. The predictions of the store go through it on their own.
   */
  uploadOutputs(prediction: Prediction, target: UploadTarget): Promise<Prediction>;
  /**
   * Answers an error in the protocol's shape (`HttpProtocol.errorBody`), logging anything that is
   * not ours; a route's handler only needs it for fields its answers carry beside the error (the
   * native `/predict`'s id and status), since whatever a handler throws is answered by the core.
   */
  fail(response: ServerResponse, error: unknown, around?: Readonly<Record<string, unknown>>): void;
}

/** The work a service has in hand. */
export interface ServiceStatus {
  /** Inferences running (or sent ahead to a worker). */
  inFlight: number;
  /** Requests waiting for a slot. */
  queued: number;
  /** Inferences past INFERENCE_TIMEOUT_MS that have not returned (run directly: the process is ending). */
  stuck: number;
  /** Each model worker, under the supervisor; empty otherwise. */
  workers: WorkerStatus[];
  /** The model's slots (CONCURRENCY in each ready worker; a batch model's, CONCURRENCY x batch.maxSize requests) and how many are held now: all held, a new request waits. */
  slots: ModelSlots;
}

/** What a mode's background work gives the core: how to stop it, and whether it is ready. */
export interface BackgroundWork {
  stop(): Promise<void>;
  readiness?(): { ready: boolean; reason?: string };
}

/**
 * A protocol mode: its routes and the mapping of its format onto the engine. The core owns the
 * server, the limits, the queue, readiness, metrics, `/openapi.json`, `/docs` and shutdown.
 */
export interface HttpProtocol {
  /** The mode's name (`http`, `kserve`, `cog`), as `/info` and the log show it. */
  name: string;
  /** The port when neither PORT nor the `http.port` option says: 5000 natively, 8080 for KServe. */
  defaultPort: number;
  /**
   * Whether the routes' handlers are done with a request's body bytes once their promise has
   * settled: they hand the inputs to `core.infer`, `core.run` or `core.predictions` before, and
   * keep no view of the body after. Under the supervisor such a body's buffer is then reused for a
   * later request (src/supervisor/gather-pool.ts); without it (a mode of your own, unless it says
   * so) it never is, so a handler may keep the bytes as long as it likes.
   */
  handlersReleaseBodies?: boolean;
  /** What the log line after "listening on URL" lists, e.g. "web page /, API /predict, docs /docs". */
  summary: string;
  routes(core: HttpCore): RouteDefinition[];
  /**
   * The largest request body, decoded, when it is not MAX_INPUT_BYTES: a platform's own limit
   * (SageMaker's 6 MB), which the mode applies only when `settings.maxInputBytesGiven` is false.
   */
  maxInputBytes?: number;
  /** The document served at `/openapi.json` (and shown at `/docs`). */
  openApi(core: HttpCore): object;
  /**
   * Work the mode does beside serving requests (MODE=queue consumes jobs), started once the
   * port listens. Its `stop` is awaited when the service drains (SIGTERM), before the queue of
   * inferences is; its `readiness` joins the service's (a lost Redis connection is not ready).
   */
  background?(core: HttpCore): Promise<BackgroundWork>;
  /**
   * An error's body in this protocol's shape, from the answer the core computed once (`errorAnswer`:
   * status and headers are the core's); `error` is what was thrown, for a body that says more than
   * the answer (Cog's 422 entries). Defaults to the native `{"error": {code, message, field?}}`.
   */
  errorBody?(answer: ErrorAnswer, error: unknown): object;
  /**
   * Where the protocol's specification answers another status than the error table, the table's
   * status to this protocol's: KServe's `{ 422: 400 }`.
   */
  errorStatuses?: Readonly<Record<number, number>>;
}
