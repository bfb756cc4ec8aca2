import { AiIntegrationError } from '../errors.js';
import { notePredictionId } from './access-log.js';
import type { ChunkOutput } from './chunk-output.js';
import { EventStream } from './event-stream.js';
import type { TrackedPrediction } from '../serving/predictions.js';
import type { RouteContext } from './protocol.js';

/** How a protocol shows a streamed prediction's events. */
export interface StreamRendering {
  /** The data of an `output` event: one chunk. */
  chunk: (chunk: ChunkOutput) => unknown;
  /** The data of the final `done` event: the complete prediction in the protocol's shape. */
  done: (prediction: TrackedPrediction) => object;
}

/**
 * Answers a prediction as server-sent events, as Replicate's streams do: an `output` event per
 * chunk as the model yields it, an `error` event if it fails, then `done` with the complete
 * prediction, and the stream ends. `start` starts the prediction with the given chunk listener;
 * what it throws (a refusal, 429) is answered as usual, before the stream opens. The prediction
 * is canceled when the client goes away (`start` passes the client's signal).
 */
export async function streamPrediction(
  route: RouteContext,
  start: (onChunk: (chunk: ChunkOutput) => void) => TrackedPrediction | Promise<TrackedPrediction>,
  rendering: StreamRendering,
): Promise<void> {
  let stream: EventStream | undefined;
  // A model may yield before `start` has returned: those chunks wait for the stream to open.
  const early: ChunkOutput[] = [];
  const tracked = await start((chunk) => (stream ? stream.send('output', rendering.chunk(chunk)) : early.push(chunk)));
  notePredictionId(route.response, tracked.id);
  stream = new EventStream(route.response, { 'x-prediction-id': tracked.id });
  for (const chunk of early) stream.send('output', rendering.chunk(chunk));
  await tracked.settled;
  const { error } = tracked;
  if (error) stream.send('error', { code: error instanceof AiIntegrationError ? error.code : 'AI_ERR_INTERNAL', message: error.message });
  stream.send('done', rendering.done(tracked));
  stream.end();
}
