import { describeType } from '../inputs/schema.js';
import { isPlainObject } from '../inputs/safe-record.js';
import { failure } from '../result/result-helpers.js';
import type { InferenceContext, InferenceFunction, Inputs } from '../types.js';
import { generationResult, type GenerationOutput } from './generation.js';
import { countWords } from './wire.js';

/** A part of a message's content: text, or an image by URL (a data: URL too). */
export type ChatContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };

/** One message of a conversation, as OpenAI's chat API sends it. */
export type ChatMessage =
  | { role: 'system' | 'developer'; content: string | ChatContentPart[]; name?: string }
  | { role: 'user'; content: string | ChatContentPart[]; name?: string }
  | {
      role: 'assistant';
      content?: string | ChatContentPart[] | null;
      tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
      name?: string;
    }
  | { role: 'tool'; content: string | ChatContentPart[]; tool_call_id: string };

/** A function the model may call. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** Whether and which tool the model must call. */
export type ChatToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

/** The form the answer must take. */
export type ChatResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean } };

/** A chat request as the model's function gets it: the conversation and the sampling options given. */
export interface ChatRequest {
  messages: ChatMessage[];
  /** Most tokens to generate; the runtime stops the generation there (finish_reason `length`). */
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  /** Sequences that end the answer (left out of it); the runtime stops the generation there. */
  stop?: string[];
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  response_format?: ChatResponseFormat;
  /** Any other field of the request, as its client sent it (presence_penalty, logit_bias, ...). */
  readonly [option: string]: unknown;
}

/**
 * The inputs of a chat model: `messages` and the sampling options a chat request carries. MODE=openai
 * serves `POST /v1/chat/completions` for a model whose schema has `messages`; spread it to add your own.
 * @example startLoop(chatModel(reply), { ...chatInputs, temperature: { type: 'number', min: 0, max: 1, required: false } });
 */
export const chatInputs = {
  messages: { type: 'json', description: 'the conversation: OpenAI chat messages, [{"role": "user", "content": "Hello"}]' },
  max_tokens: { type: 'integer', min: 1, required: false, description: 'most tokens to generate' },
  temperature: { type: 'number', min: 0, max: 2, required: false, description: 'sampling temperature' },
  top_p: { type: 'number', min: 0, max: 1, required: false, description: 'nucleus sampling: the probability mass to sample from' },
  seed: { type: 'integer', required: false, description: 'a seed for repeatable sampling' },
  stop: { type: 'json', required: false, description: 'up to 4 sequences that end the answer: a string or a list of strings' },
  tools: { type: 'json', required: false, description: 'functions the model may call: OpenAI tool definitions' },
  tool_choice: { type: 'json', required: false, description: '"none", "auto", "required" or {"type": "function", "function": {"name": ...}}' },
  response_format: { type: 'json', required: false, description: '{"type": "text" | "json_object" | "json_schema", ...}' },
} as const;

/** What a chat model's function returns: tokens as an async generator (with `toolCall(...)`s), or the whole answer. */
export type ChatOutput = GenerationOutput;

/** A chat model's function: the typed request in, tokens (or the whole answer) out. */
export type ChatFunction = (request: ChatRequest, context: InferenceContext) => ChatOutput;

/**
 * Makes a chat model's function an inference function for `startLoop` with `chatInputs`. The
 * function gets the typed request and yields tokens (strings) and `toolCall(...)`s as it makes
 * them, or returns the whole answer; the runtime stops it at `max_tokens` or a `stop` sequence,
 * counts usage (words, unless the function returns its own counts) and ends the result with a
 * summary. In MODE=openai that is a chat completion (streamed with `stream: true`); in
 * MODE=http and MODE=cog the tokens stream as any streamed result does.
 * @example
 * startLoop(chatModel(async function* ({ messages }, { signal }) {
 *   for await (const token of llm.generate(messages, { signal })) yield token;
 * }), chatInputs);
 */
export function chatModel<I extends Inputs<typeof chatInputs> = Inputs<typeof chatInputs>>(generate: ChatFunction): InferenceFunction<I> {
  return (inputs, context) => {
    const problem = chatMessagesProblem(inputs.messages);
    if (problem !== undefined) return failure(`messages: ${problem}`);
    const request = { ...inputs, stop: stopSequences(inputs.stop) } as unknown as ChatRequest;
    if (request.stop === undefined) delete (request as { stop?: unknown }).stop;
    return generationResult(generate(request, context), request, () => countWords(messagesText(request.messages)));
  };
}

/** `stop` as a list: a string is one sequence. */
export function stopSequences(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  return typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((item): item is string => typeof item === 'string') : undefined;
}

const roles = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

/** What is wrong with a `messages` value, in a sentence; undefined when it is a list of chat messages. */
export function chatMessagesProblem(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return `expected a list of messages such as [{"role": "user", "content": "Hello"}], got ${describeType(messages)}`;
  if (messages.length === 0) return 'the list is empty; send at least one message';
  for (const [index, message] of messages.entries()) {
    if (!isPlainObject(message)) return `[${index}] is ${describeType(message)}, not a message object {"role", "content"}`;
    const { role, content } = message;
    if (typeof role !== 'string' || !roles.has(role))
      return `[${index}].role must be one of ${[...roles].join(', ')}, got ${JSON.stringify(role) ?? 'nothing'}`;
    const optional = role === 'assistant' && (content === undefined || content === null);
    if (!optional && typeof content !== 'string' && !Array.isArray(content))
      return `[${index}].content must be a string or a list of content parts, got ${describeType(content)}`;
    if (Array.isArray(content)) {
      const bad = content.findIndex((part) => !isPlainObject(part) || typeof part.type !== 'string');
      if (bad !== -1) return `[${index}].content[${bad}] must be a content part such as {"type": "text", "text": "..."}`;
    }
    if (role === 'tool' && typeof message.tool_call_id !== 'string') return `[${index}].tool_call_id must name the tool call this message answers`;
  }
  return undefined;
}

/** The text of a conversation: every message's text content, one per line. */
export function messagesText(messages: readonly ChatMessage[]): string {
  return messages.map((message) => contentText(message.content)).join('\n');
}

/** The text of one message's content: the string, or its text parts joined. */
export function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}
