/**
 * Example embedding model: hashed word features, with no weights (shims/models/hashed-embedding.ts).
 * Serve it as OpenAI's `/v1/embeddings` with MODE=openai, or as any other mode.
 */
import { embeddingInputs, embeddingModel, startLoop } from 'ai-integration';
import { hashedEmbedding } from './models/hashed-embedding.js';

const defaultDimensions = 256;

startLoop(
  embeddingModel(({ input, dimensions = defaultDimensions }) => input.map((item) => hashedEmbedding(item, dimensions))),
  { ...embeddingInputs, dimensions: { ...embeddingInputs.dimensions, max: 4096 } },
  { name: 'hashed-embeddings', description: 'Embeds text by hashing its words (an example embedding model with no weights)' },
);
