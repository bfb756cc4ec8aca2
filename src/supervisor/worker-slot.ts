import type { StartOutput } from './start-output.js';
import type { ChildProcess } from 'node:child_process';
import type { TimeLimit } from '../errors.js';
import type { InferenceResult, WorkerStatus } from '../types.js';
import type { Outbox } from './message-outbox.js';
import type { ByteChannel } from './byte-channel.js';
import type { RequestEnvironment, SupervisorMessage } from './worker-protocol.js';

/** A request the supervisor holds until a worker answers it. */
export interface Pending {
  id: number;
  inputs: Record<string, unknown>;
  /** The per-request variables (the Lambda trace id) as the mode had set them when it asked. */
  env: RequestEnvironment | undefined;
  resolve: (result: InferenceResult) => void;
  reject: (error: unknown) => void;
  /** The worker it was sent to and that has not answered it yet; undefined while it waits here. */
  slot: WorkerSlot | undefined;
  /** When it (probably) started running in the worker: when it reached the worker's running window. */
  runningSince?: number;
  /** The time limit it runs under, taken when it started running (Lambda's changes with each invocation). */
  limit?: TimeLimit;
  /** Set once its cancel was sent to the worker: past CANCEL_GRACE_MS the worker is replaced. */
  cancelTimer?: NodeJS.Timeout;
  /** Takes a streamed result's chunks as the worker sends them. */
  onChunk?: (chunk: InferenceResult) => void;
  onLog?: (text: string) => void;
  /** Told how long the model ran it, as the worker measured it (not the wait in the worker's queue). */
  onPredictTime?: (ms: number) => void;
  /** How many times it was sent to a worker. */
  sends: number;
  /** A worker answered it after reading all of it (a result, a failure or a throw; not a cancel, which may come first). */
  read: boolean;
}

export type WorkerState = WorkerStatus['state'];

/**
 * Why the supervisor is taking a worker down, when it is. `reason` completes "the model worker ..."
 * ("did not finish an inference within 1000 ms (INFERENCE_TIMEOUT_MS)"), in the log and readiness.
 */
export type Replacement =
  | { cause: 'timeout'; reason: string }
  | { cause: 'start_timeout'; reason: string }
  | { cause: 'canceled'; reason: string }
  // `ai-integration dev`: the shim changed; the worker finishes what it runs, then goes.
  | { cause: 'reload'; reason: string; stopped: boolean };

/**
 * One of the supervisor's worker processes and what it holds: the requests sent to it in order
 * (it runs them first in, first out, so the first ones are those running), its start-up state, and
 * the reason it is being replaced. Worker `index` keeps its index, its WORKER_INDEX and its device
 * across restarts.
 */
export class WorkerSlot {
  process: ChildProcess | undefined;
  /** What goes to the current process, written together once per turn of the event loop. */
  outbox: Outbox<SupervisorMessage> | undefined;
  /** The current process's byte stream: large binary inputs go there, large result data comes back on it. */
  bytes: ByteChannel | undefined;
  /** Whether the worker said at start that it can map the supervisor's memory files (shared-memory.ts). */
  sharedMemory = false;
  state: WorkerState = 'stopped';
  reason = 'the model worker is starting';
  sentOrder: Pending[] = [];
  /** Requests whose inference threw in the current process (it exits after saying so). */
  thrownIds = new Set<number>();
  replacement: Replacement | undefined;
  startTimer: NodeJS.Timeout | undefined;
  consecutiveStartFailures = 0;
  /** The current process's stderr while it starts. */
  startOutput: StartOutput | undefined;
  /** What the last process printed before it failed to start, to tell a repeat from news. */
  failedStartOutput: Buffer | undefined;
  restarts = 0;
  /** When a reload (`ai-integration dev`) started replacing this worker, until its successor is ready. */
  reloadStartedAt: number | undefined;
  /**
   * A write to the current process failed (it went away: EPIPE): nothing more is sent to it, even
   * before its exit is read, or requests would bounce between the send and its failure.
   */
  channelLost = false;

  constructor(
    readonly index: number,
    readonly device: string | undefined,
  ) {}

  /** Ready and not being replaced: it may be sent requests. */
  get usable(): boolean {
    return this.state === 'ready' && this.replacement === undefined && !this.channelLost && this.process?.connected === true;
  }

  status(): WorkerStatus {
    return {
      index: this.index,
      state: this.state,
      pid: this.process?.pid ?? null,
      load: this.sentOrder.length,
      restarts: this.restarts,
      ...(this.device === undefined ? {} : { device: this.device }),
    };
  }
}
