// The streaming benchmark's chat model: yields TOKENS tokens (1,000 unless said) with no work,
// so the figures measure the runtime's path from the model's generator to the client's socket.
import { chatInputs, chatModel, startLoop } from 'ai-integration';

const count = Number(process.env.TOKENS ?? 1000);
const tokens = Array.from({ length: count }, (_, index) => ` t${index}`);

startLoop(
  chatModel(async function* () {
    for (const token of tokens) yield token;
  }),
  chatInputs,
  { name: 'tokens' },
);
