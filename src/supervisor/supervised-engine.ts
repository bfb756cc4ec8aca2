import { StartOutput } from './start-output.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AiIntegrationError,
  ExitCode,
  InferenceThrewError,
  InferenceTimeoutError,
  PredictionCanceledError,
  inferenceTimeoutName,
  type TimeLimit,
} from '../errors.js';
import { plural } from '../plural.js';
import type { SupervisorLimits } from '../settings.js';
import type {
  BodyBufferCounts,
  Engine,
  EngineEvents,
  EngineLimits,
  InferOptions,
  InferenceResult,
  InputsSchema,
  Logger,
  ModelSlots,
  WorkerStatus,
} from '../types.js';
import { WorkerSlot, type Pending, type Replacement } from './worker-slot.js';
import {
  asBuffers,
  configurationErrorFileVariable,
  requestEnvironment,
  workerEnvironmentVariable,
  type ForwardedOptions,
  type ShimModes,
  type SupervisorMessage,
  type WorkerMessage,
} from './worker-protocol.js';
import { Cancellation } from '../engine/cancellation.js';
import { Outbox, unpackMessages, type ManyMessages } from './message-outbox.js';
import { ByteChannel, byteStreamFdVariable, takeLargeValues } from './byte-channel.js';
import { releaseSharedValues, sharedGatherBuffer, sharedMemoryProbe, sharedMemoryVariable, sharedValueOf } from './shared-memory.js';
import { holdGathered, useGatherAllocator } from '../inputs/gather-buffer.js';
import { GatherPool, supervisorGatherAllocator } from './gather-pool.js';
import type { Socket } from 'node:net';
import { stopProcess } from './stop-process.js';
import { PendingRequests } from './pending-requests.js';
import { fileBuffersInPlace } from '../result/output-fields.js';
import { TimeoutSweep } from '../serving/timeout-sweep.js';

/** What the first ready worker's shim gave startLoop, and the modes it registered. */
export interface ShimReady {
  schema: InputsSchema;
  options: ForwardedOptions;
  modes: ShimModes;
}

export interface SupervisorSettings extends Omit<SupervisorLimits, 'workers' | 'devices'>, Partial<Pick<SupervisorLimits, 'workers' | 'devices'>> {
  /** The first back-off after a start failure; it doubles up to `maxBackoffMs`. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

// Requests sent ahead of the running ones wait in the worker's queue, so it never idles through
// an IPC round trip between two inferences. With one worker, 16 keep even a model that answers in
// microseconds busy (4 left it waiting on the round trip: 10% less throughput); with several, a
// short queue each keeps a slow request from holding many others while another worker idles.
const prefetchDepthAlone = 16;
const prefetchDepthShared = 4;

/**
 * The engine of the supervisor: the model runs in worker processes (the shim, started with the
 * worker flag; WORKERS of them), and requests wait here, so a worker that throws, dies or hangs is
 * replaced without losing any. A request goes to the least busy ready worker. The request whose
 * inference threw or timed out gets the error; a worker that dies without saying why fails the
 * requests it was running (nobody knows which one killed it); everything else it held goes to the
 * other workers, or to its replacement. A worker that cannot start, or takes longer than
 * WORKER_START_TIMEOUT_MS to, is retried with capped exponential back-off, up to a limit.
 */
export class SupervisedEngine implements Engine {
  // A throw or a timeout replaces a worker, not this process; only here is it known when a
  // request starts running in a worker, so the timeout is kept here too.
  readonly capabilities = { restartsInPlace: true, enforcesTimeout: true, schedulesOwnWork: false };
  readonly events = new EventEmitter<EngineEvents>();
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

  /**
   * The supervisor's fault policy, chosen once the mode is known: a serving mode's model is
   * replaced after a throw; in a one-shot mode the throw ends the job.
   */
  restartAfterThrow = false;
  /**
   * Whether a worker that fails to start is started again (up to WORKER_MAX_START_FAILURES): so in
   * a serving mode; a one-shot mode (the self-test, the stdin modes, the command line) gives up at
   * once, its error printed once. Set before `start`, from the mode MODE names.
   */
  retryFailedStarts = true;
  /**
   * `ai-integration dev`: a worker that fails to start (the shim does not compile after an edit)
   * is neither retried nor given up on: requests get its error until `reload()` tries again.
   */
  waitForReloadAfterFailedStart = false;
  /** Node options the workers start with before the shim (the TypeScript loader under `dev`). */
  workerNodeArgs: readonly string[] = [];
  /** Set while the shim does not load under `dev`: every request gets it. */
  private broken: AiIntegrationError | undefined;
  private readonly slots: WorkerSlot[];
  // The buffers request bodies are gathered into, reused once a worker has read them (gather-pool.ts).
  private readonly gatherPool = new GatherPool();
  private readonly pending = new PendingRequests<Pending>();
  /** Requests not sent to any worker yet, oldest first. */
  private waiting: Pending[] = [];
  private nextId = 1;
  private readonly restarts: Record<string, number> = {};
  private firstReady: { resolve: (ready: ShimReady) => void; reject: (error: unknown) => void } | undefined;
  private stopping = false;
  private workerConcurrency = 1;
  /** The model's batch size when it takes batches: a worker runs `workerConcurrency` batches at once. */
  private batchSize = 1;
  /** Most requests one worker holds (running and queued); unbounded until a serving mode configures it. */
  private perWorker = Number.POSITIVE_INFINITY;
  /** The limit a request gets when it starts running; `ms` 0 for none. */
  private timeLimit: TimeLimit = { ms: 0, name: inferenceTimeoutName };
  private cancelGraceMs = 5000;
  private readonly workerPids = new Set<number>();
  // Workers with equal load take turns, so that requests spread at low load too.
  private lastSlot = -1;
  private readonly sweeper = new TimeoutSweep(
    () => this.timeLimit.ms,
    () => this.sweep(),
  );
  private failure: AiIntegrationError | undefined;

  constructor(
    private readonly shim: string,
    private readonly args: readonly string[],
    private readonly settings: SupervisorSettings,
    private readonly log: Logger,
  ) {
    const devices = settings.devices;
    this.slots = Array.from({ length: settings.workers ?? 1 }, (_, index) => new WorkerSlot(index, devices?.[index % devices.length]));
  }

  /** Starts every worker and resolves with the schema and options the first ready one's shim gave startLoop. */
  start(): Promise<ShimReady> {
    return new Promise((resolve, reject) => {
      this.firstReady = {
        resolve: (ready) => {
          this.batchSize = ready.options.batch?.maxSize ?? 1;
          resolve(ready);
        },
        reject,
      };
      for (const slot of this.slots) this.spawnWorker(slot);
    });
  }

  infer(inputs: Record<string, unknown>, options?: InferOptions): Promise<InferenceResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.broken) return Promise.reject(this.broken);
    if (this.stopping) return Promise.reject(new AiIntegrationError('AI_ERR_NOT_READY', 'the supervisor is stopping'));
    const cancellation = Cancellation.of(options?.signal);
    if (cancellation?.aborted) return Promise.reject(new PredictionCanceledError('the prediction was canceled before it ran'));
    return new Promise((resolve, reject) => {
      // The request object is made whole, and nothing that came after it is written into it: V8
      // may make it in the old generation (see garbage-collection.ts), and a young closure written
      // into an old object keeps the request's promise and HTTP objects alive through young
      // collections.
      let stopListening: (() => void) | undefined;
      // The reused buffers its inputs were gathered into (gather-pool.ts): back to the pool once a
      // worker has read them all, after the only send; else (a cancel, a timeout, a re-send, a
      // worker lost) a write of them may still be under way, and they are never reused.
      const gathered = holdGathered(inputs);
      // Called only once `request` below exists. The memory files its inputs were gathered into
      // are closed: no worker maps them again (the supervisor's view lives on while referenced).
      const settled = () => {
        stopListening?.();
        clearTimeout(request.cancelTimer);
        releaseSharedValues(inputs);
        if (request.read && request.sends === 1) gathered?.release();
        else gathered?.discard();
      };
      const request: Pending = {
        id: this.nextId++,
        inputs,
        env: requestEnvironment(),
        resolve: (result) => {
          settled();
          resolve(result);
        },
        reject: (error) => {
          settled();
          reject(error);
        },
        slot: undefined,
        runningSince: undefined,
        limit: undefined,
        cancelTimer: undefined,
        onChunk: options?.onChunk,
        onLog: options?.onLog,
        onPredictTime: options?.onPredictTime,
        sends: 0,
        read: false,
      };
      if (cancellation) stopListening = cancellation.onCancel(() => this.cancel(request));
      this.pending.set(request.id, request);
      this.waiting.push(request);
      this.dispatch();
    });
  }

  /** Sends waiting requests, oldest first, each to the least busy ready worker that has room. */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.leastBusy();
      if (!slot) return;
      this.send(slot, this.waiting.shift()!);
    }
  }

  private leastBusy(): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    const count = this.slots.length;
    for (let step = 1; step <= count; step++) {
      const slot = this.slots[(this.lastSlot + step) % count]!;
      if (slot.usable && slot.sentOrder.length < this.perWorker && (!best || slot.sentOrder.length < best.sentOrder.length)) best = slot;
    }
    if (best) this.lastSlot = best.index;
    return best;
  }

  /**
   * A canceled request: one not sent yet is dropped; the worker is asked to abort one it holds,
   * and replaced (as after a timeout: what else it held goes to the other workers) when the model
   * has not stopped within CANCEL_GRACE_MS.
   */
  private cancel(request: Pending): void {
    if (!this.pending.has(request.id)) return;
    const slot = request.slot;
    if (!slot) {
      this.pending.delete(request.id);
      this.waiting.splice(this.waiting.indexOf(request), 1);
      request.reject(new PredictionCanceledError('the prediction was canceled before it ran'));
      return;
    }
    // After the request itself, which may still wait in the outbox; if the worker is going away,
    // the grace timer below still answers the request.
    slot.outbox?.send({ type: 'abort', id: request.id });
    const worker = slot.process;
    request.cancelTimer = setTimeout(() => {
      if (!this.pending.has(request.id)) return;
      this.pending.delete(request.id);
      const stillThere = request.slot === slot && slot.process === worker;
      this.forgetSent(request);
      request.reject(
        new PredictionCanceledError(
          `the prediction was canceled; the model did not stop within ${this.cancelGraceMs} ms (CANCEL_GRACE_MS), so its worker was restarted`,
        ),
      );
      if (stillThere && worker && !slot.replacement)
        this.replace(slot, { cause: 'canceled', reason: `did not stop a canceled inference within ${this.cancelGraceMs} ms (CANCEL_GRACE_MS)` });
    }, this.cancelGraceMs);
    request.cancelTimer.unref();
  }

  configure(limits: EngineLimits): { prefetch: number } {
    this.workerConcurrency = limits.concurrency;
    this.timeLimit = { ms: limits.inferenceTimeoutMs, name: limits.inferenceTimeoutName ?? inferenceTimeoutName };
    if (limits.cancelGraceMs !== undefined) this.cancelGraceMs = limits.cancelGraceMs;
    for (const slot of this.slots) if (slot.process?.connected) slot.outbox?.send({ type: 'configure', concurrency: limits.concurrency });
    // Each worker holds what it runs plus the next round (requests, or a whole next batch) waiting
    // in its queue; the mode may hand the engine that much for all workers together.
    this.perWorker = this.runningWindow + (this.batchSize > 1 ? this.batchSize : this.slots.length === 1 ? prefetchDepthAlone : prefetchDepthShared);
    this.dispatch();
    return { prefetch: this.perWorker * this.slots.length - limits.concurrency };
  }

  // The requests a worker runs at once: `workerConcurrency` inferences, or batches of up to `batchSize`.
  private get runningWindow(): number {
    return this.workerConcurrency * this.batchSize;
  }

  readiness(): { ready: boolean; reason?: string } {
    if (this.slots.some((slot) => slot.state === 'ready')) return { ready: true };
    const slot = this.slots.find((candidate) => candidate.state !== 'stopped') ?? this.slots[0]!;
    return { ready: false, reason: this.slots.length > 1 ? `no model worker is ready (worker ${slot.index}: ${slot.reason})` : slot.reason };
  }

  restartCounts(): Record<string, number> {
    return { ...this.restarts };
  }

  bodyBuffers(): BodyBufferCounts {
    return { reused: this.gatherPool.reused, freeBytes: this.gatherPool.freeByteCount };
  }

  /**
   * Each worker that can take work runs `runningWindow` of what it was sent (in order); the rest
   * waits in its queue. The scheduler's count holds those waiting ones too, and adds no workers.
   */
  modelSlots(): ModelSlots {
    let held = 0;
    let total = 0;
    for (const slot of this.slots) {
      if (!slot.usable) continue;
      total += this.runningWindow;
      held += Math.min(slot.sentOrder.length, this.runningWindow);
    }
    return { held, total };
  }

  /** Each worker's state, load and restarts, for /info and the metrics. */
  workers(): WorkerStatus[] {
    return this.slots.map((slot) => slot.status());
  }

  /**
   * Stops the workers for good: what still waits is refused, each worker is told to go (its IPC
   * channel closes), then SIGTERM, then SIGKILL after the grace, and this resolves once all are gone.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sweeper.stop();
    for (const request of this.pending.values()) request.reject(new AiIntegrationError('AI_ERR_NOT_READY', 'the supervisor is stopping'));
    this.pending.clear();
    this.waiting = [];
    await Promise.all(
      this.slots.map((slot) => {
        slot.state = 'stopped';
        clearTimeout(slot.startTimer);
        slot.sentOrder = [];
        return slot.process ? stopProcess(slot.process, this.settings.killGraceMs) : undefined;
      }),
    );
  }

  private spawnWorker(slot: WorkerSlot): void {
    slot.state = 'starting';
    slot.thrownIds = new Set();
    slot.sentOrder = [];
    slot.replacement = undefined;
    slot.channelLost = false;
    // stdin stays with the supervisor (the mode reads it); the worker's stdout goes to stderr, so
    // that what the model prints never mixes with the results on stdout. The worker has its own
    // process group: a terminal's Ctrl-C or a signal to the supervisor's group is the
    // supervisor's to handle (it drains first), and SIGTERM from the supervisor ends the worker.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [workerEnvironmentVariable]: '1',
      [configurationErrorFileVariable]: this.configurationErrorFile,
      [byteStreamFdVariable]: '4',
      WORKER_INDEX: String(slot.index),
    };
    slot.sharedMemory = false;
    const probe = sharedMemoryProbe();
    if (probe !== undefined) env[sharedMemoryVariable] = probe;
    if (slot.device !== undefined) env.CUDA_VISIBLE_DEVICES = slot.device;
    const worker = spawn(process.execPath, [...process.execArgv, ...workerPreload, ...this.workerNodeArgs, this.shim, ...this.args], {
      env,
      // fd 4: the byte stream for large binary values (byte-channel.ts), a fresh one per process.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      serialization: 'advanced',
      detached: true,
    });
    worker.stdout!.pipe(process.stderr, { end: false });
    // Its stderr passes through, but for a failed start's output repeated word for word (StartOutput).
    const startOutput = new StartOutput(process.stderr, slot.failedStartOutput);
    slot.startOutput = startOutput;
    worker.stderr!.on('data', (chunk: Buffer) => {
      if (!startOutput.write(chunk)) {
        worker.stderr!.pause();
        process.stderr.once('drain', () => worker.stderr!.resume());
      }
    });
    slot.process = worker;
    const bytes = new ByteChannel(worker.stdio[4] as Socket, (error) => {
      if (slot.process !== worker) return;
      this.log.error(`the model worker${this.named(slot)} broke the byte stream's framing (${error.message}); stopping it`);
      worker.kill('SIGKILL');
    });
    slot.bytes = bytes;
    slot.outbox = new Outbox((message, callback) => {
      worker.send(message, callback);
      // Only once the message is on its way (structured clone may refuse it): its values follow.
      bytes.sent(message);
    });
    if (worker.pid !== undefined) this.workerPids.add(worker.pid);
    worker.on('message', (received: WorkerMessage | ManyMessages<WorkerMessage>) => {
      for (const message of unpackMessages(received)) this.onMessage(slot, worker, message);
    });
    worker.on('error', (error) => this.log.error(`the model worker${this.named(slot)} could not be started: ${error.message}`));
    worker.on('exit', (code, signal) => {
      this.workerPids.delete(worker.pid!);
      // What still waits to be written to it (the Buffers of requests that go to the next worker)
      // is let go now, not whenever the socket notices its other end is gone.
      bytes.close();
      // A failed start is judged on its whole output, which may still be in the pipe; a process
      // of the model's that keeps the pipe open does not hold the verdict up for long.
      if (slot.state !== 'starting' || worker.stderr!.readableEnded) {
        this.onExit(slot, worker, code, signal);
        return;
      }
      const judge = () => {
        clearTimeout(timer);
        worker.stderr!.off('end', judge);
        this.onExit(slot, worker, code, signal);
      };
      const timer = setTimeout(judge, 1000);
      worker.stderr!.once('end', judge);
    });
    const { startTimeoutMs } = this.settings;
    slot.startTimer = setTimeout(() => {
      if (slot.process !== worker || slot.state !== 'starting' || slot.replacement) return;
      this.replace(slot, { cause: 'start_timeout', reason: `did not become ready within ${startTimeoutMs} ms (WORKER_START_TIMEOUT_MS)` });
    }, startTimeoutMs);
    slot.startTimer.unref();
  }

  // " 2" in the log when there are several workers; nothing when there is one.
  private named(slot: WorkerSlot): string {
    return this.slots.length > 1 ? ` ${slot.index}` : '';
  }

  /** Whether `pid` is a worker this engine spawned and Node still waits for (the orphan reaper leaves those alone). */
  isOwnChild(pid: number): boolean {
    return this.workerPids.has(pid);
  }

  private send(slot: WorkerSlot, request: Pending): void {
    const infer: Extract<SupervisorMessage, { type: 'infer' }> = { type: 'infer', id: request.id, inputs: request.inputs };
    if (request.env) infer.env = request.env;
    if (request.onChunk) infer.chunks = true;
    if (request.onLog) infer.logs = true;
    // Large binary inputs follow on the byte stream, or the worker maps them from the memory file
    // they were gathered into; request.inputs stays whole for a re-send.
    const message = slot.bytes!.prepare(
      infer,
      request.inputs,
      (rest) => ({ ...infer, inputs: rest }),
      slot.sharedMemory ? (record) => takeLargeValues(record, sharedValueOf) : undefined,
    );
    const worker = slot.process!;
    slot.outbox!.send(message, (delivery) => {
      if (delivery.ok || this.pending.get(request.id) !== request) return;
      if ('refused' in delivery) {
        // Inputs the channel cannot carry (structured clone refuses them, or overflows the stack):
        // this request is answered now and kept on no list, so nothing re-sends it later.
        this.pending.delete(request.id);
        this.forgetSent(request);
        request.reject(new AiIntegrationError('AI_ERR_INVALID_INPUT', `the inputs cannot be sent to the model worker: ${delivery.refused.message}`));
        this.dispatch();
        return;
      }
      // The worker went away before it took the message: another worker gets it instead (this
      // one takes nothing more until it is replaced).
      if (slot.process === worker) slot.channelLost = true;
      if (request.slot === slot && slot.process === worker) this.unsend(request);
    });
    request.slot = slot;
    request.sends++;
    slot.sentOrder.push(request);
    this.markRunning(slot);
  }

  private unsend(request: Pending): void {
    this.forgetSent(request);
    this.requeue([request]);
  }

  // Requests a worker gave back go before those that came after them.
  private requeue(requests: Pending[]): void {
    if (requests.length === 0) return;
    for (const request of requests) {
      request.slot = undefined;
      request.runningSince = undefined;
      request.limit = undefined;
    }
    this.waiting = [...requests, ...this.waiting].sort((first, second) => first.id - second.id);
    this.dispatch();
  }

  /** The request `id` from this worker, taken off every list: it is being answered. */
  private take(slot: WorkerSlot, id: number): Pending | undefined {
    const request = this.pending.get(id);
    if (!request || request.slot !== slot) return undefined;
    this.pending.delete(id);
    this.forgetSent(request);
    return request;
  }

  private onMessage(slot: WorkerSlot, worker: ChildProcess, message: WorkerMessage): void {
    if (worker !== slot.process) return;
    switch (message.type) {
      case 'ready': {
        if (slot.replacement) return; // it is being replaced already
        clearTimeout(slot.startTimer);
        slot.state = 'ready';
        slot.sharedMemory = message.sharedMemory === true;
        // Bodies are gathered into memory files while the workers can map them.
        useGatherAllocator(supervisorGatherAllocator(this.gatherPool, slot.sharedMemory ? sharedGatherBuffer : () => undefined));
        slot.startOutput?.ready();
        slot.failedStartOutput = undefined;
        if (this.workerConcurrency !== 1) slot.outbox!.send({ type: 'configure', concurrency: this.workerConcurrency });
        slot.consecutiveStartFailures = 0;
        if (slot.reloadStartedAt !== undefined) {
          this.log.info(`the model worker${this.named(slot)} loaded the changed shim in ${Math.round(performance.now() - slot.reloadStartedAt)} ms`);
          slot.reloadStartedAt = undefined;
        }
        this.firstReady?.resolve({ schema: message.schema, options: message.options, modes: message.modes });
        this.firstReady = undefined;
        this.dispatch();
        return;
      }
      case 'result': {
        const result = message.result as InferenceResult & Record<string, unknown>;
        if (!result || typeof result !== 'object' || !message.streamed) {
          this.resolve(slot, message.id, result, message.predictMs);
          return;
        }
        // The request stays the worker's until its data has arrived: if it dies first, the
        // request is handled as any other it held.
        slot.bytes!.receive(message, result, () => {
          if (worker === slot.process) this.resolve(slot, message.id, result, message.predictMs);
        });
        return;
      }
      case 'chunk': {
        const chunk = message.chunk as InferenceResult & Record<string, unknown>;
        if (chunk && typeof chunk === 'object') fileBuffersInPlace(asBuffers(chunk));
        this.pending.get(message.id)?.onChunk?.(chunk);
        return;
      }
      case 'log': {
        this.pending.get(message.id)?.onLog?.(String(message.text));
        return;
      }
      case 'batch': {
        this.events.emit('batch', message.size);
        return;
      }
      case 'failed': {
        const request = this.take(slot, message.id);
        if (!request) return;
        request.read = true;
        request.reject(new AiIntegrationError(message.error.code, message.error.message));
        this.dispatch();
        return;
      }
      case 'canceled': {
        const request = this.take(slot, message.id);
        if (!request) return;
        request.reject(new PredictionCanceledError('the prediction was canceled; the model stopped'));
        this.dispatch();
        return;
      }
      case 'threw': {
        // A batch that threw sends one of these per request; the first one logs.
        const first = slot.thrownIds.size === 0;
        slot.thrownIds.add(message.id);
        const thrown = Object.assign(new Error(message.error.message), { name: message.error.name, stack: message.error.stack });
        if (this.restartAfterThrow && first) {
          this.log.error(`the inference function threw in the model worker${this.named(slot)}:\n${message.error.stack}`);
          this.log.error(
            `Restarting the model worker${this.named(slot)}; requests that wait are served by ${this.slots.length > 1 ? 'the other workers and ' : ''}the new one.`,
          );
        }
        slot.state = 'starting';
        slot.reason = 'restarting: the model threw';
        const request = this.take(slot, message.id);
        if (request) {
          request.read = true;
          request.reject(new InferenceThrewError(thrown));
        }
        // What else it held goes to the other workers now, rather than after it exits.
        if (this.slots.length > 1) this.takeBack(slot, this.runningWindow);
        return;
      }
    }
  }

  private resolve(slot: WorkerSlot, id: number, result: InferenceResult & Record<string, unknown>, predictMs: number): void {
    const request = this.take(slot, id);
    if (!request) return;
    request.read = true;
    request.onPredictTime?.(predictMs);
    if (result && typeof result === 'object') fileBuffersInPlace(asBuffers(result));
    request.resolve(result);
    this.dispatch();
  }

  /** Takes back what a worker holds beyond its first `from` requests (those running), for the other workers or its successor. */
  private takeBack(slot: WorkerSlot, from: number): void {
    const held = slot.sentOrder.slice(from).filter((request) => this.pending.has(request.id));
    for (const request of held) this.forgetSent(request);
    this.requeue(held);
  }

  private forgetSent(request: Pending): void {
    const slot = request.slot;
    if (!slot) return;
    // Answers come mostly in order, so the request is almost always first.
    const index = slot.sentOrder.indexOf(request);
    if (index !== -1) slot.sentOrder.splice(index, 1);
    request.slot = undefined;
    this.markRunning(slot);
    if (slot.replacement?.cause === 'reload') this.stopWhenIdle(slot);
  }

  /**
   * A worker runs requests first in, first out, `runningWindow` at a time, so the first ones sent
   * and not answered are the ones running; each one's clock starts when it reaches that window
   * (the worker starts it as the one before it ends). No extra message is needed.
   */
  private markRunning(slot: WorkerSlot): void {
    if (this.timeLimit.ms === 0) return;
    const now = performance.now();
    const window = Math.min(this.runningWindow, slot.sentOrder.length);
    for (let index = 0; index < window; index++) {
      const request = slot.sentOrder[index]!;
      if (request.runningSince !== undefined) continue;
      request.runningSince = now;
      request.limit = this.timeLimit;
    }
    if (slot.sentOrder.length > 0) this.sweeper.start();
    else if (this.slots.every((other) => other.sentOrder.length === 0)) this.sweeper.stop();
  }

  private sweep(): void {
    const now = performance.now();
    for (const slot of this.slots) {
      // A worker that finishes its work before a reload still has its requests timed.
      if (!slot.process || (slot.replacement && slot.replacement.cause !== 'reload')) continue;
      for (const request of slot.sentOrder.slice(0, this.runningWindow)) {
        const { runningSince, limit } = request;
        if (runningSince === undefined || limit === undefined || limit.ms === 0 || now - runningSince < limit.ms) continue;
        // Past its timeout the model is in a bad state, as after a throw: this request gets 504,
        // and the worker is replaced; what else it held is sent to the other workers.
        this.pending.delete(request.id);
        this.forgetSent(request);
        request.reject(new InferenceTimeoutError(limit, 'the model worker is being replaced'));
        this.replace(slot, { cause: 'timeout', reason: `did not finish an inference within ${limit.ms} ms (${limit.name})` });
        break;
      }
    }
  }

  /** Takes a hung worker down (SIGTERM, then SIGKILL after the grace); its exit starts the next one. */
  private replace(slot: WorkerSlot, replacement: Replacement): void {
    slot.replacement = replacement;
    slot.state = 'starting';
    slot.reason = `restarting: the model worker ${replacement.reason}`;
    this.log.error(
      `the model worker${this.named(slot)} ${replacement.reason}; stopping it (SIGTERM, then SIGKILL after ${this.settings.killGraceMs} ms) and starting a new one`,
    );
    // What it held that was not running goes to the other workers at once.
    if (this.slots.length > 1 && replacement.cause !== 'start_timeout') {
      this.takeBack(slot, this.runningWindow);
    }
    if (slot.process) void stopProcess(slot.process, this.settings.killGraceMs);
  }

  private onExit(slot: WorkerSlot, worker: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker !== slot.process) return;
    slot.process = undefined;
    clearTimeout(slot.startTimer);
    // Under `dev`, a shim that does not load waits for the next change.
    if (this.stopping || this.broken) return;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    const replacement = slot.replacement;
    if (replacement?.cause === 'start_timeout' || (slot.state === 'starting' && slot.thrownIds.size === 0 && !replacement)) {
      // Exit 3 while starting: the worker reported its shim's configuration error (it cannot be
      // imported, its schema is invalid); no retry can help.
      this.takeBack(slot, 0);
      this.onStartFailure(
        slot,
        replacement ? `not ready within ${this.settings.startTimeoutMs} ms, WORKER_START_TIMEOUT_MS` : how,
        !replacement && code === ExitCode.config,
      );
      return;
    }
    const cause = replacement ? replacement.cause : slot.thrownIds.size > 0 ? 'threw' : signal ? `signal_${signal}` : `exit_${code}`;
    if (cause === 'threw' && !this.restartAfterThrow) {
      slot.state = 'stopped';
      slot.reason = 'the model threw';
      return; // a one-shot mode reports the throw and ends; nothing is left to serve
    }
    if (cause !== 'reload') {
      this.restarts[cause] = (this.restarts[cause] ?? 0) + 1;
      slot.restarts++;
    }
    // The worker ran requests in the order they were sent, `runningWindow` at a time: after a
    // death without a word, the first unanswered ones may have been running when it died (and
    // may have killed it); after a throw or a timeout the culprit is known and answered, and
    // everything else goes to the other workers or the next one.
    const unanswered = slot.sentOrder.filter((request) => this.pending.has(request.id));
    const suspects = new Set(cause === 'threw' || replacement ? [] : unanswered.slice(0, this.runningWindow));
    const survivors: Pending[] = [];
    for (const request of unanswered) {
      this.forgetSent(request);
      if (suspects.has(request)) {
        this.pending.delete(request.id);
        request.reject(
          new AiIntegrationError('AI_ERR_WORKER_DIED', `the model worker${this.named(slot)} died (${how}) during this inference; it is being restarted`),
        );
      } else {
        survivors.push(request);
      }
    }
    if (cause !== 'threw' && !replacement) this.log.error(`the model worker${this.named(slot)} died (${how}); restarting it`);
    slot.reason = cause === 'threw' ? 'restarting: the model threw' : `restarting: the model worker ${replacement ? replacement.reason : `died (${how})`}`;
    this.spawnWorker(slot);
    this.requeue(survivors);
  }

  /**
   * `ai-integration dev`: the shim changed. Each worker takes no more requests, finishes those it
   * runs (within INFERENCE_TIMEOUT_MS), and goes; what it held waiting, and every new request,
   * waits here for its successor, which loads the shim as it is now. A worker still loading is
   * stopped at once; after a failed start, the workers start again.
   */
  reload(): void {
    if (this.stopping || this.failure) return;
    this.broken = undefined;
    const now = performance.now();
    for (const slot of this.slots) {
      slot.failedStartOutput = undefined;
      slot.consecutiveStartFailures = 0;
      if (!slot.process) {
        slot.reloadStartedAt = now;
        this.spawnWorker(slot);
        continue;
      }
      if (slot.replacement) continue; // going already; its successor loads the shim as it is now
      slot.reloadStartedAt = now;
      slot.replacement = { cause: 'reload', reason: 'is being reloaded: the shim changed', stopped: false };
      slot.state = 'starting';
      slot.reason = 'reloading: the shim changed';
      this.takeBack(slot, this.runningWindow);
      this.stopWhenIdle(slot);
    }
  }

  private stopWhenIdle(slot: WorkerSlot): void {
    const replacement = slot.replacement;
    if (replacement?.cause !== 'reload' || replacement.stopped || !slot.process) return;
    if (slot.sentOrder.some((request) => this.pending.has(request.id))) return;
    replacement.stopped = true;
    void stopProcess(slot.process, this.settings.killGraceMs);
  }

  /**
   * `ai-integration dev`: the worker did not start (a syntax or type error the loader reports, a
   * throw while loading). It has printed its error; requests get it too, and readiness gives it,
   * until the next change reloads the shim.
   */
  private holdUntilReload(slot: WorkerSlot, how: string): void {
    const { output } = slot.startOutput?.failed() ?? { output: undefined };
    slot.failedStartOutput = undefined; // each failed attempt's output is news under dev
    const cause = this.takeConfigurationError() ?? firstError(output) ?? `the model worker failed to start (${how})`;
    const error = new AiIntegrationError('AI_ERR_NOT_READY', `the shim does not load; fix it and save, and it is loaded again. ${cause}`);
    this.broken = error;
    for (const other of this.slots) {
      other.state = 'stopped';
      other.reason = error.message;
      other.reloadStartedAt = undefined;
      clearTimeout(other.startTimer);
      if (other.process && other !== slot) void stopProcess(other.process, this.settings.killGraceMs);
    }
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
    this.waiting = [];
    this.log.error(`the shim does not load (its error is above); waiting for a change to load it again`);
  }

  private onStartFailure(slot: WorkerSlot, how: string, configuration = false): void {
    if (this.waitForReloadAfterFailedStart) {
      this.holdUntilReload(slot, how);
      return;
    }
    slot.consecutiveStartFailures++;
    const { outcome, output } = slot.startOutput?.failed() ?? { outcome: 'shown', output: undefined };
    slot.failedStartOutput = output;
    if (configuration || !this.retryFailedStarts || slot.consecutiveStartFailures >= this.settings.maxStartFailures) {
      const error = configuration
        ? new ShimConfigurationError(this.takeConfigurationError())
        : new AiIntegrationError(
            'AI_ERR_WORKER_START_FAILED',
            this.retryFailedStarts
              ? `the model worker${this.named(slot)} failed to start ${plural(slot.consecutiveStartFailures, 'time')} in a row (last: ${how}); giving up (WORKER_MAX_START_FAILURES=${this.settings.maxStartFailures}). Its own error is in the log above.`
              : `the model worker failed to start (${how}); a mode that runs once does not retry it. Its own error is in the log above.`,
          );
      for (const other of this.slots) {
        other.state = 'stopped';
        other.reason = error.message;
        clearTimeout(other.startTimer);
        if (other.process) void stopProcess(other.process, this.settings.killGraceMs);
      }
      this.failure = error;
      this.sweeper.stop();
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
      this.waiting = [];
      if (this.firstReady) this.firstReady.reject(error);
      this.events.emit('failed', error);
      return;
    }
    const delay = Math.min(this.settings.maxBackoffMs, this.settings.initialBackoffMs * 2 ** (slot.consecutiveStartFailures - 1));
    slot.state = 'backoff';
    const again = outcome === 'repeated' ? ' again, with the same output as above' : '';
    slot.reason = `the model worker${this.named(slot)} failed to start${again} (${how}); retrying in ${delay} ms (attempt ${slot.consecutiveStartFailures + 1} of ${this.settings.maxStartFailures})`;
    this.log.error(slot.reason);
    setTimeout(() => {
      if (!this.stopping && !this.failure) this.spawnWorker(slot);
    }, delay);
  }
}

/**
 * The first error a failed start printed, for readiness and the requests under `dev`: from its
 * first line naming an error to the stack's first frame, at most 6 lines.
 */
function firstError(output: Buffer | undefined): string | undefined {
  if (!output) return undefined;
  const lines = output.toString('utf8').split('\n');
  const start = lines.findIndex((line) => /^(\w*Error\b|error:)/.test(line.trim()));
  if (start === -1) return undefined;
  const end = lines.findIndex((line, index) => index > start && /^\s+at /.test(line));
  return lines
    .slice(start, Math.min(end === -1 ? lines.length : end, start + 6))
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
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
    super(
      'AI_ERR_WORKER_START_FAILED',
      cause ?? `the model worker exited with code ${ExitCode.config} while starting: its shim has a configuration error (reported above), so it is not retried`,
    );
  }

  override get exitCode(): typeof ExitCode.config {
    return ExitCode.config;
  }
}
