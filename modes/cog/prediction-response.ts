import { AiIntegrationError, type ErrorCode } from '../../src/errors.js';
import { outputSoFar } from '../../src/http/chunk-output.js';
import { outputValue } from '../../src/http/predict.js';
import type { TrackedPrediction } from '../../src/serving/predictions.js';
import { cogTimestamp } from './timestamp.js';
import type { CogPredictionResponse } from './types.js';

/** What every answer about one prediction repeats. */
export interface PredictionIdentity {
  id: string;
  /** The inputs as the request gave them (unknown names dropped). */
  input: Record<string, unknown>;
  /** `created_at`, already in Cog's format: the request's own, or when it arrived. */
  createdAt: string;
}

/** How a prediction ended, with the clock readings its timestamps come from (epoch ms). */
export type PredictionOutcome =
  | { status: 'succeeded'; output: unknown; completedMs: number; predictMs: number }
  | { status: 'failed'; error: string; completedMs: number; predictMs?: number }
  | { status: 'processing' };

/**
 * The body Cog answers for a prediction: `{id, status, input, output, error, logs, metrics,
 * created_at, started_at, completed_at}`. `started_at` is when the model started on it (after any
 * wait in the queue), so `completed_at - started_at` is `metrics.predict_time`; a failure whose
 * running time is unknown (it never reached the model, or the model process died) has neither.
 */
export function predictionResponse(identity: PredictionIdentity, outcome: PredictionOutcome): CogPredictionResponse {
  const response: CogPredictionResponse = {
    id: identity.id,
    status: outcome.status,
    input: identity.input,
    output: null,
    error: null,
    logs: '',
    metrics: {},
    created_at: identity.createdAt,
    started_at: null,
    completed_at: null,
  };
  if (outcome.status === 'processing') return response;
  response.completed_at = cogTimestamp(outcome.completedMs);
  if (outcome.status === 'succeeded') response.output = outcome.output;
  else response.error = outcome.error;
  if (outcome.predictMs !== undefined) {
    response.started_at = cogTimestamp(outcome.completedMs - outcome.predictMs);
    // Microseconds, as Python's timedelta.total_seconds() gives them.
    response.metrics.predict_time = Math.round(outcome.predictMs * 1000) / 1e6;
  }
  return response;
}

// Errors that end a prediction the model was given: Cog answers these as data (HTTP 200,
// status "failed"), not as HTTP errors. Everything else (a refused or unreadable request, a full
// queue, a server that is not ready) never became a prediction and gets its HTTP status.
const predictionFailures: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AI_ERR_MODEL_FAILED',
  'AI_ERR_INVALID_RESULT',
  'AI_ERR_INFERENCE_THREW',
  'AI_ERR_WORKER_DIED',
  'AI_ERR_TIMEOUT',
  // Cog fails the prediction when its output files cannot be uploaded (FileUploadError).
  'AI_ERR_UPLOAD_FAILED',
]);

/** Whether an error from the core's `predict` is the prediction failing (200, "failed") rather than an HTTP error. */
export function isPredictionFailure(error: unknown): error is AiIntegrationError {
  return error instanceof AiIntegrationError && predictionFailures.has(error.code);
}

/**
 * The body Cog answers for a prediction the core holds, at any point of its life: `starting`
 * (queued), `processing` (with `started_at`), then `succeeded`, `failed` or `canceled`.
 */
export function trackedResponse(identity: PredictionIdentity, tracked: TrackedPrediction): CogPredictionResponse {
  const { prediction, error, completedMs, startedMs, predictMs } = tracked;
  let response: CogPredictionResponse;
  if (tracked.status === 'succeeded' && prediction) {
    response = predictionResponse(identity, {
      status: 'succeeded',
      output: outputValue(prediction),
      completedMs: completedMs!,
      predictMs: prediction.predictMs,
    });
  } else if (tracked.status === 'failed' || tracked.status === 'canceled') {
    response = predictionResponse(identity, {
      status: 'failed',
      error: error?.message ?? tracked.status,
      completedMs: completedMs!,
      // The model's own time when it returned a failure; else (a throw, a timeout, a cancel) since it was handed to the model.
      ...(predictMs !== undefined ? { predictMs } : startedMs === undefined ? {} : { predictMs: completedMs! - startedMs }),
    });
    response.status = tracked.status;
    response.output = outputSoFar(tracked.chunks);
  } else {
    response = predictionResponse(identity, { status: 'processing' });
    response.status = tracked.status;
    if (startedMs !== undefined) response.started_at = cogTimestamp(startedMs);
    // A streaming model's output so far, as Cog shows an iterator's.
    response.output = outputSoFar(tracked.chunks);
  }
  response.logs = tracked.logs;
  return response;
}
