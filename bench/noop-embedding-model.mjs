// The embeddings benchmark's model: a constant 256-long vector per input, no work, so the
// figures measure the adapter (MODE=openai's /v1/embeddings against MODE=http's /predict).
import { embeddingInputs, embeddingModel, startLoop } from 'ai-integration';

const vector = Array.from({ length: 256 }, (_, index) => Math.sin(index) / 11.3);

startLoop(
  embeddingModel(({ input }) => input.map(() => vector)),
  embeddingInputs,
  { name: 'noop-embeddings' },
);
