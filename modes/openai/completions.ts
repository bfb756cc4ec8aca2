import type { HttpCore, RouteContext } from '../../src/http/protocol.js';
import { sendJson } from '../../src/http/respond.js';
import { checkBatchSize } from '../../src/serving/batch.js';
import { countWords } from '../../src/text-models/wire.js';
import { runChoices, totalUsage } from './choices.js';
import type { ModelKinds } from './model-kinds.js';
import { notServed } from './not-served.js';
import { badField, checkModel, checkStop, choiceCount, modelInputs, requestObject, streaming } from './request-fields.js';
import { chunkFrame, streamChoices, type ChunkRendering } from './streamed-choices.js';

const example = '{"model": "...", "prompt": "Once upon a time"}';

/** `POST /v1/completions`: the legacy text completion, `n` choices of each prompt, streamed with `stream: true`. */
export function completions(core: HttpCore, kinds: ModelKinds) {
  const { context, model } = core;
  return async (route: RouteContext) => {
    const body = requestObject(await core.readJson(route), example);
    checkModel(body, model);
    if (!kinds.completion) throw notServed('text completions', 'a "prompt" text input (completionInputs)', kinds);
    const prompts = promptList(body.prompt);
    checkStop(body);
    const n = choiceCount(body);
    const echo = body.echo === true;
    const { stream, includeUsage } = streaming(body);
    checkBatchSize(prompts.length * n, core.settings, 'choices (prompts times n)');
    const inputs = [];
    for (const prompt of prompts) inputs.push(await core.convert(modelInputs(body, context.schema, { prompt }), 'data'));
    const choices = inputs.flatMap((converted) => Array<Record<string, unknown>>(n).fill(converted));
    const promptOf = (index: number) => prompts[Math.floor(index / n)]!;
    const promptTokens = (index: number) => countWords(promptOf(index));
    const id = `cmpl-${route.id}`;
    const created = Math.floor(Date.now() / 1000);
    if (stream) {
      await streamChoices(core, route, choices, n, promptTokens, completionRendering(id, created, model.name, echo ? promptOf : undefined), includeUsage);
      return;
    }
    const summaries = await runChoices(core, route, choices, promptTokens);
    sendJson(route.response, 200, {
      id,
      object: 'text_completion',
      created,
      model: model.name,
      choices: summaries.map((summary, index) => ({
        text: `${echo ? promptOf(index) : ''}${summary.content ?? ''}`,
        index,
        logprobs: null,
        finish_reason: summary.finish_reason === 'tool_calls' ? 'stop' : summary.finish_reason,
      })),
      usage: totalUsage(summaries, n),
    });
  };
}

/** `prompt` as a list: a string, or a list of strings (each its own choices). */
function promptList(prompt: unknown): string[] {
  if (typeof prompt === 'string') return [prompt];
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((item) => typeof item === 'string')) return prompt;
  throw badField('prompt', 'expected a string or a non-empty list of strings (token ids need a model that takes them: send text)');
}

/**
 * `text_completion` events: a text delta per token (`finish_reason` null, as OpenAI's API sends it,
 * though its document's shared CreateCompletionResponse says a string), then the finish.
 */
function completionRendering(id: string, created: number, model: string, echo: ((index: number) => string) | undefined): ChunkRendering {
  // The chunks carry no `"usage": null` (the document's completion has no nullable usage); the last one has the usage.
  const { head, tail, usage } = chunkFrame(id, 'text_completion', created, model, false);
  const choice = (index: number, text: string, finish: string) =>
    `${head}{"text":${JSON.stringify(text)},"index":${index},"logprobs":null,"finish_reason":${finish}}${tail}`;
  return {
    ...(echo ? { opening: (index: number) => choice(index, echo(index), 'null') } : {}),
    content: (index, text) => choice(index, text, 'null'),
    finish: (index, reason) => choice(index, '', JSON.stringify(reason === 'tool_calls' ? 'stop' : reason)),
    usage,
  };
}
