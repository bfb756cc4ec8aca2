import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkResult, type ResultReport } from '../../src/check-result.js';
import { convertInputs, type ValueOrigin } from '../../src/convert-inputs.js';
import { AiIntegrationError, InferenceThrewError } from '../../src/errors.js';
import { resultError } from '../../src/infer-and-report.js';
import { describeType } from '../../src/schema.js';
import type { InferenceResult, ModeContext } from '../../src/types.js';
import { resultBytes } from '../../src/write-result.js';
import type { BodyBudget } from './body-budget.js';
import { closeGently } from './lingering-close.js';
import type { HttpMetrics } from './metrics.js';
import { checkDeclaredLength, contentEncodingOf, mediaTypeOf, readJsonBody, readMultipart } from './request-body.js';
import type { InferenceScheduler } from './scheduler.js';

/** A checked, successful prediction with its timings. */
export interface Prediction {
  inputs: Record<string, unknown>;
  result: InferenceResult;
  report: ResultReport;
  mediaType: string;
  queueMs: number;
  predictMs: number;
}

/** Where a request's body may be held: the shared body budget, and the response whose close frees its share. */
export interface BodyHolding {
  budget: BodyBudget;
  response: ServerResponse;
}

/**
 * Reads the raw inputs of a request: multipart fields (text origin) or `{"inputs": {...}}` JSON
 * (data origin). The checks that need no body (type, coding, declared length) come before the
 * body budget is asked for room. A failure that leaves the body unread closes the connection once
 * answered, since the rest of the body would otherwise stand in the way of the next request.
 */
export async function readRequestInputs(
  request: IncomingMessage,
  context: ModeContext,
  accepted: readonly ('multipart' | 'json')[],
  holding?: BodyHolding,
): Promise<{ raw: Record<string, unknown>; origin: ValueOrigin }> {
  try {
    const mediaType = mediaTypeOf(request);
    const multipart = mediaType === 'multipart/form-data' && accepted.includes('multipart');
    if (!multipart && !((mediaType === 'application/json' || mediaType.endsWith('+json')) && accepted.includes('json'))) {
      const expected = accepted.map((kind) => (kind === 'json' ? 'application/json' : 'multipart/form-data')).join(' or ');
      throw new AiIntegrationError('AI_ERR_UNSUPPORTED_MEDIA_TYPE', `the content type ${JSON.stringify(mediaType || request.headers['content-type'] || '(none)')} is not accepted here; send ${expected}`);
    }
    const encoding = contentEncodingOf(request);
    const limit = context.settings.maxInputBytes;
    // The limit counts decoded bytes, so only a body sent as is can be refused by its length.
    if (encoding === 'identity') checkDeclaredLength(request, limit);
    const declared = Number(request.headers['content-length']);
    const reservation = holding?.budget.admit(Number.isFinite(declared) ? Math.min(declared, limit) : 0, holding.response);
    const reading = { encoding, limit, reservation };
    if (multipart) return { raw: await readMultipart(request, reading, context.settings.http), origin: 'text' };
    const body = await readJsonBody(request, reading);
    const inputs = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { inputs?: unknown }).inputs : undefined;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw new AiIntegrationError('AI_ERR_MALFORMED_INPUT', `expected a JSON body {"inputs": {...}}, got ${inputs === undefined ? describeType(body) : `"inputs" as ${describeType(inputs)}`}`);
    }
    return { raw: inputs as Record<string, unknown>, origin: 'data' };
  } catch (error) {
    if (holding && (!request.complete || (error instanceof AiIntegrationError && error.code === 'AI_ERR_OVERLOADED'))) {
      holding.response.setHeader('connection', 'close');
      closeGently(request.socket);
    }
    throw error;
  }
}

/**
 * Converts the inputs, runs them through the scheduler and checks the result. A model that
 * threw or timed out is reported to `onThrow` (which decides what happens to the process) and
 * the error still answers this request.
 */
export async function predict(
  context: ModeContext,
  scheduler: InferenceScheduler,
  metrics: HttpMetrics,
  raw: Record<string, unknown>,
  origin: ValueOrigin,
  clientGone: () => boolean,
  onThrow: (error: InferenceThrewError | AiIntegrationError) => void,
): Promise<Prediction> {
  const inputs = await convertInputs(context.schema, raw, { origin, strict: context.settings.strictInputs, maxDepth: context.settings.maxInputDepth });
  let outcome;
  try {
    outcome = await scheduler.submit(inputs, clientGone);
  } catch (error) {
    if (error instanceof InferenceThrewError) {
      metrics.recordInference('threw');
      onThrow(error);
    } else if (error instanceof AiIntegrationError && error.code === 'AI_ERR_TIMEOUT') {
      metrics.recordInference('timeout');
      onThrow(error);
    }
    throw error;
  }
  const seconds = outcome.predictMs / 1000;
  const report = await checkResult(outcome.result);
  if (!report.ok) {
    metrics.recordInference(outcome.result?.success === false ? 'failed' : 'invalid', seconds);
    throw resultError(outcome.result, report);
  }
  metrics.recordInference('success', seconds);
  return { inputs, result: outcome.result, report, mediaType: report.mediaType ?? '', queueMs: outcome.queueMs, predictMs: outcome.predictMs };
}

/** A result's data as the API gives it: parsed JSON, text, or a data: URL for binary data. */
export function outputValue(prediction: Prediction): unknown {
  const { mediaType, result, report } = prediction;
  if ('json' in report) return report.json;
  const bytes = resultBytes(result);
  if (mediaType.startsWith('text/')) return bytes.toString('utf8');
  return dataUrl(result['content-type'], bytes);
}

export function dataUrl(mediaType: string, bytes: Buffer): string {
  return `data:${mediaType.replace(/\s+/g, '')};base64,${bytes.toString('base64')}`;
}

/** Whether the client's Accept header names this exact media type (not only through a wildcard). */
export function acceptsRaw(request: IncomingMessage, mediaType: string): boolean {
  const accept = request.headers.accept;
  if (!accept || mediaType === 'application/json') return false;
  return accept.split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    return type === mediaType && (quality === undefined || Number(quality.slice(2)) > 0);
  });
}
