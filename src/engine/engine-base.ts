import { EventEmitter } from 'node:events';
import type { Engine, EngineCapabilities, EngineEvents, EngineLimits, InferOptions, InferenceResult, WorkerStatus } from '../types.js';

/**
 * What an engine that has no workers answers: always ready, never restarted, nothing to send
 * ahead. Each engine declares its own capabilities; the supervisor's overrides the rest.
 */
export abstract class EngineBase implements Engine {
  abstract readonly capabilities: EngineCapabilities;
  readonly events = new EventEmitter<EngineEvents>();

  abstract infer(inputs: Record<string, unknown>, options?: InferOptions): Promise<InferenceResult>;

  configure(_limits: EngineLimits): { prefetch: number } {
    return { prefetch: 0 };
  }

  readiness(): { ready: boolean; reason?: string } {
    return { ready: true };
  }

  restartCounts(): Record<string, number> {
    return {};
  }

  workers(): WorkerStatus[] {
    return [];
  }
}

/** The capabilities of an engine whose model runs in this process: a throw leaves it in a bad state. */
export const inProcessCapabilities: EngineCapabilities = { restartsInPlace: false, enforcesTimeout: false, schedulesOwnWork: false };

/** An engine around an `infer` function whose model runs in this process (the pull-style API's). */
export function engineAround(infer: Engine['infer']): Engine {
  return new (class extends EngineBase {
    readonly capabilities = inProcessCapabilities;
    infer(inputs: Record<string, unknown>, options?: InferOptions): Promise<InferenceResult> {
      return infer(inputs, options);
    }
  })();
}
