import { spawn, type ChildProcess } from 'node:child_process';
import { AiIntegrationError, InferenceThrewError } from '../errors.js';
import type { Engine, InferenceResult, InputsSchema, Logger } from '../types.js';
import { asBuffers, workerEnvironmentVariable, type ForwardedOptions, type SupervisorMessage, type WorkerMessage } from '../worker-protocol.js';

export interface SupervisorSettings {
  /** Consecutive start failures (a worker that exits before it is ready) before giving up. */
  maxStartFailures: number;
  /** The first back-off after a start failure; it doubles up to `maxBackoffMs`. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

interface Pending {
  id: number;
  inputs: Record<string, unknown>;
  resolve: (result: InferenceResult) => void;
  reject: (error: unknown) => void;
  /** Sent to the current worker and not answered yet. */
  sent: boolean;
}

const prefetchDepth = 4;

type WorkerState = 'starting' | 'ready' | 'backoff' | 'stopped';

/**
 * The engine of the supervisor: the model runs in a worker process (the shim, started with the
 * worker flag), and requests wait here, so a worker that throws or dies is replaced without
 * losing any. The request whose inference threw gets the error; a worker that dies without saying
 * why fails the requests it was running (nobody knows which one killed it); everything else is
 * sent to the next worker. A worker that cannot start is retried with capped exponential back-off,
 * up to a limit.
 */
export class SupervisedEngine implements Engine {
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
  /** Request ids in the order they were sent to the current worker, which runs them in that order. */
  private sentOrder: number[] = [];
  private readonly workerPids = new Set<number>();

  constructor(
    private readonly shim: string,
    private readonly args: readonly string[],
    private readonly settings: Omit<SupervisorSettings, 'restartAfterThrow'>,
    private readonly log: Logger,
  ) {}

  /** Starts the first worker and resolves with the schema and options its shim gave startLoop. */
  start(): Promise<{ schema: InputsSchema; options: ForwardedOptions }> {
    return new Promise((resolve, reject) => {
      this.firstReady = { resolve, reject };
      this.spawnWorker();
    });
  }

  infer(inputs: Record<string, unknown>): Promise<InferenceResult> {
    if (this.stopping) return Promise.reject(new AiIntegrationError('AI_ERR_NOT_READY', 'the supervisor is stopping'));
    return new Promise((resolve, reject) => {
      const request: Pending = { id: this.nextId++, inputs, resolve, reject, sent: false };
      this.pending.set(request.id, request);
      if (this.state === 'ready') this.send(request);
    });
  }

  configureConcurrency(concurrency: number): number {
    this.workerConcurrency = concurrency;
    this.worker?.send({ type: 'configure', concurrency } satisfies SupervisorMessage);
    // Requests sent ahead wait in the worker's queue, so it never idles through an IPC round trip
    // between two inferences; a few cover even a model that answers in microseconds.
    return prefetchDepth;
  }

  readiness(): { ready: boolean; reason?: string } {
    return this.state === 'ready' ? { ready: true } : { ready: false, reason: this.reason };
  }

  restartCounts(): Record<string, number> {
    return { ...this.restarts };
  }

  /** Stops the worker for good; what still waits is refused. */
  stop(): void {
    this.stopping = true;
    this.state = 'stopped';
    for (const request of this.pending.values()) request.reject(new AiIntegrationError('AI_ERR_NOT_READY', 'the supervisor is stopping'));
    this.pending.clear();
    // The worker ignores SIGTERM and SIGINT (they are the supervisor's to handle) and exits when
    // its IPC channel closes.
    if (this.worker?.connected) this.worker.disconnect();
  }

  private spawnWorker(): void {
    this.state = 'starting';
    this.thrownIds = new Set();
    this.sentOrder = [];
    // stdin stays with the supervisor (the mode reads it); the worker's stdout goes to stderr, so
    // that what the model prints never mixes with the results on stdout.
    const worker = spawn(process.execPath, [...process.execArgv, this.shim, ...this.args], {
      env: { ...process.env, [workerEnvironmentVariable]: '1' },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      serialization: 'advanced',
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
  }

  /** Whether `pid` is a worker this engine spawned and Node still waits for (the orphan reaper leaves those alone). */
  isOwnChild(pid: number): boolean {
    return this.workerPids.has(pid);
  }

  private send(request: Pending): void {
    request.sent = true;
    this.sentOrder.push(request.id);
    const message: SupervisorMessage = { type: 'infer', id: request.id, inputs: request.inputs };
    this.worker?.send(message, (error) => {
      // The worker went away before it took the message: it waits for the next one instead.
      if (error) {
        request.sent = false;
        this.forgetSent(request.id);
      }
    });
  }

  private onMessage(worker: ChildProcess, message: WorkerMessage): void {
    if (worker !== this.worker) return;
    switch (message.type) {
      case 'ready': {
        this.state = 'ready';
        if (this.workerConcurrency !== 1) worker.send({ type: 'configure', concurrency: this.workerConcurrency } satisfies SupervisorMessage);
        this.consecutiveStartFailures = 0;
        this.firstReady?.resolve({ schema: message.schema, options: message.options });
        this.firstReady = undefined;
        for (const request of this.pending.values()) if (!request.sent) this.send(request);
        return;
      }
      case 'result': {
        const request = this.pending.get(message.id);
        if (!request) return;
        this.pending.delete(message.id);
        this.forgetSent(message.id);
        const result = message.result as InferenceResult & Record<string, unknown>;
        request.resolve(result && typeof result === 'object' ? asBuffers(result) : result);
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
          this.forgetSent(message.id);
          request.reject(new InferenceThrewError(thrown));
        }
        return;
      }
    }
  }

  private forgetSent(id: number): void {
    // Answers come mostly in order, so the id is almost always first.
    const index = this.sentOrder.indexOf(id);
    if (index !== -1) this.sentOrder.splice(index, 1);
  }

  private onExit(worker: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    if (this.stopping) return;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    if (this.state === 'starting' && this.thrownIds.size === 0) {
      this.onStartFailure(how);
      return;
    }
    const cause = this.thrownIds.size > 0 ? 'threw' : signal ? `signal_${signal}` : `exit_${code}`;
    if (cause === 'threw' && !this.restartAfterThrow) {
      this.state = 'stopped';
      this.reason = 'the model threw';
      return; // a one-shot mode reports the throw and ends; nothing is left to serve
    }
    this.restarts[cause] = (this.restarts[cause] ?? 0) + 1;
    // The worker ran requests in the order they were sent, `workerConcurrency` at a time: the
    // first unanswered ones may have been running when it died; the others were still waiting.
    const unanswered = this.sentOrder.filter((id) => this.pending.get(id)?.sent);
    const possiblyRunning = new Set(cause === 'threw' ? [] : unanswered.slice(0, this.workerConcurrency));
    for (const id of unanswered) {
      const request = this.pending.get(id)!;
      if (possiblyRunning.has(id)) {
        this.pending.delete(id);
        request.reject(new AiIntegrationError('AI_ERR_WORKER_DIED', `the model worker died (${how}) during this inference; it is being restarted`));
      } else {
        request.sent = false; // it did not throw and was not running: the next worker runs it
      }
    }
    if (cause !== 'threw') this.log.error(`the model worker died (${how}); restarting it`);
    this.reason = `restarting: the model worker ${cause === 'threw' ? 'threw' : `died (${how})`}`;
    this.spawnWorker();
  }

  private onStartFailure(how: string): void {
    this.consecutiveStartFailures++;
    if (this.consecutiveStartFailures >= this.settings.maxStartFailures) {
      const error = new AiIntegrationError(
        'AI_ERR_WORKER_START_FAILED',
        `the model worker failed to start ${this.consecutiveStartFailures} times in a row (last: ${how}); giving up (WORKER_MAX_START_FAILURES=${this.settings.maxStartFailures}). Its own error is in the log above.`,
      );
      this.state = 'stopped';
      this.reason = error.message;
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
      if (this.firstReady) this.firstReady.reject(error);
      else this.onFatal?.(error);
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

  /** Called when the worker can no longer be started after it once was: the supervisor ends. */
  onFatal: ((error: AiIntegrationError) => void) | undefined;
}
