import { ExitCode, InferenceThrewError, InferenceTimeoutError } from './errors.js';
import { reportError } from './report-error.js';
import type { Engine, Logger, ModelFaults } from './types.js';

/**
 * The one policy for a model in a bad state (it threw, or an inference ran past its timeout),
 * chosen at start-up from the engine: under the supervisor the model is replaced in place and the
 * mode carries on (the engine has logged it); run directly, the process must end, with the "threw"
 * exit code, to be restarted by its runtime. Modes only report the fault and obey the answer.
 */
export function modelFaults(engine: Engine, log: Logger): ModelFaults {
  if (engine.capabilities.restartsInPlace) return { policy: 'restart-in-place', report: () => ({ end: false }) };
  return {
    policy: 'exit',
    report(error) {
      if (error instanceof InferenceThrewError) {
        reportError(error, log);
        return { end: true, exitCode: error.exitCode, reason: 'the model threw; the process exits to be restarted' };
      }
      // The limit that applied (INFERENCE_TIMEOUT_MS, or a Lambda invocation's deadline) is the error's.
      const fault = error instanceof InferenceTimeoutError ? error.fault : error instanceof Error ? error.message : String(error);
      log.error(
        `${fault}: the model is stuck, so this process exits to be restarted (run it under the supervisor, ai-integration shim.js, to replace the model in place)`,
      );
      return { end: true, exitCode: ExitCode.inferenceThrew, reason: `${fault}; the process exits to be restarted` };
    },
  };
}
