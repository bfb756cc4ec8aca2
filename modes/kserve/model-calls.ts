import type { Prediction } from '../../src/http/predict.js';
import type { HttpCore, ModelInfo } from '../../src/http/protocol.js';
import type { Reservation } from '../../src/serving/admission-queue.js';
import { checkBatchSize, withReservation } from '../../src/serving/batch.js';
import { checkBatch, runBatch } from './batch.js';
import { OpenInferenceError } from './errors.js';
import type { ModelOutput } from './infer-response.js';

// What a call of the model is on either transport (REST routes, gRPC methods): which model it
// names, and how a batch of items runs.

/** The model's name, and its version when the call gives one; 404 (NOT_FOUND) for any other. */
export function checkModel(model: ModelInfo, name: string | undefined, version: string | undefined): void {
  if (name !== model.name) throw new OpenInferenceError(404, `unknown model '${name ?? ''}'; this server serves '${model.name}'`);
  if (version !== undefined && version !== model.version) {
    throw new OpenInferenceError(404, `model '${model.name}' has no version '${version}'; its version is '${model.version}'`);
  }
}

/**
 * Runs a batch: checked whole before any item runs (its size against what the queue can ever
 * hold, each item against the schema), admitted whole (a place in the queue for every item at
 * once, or 429 before any runs), then item by item through the core (queue, limits, timeout,
 * result check), concurrently; the scheduler orders them. `infer` is the transport's way into the
 * core, with its client's cancel and the batch's reservation.
 */
export async function runItems(
  core: HttpCore,
  items: Record<string, unknown>[],
  noun: string,
  infer: (inputs: Record<string, unknown>, reservation: Reservation | undefined) => Promise<Prediction>,
): Promise<ModelOutput[]> {
  checkBatchSize(items.length, core.settings, noun);
  // Each item is converted once: the checked inputs are what runs.
  const converted = await checkBatch(items, (item) => core.convert(item, 'data'));
  const predictions = await withReservation(core.reserve, converted.length, noun, (reservation) => runBatch(converted, (inputs) => infer(inputs, reservation)));
  return predictions.map(modelOutput);
}

function modelOutput(prediction: Prediction): ModelOutput {
  const output: ModelOutput = { mediaType: prediction.mediaType, data: prediction.result.data };
  if ('json' in prediction.report) output.json = prediction.report.json;
  return output;
}
