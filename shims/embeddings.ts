/**
 * Example embedding model run by a real inference engine: onnxruntime-node on a graph the build
 * writes (models/embedding-model.ts): a text's hashed word counts times a fixed random
 * projection, scaled to length 1, so that texts sharing words point the same way. The session is
 * created once, before startLoop, as a model's weights are loaded once. `dimensions` below 256
 * keeps the first ones, scaled to length 1 again (as OpenAI's text-embedding-3 models do).
 * Serve it as OpenAI's `/v1/embeddings` with MODE=openai, or as any other mode.
 */
import * as ort from 'onnxruntime-node';
import { embeddingInputs, embeddingModel, startLoop } from 'ai-integration';
import { embeddingFeatures, embeddingSize, featureCount } from './models/projected-embedding.js';

const session = await ort.InferenceSession.create(new URL('./models/embedding.onnx', import.meta.url).pathname);

startLoop(
  embeddingModel(async ({ input, dimensions = embeddingSize }) => {
    const features = new Float32Array(input.length * featureCount);
    for (const [row, item] of input.entries()) features.set(embeddingFeatures(item), row * featureCount);
    const { embedding } = await session.run({ features: new ort.Tensor('float32', features, [input.length, featureCount]) });
    const vectors = embedding!.data as Float32Array;
    return input.map((_, row) => shortened(Array.from(vectors.subarray(row * embeddingSize, row * embeddingSize + dimensions))));
  }),
  { ...embeddingInputs, dimensions: { ...embeddingInputs.dimensions, max: embeddingSize } },
  { name: 'projected-embeddings', description: 'Embeds text by hashing its words and projecting them (an example embedding model run by onnxruntime)' },
);

/** Scales a vector cut short back to length 1; a full one is already. */
function shortened(vector: number[]): number[] {
  const length = Math.hypot(...vector);
  return length === 0 || Math.abs(length - 1) < 1e-6 ? vector : vector.map((value) => value / length);
}
