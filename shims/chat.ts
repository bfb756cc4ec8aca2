/**
 * Example chat model: a word-level Markov chain learnt at start-up from nine of Aesop's fables
 * (shims/models/markov-chat.ts, fables.txt), streamed a word at a time. It starts at a sentence
 * that shares a word with the last message, draws by `seed` (0 unless the request says), so that
 * one request gets one answer. It calls a tool the message names (or the one `tool_choice`
 * requires) and wraps its answer in JSON when `response_format` asks (shims/models/echo-chat.ts
 * decides both). Serve it as OpenAI's API with MODE=openai, or as any other mode: MODE=http
 * streams the same tokens.
 */
import { readFileSync } from 'node:fs';
import { chatInputs, chatModel, startLoop, toolCall } from 'ai-integration';
import { echoReply, textOf } from './models/echo-chat.js';
import { learnMarkovChain, markovWords } from './models/markov-chat.js';

// Learnt once, as a model's weights are loaded once: under the supervisor, again after each restart.
const chain = learnMarkovChain(readFileSync(new URL('./models/fables.txt', import.meta.url), 'utf8'));

startLoop(
  chatModel(async function* (request, { signal }) {
    const reply = echoReply(request);
    if ('tool' in reply) {
      yield toolCall(reply.tool.name, reply.tool.arguments);
      return;
    }
    const format = request.response_format?.type;
    const json = format === 'json_object' || format === 'json_schema';
    if (json) yield '{"reply": "';
    const last = request.messages.at(-1);
    const prompt = last === undefined ? '' : textOf(last.content);
    for (const word of markovWords(chain, { seed: request.seed ?? 0, temperature: request.temperature, prompt })) {
      // A real model checks its signal between tokens: a client that goes away stops the generation.
      signal.throwIfAborted();
      yield json ? JSON.stringify(word).slice(1, -1) : word;
    }
    if (json) yield '"}';
  }),
  chatInputs,
  { name: 'fable-chat', description: "Answers in the words of Aesop's fables, a word at a time (a Markov chain learnt at start-up)" },
);
