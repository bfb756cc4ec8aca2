import { describeType } from '../inputs/schema.js';
import { failure, json } from '../result/result-helpers.js';
import type { InferenceContext, InferenceFunction, Inputs } from '../types.js';
import { countWords, type EmbeddingSummary } from './wire.js';

/** An embedding request as the model's function gets it: always a list, of texts or of token ids. */
export interface EmbeddingRequest {
  input: string[] | number[][];
  /** The length the vectors must have, when the client asked for one. */
  dimensions?: number;
  readonly [option: string]: unknown;
}

/**
 * The inputs of an embedding model: `input` (a string, a list of strings, or token ids) and
 * `dimensions`. MODE=openai serves `POST /v1/embeddings` for a model whose schema has `input`.
 */
export const embeddingInputs = {
  input: { type: 'json', description: 'the text to embed: a string, a list of strings, or token ids (a list, or a list of lists)' },
  dimensions: { type: 'integer', min: 1, required: false, description: 'the length of each vector' },
} as const;

/** What an embedding function returns: one vector per input, in order, with its own token count if it has one. */
export type EmbeddingOutput =
  | readonly (readonly number[] | Float32Array | Float64Array)[]
  | { embeddings: readonly (readonly number[] | Float32Array | Float64Array)[]; usage?: { prompt_tokens: number } };

/** An embedding model's function. */
export type EmbeddingFunction = (request: EmbeddingRequest, context: InferenceContext) => EmbeddingOutput | Promise<EmbeddingOutput>;

/**
 * Makes an embedding model's function an inference function for `startLoop` with
 * `embeddingInputs`: the function gets `input` as a list and returns one vector per item; the
 * result is JSON `{"embeddings": [[...], ...], "usage": {"prompt_tokens": n}}` (words counted
 * unless the function says).
 * @example startLoop(embeddingModel(async ({ input }) => encoder.embed(input)), embeddingInputs);
 */
export function embeddingModel<I extends Inputs<typeof embeddingInputs> = Inputs<typeof embeddingInputs>>(embed: EmbeddingFunction): InferenceFunction<I> {
  return async (inputs, context) => {
    const input = embeddingInputList(inputs.input);
    if (typeof input === 'string') return failure(`input: ${input}`);
    const request = { ...inputs, input } as unknown as EmbeddingRequest;
    const output = await embed(request, context);
    const vectors = Array.isArray(output) ? output : (output as { embeddings?: unknown }).embeddings;
    if (!Array.isArray(vectors) || vectors.length !== input.length) {
      throw new TypeError(
        `an embedding model returns one vector per input (${input.length}), got ${describeType(vectors)}${Array.isArray(vectors) ? ` of ${vectors.length}` : ''}`,
      );
    }
    const counted = (output as { usage?: { prompt_tokens?: unknown } }).usage?.prompt_tokens;
    const summary: EmbeddingSummary = {
      embeddings: vectors.map((vector) => Array.from(vector as ArrayLike<number>)),
      usage: {
        prompt_tokens:
          typeof counted === 'number' ? counted : input.reduce((sum, item) => sum + (typeof item === 'string' ? countWords(item) : item.length), 0),
      },
    };
    return json(summary);
  };
}

/**
 * `input` as a list: a string is one text, a list of numbers one text's token ids. A message when
 * it is none of the forms OpenAI's API takes.
 */
export function embeddingInputList(input: unknown): string[] | number[][] | string {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0)
    return `expected a string, a non-empty list of strings, or token ids, got ${Array.isArray(input) ? 'an empty list' : describeType(input)}`;
  if (input.every((item) => typeof item === 'string')) return input;
  if (input.every((item) => Number.isInteger(item))) return [input as number[]];
  if (input.every((item) => Array.isArray(item) && item.length > 0 && item.every((token) => Number.isInteger(token)))) return input as number[][];
  return 'expected a string, a list of strings, a list of token ids, or a list of such lists; the list mixes kinds';
}
