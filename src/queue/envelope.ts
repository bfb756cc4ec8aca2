import { AiIntegrationError, errorTable, type ErrorCode } from '../errors.js';
import { setOwn } from '../inputs/safe-record.js';
import { mediaKind, parseMediaType } from '../media-type.js';
import type { InferenceResult, OutputDescription } from '../types.js';
import { type UploadedFile, withUpstreamUploads } from '../uploads/uploaded-file.js';
import { structuredOutputOf } from './structured-envelope.js';

/** A job's data as the queue's workers read it: binary inputs as base64, the rest as they are. */
export function jobData(inputs: Record<string, unknown>): { inputs: Record<string, unknown> } {
  const json: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inputs)) {
    setOwn(json, name, Buffer.isBuffer(value) ? value.toString('base64') : value);
  }
  return { inputs: json };
}

/**
 * The result a worker's envelope stands for (`{output, content_type}`, as the native API gives
 * it): JSON written back as JSON text, text as it is, binary data from its data: URL; a structured
 * output (its model's `description` says which fields are files) with its files rebuilt from
 * their data: URLs. JSON whose files the worker uploaded (OUTPUT_UPLOAD_URL on the workers) keeps
 * their URLs, and carries the envelope's `uploads` (withUpstreamUploads).
 */
export function resultOfEnvelope(envelope: unknown, description?: OutputDescription): InferenceResult {
  const { output, content_type: contentType } = (envelope ?? {}) as { output?: unknown; content_type?: unknown };
  if (typeof contentType !== 'string')
    throw new AiIntegrationError(
      'AI_ERR_INVALID_RESULT',
      "the worker's answer has no content_type: is the queue consumed by ai-integration workers (MODE=queue)?",
    );
  const kind = mediaKind(parseMediaType(contentType) ?? '');
  if (kind === 'json') {
    const structured = structuredOutputOf(output, description);
    if (structured) return structured;
    const result: InferenceResult = { 'content-type': contentType, data: JSON.stringify(output), success: true };
    const { uploads } = envelope as { uploads?: unknown };
    return Array.isArray(uploads) && uploads.length > 0 ? withUpstreamUploads(result, uploads as UploadedFile[]) : result;
  }
  if (kind === 'text' && typeof output === 'string') return { 'content-type': contentType, data: output, success: true };
  const comma = typeof output === 'string' && output.startsWith('data:') ? output.indexOf(',') : -1;
  if (comma === -1 && Array.isArray((envelope as { uploads?: unknown }).uploads))
    throw new AiIntegrationError(
      'AI_ERR_INVALID_RESULT',
      `the worker uploaded its ${contentType} output (OUTPUT_UPLOAD_URL is set on the MODE=queue workers), and a gateway does not answer uploaded files: set OUTPUT_UPLOAD_URL on the gateway instead of the workers`,
    );
  if (comma === -1) throw new AiIntegrationError('AI_ERR_INVALID_RESULT', `the worker's answer holds ${contentType} output that is not a data: URL`);
  return { 'content-type': contentType, data: Buffer.from((output as string).slice(comma + 1), 'base64'), success: true };
}

/** How long the worker's model ran the job (`metrics.predict_time_ms`), when the envelope says. */
export function predictTimeOfEnvelope(envelope: unknown): number | undefined {
  const ms = (envelope as { metrics?: { predict_time_ms?: unknown } } | null)?.metrics?.predict_time_ms;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

const stalled = /stalled more than allowable limit/;

/**
 * The error a failed job stands for: workers fail jobs with "AI_ERR_CODE: message", which keeps
 * its code (and so its HTTP status) at the gateway; a job BullMQ gave up on after its worker died
 * is AI_ERR_WORKER_DIED.
 */
export function errorOfFailedJob(reason: string): AiIntegrationError {
  const match = /^(AI_ERR_[A-Z_]+): ([\s\S]*)$/.exec(reason);
  if (match && match[1]! in errorTable) return new AiIntegrationError(match[1] as ErrorCode, match[2]!);
  if (stalled.test(reason)) return new AiIntegrationError('AI_ERR_WORKER_DIED', `the workers that took this job died (${reason})`);
  return new AiIntegrationError('AI_ERR_MODEL_FAILED', `the job failed: ${reason}`);
}
