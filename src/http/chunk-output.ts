import { mediaKind, parseMediaType, type MediaKind } from '../media-type.js';
import type { InferenceResult } from '../types.js';
import { resultValue } from '../result/write-result.js';
import { fileJson, isOutputResult, outputJson, uploadField } from '../result/output-fields.js';
import { chunkField } from '../uploads/output-uploads.js';
import type { UploadedFile } from '../uploads/uploaded-file.js';
import { dataUrl } from './predict.js';

/** One chunk of a streamed result as the APIs give it: parsed JSON, text, or a data: URL. */
export interface ChunkOutput {
  /** `output`: a structured output (`output(fields)`), whose chunks are states rather than parts. */
  kind: MediaKind | 'output';
  value: unknown;
  contentType: string;
}

/**
 * Renders a chunk the engine has already checked (it ends the stream on one that fails), so the
 * rendering needs no second check: the same values `outputValue` gives a whole result. `uploaded`:
 * the chunk's files as uploaded (OUTPUT_UPLOAD_URL), named by `chunkField`, whose URLs then
 * stand for the bytes.
 */
export function chunkOutput(chunk: InferenceResult, uploaded?: { files: readonly UploadedFile[]; index: number }): ChunkOutput {
  const contentType = chunk['content-type'];
  const mediaType = parseMediaType(contentType) ?? '';
  const urlOf = (field: string) => uploaded?.files.find((file) => file.field === chunkField(field, uploaded.index))?.url;
  let value: unknown;
  if (uploaded && isOutputResult(chunk)) value = outputJson(chunk, (file) => urlOf(uploadField(file)) ?? fileJson(file));
  else value = resultValue(chunk, mediaType, (bytes) => (uploaded && urlOf('output')) ?? dataUrl(contentType, bytes));
  return { kind: isOutputResult(chunk) ? 'output' : mediaKind(mediaType), value, contentType };
}

/**
 * The output of a streaming prediction so far, collected as its final result will be: text
 * concatenated, JSON chunks as a list, the latest chunk of any other kind (a structured output's
 * latest state). null before the first.
 */
export function outputSoFar(chunks: readonly ChunkOutput[]): unknown {
  const last = chunks.at(-1);
  if (!last) return null;
  if (chunks.every((chunk) => chunk.kind === 'text')) return chunks.map((chunk) => chunk.value).join('');
  if (chunks.every((chunk) => chunk.kind === 'json')) return chunks.map((chunk) => chunk.value);
  return last.value;
}
