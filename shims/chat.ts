/**
 * Example chat model: streams its answer token by token and calls tools, with no weights (it
 * echoes the last message; shims/models/echo-chat.ts). Serve it as OpenAI's API with
 * MODE=openai, or as any other mode: MODE=http streams the same tokens.
 */
import { chatInputs, chatModel, startLoop, toolCall } from 'ai-integration';
import { echoReply } from './models/echo-chat.js';

startLoop(
  chatModel(async function* (request, { signal }) {
    const reply = echoReply(request);
    if ('tool' in reply) {
      yield toolCall(reply.tool.name, reply.tool.arguments);
      return;
    }
    for (const token of reply.tokens) {
      // A real model checks its signal between tokens: a client that goes away stops the generation.
      signal.throwIfAborted();
      yield token;
    }
  }),
  chatInputs,
  { name: 'echo-chat', description: 'Echoes the last message, a token at a time (an example chat model with no weights)' },
);
