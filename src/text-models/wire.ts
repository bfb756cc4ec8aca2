/**
 * What a chat, completion or embedding model hands the runtime beyond plain text, in the result
 * contract's own terms (a content type and data): the helpers of this folder write it, MODE=openai
 * reads it, and every other mode shows it as the JSON it is.
 */

/** A streamed chunk holding tool calls the model makes: `{"tool_calls": [ToolCall, ...]}`. */
export const toolCallsType = 'application/vnd.ai-integration.tool-calls+json';

/**
 * The final result of a generation (`chatModel`, `completionModel`): the whole content, its tool
 * calls, why it ended and what it cost, as `GenerationSummary`.
 */
export const generationType = 'application/vnd.ai-integration.generation+json';

/** One tool call as OpenAI's chat API carries it. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Why a generation ended, as OpenAI's API says it. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Tokens a generation read and wrote. */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** The data of a `generationType` result. */
export interface GenerationSummary {
  content: string | null;
  tool_calls?: ToolCall[];
  finish_reason: FinishReason;
  usage: TokenUsage;
}

/** The data of an embedding model's result (`embeddingModel`): one vector per input, in order. */
export interface EmbeddingSummary {
  embeddings: number[][];
  usage: { prompt_tokens: number };
}

/**
 * Tokens counted where the model does not say: whitespace-separated words, at least one per
 * non-empty text. A model with a tokenizer reports its own counts.
 */
export function countWords(text: string): number {
  const words = text.match(/\S+/g);
  return words ? words.length : 0;
}
