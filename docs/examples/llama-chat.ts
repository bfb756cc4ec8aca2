/**
 * A real LLM behind OpenAI's API: node-llama-cpp (3.21.1) runs a GGUF file you bring, named by
 * MODEL_PATH. docs/how-to/llama-cpp.md says how to run it; `npm run typecheck` checks this file,
 * so that it keeps compiling against the package and node-llama-cpp (nothing loads a model in CI).
 */
import { type ChatMessage, chatInputs, chatModel, startLoop } from 'ai-integration';
import { type ChatHistoryItem, getLlama, LlamaChatSession } from 'node-llama-cpp';

const modelPath = process.env.MODEL_PATH ?? '/models/model.gguf';
// Loaded once, before startLoop, as weights are: under the supervisor, again after each restart.
const llama = await getLlama();
const model = await llama.loadModel({ modelPath });
const context = await model.createContext();
// One context sequence: one conversation at a time, which is the runtime's default (one request in flight).
const session = new LlamaChatSession({ contextSequence: context.getSequence() });

startLoop(
  chatModel(async function* (request, { signal }) {
    const earlier = request.messages.slice(0, -1).map(historyItem);
    const last = request.messages.at(-1);
    session.setChatHistory(earlier);
    // node-llama-cpp hands over text through a callback; this queue turns it into the tokens the runtime streams.
    const chunks: string[] = [];
    let wake = () => {};
    let done = false;
    let failed: unknown;
    session
      .prompt(last === undefined ? '' : textOf(last), {
        maxTokens: request.max_tokens,
        temperature: request.temperature,
        topP: request.top_p,
        seed: request.seed,
        customStopTriggers: request.stop,
        signal,
        stopOnAbortSignal: true,
        onTextChunk: (chunk) => {
          chunks.push(chunk);
          wake();
        },
      })
      .catch((error: unknown) => {
        failed = error;
      })
      .finally(() => {
        done = true;
        wake();
      });
    for (;;) {
      const chunk = chunks.shift();
      if (chunk !== undefined) yield chunk;
      else if (done) break;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
    if (failed !== undefined) throw failed;
  }),
  chatInputs,
  { name: 'llama', description: `A GGUF model run by node-llama-cpp (${modelPath})` },
);

function textOf(message: ChatMessage): string {
  const content = message.content ?? '';
  return typeof content === 'string' ? content : content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function historyItem(message: ChatMessage): ChatHistoryItem {
  if (message.role === 'system' || message.role === 'developer') return { type: 'system', text: textOf(message) };
  if (message.role === 'assistant') return { type: 'model', response: [textOf(message)] };
  return { type: 'user', text: textOf(message) }; // a user's message, or a tool's answer
}
