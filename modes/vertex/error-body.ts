import type { ErrorAnswer } from '../../src/errors.js';

/**
 * An error as `{"error": "..."}` (Vertex AI prescribes no error body; this is the shape
 * TensorFlow Serving and KServe V1 answer with). The status is the error table's: 400 malformed,
 * 413 too large, 415 not JSON, 422 an input the schema refuses, 429 queue full, 500 model
 * failure, 503 not ready or overloaded, 504 timeout; 429 and an overloaded 503 carry Retry-After.
 */
export function vertexErrorBody({ message }: ErrorAnswer): { error: string } {
  return { error: message };
}
