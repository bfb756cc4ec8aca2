import { checkResult, type ResultReport } from './check-result.js';
import { Cancellation } from '../engine/cancellation.js';
import { AiIntegrationError } from '../errors.js';
import { mediaKind } from '../media-type.js';
import type { InferenceResult, InferenceStream } from '../types.js';
import { isOutputResult } from './output-fields.js';

/** Whether an inference function's return value is a stream of chunks rather than one result. */
export function isInferenceStream(value: unknown): value is InferenceStream {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** Thrown out of `consumeStream` when its signal aborted: the stream was stopped. */
export class StreamStopped extends Error {
  override name = 'StreamStopped';
}

/**
 * Reads a stream to its end: each chunk is checked, then handed to `onChunk`; the final result is
 * what the generator returned, else the chunks collected (`collectChunks`). A chunk that reports a
 * failure ends the stream (the generator is closed, its `finally` runs) as that failure; one that
 * breaks the contract ends it with `AI_ERR_INVALID_RESULT` naming the chunk (the model is fine, its
 * output is not: nothing restarts). An aborted `signal` closes the generator at once and rejects
 * with `StreamStopped`; a throw from the generator propagates.
 */
export async function consumeStream(
  stream: InferenceStream,
  signal: Cancellation | AbortSignal,
  onChunk?: (chunk: InferenceResult) => void,
): Promise<InferenceResult> {
  const cancellation = Cancellation.of(signal)!;
  const iterator = stream[Symbol.asyncIterator]();
  const chunks: { result: InferenceResult; report: ResultReport }[] = [];
  // The generator may be awaiting its own work when the cancel comes: the stop does not wait
  // for it (the next `next` would), and `return` closes it once it yields.
  let stopListening: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    stopListening = cancellation.onCancel(() => reject(new StreamStopped('the stream was stopped: its prediction was canceled')));
  });
  aborted.catch(() => {});
  const close = () => void Promise.resolve(iterator.return?.()).catch(() => {});
  try {
    for (;;) {
      if (cancellation.aborted) throw new StreamStopped('the stream was stopped: its prediction was canceled');
      const step = await Promise.race([iterator.next(), aborted]);
      if (step.done) return step.value ?? collectChunks(chunks);
      const report = await checkResult(step.value);
      if (!report.ok) {
        close();
        return failedChunk(step.value, report, chunks.length + 1);
      }
      chunks.push({ result: step.value, report });
      onChunk?.(step.value);
    }
  } catch (error) {
    if (error instanceof StreamStopped || error instanceof AiIntegrationError) close();
    throw error;
  } finally {
    stopListening();
  }
}

// A failure the model reported in a chunk stays its own failure; a chunk that breaks the
// contract is an invalid result, named by its place.
function failedChunk(chunk: unknown, report: ResultReport, index: number): InferenceResult {
  const reported = typeof chunk === 'object' && chunk !== null && (chunk as { success?: unknown }).success === false;
  if (reported) return chunk as InferenceResult;
  throw new AiIntegrationError('AI_ERR_INVALID_RESULT', `chunk ${index} of the stream is not a valid result: ${report.problems.join('; ')}`);
}

/**
 * The final result of a stream that returned none: text chunks concatenated (with the first
 * chunk's content type), JSON chunks as a JSON list, otherwise the last chunk (the finished image
 * after the progress images, the last state of a structured output). Chunks of different kinds need an explicit final result.
 */
export function collectChunks(chunks: readonly { result: InferenceResult; report: ResultReport }[]): InferenceResult {
  const first = chunks[0];
  if (!first) throw new AiIntegrationError('AI_ERR_INVALID_RESULT', 'the stream ended without a chunk or a final result');
  // A structured output is a kind of its own: its chunks are states, of which the last is the result.
  const kindOf = ({ result, report }: (typeof chunks)[number]) => (isOutputResult(result) ? 'output' : mediaKind(report.mediaType ?? ''));
  const kinds = new Set(chunks.map(kindOf));
  if (kinds.size > 1) {
    const types = [...new Set(chunks.map(({ report }) => report.mediaType))].join(', ');
    throw new AiIntegrationError(
      'AI_ERR_INVALID_RESULT',
      `the stream yielded chunks of different kinds (${types}) and returned no final result; yield one kind, or return the final result`,
    );
  }
  const kind = kindOf(first);
  if (kind === 'text') {
    const data = chunks.map(({ result }) => (typeof result.data === 'string' ? result.data : Buffer.from(result.data as Uint8Array).toString('utf8'))).join('');
    return { 'content-type': first.result['content-type'], data, success: true };
  }
  if (kind === 'json') return { 'content-type': 'application/json', data: JSON.stringify(chunks.map(({ report }) => report.json)), success: true };
  return chunks.at(-1)!.result;
}
