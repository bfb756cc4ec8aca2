import { AiIntegrationError, errorAnswer } from '../../src/errors.js';
import type { HttpCore, RouteContext } from '../../src/http/protocol.js';
import type { FinishReason, ToolCall } from '../../src/text-models/wire.js';
import { runChoices, totalUsage } from './choices.js';
import { openAiErrorBody, openAiErrorStatuses } from './error-body.js';
import { OpenAiEventStream } from './event-stream.js';

/** How a route writes each event of a streamed completion, as JSON text. */
export interface ChunkRendering {
  /** The first event of a choice, before its first token (the chat API's `role`). */
  opening?(index: number): string;
  content(index: number, text: string): string;
  toolCalls?(index: number, calls: readonly ToolCall[], first: number): string;
  finish(index: number, reason: FinishReason): string;
  usage(usage: ReturnType<typeof totalUsage>): string;
}

/**
 * Answers the choices (`n` of each prompt) as OpenAI's stream: the events open once the first choice leaves the queue
 * (a request refused before, 429 or 400, is answered with its status), then each token as the
 * model yields it, a finish event per choice, the usage when asked, and `data: [DONE]`. A failure
 * once the stream is open ends it with an error event (OpenAI's error object) and `[DONE]`; a
 * client that goes away cancels the generation.
 */
export async function streamChoices(
  core: HttpCore,
  route: RouteContext,
  choices: readonly Record<string, unknown>[],
  n: number,
  promptTokens: (index: number) => number,
  rendering: ChunkRendering,
  includeUsage: boolean,
): Promise<void> {
  let stream: OpenAiEventStream | undefined;
  const open = () => (stream ??= new OpenAiEventStream(route.response));
  // A choice's opening event goes out with its first token, in one write: the first token then
  // leaves at once (the stream writes what follows a first write within a turn at the turn's end).
  const openings: (string | undefined)[] = [];
  const send = (index: number, json: string) => {
    const opening = openings[index];
    if (opening === undefined) open().data(json);
    else {
      openings[index] = undefined;
      open().data(opening, json);
    }
  };
  try {
    const summaries = await runChoices(core, route, choices, promptTokens, {
      started: (index) => {
        open();
        if (rendering.opening) openings[index] = rendering.opening(index);
      },
      content: (index, text) => send(index, rendering.content(index, text)),
      toolCalls: (index, calls, first) => {
        if (rendering.toolCalls) send(index, rendering.toolCalls(index, calls, first));
      },
      finished: (index, summary, unsent) => {
        if (unsent.content) send(index, rendering.content(index, unsent.content));
        if (unsent.toolCalls.length > 0 && rendering.toolCalls) send(index, rendering.toolCalls(index, unsent.toolCalls, unsent.firstToolCall));
        send(index, rendering.finish(index, summary.finish_reason));
      },
    });
    const events = open();
    if (includeUsage) events.data(rendering.usage(totalUsage(summaries, n)));
    events.done();
  } catch (error) {
    if (!stream) throw error;
    if (!(error instanceof AiIntegrationError))
      core.context.log.error(`internal error while streaming a completion: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (!stream.open) return;
    stream.data(JSON.stringify(openAiErrorBody(errorAnswer(error, openAiErrorStatuses))));
    stream.done();
  }
}

/** The constant start and end of every event of one response, made once: a token's event is then one string concatenation. */
export function chunkFrame(
  id: string,
  object: string,
  created: number,
  model: string,
  includeUsage: boolean,
): { head: string; tail: string; usage: (usage: unknown) => string } {
  const start = `{"id":${JSON.stringify(id)},"object":${JSON.stringify(object)},"created":${created},"model":${JSON.stringify(model)},"choices":[`;
  return { head: start, tail: includeUsage ? '],"usage":null}' : ']}', usage: (usage) => `${start}],"usage":${JSON.stringify(usage)}}` };
}
