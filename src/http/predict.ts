import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkResult, type ResultReport } from '../result/check-result.js';
import { convertInputs, type ValueOrigin } from '../inputs/convert-inputs.js';
import { AiIntegrationError, InferenceThrewError } from '../errors.js';
import { resultError } from '../result/infer-and-report.js';
import { describeType } from '../inputs/schema.js';
import { acceptsExactly, isJsonType } from '../media-type.js';
import type { InferenceResult, ModeContext } from '../types.js';
import { resultValue } from '../result/write-result.js';
import type { BodyBudget } from './body-budget.js';
import { DataUrl } from '../json-bytes.js';
import { closeGently } from './lingering-close.js';
import type { HttpMetrics } from './metrics.js';
import { parseWithBinaryInputs } from './json-binary-inputs.js';
import { checkDeclaredLength, collectBody, contentEncodingOf, mediaTypeOf, parseJsonBytes, readMultipart, type BodyReading } from './request-body.js';
import type { AdmissionQueue, SubmitOptions } from '../serving/admission-queue.js';
import { fileJson, isOutputResult, outputJson, uploadField } from '../result/output-fields.js';
import type { UploadedFile } from '../uploads/uploaded-file.js';

/** A checked, successful prediction with its timings. */
export interface Prediction {
  inputs: Record<string, unknown>;
  result: InferenceResult;
  report: ResultReport;
  mediaType: string;
  queueMs: number;
  predictMs: number;
  /** Its output files, once uploaded (OUTPUT_UPLOAD_URL): the answers give their URLs instead of the bytes. */
  uploads?: readonly UploadedFile[];
}

/** Where a request's body may be held: the shared body budget, and the response whose close frees its share. */
export interface BodyHolding {
  budget: BodyBudget;
  response: ServerResponse;
}

/**
 * Reads a request's body within the limits: the checks that need no body (coding, declared
 * length) come before the body budget is asked for room, then `read` gets the body. A failure
 * that leaves the body unread closes the connection once answered, since the rest of the body
 * would otherwise stand in the way of the next request.
 */
export async function withinLimits<T>(
  request: IncomingMessage,
  maxInputBytes: number,
  holding: BodyHolding | undefined,
  read: (reading: BodyReading) => Promise<T>,
): Promise<T> {
  try {
    const encoding = contentEncodingOf(request);
    // The limit counts decoded bytes, so only a body sent as is can be refused by its length.
    if (encoding === 'identity') checkDeclaredLength(request, maxInputBytes);
    const declared = Number(request.headers['content-length']);
    const reservation = holding?.budget.admit(Number.isFinite(declared) ? Math.min(declared, maxInputBytes) : 0, holding.response);
    return await read({ encoding, limit: maxInputBytes, reservation });
  } catch (error) {
    if (holding) closeIfUnread(request, holding.response, error);
    throw error;
  }
}

function closeIfUnread(request: IncomingMessage, response: ServerResponse, error: unknown): void {
  if (!request.complete || (error instanceof AiIntegrationError && error.code === 'AI_ERR_OVERLOADED')) {
    response.setHeader('connection', 'close');
    closeGently(request.socket);
  }
}

/** 415 naming what is accepted, for a body of another type. */
export function unsupportedType(request: IncomingMessage, expected: string): AiIntegrationError {
  const mediaType = mediaTypeOf(request);
  return new AiIntegrationError(
    'AI_ERR_UNSUPPORTED_MEDIA_TYPE',
    `the content type ${JSON.stringify(mediaType || request.headers['content-type'] || '(none)')} is not accepted here; send ${expected}`,
  );
}

/**
 * Reads the raw inputs of a request in the native API's forms: multipart fields (text origin) or
 * `{"inputs": {...}}` JSON (data origin).
 */
export async function readRequestInputs(
  request: IncomingMessage,
  context: ModeContext,
  accepted: readonly ('multipart' | 'json')[],
  holding?: BodyHolding,
  maxInputBytes = context.settings.maxInputBytes,
): Promise<{ raw: Record<string, unknown>; origin: ValueOrigin }> {
  const mediaType = mediaTypeOf(request);
  const multipart = mediaType === 'multipart/form-data' && accepted.includes('multipart');
  if (!multipart && !(isJsonType(mediaType) && accepted.includes('json'))) {
    const error = unsupportedType(request, accepted.map((kind) => (kind === 'json' ? 'application/json' : 'multipart/form-data')).join(' or '));
    if (holding) closeIfUnread(request, holding.response, error);
    throw error;
  }
  return withinLimits(request, maxInputBytes, holding, async (reading) => {
    if (multipart) return { raw: await readMultipart(request, reading, context.settings.http), origin: 'text' as const };
    const bytes = await collectBody(request, reading);
    // An image sent as base64 is decoded from the body's bytes, with no string of it held; any other body is parsed whole.
    const body = parseWithBinaryInputs(bytes, context.schema) ?? parseJsonBytes(bytes);
    const inputs = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { inputs?: unknown }).inputs : undefined;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw new AiIntegrationError(
        'AI_ERR_MALFORMED_INPUT',
        `expected a JSON body {"inputs": {...}}, got ${inputs === undefined ? describeType(body) : `"inputs" as ${describeType(inputs)}`}`,
      );
    }
    return { raw: inputs as Record<string, unknown>, origin: 'data' as const };
  });
}

/** Converts raw inputs against the schema: 422 naming the field for one it refuses. */
export function convertRequestInputs(
  context: ModeContext,
  raw: Record<string, unknown>,
  origin: ValueOrigin,
  strict = context.settings.strictInputs,
): Promise<Record<string, unknown>> {
  return convertInputs(context.schema, raw, { origin, strict, maxDepth: context.settings.maxInputDepth, urlInputs: context.settings.urlInputs });
}

/**
 * Runs converted inputs through the scheduler and checks the result. A model that threw or timed
 * out is reported to `onThrow` (which decides what happens to the process) and the error still
 * answers this request.
 */
export async function runInference(
  scheduler: AdmissionQueue,
  metrics: HttpMetrics,
  inputs: Record<string, unknown>,
  submitOptions: SubmitOptions,
  onThrow: (error: InferenceThrewError | AiIntegrationError) => void,
): Promise<Prediction> {
  let outcome;
  try {
    outcome = await scheduler.submit(inputs, submitOptions);
  } catch (error) {
    if (error instanceof InferenceThrewError) {
      metrics.recordInference('threw');
      onThrow(error);
    } else if (error instanceof AiIntegrationError && error.code === 'AI_ERR_TIMEOUT') {
      metrics.recordInference('timeout');
      onThrow(error);
    } else if (error instanceof AiIntegrationError && error.code === 'AI_ERR_INVALID_RESULT') {
      metrics.recordInference('invalid'); // a stream's chunk broke the contract
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

/** Milliseconds to a tenth, as every API reports timings. */
export const roundMs = (milliseconds: number) => Math.round(milliseconds * 10) / 10;

/** A prediction's timings as the native API reports them. */
export function timingMetrics(prediction: Prediction): { predict_time_ms: number; queue_time_ms: number } {
  return { predict_time_ms: roundMs(prediction.predictMs), queue_time_ms: roundMs(prediction.queueMs) };
}

/** The native API's envelope of a succeeded prediction: what `POST /predict` answers and a queue job returns. */
export interface PredictionEnvelope {
  id: string;
  status: 'succeeded';
  /** Parsed JSON, text, or a data: URL for binary output. */
  output: unknown;
  content_type: string;
  metrics: { predict_time_ms: number; queue_time_ms: number };
  /** The output files uploaded (OUTPUT_UPLOAD_URL), when they were. */
  uploads?: readonly UploadedFile[];
}

export function predictionEnvelope(id: string, prediction: Prediction): PredictionEnvelope {
  return {
    id,
    status: 'succeeded',
    output: outputValue(prediction),
    content_type: prediction.result['content-type'],
    metrics: timingMetrics(prediction),
    ...(prediction.uploads ? { uploads: prediction.uploads } : {}),
  };
}

/** A result's data as the API gives it: parsed JSON, text, or for binary data its uploaded URL, else a data: URL. */
export function outputValue(prediction: Prediction): unknown {
  const { mediaType, result, report } = prediction;
  const { uploads } = prediction;
  // A structured output's files: each by its uploaded URL when the files were uploaded.
  if (isOutputResult(result) && uploads)
    return outputJson(result, (file) => uploads.find((upload) => upload.field === uploadField(file))?.url ?? fileJson(file));
  const uploaded = uploads?.find((file) => file.field === 'output');
  if (uploaded) return uploaded.url;
  return resultValue(result, mediaType, (bytes) => dataUrl(result['content-type'], bytes), report);
}

export function dataUrl(mediaType: string, bytes: Buffer): string {
  return new DataUrl(mediaType, bytes).toString();
}

/** Whether the client's Accept header names this exact media type (not only through a wildcard). */
export function acceptsRaw(request: IncomingMessage, mediaType: string): boolean {
  return mediaType !== 'application/json' && acceptsExactly(request.headers.accept, mediaType);
}
