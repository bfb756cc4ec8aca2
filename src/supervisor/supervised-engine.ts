import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AiIntegrationError, ExitCode, InferenceThrewError, PredictionCanceledError } from '../errors.js';
import { plural } from '../plural.js';
import type { SupervisorLimits } from '../settings.js';
import type { Engine, InferOptions, InferenceResult, InputsSchema, Logger } from '../types.js';
import { asBuffers, configurationErrorFileVariable, requestEnvironment, workerEnvironmentVariable, type ForwardedOptions, type RequestEnvironment, type SupervisorMessage, type WorkerMessage } from '../worker-protocol.js';
import { stopProcess } from './stop-process.js';

export interface SupervisorSettings extends SupervisorLimits {
  /** The first back-off after a start failure; it doubles up to `maxBackoffMs`. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

interface Pending {
  id: number;
  inputs: Record<string, unknown>;
  /** The per-request variables (the Lambda trace id) as the mode had set them when it asked. */
  env: RequestEnvironment | undefined;
  resolve: (result: InferenceResult) => void;
  reject: (error: unknown) => void;
  /** Sent to the current worker and not answered yet. */
  sent: boolean;
  /** When it (probably) started running in the worker: when it reached the worker's running window. */
  runningSince?: number;
  /** Set once its cancel was sent to the worker: past CANCEL_GRACE_MS the worker is replaced. */
  cancelTimer?: NodeJS.Timeout;
  /** Takes a streamed result's chunks as the worker sends them. */
  onChunk?: (chunk: InferenceResult) => void;
}

const prefetchDepth = 4;

type WorkerState = 'starting' | 'ready' | 'backoff' | 'stopped';

/** Why the supervisor is taking the current worker down, when it is. */
type Replacement = { cause: 'timeout'; reason: string } | { cause: 'start_timeout'; reason: string } | { cause: 'canceled'; reason: string };

/**
 * The engine of the supervisor: the model runs in a worker process (the shim, started with the
 * worker flag), and requests wait here, so a worker that throws, dies or hangs is replaced without
 * losing any. The request whose inference threw or timed out gets the error; a worker that dies
 * without saying why fails the requests it was running (nobody knows which one killed it);
 * everything else is sent to the next worker. A worker that cannot start, or takes longer than
 * WORKER_START_TIMEOUT_MS to, is retried with capped exponential back-off, up to a limit.
 */
export class SupervisedEngine implements Engine {
  // Where a worker that stops on its shim's configuration error leaves the line it printed, so
  // that the error can name it too (Lambda's init/error gets it, not only the log).
  private readonly configurationErrorFile = join(tmpdir(), `ai-integration-${process.pid}-${randomUUID()}.error`);

  private takeConfigurationError(): string | undefined {
    try {
      const line = readFileSync(this.configurationErrorFile, 'utf8').trim();
      rmSync(this.configurationErrorFile, { force: true });
      return line === '' ? undefined : line;
    } catch {
      return undefined;
    }
  }

  readonly restartsInPlace = true;
  /** Restart the model after a throw (serving modes); in one-shot modes the throw ends the job. */
  restartAfterThrow = false;
  private worker: ChildProcess | undefined;
  private state: WorkerState = 'stopped';
  private reason = 'the model worker is starting';
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private consecutiveStartFailures = 0;
  private readonly restarts: Record<string, number> = {};
  private thrownIds = new Set<number>();
  private firstReady: { resolve: (ready: { schema: InputsSchema; options: ForwardedOptions }) => void; reject: (error: unknown) => void } | undefined;
  private stopping = false;
  private workerConcurrency = 1;
  private inferenceTimeoutMs = 0;
  private cancelGraceMs = 5000;
  /** Requests in the order they were sent to the current worker, which runs them in that order. */
  private sentOrder: Pending[] = [];
  private readonly workerPids = new Set<number>();
  private replacement: Replacement | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  // One sweep timer while requests run, instead of a timer per request (see the scheduler).
  private sweeper: NodeJS.Timeout | undefined;
  private failure: AiIntegrationError | undefined;
  private readonly failureListeners: ((error: Error) => void)[] = [];

  constructor(
    private readonly shim: string,
    private readonly args: readonly string[],
    private readonly settings: SupervisorSettings,
    private readonly log: Logger,
  ) {}

  /** Starts the first worker and resolves with the schema and options its shim gave startLoop. */
  start(): Promise<{ schema: InputsSchema; options: ForwardedOptions }> {
    return new Promise((resolve, reject) => {
      this.firstReady = { resolve, reject };
      this.spawnWorker();
    });
  }

  infer(inputs: Record<string, unknown>, options?: InferOptions): Promise<InferenceResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopping) return Promise.reject(new AiIntegrationError('AI_ERR_NOT_READY', 'the supervisor is stopping'));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new PredictionCanceledError('the prediction was canceled before it ran'));
    return new Promise((resolve, reject) => {
      const request: Pending = { id: this.nextId++, inputs, env: requestEnvironment(), resolve, reject, sent: false };
      if (options?.onChunk) request.onChunk = options.onChunk;
      if (signal) {
        const onAbort = () => this.cancel(request);
        signal.addEventListener('abort', onAbort, { once: true });
        const settled = () => {
          signal.removeEventListener('abort', onAbort);
          clearTimeout(request.cancelTimer);
        };
        request.resolve = (result) => {
          settled();
          resolve(result);
        };
        request.reject = (error) => {
          settled();
          reject(error);
        };
      }
      this.pending.set(request.id, request);
      if (this.state === 'ready') this.send(request);
    });
  }

  /**
   * A canceled request: one not sent yet is dropped; the worker is asked to abort one it holds,
   * and replaced (as after a timeout: what else it held goes to the next worker) when the model
   * has not stopped within CANCEL_GRACE_MS.
   */
  private cancel(request: Pending): void {
    if (!this.pending.has(request.id)) return;
    if (!request.sent) {
      this.pending.delete(request.id);
      request.reject(new PredictionCanceledError('the prediction was canceled before it ran'));
      return;
    }
    try {
      this.worker?.send({ type: 'abort', id: request.id } satisfies SupervisorMessage);
    } catch {
      // The worker is going away: the grace timer below still answers the request.
    }
    request.cancelTimer = setTimeout(() => {
      if (!this.pending.has(request.id)) return;
      this.pending.delete(request.id);
      const worker = this.worker;
      const wasSent = request.sent;
      this.forgetSent(request);
      request.reject(new PredictionCanceledError(`the prediction was canceled; the model did not stop within ${this.cancelGraceMs} ms (CANCEL_GRACE_MS), so its worker was restarted`));
      if (wasSent && worker && !this.replacement) this.replace(worker, { cause: 'canceled', reason: `did not stop a canceled inference within ${this.cancelGraceMs} ms (CANCEL_GRACE_MS)` });
    }, this.cancelGraceMs);
    request.cancelTimer.unref();
  }

  configure(limits: { concurrency: number; inferenceTimeoutMs: number; cancelGraceMs?: number }): { prefetch: number; enforcesTimeout: boolean; stopsCanceled: boolean } {
    this.workerConcurrency = limits.concurrency;
    this.inferenceTimeoutMs = limits.inferenceTimeoutMs;
    if (limits.cancelGraceMs !== undefined) this.cancelGraceMs = limits.cancelGraceMs;
    if (this.worker?.connected) this.worker.send({ type: 'configure', concurrency: limits.concurrency } satisfies SupervisorMessage);
    // Requests sent ahead wait in the worker's queue, so it never idles through an IPC round trip
    // between two inferences; a few cover even a model that answers in microseconds.
    return { prefetch: prefetchDepth, enforcesTimeout: true, stopsCanceled: true };
  }

  readiness(): { ready: boolean; reason?: string } {
    return this.state === 'ready' ? { ready: true } : { ready: false, reason: this.reason };
  }

  restartCounts(): Record<string, number> {
    return { ...this.restarts };
  }

  onFailure(listener: (error: Error) => void): void {
    this.failureListeners.push(listener);
  }

  /** Whether a mode listens for the engine failing for good (otherwise the supervisor exits itself). */
  get failureIsHandled(): boolean {
    return this.failureListeners.length > 0;
  }

  /**
   * Stops the worker for good: what still waits is refused, the worker is told to go (its IPC
   * channel closes), then SIGTERM, then SIGKILL after the grace, and this resolves once it is gone.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.state = 'stopped';
    this.stopSweeping();
    clearTimeout(this.startTimer);
    for (const request of this.pending.values()) request.reject(new AiIntegrationError('AI_ERR_NOT_READY', 'the supervisor is stopping'));
    this.pending.clear();
    this.sentOrder = [];
    const worker = this.worker;
    if (worker) await stopProcess(worker, this.settings.killGraceMs);
  }

  private spawnWorker(): void {
    this.state = 'starting';
    this.thrownIds = new Set();
    this.sentOrder = [];
    this.replacement = undefined;
    // stdin stays with the supervisor (the mode reads it); the worker's stdout goes to stderr, so
    // that what the model prints never mixes with the results on stdout. The worker has its own
    // process group: a terminal's Ctrl-C or a signal to the supervisor's group is the
    // supervisor's to handle (it drains first), and SIGTERM from the supervisor ends the worker.
    const worker = spawn(process.execPath, [...process.execArgv, ...workerPreload, this.shim, ...this.args], {
      env: { ...process.env, [workerEnvironmentVariable]: '1', [configurationErrorFileVariable]: this.configurationErrorFile },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      serialization: 'advanced',
      detached: true,
    });
    worker.stdout!.pipe(process.stderr, { end: false });
    this.worker = worker;
    if (worker.pid !== undefined) this.workerPids.add(worker.pid);
    worker.on('message', (message: WorkerMessage) => this.onMessage(worker, message));
    worker.on('error', (error) => this.log.error(`the model worker could not be started: ${error.message}`));
    worker.on('exit', (code, signal) => {
      this.workerPids.delete(worker.pid!);
      this.onExit(worker, code, signal);
    });
    const { startTimeoutMs } = this.settings;
    this.startTimer = setTimeout(() => {
      if (this.worker !== worker || this.state !== 'starting' || this.replacement) return;
      this.replace(worker, { cause: 'start_timeout', reason: `did not become ready within ${startTimeoutMs} ms (WORKER_START_TIMEOUT_MS)` });
    }, startTimeoutMs);
    this.startTimer.unref();
  }

  /** Whether `pid` is a worker this engine spawned and Node still waits for (the orphan reaper leaves those alone). */
  isOwnChild(pid: number): boolean {
    return this.workerPids.has(pid);
  }

  private send(request: Pending): void {
    const message: SupervisorMessage = { type: 'infer', id: request.id, inputs: request.inputs };
    if (request.env) message.env = request.env;
    if (request.onChunk) message.chunks = true;
    try {
      this.worker!.send(message, (error) => {
        // The worker went away before it took the message: the next worker gets it instead.
        if (error && this.pending.has(request.id)) this.unsend(request);
      });
    } catch (error) {
      // Inputs the channel cannot carry (structured clone refuses them, or overflows the stack):
      // this request is answered now and kept on no list, so nothing re-sends it later.
      this.pending.delete(request.id);
      request.reject(new AiIntegrationError('AI_ERR_INVALID_INPUT', `the inputs cannot be sent to the model worker: ${(error as Error).message}`));
      return;
    }
    request.sent = true;
    this.sentOrder.push(request);
    this.markRunning();
  }

  private unsend(request: Pending): void {
    request.sent = false;
    request.runningSince = undefined;
    this.forgetSent(request);
  }

  private onMessage(worker: ChildProcess, message: WorkerMessage): void {
    if (worker !== this.worker) return;
    switch (message.type) {
      case 'ready': {
        if (this.replacement) return; // it is being replaced already
        clearTimeout(this.startTimer);
        this.state = 'ready';
        if (this.workerConcurrency !== 1) worker.send({ type: 'configure', concurrency: this.workerConcurrency } satisfies SupervisorMessage);
        this.consecutiveStartFailures = 0;
        this.firstReady?.resolve({ schema: message.schema, options: message.options });
        this.firstReady = undefined;
        for (const request of [...this.pending.values()]) if (!request.sent && this.state === 'ready') this.send(request);
        return;
      }
      case 'result': {
        const request = this.pending.get(message.id);
        if (!request) return;
        this.pending.delete(message.id);
        this.forgetSent(request);
        const result = message.result as InferenceResult & Record<string, unknown>;
        request.resolve(result && typeof result === 'object' ? asBuffers(result) : result);
        return;
      }
      case 'chunk': {
        const chunk = message.chunk as InferenceResult & Record<string, unknown>;
        this.pending.get(message.id)?.onChunk?.(chunk && typeof chunk === 'object' ? asBuffers(chunk) : chunk);
        return;
      }
      case 'failed': {
        const request = this.pending.get(message.id);
        if (!request) return;
        this.pending.delete(message.id);
        this.forgetSent(request);
        request.reject(new AiIntegrationError(message.error.code, message.error.message));
        return;
      }
      case 'canceled': {
        const request = this.pending.get(message.id);
        if (!request) return;
        this.pending.delete(message.id);
        this.forgetSent(request);
        request.reject(new PredictionCanceledError('the prediction was canceled; the model stopped'));
        return;
      }
      case 'threw': {
        const request = this.pending.get(message.id);
        this.thrownIds.add(message.id);
        const thrown = Object.assign(new Error(message.error.message), { name: message.error.name, stack: message.error.stack });
        if (this.restartAfterThrow) {
          this.log.error(`the inference function threw in the model worker:\n${message.error.stack}`);
          this.log.error('Restarting the model worker; requests that wait are served by the new one.');
        }
        this.state = 'starting';
        this.reason = 'restarting: the model threw';
        if (request) {
          this.pending.delete(message.id);
          this.forgetSent(request);
          request.reject(new InferenceThrewError(thrown));
        }
        return;
      }
    }
  }

  private forgetSent(request: Pending): void {
    // Answers come mostly in order, so the request is almost always first.
    const index = this.sentOrder.indexOf(request);
    if (index !== -1) this.sentOrder.splice(index, 1);
    this.markRunning();
  }

  /**
   * The worker runs requests first in, first out, `workerConcurrency` at a time, so the first ones
   * sent and not answered are the ones running; each one's clock starts when it reaches that
   * window (the worker starts it as the one before it ends). No extra message is needed.
   */
  private markRunning(): void {
    if (this.inferenceTimeoutMs === 0) return;
    const now = performance.now();
    const window = Math.min(this.workerConcurrency, this.sentOrder.length);
    for (let index = 0; index < window; index++) this.sentOrder[index]!.runningSince ??= now;
    if (this.sentOrder.length > 0) this.sweeper ??= setInterval(() => this.sweep(), Math.max(1, Math.min(50, this.inferenceTimeoutMs / 10))).unref();
    else this.stopSweeping();
  }

  private stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const worker = this.worker;
    if (!worker || this.replacement) return;
    const now = performance.now();
    for (const request of this.sentOrder.slice(0, this.workerConcurrency)) {
      if (request.runningSince === undefined || now - request.runningSince < this.inferenceTimeoutMs) continue;
      // Past its timeout the model is in a bad state, as after a throw: this request gets 504,
      // and the worker is replaced; what else it held is sent to the next one.
      this.pending.delete(request.id);
      this.forgetSent(request);
      request.reject(new AiIntegrationError('AI_ERR_TIMEOUT', `inference took longer than ${this.inferenceTimeoutMs} ms (INFERENCE_TIMEOUT_MS); the model worker is being replaced`));
      this.replace(worker, { cause: 'timeout', reason: `an inference ran past ${this.inferenceTimeoutMs} ms (INFERENCE_TIMEOUT_MS)` });
      return;
    }
  }

  /** Takes a hung worker down (SIGTERM, then SIGKILL after the grace); its exit starts the next one. */
  private replace(worker: ChildProcess, replacement: Replacement): void {
    this.replacement = replacement;
    this.state = 'starting';
    this.reason = `restarting: the model worker ${replacement.reason}`;
    this.log.error(`the model worker ${replacement.reason}; stopping it (SIGTERM, then SIGKILL after ${this.settings.killGraceMs} ms) and starting a new one`);
    this.stopSweeping();
    void stopProcess(worker, this.settings.killGraceMs);
  }

  private onExit(worker: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    clearTimeout(this.startTimer);
    this.stopSweeping();
    if (this.stopping) return;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    const replacement = this.replacement;
    if (replacement?.cause === 'start_timeout' || (this.state === 'starting' && this.thrownIds.size === 0 && !replacement)) {
      // Exit 3 while starting: the worker reported its shim's configuration error (it cannot be
      // imported, its schema is invalid); no retry can help.
      this.onStartFailure(replacement ? replacement.reason : how, !replacement && code === ExitCode.config);
      return;
    }
    const cause = replacement ? replacement.cause : this.thrownIds.size > 0 ? 'threw' : signal ? `signal_${signal}` : `exit_${code}`;
    if (cause === 'threw' && !this.restartAfterThrow) {
      this.state = 'stopped';
      this.reason = 'the model threw';
      return; // a one-shot mode reports the throw and ends; nothing is left to serve
    }
    this.restarts[cause] = (this.restarts[cause] ?? 0) + 1;
    // The worker ran requests in the order they were sent, `workerConcurrency` at a time: after a
    // death without a word, the first unanswered ones may have been running when it died (and
    // may have killed it); after a throw or a timeout the culprit is known and answered, and
    // everything else goes to the next worker.
    const unanswered = this.sentOrder.filter((request) => this.pending.has(request.id));
    const suspects = new Set(cause === 'threw' || replacement ? [] : unanswered.slice(0, this.workerConcurrency));
    for (const request of unanswered) {
      if (suspects.has(request)) {
        this.pending.delete(request.id);
        request.reject(new AiIntegrationError('AI_ERR_WORKER_DIED', `the model worker died (${how}) during this inference; it is being restarted`));
      } else {
        request.sent = false;
        request.runningSince = undefined;
      }
    }
    if (cause !== 'threw' && !replacement) this.log.error(`the model worker died (${how}); restarting it`);
    this.reason = `restarting: the model worker ${cause === 'threw' ? 'threw' : replacement ? replacement.reason : `died (${how})`}`;
    this.spawnWorker();
  }

  private onStartFailure(how: string, configuration = false): void {
    this.consecutiveStartFailures++;
    if (configuration || this.consecutiveStartFailures >= this.settings.maxStartFailures) {
      const error = configuration ? new ShimConfigurationError(this.takeConfigurationError()) : new AiIntegrationError(
        'AI_ERR_WORKER_START_FAILED',
        `the model worker failed to start ${plural(this.consecutiveStartFailures, 'time')} in a row (last: ${how}); giving up (WORKER_MAX_START_FAILURES=${this.settings.maxStartFailures}). Its own error is in the log above.`,
      );
      this.state = 'stopped';
      this.reason = error.message;
      this.failure = error;
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
      if (this.firstReady) this.firstReady.reject(error);
      for (const listener of this.failureListeners) listener(error);
      this.onFatal?.(error);
      return;
    }
    const delay = Math.min(this.settings.maxBackoffMs, this.settings.initialBackoffMs * 2 ** (this.consecutiveStartFailures - 1));
    this.state = 'backoff';
    this.reason = `the model worker failed to start (${how}); retrying in ${delay} ms (attempt ${this.consecutiveStartFailures + 1} of ${this.settings.maxStartFailures})`;
    this.log.error(this.reason);
    setTimeout(() => {
      if (!this.stopping) this.spawnWorker();
    }, delay);
  }

  /** Called when the worker can no longer be started after it once was, before the mode's listeners have answered. */
  onFatal: ((error: AiIntegrationError) => void) | undefined;
}

// The worker's preload (dist/worker-preload.js) reports a shim that cannot be loaded in one line,
// with exit code 3. Run from the sources (the unit tests), there is no built preload to load.
const preload = new URL('./worker-preload.js', import.meta.url);
const workerPreload = existsSync(fileURLToPath(preload)) ? ['--import', preload.href] : [];

/**
 * The worker exited with the configuration code while starting: it has said why, in one line
 * (its shim cannot be loaded, its schema is invalid), and starting it again cannot help. The
 * process exits with that code too.
 */
export class ShimConfigurationError extends AiIntegrationError {
  override name = 'ShimConfigurationError';
  /** `cause`: the worker's own one-line error, when it could leave it (see worker-preload.ts). */
  constructor(cause?: string) {
    super('AI_ERR_WORKER_START_FAILED', cause ?? `the model worker exited with code ${ExitCode.config} while starting: its shim has a configuration error (reported above), so it is not retried`);
  }

  override get exitCode(): typeof ExitCode.config {
    return ExitCode.config;
  }
}
