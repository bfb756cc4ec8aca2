import { AiIntegrationError, ExitCode, InferenceThrewError } from './errors.js';
import type { Logger } from './types.js';
import { supervisorEnvironmentVariable } from './supervisor/worker-protocol.js';

/** Logs an error the way its kind deserves and returns the exit code. */
export function reportError(error: unknown, log: Logger): number {
  if (error instanceof InferenceThrewError) {
    logThrow(error.cause, log);
    return error.exitCode;
  }
  if (error instanceof AiIntegrationError) {
    log.error(error.message);
    return error.exitCode;
  }
  log.error(`internal error in ai-integration: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return ExitCode.inferenceThrew;
}

/** Logs what the model threw, with its stack, and that the process exits to be restarted. */
export function logThrow(thrown: unknown, log: Logger): void {
  const detail = thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
  log.error(`the inference function threw:\n${detail}`);
  const advice =
    process.env[supervisorEnvironmentVariable] === '1'
      ? ''
      : ' To restart the model in place without losing queued requests, run the shim under the supervisor: ai-integration shim.js';
  log.error(
    `The model may be in a bad state, so this process exits with code ${ExitCode.inferenceThrew} to be restarted ` +
      `(by the container runtime, e.g. docker run --restart on-failure).${advice}`,
  );
}
