import { AiIntegrationError, describeThrown } from '../../src/errors.js';
import type { Readiness } from '../../src/http/protocol.js';
import { cogTimestamp } from './timestamp.js';
import type { CogHealthCheck, CogHealthStatus, CogSetup } from './types.js';

/** What the health check looks at, read at the moment it answers. */
export interface HealthReading {
  /** The core's readiness: the service's state, then the engine's (a restarting worker). */
  readiness: Readiness;
  /** Inferences running in the model now (not those sent ahead to wait in a worker). */
  running: number;
  /** Inferences the model may run at once: CONCURRENCY, in each worker that can take work (a batch model: CONCURRENCY x batch.maxSize requests). */
  slots: number;
}

/**
 * The state machine behind `GET /health-check`, as Cog's states mean it:
 *
 * - READY: the model is loaded and a slot is free, so a prediction sent now starts at once
 *   (with WORKERS, a slot of any worker).
 * - BUSY: every slot runs an inference (Cog's meaning: "at capacity, all slots busy"; Cog would
 *   answer a prediction with 409 then, where this server queues it, up to MAX_QUEUE, then 429).
 *   A batch model's slots are requests, running or gathered for its next batch, so that a router
 *   that waits for READY lets its batches fill;
 *   also while the server drains on SIGTERM or `POST /shutdown` (alive, taking no new work).
 * - STARTING: the model is loading: while the supervisor restarts it in place after a throw, a
 *   hang or a crash (also while it retries a load that failed), and during the first load, when
 *   loading-health.ts holds the port until this service starts.
 * - SETUP_FAILED: the supervisor gave up loading the model (WORKER_MAX_START_FAILURES).
 * - DEFUNCT: the model failed for good otherwise: run directly, it threw or hung, and the process
 *   drains and exits to be restarted.
 *
 * `setup` describes the model's load: it started with the process and completed when the service
 * started; it is marked failed, with the reason as its log, when the supervisor gives up.
 */
export class CogHealth {
  private readonly setup: CogSetup;
  private setupFailed = false;

  /** `setupStartedMs`: when loading began (the process's start); `setupCompletedMs`: when the model was ready. */
  constructor(setupStartedMs: number, setupCompletedMs: number) {
    this.setup = { started_at: cogTimestamp(setupStartedMs), completed_at: cogTimestamp(setupCompletedMs), status: 'succeeded', logs: '' };
  }

  /** The engine failed for good (`Engine.onFailure`): a model that can no longer be loaded is SETUP_FAILED, anything else DEFUNCT. */
  engineFailed(error: unknown, atMs: number): void {
    if (!(error instanceof AiIntegrationError && error.code === 'AI_ERR_WORKER_START_FAILED')) return;
    this.setupFailed = true;
    this.setup.status = 'failed';
    this.setup.completed_at = cogTimestamp(atMs);
    this.setup.logs = `${describeThrown(error)}\n`;
  }

  status(reading: HealthReading): CogHealthStatus {
    switch (reading.readiness.status) {
      case 'ready':
        return reading.running >= reading.slots ? 'BUSY' : 'READY';
      case 'restarting':
      case 'not_ready':
        return 'STARTING';
      case 'shutting_down':
        return 'BUSY';
      case 'failed':
        return this.setupFailed ? 'SETUP_FAILED' : 'DEFUNCT';
    }
  }

  /** The body of `GET /health-check`, always answered with HTTP 200 as Cog does. */
  body(reading: HealthReading): CogHealthCheck {
    return { status: this.status(reading), setup: { ...this.setup } };
  }
}
