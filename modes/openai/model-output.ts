import { AiIntegrationError } from '../../src/errors.js';
import type { Prediction } from '../../src/http/predict.js';
import { isPlainObject } from '../../src/inputs/safe-record.js';
import { mediaKind, parseMediaType } from '../../src/media-type.js';
import { countWords, generationType, toolCallsType, type FinishReason, type GenerationSummary, type ToolCall } from '../../src/text-models/wire.js';
import type { InferenceResult } from '../../src/types.js';
import { isOutputResult } from '../../src/result/output-fields.js';

/** What one streamed chunk adds to a choice: text, or tool calls. */
export type GenerationChunk = { content: string } | { toolCalls: ToolCall[] };

const utf8 = (data: InferenceResult['data']) => (typeof data === 'string' ? data : data instanceof Uint8Array ? Buffer.from(data).toString('utf8') : '');

/** The refusal of a structured output (`output(...)`): its fields and files have no place in OpenAI's answers. */
export function refuseStructuredOutput(what: string): AiIntegrationError {
  return new AiIntegrationError(
    'AI_ERR_INVALID_RESULT',
    `${what} has no place for a structured output (output(...)): OpenAI's answers hold text or vectors; return text(...), json(...), chatModel or completionModel, or serve this model with MODE=http`,
  );
}

/**
 * Reads a chunk the engine has checked: a text chunk is content (any text-streaming model's
 * tokens), a `toolCallsType` chunk is tool calls (`toolCall(...)`), and other JSON is content as
 * its JSON text. Binary chunks (progress images) have no place in a completion and are skipped.
 */
export function chunkOf(chunk: InferenceResult): GenerationChunk | undefined {
  // Skipped as binary chunks are; the final result (the last such chunk) is refused by summaryOf.
  if (isOutputResult(chunk)) return undefined;
  const type = chunk['content-type'];
  if (type.startsWith('text/')) return { content: utf8(chunk.data) };
  const mediaType = parseMediaType(type) ?? '';
  if (mediaType === toolCallsType) {
    const calls = (JSON.parse(utf8(chunk.data)) as { tool_calls?: unknown }).tool_calls;
    return { toolCalls: Array.isArray(calls) ? calls.filter(isToolCall) : [] };
  }
  return mediaKind(mediaType) === 'json' ? { content: utf8(chunk.data) } : undefined;
}

const finishReasons = new Set<FinishReason>(['stop', 'length', 'tool_calls', 'content_filter']);

/**
 * A generation's summary from the model's final result: `chatModel`'s and `completionModel`'s
 * summary as it is; a plain text result (any text model, streaming or not) as its content, ended
 * by `stop`, with tokens counted as `streamedTokens` chunks, else words. A result of another kind
 * is no completion: 500, the model's output broke the contract.
 */
export function summaryOf(prediction: Prediction, promptTokens: () => number, streamedTokens: number | undefined): GenerationSummary {
  const { mediaType, report, result } = prediction;
  if (isOutputResult(result)) throw refuseStructuredOutput('a chat or completion');
  if (mediaType === generationType) {
    const summary = report.json;
    if (isSummary(summary)) return summary;
    throw new AiIntegrationError('AI_ERR_INVALID_RESULT', `the model's ${generationType} result is not a generation summary {content, finish_reason, usage}`);
  }
  const kind = mediaKind(mediaType);
  if (kind === 'binary') {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_RESULT',
      `a chat or completion model returns text, not ${result['content-type']}; use text(...), chatModel or completionModel`,
    );
  }
  const content = utf8(result.data);
  return { content, finish_reason: 'stop', usage: { prompt_tokens: promptTokens(), completion_tokens: streamedTokens ?? countWords(content) } };
}

function isSummary(value: unknown): value is GenerationSummary {
  if (!isPlainObject(value) || !isPlainObject(value.usage)) return false;
  const { content, finish_reason: finish, tool_calls: calls, usage } = value;
  return (
    (typeof content === 'string' || content === null) &&
    finishReasons.has(finish as FinishReason) &&
    (calls === undefined || (Array.isArray(calls) && calls.every(isToolCall))) &&
    Number.isInteger(usage.prompt_tokens) &&
    Number.isInteger(usage.completion_tokens)
  );
}

function isToolCall(value: unknown): value is ToolCall {
  return (
    isPlainObject(value) &&
    typeof value.id === 'string' &&
    value.type === 'function' &&
    isPlainObject(value.function) &&
    typeof value.function.name === 'string' &&
    typeof value.function.arguments === 'string'
  );
}
