import { describeType } from '../inputs/schema.js';
import type { InferenceResult } from '../types.js';
import { countWords, generationType, toolCallsType, type FinishReason, type GenerationSummary, type TokenUsage, type ToolCall } from './wire.js';

/** A tool call a model makes, as `toolCall(name, args)` builds it; yield it from a chat model. */
export interface ToolCallPart {
  readonly toolCall: ToolCall;
}

/** What a generating model yields: a token of text, or a tool call. */
export type GenerationPart = string | ToolCallPart;

/** How a generation may end, returned by the generator (all optional). */
export interface GenerationEnd {
  /** Why it ended, when the model knows better than the runtime (`content_filter`). */
  finish_reason?: FinishReason;
  /** The model's own token counts (a tokenizer's); the runtime counts words otherwise. */
  usage?: Partial<TokenUsage>;
}

/** What a generating model's function returns: a stream of parts, or the whole answer at once. */
export type GenerationOutput =
  // biome-ignore lint/suspicious/noConfusingVoidType: an async generator without a return statement returns void
  | AsyncIterable<GenerationPart, GenerationEnd | void | undefined>
  | string
  | ({ content?: string | null; tool_calls?: readonly ToolCallPart[] } & GenerationEnd)
  | Promise<string | ({ content?: string | null; tool_calls?: readonly ToolCallPart[] } & GenerationEnd)>;

let callCount = 0;

// A text chunk made here, not with `text()`: the value is known to be a string and the type a
// text type, and a streaming model makes a thousand of these a second.
const textChunk = (value: string): InferenceResult => ({ 'content-type': 'text/plain; charset=utf-8', data: value, success: true });

/**
 * A tool call, to `yield` from a chat model (or return in `tool_calls`): the function's name and
 * its arguments (an object, written as JSON, or JSON text already).
 * @example yield toolCall('get_weather', { city: 'Paris' });
 */
export function toolCall(name: string, args: unknown = {}, id = `call_${Date.now().toString(36)}${(callCount++).toString(36)}`): ToolCallPart {
  if (typeof name !== 'string' || name === '') throw new TypeError(`toolCall(name, args): name must be the function's name, got ${describeType(name)}`);
  const written = typeof args === 'string' ? args : JSON.stringify(args);
  if (written === undefined) throw new TypeError(`toolCall(name, args): args must be an object or JSON text, got ${describeType(args)}`);
  return { toolCall: { id, type: 'function', function: { name, arguments: written } } };
}

function isToolCallPart(value: unknown): value is ToolCallPart {
  return typeof value === 'object' && value !== null && typeof (value as ToolCallPart).toolCall === 'object';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** The request fields every generation honours for the model. */
export interface GenerationLimits {
  max_tokens?: number;
  stop?: readonly string[];
}

/**
 * A generating model's output as a result: a stream (`streamGeneration`) when the model yields
 * its tokens, else its whole answer's summary, which the engine awaits as any result, so that a
 * model that ignores its signal while it works is handled by the cancel rules (CANCEL_GRACE_MS).
 */
export function generationResult(
  output: GenerationOutput,
  limits: GenerationLimits,
  promptTokens: () => number,
): AsyncGenerator<InferenceResult, InferenceResult, undefined> | Promise<InferenceResult> {
  return isAsyncIterable(output) ? streamGeneration(output, limits, promptTokens) : wholeGeneration(output, limits, promptTokens);
}

async function wholeGeneration(
  output: Exclude<GenerationOutput, AsyncIterable<unknown, unknown>>,
  limits: GenerationLimits,
  promptTokens: () => number,
): Promise<InferenceResult> {
  const whole = await output;
  const answer = typeof whole === 'string' ? { content: whole } : whole;
  if (typeof answer !== 'object' || answer === null)
    throw new TypeError(`a generating model must return text, an answer object or an async iterable, got ${describeType(answer)}`);
  const cut = cutAtStop(
    answer.content ?? '',
    (limits.stop ?? []).filter((stop) => stop !== ''),
  );
  const calls = (answer.tool_calls ?? []).map((part) => part.toolCall);
  return summaryResult(cut.text, calls, cut.stopped ? 'stop' : undefined, answer, countWords(cut.text), promptTokens);
}

/**
 * Runs a model's generation as a result stream: each text part is a text chunk, each tool call a
 * `toolCallsType` chunk, and the final result a `generationType` summary. It stops the model's
 * generator once `max_tokens` parts were yielded (finish_reason `length`) or the text reaches a
 * stop sequence (`stop`, the sequence left out); text that may begin a stop sequence is held
 * back until it is known not to.
 */
async function* streamGeneration(
  output: AsyncIterable<unknown, unknown>,
  limits: GenerationLimits,
  promptTokens: () => number,
): AsyncGenerator<InferenceResult, InferenceResult, undefined> {
  const stops = (limits.stop ?? []).filter((stop) => stop !== '');
  const calls: ToolCall[] = [];
  let content = '';
  let tokens = 0;
  let finish: FinishReason | undefined;
  let end: unknown;
  let pending = '';
  const iterator = output[Symbol.asyncIterator]();
  try {
    for (;;) {
      const step = await iterator.next();
      if (step.done) {
        end = step.value;
        break;
      }
      const part: unknown = step.value;
      if (isToolCallPart(part)) {
        calls.push(part.toolCall);
        yield { 'content-type': toolCallsType, data: JSON.stringify({ tool_calls: [part.toolCall] }), success: true };
        continue;
      }
      if (typeof part !== 'string') throw new TypeError(`a generating model yields text or toolCall(...), got ${describeType(part)}`);
      tokens++;
      pending += part;
      const cut = cutAtStop(pending, stops);
      if (cut.stopped) {
        pending = cut.text;
        finish = 'stop';
        break;
      }
      const sendable = pending.length - heldBack(pending, stops);
      if (sendable > 0) {
        const sent = pending.slice(0, sendable);
        pending = pending.slice(sendable);
        const first = content === '';
        content += sent;
        yield textChunk(sent);
        // The first token is handed on (to the socket, or to the supervisor) before the model
        // makes the next: one that makes tokens faster than they can be sent would otherwise
        // hold its first back until its whole burst was made. One turn of the event loop, once.
        if (first) await new Promise((resolve) => setImmediate(resolve));
      }
      if (limits.max_tokens !== undefined && tokens >= limits.max_tokens) {
        finish = 'length';
        break;
      }
    }
  } finally {
    // Stopped early (a limit, a stop sequence, a cancel): the model's generator is closed, its `finally` runs.
    await iterator.return?.();
  }
  if (pending !== '') {
    content += pending;
    yield textChunk(pending);
  }
  return summaryResult(content, calls, finish, end, tokens, promptTokens);
}

function summaryResult(
  content: string,
  calls: ToolCall[],
  finish: FinishReason | undefined,
  end: unknown,
  tokens: number,
  promptTokens: () => number,
): InferenceResult {
  const ended: GenerationEnd = end && typeof end === 'object' ? (end as GenerationEnd) : {};
  const summary: GenerationSummary = {
    content: content === '' && calls.length > 0 ? null : content,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    finish_reason: finish ?? ended.finish_reason ?? (calls.length > 0 ? 'tool_calls' : 'stop'),
    usage: {
      prompt_tokens: ended.usage?.prompt_tokens ?? promptTokens(),
      completion_tokens: ended.usage?.completion_tokens ?? tokens,
    },
  };
  return { 'content-type': generationType, data: JSON.stringify(summary), success: true };
}

/** The text before the first stop sequence it holds, and whether it held one. */
function cutAtStop(value: string, stops: readonly string[]): { text: string; stopped: boolean } {
  let at = -1;
  for (const stop of stops) {
    const index = value.indexOf(stop);
    if (index !== -1 && (at === -1 || index < at)) at = index;
  }
  return at === -1 ? { text: value, stopped: false } : { text: value.slice(0, at), stopped: true };
}

/** How many characters at the end of `value` could begin a stop sequence. */
function heldBack(value: string, stops: readonly string[]): number {
  let held = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, value.length); length > held; length--) {
      if (value.endsWith(stop.slice(0, length))) {
        held = length;
        break;
      }
    }
  }
  return held;
}
