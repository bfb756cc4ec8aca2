import type { HttpCore, RouteContext } from '../../src/http/protocol.js';
import { sendJson } from '../../src/http/respond.js';
import { checkBatchSize } from '../../src/serving/batch.js';
import { chatMessagesProblem, messagesText, type ChatMessage } from '../../src/text-models/chat.js';
import { countWords } from '../../src/text-models/wire.js';
import { runChoices, totalUsage } from './choices.js';
import { badField, checkModel, checkStop, choiceCount, modelInputs, refuseUntaken, requestObject, streaming } from './request-fields.js';
import { chunkFrame, streamChoices, type ChunkRendering } from './streamed-choices.js';
import { notServed } from './not-served.js';
import type { ModelKinds } from './model-kinds.js';

const example = '{"model": "...", "messages": [{"role": "user", "content": "Hello"}]}';

/** `POST /v1/chat/completions`: the conversation to the model, its answer as a chat completion, streamed with `stream: true`. */
export function chatCompletions(core: HttpCore, kinds: ModelKinds) {
  const { context, model } = core;
  return async (route: RouteContext) => {
    const body = requestObject(await core.readJson(route), example);
    checkModel(body, model);
    if (!kinds.chat) throw notServed('chat completions', 'a "messages" input (chatInputs)', kinds);
    const problem = chatMessagesProblem(body.messages);
    if (problem !== undefined) throw badField('messages', problem);
    checkStop(body);
    refuseUntaken(body, context.schema, [
      ['tools', (value) => Array.isArray(value) && value.length === 0],
      ['tool_choice', (value) => value === 'none' || value === 'auto'],
      ['response_format', (value) => typeof value === 'object' && (value as { type?: unknown }).type === 'text'],
    ]);
    const n = choiceCount(body);
    const { stream, includeUsage } = streaming(body);
    checkBatchSize(n, core.settings, 'choices (n)');
    const inputs = await core.convert(modelInputs(body, context.schema, { messages: body.messages }), 'data');
    const promptTokens = () => countWords(messagesText(body.messages as ChatMessage[]));
    const id = `chatcmpl-${route.id}`;
    const created = Math.floor(Date.now() / 1000);
    if (stream) {
      await streamChoices(
        core,
        route,
        Array<Record<string, unknown>>(n).fill(inputs),
        n,
        promptTokens,
        chatRendering(id, created, model.name, includeUsage),
        includeUsage,
      );
      return;
    }
    const summaries = await runChoices(core, route, Array<Record<string, unknown>>(n).fill(inputs), promptTokens);
    sendJson(route.response, 200, {
      id,
      object: 'chat.completion',
      created,
      model: model.name,
      choices: summaries.map((summary, index) => ({
        index,
        message: { role: 'assistant', content: summary.content, refusal: null, ...(summary.tool_calls ? { tool_calls: summary.tool_calls } : {}) },
        logprobs: null,
        finish_reason: summary.finish_reason,
      })),
      usage: totalUsage(summaries, n),
    });
  };
}

/** `chat.completion.chunk` events: the role first, then a delta per token or tool call, then the finish. */
function chatRendering(id: string, created: number, model: string, includeUsage: boolean): ChunkRendering {
  const { head, tail, usage } = chunkFrame(id, 'chat.completion.chunk', created, model, includeUsage);
  const choice = (index: number, delta: string, finish: string) =>
    `${head}{"index":${index},"delta":${delta},"logprobs":null,"finish_reason":${finish}}${tail}`;
  return {
    opening: (index) => choice(index, '{"role":"assistant","content":"","refusal":null}', 'null'),
    content: (index, text) => choice(index, `{"content":${JSON.stringify(text)}}`, 'null'),
    toolCalls: (index, calls, first) =>
      choice(index, JSON.stringify({ tool_calls: calls.map((call, offset) => ({ index: first + offset, ...call })) }), 'null'),
    finish: (index, reason) => choice(index, '{}', JSON.stringify(reason)),
    usage,
  };
}
