import { Cancellation } from '../../src/engine/cancellation.js';
import type { HttpCore, RouteContext } from '../../src/http/protocol.js';
import type { GenerationSummary, ToolCall } from '../../src/text-models/wire.js';
import { chunkOf, summaryOf } from './model-output.js';

/** What happens to one choice as it runs, for a route that streams it. */
export interface ChoiceListener {
  /** The choice's inference left the queue for the model. */
  started?(index: number): void;
  content?(index: number, text: string): void;
  toolCalls?(index: number, calls: readonly ToolCall[], first: number): void;
  /** The choice ended; what was not streamed already (a model that returned its whole answer) is in `unsent`. */
  finished?(index: number, summary: GenerationSummary, unsent: { content: string | null; toolCalls: readonly ToolCall[]; firstToolCall: number }): void;
}

/**
 * Runs the choices of one request (`n` of each prompt), each an inference through the queue, at
 * once. The client's going away cancels them all (the model's signal aborts, the stream stops,
 * the slot frees); so does the first choice to fail, whose error rejects. Resolves with each
 * choice's summary, in order.
 */
export async function runChoices(
  core: HttpCore,
  route: RouteContext,
  choices: readonly Record<string, unknown>[],
  promptTokens: (index: number) => number,
  listener: ChoiceListener = {},
): Promise<GenerationSummary[]> {
  const n = choices.length;
  // Every choice is admitted, or none (429 before any runs, and before a stream's first byte).
  const reservation = n === 1 ? undefined : core.reserve(n, 'choices');
  const streams = listener.content !== undefined;
  const cancel = n === 1 ? core.clientSignal(route) : new Cancellation();
  const stopFollowing = n === 1 ? undefined : core.clientSignal(route).onCancel(() => cancel.cancel());
  let failed: { error: unknown } | undefined;
  const run = async (index: number): Promise<GenerationSummary> => {
    let tokens = 0;
    let contentSent = false;
    let toolCallsSent = 0;
    try {
      const prediction = await core.run(choices[index]!, {
        signal: cancel,
        reservation,
        ...(listener.started ? { onStart: () => listener.started!(index) } : {}),
        ...(streams
          ? {
              onChunk: (chunk) => {
                const part = chunkOf(chunk);
                if (part === undefined) return;
                if ('content' in part) {
                  tokens++;
                  contentSent = true;
                  listener.content!(index, part.content);
                } else if (part.toolCalls.length > 0) {
                  listener.toolCalls?.(index, part.toolCalls, toolCallsSent);
                  toolCallsSent += part.toolCalls.length;
                }
              },
            }
          : {}),
      });
      const summary = summaryOf(prediction, () => promptTokens(index), streams ? tokens : undefined);
      listener.finished?.(index, summary, {
        content: contentSent ? null : summary.content,
        toolCalls: (summary.tool_calls ?? []).slice(toolCallsSent),
        firstToolCall: toolCallsSent,
      });
      return summary;
    } catch (error) {
      // The first failure is the request's; the others it cancels end as canceled.
      if (!failed) {
        failed = { error };
        if (n > 1) cancel.cancel();
      }
      throw error;
    }
  };
  try {
    if (n === 1) return [await run(0)];
    const settled = await Promise.allSettled(Array.from({ length: n }, (_, index) => run(index)));
    if (failed) throw failed.error;
    return settled.map((outcome) => (outcome as PromiseFulfilledResult<GenerationSummary>).value);
  } finally {
    stopFollowing?.();
    reservation?.release();
  }
}

/** The usage of a request's choices, `n` of each prompt: each prompt counted once, every choice's completion. */
export function totalUsage(summaries: readonly GenerationSummary[], n: number): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = summaries.reduce((sum, summary, index) => (index % n === 0 ? sum + summary.usage.prompt_tokens : sum), 0);
  const completion = summaries.reduce((sum, summary) => sum + summary.usage.completion_tokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
