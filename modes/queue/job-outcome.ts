import { AiIntegrationError } from '../../src/errors.js';

/**
 * How a job's failure is handed to BullMQ: `final` fails it for good (the model said no, or the
 * job's data is wrong: a retry would say the same), otherwise BullMQ may retry it within the
 * attempts its producer gave it; `notRun` puts it back to wait without using an attempt (it never
 * reached the model: this container is going away).
 */
export interface JobFailure {
  message: string;
  final: boolean;
  notRun?: true;
}

// Failures of the model process rather than of the job's data: a retry may succeed.
const transientCodes = new Set(['AI_ERR_INFERENCE_THREW', 'AI_ERR_WORKER_DIED', 'AI_ERR_TIMEOUT']);
// The job never ran: the container stops taking work (a model fault run directly, a shutdown).
const notRunCodes = new Set(['AI_ERR_NOT_READY', 'AI_ERR_QUEUE_FULL', 'AI_ERR_OVERLOADED', 'AI_ERR_CANCELED']);

/**
 * The failure of a job from the error its prediction ended with. A throw, a dead model worker or
 * a timeout may be retried while `attemptsMade + 1 < attempts` (QUEUE_ATTEMPTS); a model-reported
 * failure, a malformed result or inputs the schema refuses never are.
 */
export function jobFailure(error: unknown, attemptsMade: number, attempts: number): JobFailure {
  if (!(error instanceof AiIntegrationError)) return { message: `AI_ERR_INTERNAL: ${error instanceof Error ? error.message : String(error)}`, final: true };
  if (notRunCodes.has(error.code)) return { message: `${error.code}: ${error.message}`, final: false, notRun: true };
  return { message: `${error.code}: ${error.message}`, final: !transientCodes.has(error.code) || attemptsMade + 1 >= attempts };
}
