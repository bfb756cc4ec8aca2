import { AiIntegrationError } from '../../src/errors.js';
import type { HttpCore, RouteContext } from '../../src/http/protocol.js';
import { sendJson } from '../../src/http/respond.js';
import { isPlainObject } from '../../src/inputs/safe-record.js';
import { embeddingInputList } from '../../src/text-models/embedding.js';
import { countWords } from '../../src/text-models/wire.js';
import type { ModelKinds } from './model-kinds.js';
import { notServed } from './not-served.js';
import { isOutputResult } from '../../src/result/output-fields.js';
import { refuseStructuredOutput } from './model-output.js';
import { badField, checkModel, modelInputs, refuseUntaken, requestObject } from './request-fields.js';

const example = '{"model": "...", "input": "The food was delicious"}';

/**
 * `POST /v1/embeddings`: `input` (a string, a list of strings, or token ids) to the model in one
 * inference, its vectors as OpenAI's list, as floats or as base64 (little-endian float32, as
 * OpenAI's own API sends them).
 */
export function embeddings(core: HttpCore, kinds: ModelKinds) {
  const { context, model } = core;
  return async (route: RouteContext) => {
    const body = requestObject(await core.readJson(route), example);
    checkModel(body, model);
    if (!kinds.embedding) throw notServed('embeddings', 'an "input" json input (embeddingInputs)', kinds);
    const input = embeddingInputList(body.input);
    if (typeof input === 'string') throw badField('input', input);
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') throw badField('encoding_format', `expected "float" or "base64", got ${JSON.stringify(format)}`);
    const { dimensions } = body;
    if (dimensions !== undefined && dimensions !== null && (!Number.isInteger(dimensions) || (dimensions as number) < 1)) {
      throw badField('dimensions', `expected a positive integer, got ${JSON.stringify(dimensions)}`);
    }
    refuseUntaken(body, context.schema, [['dimensions', () => false]]);
    const prediction = await core.predict(modelInputs(body, context.schema, { input: body.input }), 'data', route);
    if (isOutputResult(prediction.result)) throw refuseStructuredOutput('an embeddings answer');
    const { vectors, promptTokens } = vectorsOf(prediction.report.json, input);
    sendJson(route.response, 200, {
      object: 'list',
      data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: format === 'base64' ? base64Floats(vector) : vector })),
      model: model.name,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  };
}

/** The vectors of the model's JSON result (`{"embeddings": [...], "usage": ...}`, as `embeddingModel` writes it, or the bare list), one per input. */
function vectorsOf(output: unknown, input: readonly (string | number[])[]): { vectors: number[][]; promptTokens: number } {
  const vectors = isPlainObject(output) ? output.embeddings : output;
  if (!Array.isArray(vectors) || vectors.length !== input.length || !vectors.every((vector) => Array.isArray(vector) && vector.every(Number.isFinite))) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_RESULT',
      `an embedding model returns JSON {"embeddings": [[numbers], ...]} with one vector per input (${input.length}); use embeddingModel`,
    );
  }
  const counted = isPlainObject(output) && isPlainObject(output.usage) ? output.usage.prompt_tokens : undefined;
  const promptTokens = Number.isInteger(counted)
    ? (counted as number)
    : input.reduce((sum, item) => sum + (typeof item === 'string' ? countWords(item) : item.length), 0);
  return { vectors: vectors as number[][], promptTokens };
}

function base64Floats(vector: readonly number[]): string {
  const floats = Float32Array.from(vector);
  // Float32Array holds the platform's order; OpenAI's bytes are little-endian, as every platform Node runs on is.
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}
