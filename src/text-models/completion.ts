import type { InferenceContext, InferenceFunction, Inputs } from '../types.js';
import { stopSequences } from './chat.js';
import { generationResult, type GenerationOutput } from './generation.js';
import { countWords } from './wire.js';

/** A text completion request as the model's function gets it: the prompt and the sampling options given. */
export interface CompletionRequest {
  prompt: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  stop?: string[];
  /** Any other field of the request, as its client sent it. */
  readonly [option: string]: unknown;
}

/**
 * The inputs of a text completion model: `prompt` and the sampling options. MODE=openai serves
 * `POST /v1/completions` for a model whose schema has a `prompt` text input.
 */
export const completionInputs = {
  prompt: { type: 'text', description: 'the text to continue' },
  max_tokens: { type: 'integer', min: 1, required: false, description: 'most tokens to generate' },
  temperature: { type: 'number', min: 0, max: 2, required: false, description: 'sampling temperature' },
  top_p: { type: 'number', min: 0, max: 1, required: false, description: 'nucleus sampling: the probability mass to sample from' },
  seed: { type: 'integer', required: false, description: 'a seed for repeatable sampling' },
  stop: { type: 'json', required: false, description: 'up to 4 sequences that end the text: a string or a list of strings' },
} as const;

/** A completion model's function: the typed request in, tokens (or the whole text) out. */
export type CompletionFunction = (request: CompletionRequest, context: InferenceContext) => GenerationOutput;

/**
 * Makes a text completion model's function an inference function for `startLoop` with
 * `completionInputs`: as `chatModel`, for a prompt to continue.
 * @example startLoop(completionModel(async function* ({ prompt }) { for (const word of continue(prompt)) yield word; }), completionInputs);
 */
export function completionModel<I extends Inputs<typeof completionInputs> = Inputs<typeof completionInputs>>(
  generate: CompletionFunction,
): InferenceFunction<I> {
  return (inputs, context) => {
    const request = { ...inputs, stop: stopSequences(inputs.stop) } as unknown as CompletionRequest;
    if (request.stop === undefined) delete (request as { stop?: unknown }).stop;
    return generationResult(generate(request, context), request, () => countWords(request.prompt));
  };
}
