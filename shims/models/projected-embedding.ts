/**
 * The example embedding model's weights and its reference in plain JavaScript: a text's hashed
 * word counts (hashed-embedding.ts), `featureCount` long, times a fixed random projection
 * (`featureCount` × `embeddingSize`, drawn from a seeded generator, so that every build writes the
 * same model), scaled to length 1. embedding-model.ts writes it as an ONNX graph that
 * onnxruntime runs; the tests compare its answers with `projectedEmbedding`.
 */
import { hashedCounts } from './hashed-embedding.js';

export const featureCount = 1024;
export const embeddingSize = 256;

/** The projection, row-major, `featureCount` rows of `embeddingSize`: ±1/√embeddingSize, by a seeded xorshift. */
export function projectionMatrix(): number[] {
  let state = 0x9e3779b9;
  const scale = 1 / Math.sqrt(embeddingSize);
  return Array.from({ length: featureCount * embeddingSize }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state & 1 ? scale : -scale;
  });
}

/** The model's input for a text (or token ids): its hashed word counts. */
export const embeddingFeatures = (input: string | readonly number[]) => hashedCounts(input, featureCount);

/** What the ONNX model computes, in JavaScript: for tests, not for serving. */
export function projectedEmbedding(input: string | readonly number[], matrix = projectionMatrix()): number[] {
  const features = embeddingFeatures(input);
  const vector = new Array<number>(embeddingSize).fill(0);
  features.forEach((count, row) => {
    if (count !== 0) for (let column = 0; column < embeddingSize; column++) vector[column]! += count * matrix[row * embeddingSize + column]!;
  });
  const length = Math.max(Math.hypot(...vector), 1e-12);
  return vector.map((value) => value / length);
}
