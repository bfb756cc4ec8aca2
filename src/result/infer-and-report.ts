import { checkResult, type ResultReport } from './check-result.js';
import { AiIntegrationError, ExitCode } from '../errors.js';
import type { InferenceResult, ModeContext } from '../types.js';
import { plural } from '../plural.js';
import { ChunkPrinter } from './print-chunks.js';
import { writeResult } from './write-result.js';

/** One inference, checked: the result, what the checker said, and how long the model took. */
export interface CheckedInference {
  result: InferenceResult;
  report: ResultReport;
  milliseconds: number;
}

/**
 * Runs one inference through the engine and checks the result; a throw propagates as
 * `InferenceThrewError`. `onChunk` gets a streamed result's chunks as they come.
 */
export async function inferAndCheck(
  context: ModeContext,
  inputs: Record<string, unknown>,
  onChunk?: (chunk: InferenceResult) => void,
): Promise<CheckedInference> {
  const started = performance.now();
  // Under the supervisor the worker times the model; the time here also counts the trip to it.
  let reported: number | undefined;
  const result = await context.engine.infer(inputs, { onChunk, onPredictTime: (ms) => (reported = ms) });
  const milliseconds = reported ?? performance.now() - started;
  return { result, report: await checkResult(result), milliseconds };
}

/** The error for a result that did not pass: a model-reported failure, or a result that breaks the contract. */
export function resultError(result: InferenceResult, report: ResultReport): AiIntegrationError {
  const reportedFailure = typeof result === 'object' && result !== null && result.success === false;
  return new AiIntegrationError(reportedFailure ? 'AI_ERR_MODEL_FAILED' : 'AI_ERR_INVALID_RESULT', report.problems.join('; '));
}

/** The stdin modes' whole job after reading: infer, check, write the result to stdout, return the exit code. */
export async function inferAndWrite(context: ModeContext, inputs: Record<string, unknown>): Promise<number> {
  // A streamed result's chunks are printed as they come.
  const printer = new ChunkPrinter(context.stdout, context.log);
  const { result, report, milliseconds } = await inferAndCheck(context, inputs, printer.onChunk).catch((error: unknown) => {
    printer.endLine();
    throw error;
  });
  const unprinted = printer.finish(result);
  if (!report.ok) throw resultError(result, report);
  context.log.info(`result: ${report.summary}${printer.chunks > 0 ? `, streamed in ${plural(printer.chunks, 'chunk')}` : ''} in ${milliseconds.toFixed(1)} ms`);
  if (unprinted) writeResult(result, report, context.stdout, context.log);
  return ExitCode.success;
}
