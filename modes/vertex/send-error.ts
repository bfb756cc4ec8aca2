import type { ServerResponse } from 'node:http';
import { errorBody, sendJson } from '../../src/http/respond.js';

/**
 * Answers an error as `{"error": "..."}` (Vertex AI prescribes no error body; this is the shape
 * TensorFlow Serving and KServe V1 answer with), with the status of the library's error table:
 * 400 malformed, 413 too large, 415 not JSON, 422 an input the schema refuses, 429 queue full,
 * 500 model failure, 503 not ready or overloaded, 504 timeout. A 429 or 503 carries Retry-After,
 * so that a client waits and retries.
 */
export function sendVertexError(response: ServerResponse, error: unknown): void {
  const { status, body } = errorBody(error);
  sendJson(response, status, { error: body.error.message }, status === 429 || status === 503 ? { 'retry-after': '1' } : {});
}
